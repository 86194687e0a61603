"""What Inngest's documentation says about Inngest Cloud's plan limits, for the items that cite
it (PF-02 and OP-04 cite concurrency, OP-05 history retention), so that they all say the same.

Nothing here is executed: the suite cannot reach Inngest Cloud. Each fact names the page and the
day it was read. Two of Inngest's pages disagree, read on that day:

* the Durable Execution limits page (its HTML and its markdown copy agree) lists Free, Pro,
  Business and Enterprise plans;
* the Usage Limits page lists Free, Basic, Pro and Enterprise plans with other figures (another
  copy of that page gives no figures and points to the pricing page, whose stored copy still
  shows older plan names).

Which page is current is not stated anywhere found, so the facts give both and say so.
"""

from __future__ import annotations

from harness.i18n import Msg, t

READ_ON = "2026-12-04"
LIMITS_PAGE = "https://www.inngest.com/docs/durable-execution/limits"
USAGE_LIMITS_PAGE = "https://www.inngest.com/docs/usage-limits/inngest"

Fact = tuple[str, Msg, str]  # key, claim, source URL: the arguments of Probe.document


def concurrency_by_plan() -> list[Fact]:
    """Inngest Cloud's concurrent steps by plan, from both pages."""
    return [
        (
            "cloud-concurrency-by-plan",
            t(
                "Inngest Cloud limits concurrent steps by plan: 5 (Free), 100 included (Pro), "
                "500 (Business), custom (Enterprise), by the Durable Execution limits page read "
                "{date}; Inngest's Usage Limits page disagrees (next fact) and neither says "
                "which is current",
                date=READ_ON,
            ),
            LIMITS_PAGE,
        ),
        (
            "cloud-concurrency-by-plan:usage-limits-page",
            t(
                "Inngest Cloud limits concurrent steps by plan: 5 (Free), 25 (Basic), 200+ "
                "(Pro), custom (Enterprise), by the Usage Limits page read {date}, which "
                "disagrees with the Durable Execution limits page (previous fact)",
                date=READ_ON,
            ),
            USAGE_LIMITS_PAGE,
        ),
    ]


def history_retention_by_plan() -> list[Fact]:
    """How long Inngest Cloud keeps trace and log history, by plan, from both pages."""
    return [
        (
            "cloud-retention-by-plan",
            t(
                "Inngest Cloud keeps trace and log history 24 hours (Free), 7 days (Pro), "
                "14 days (Business) or up to 365 days (Enterprise), by the Durable Execution "
                "limits page read {date}; Inngest's Usage Limits page disagrees (next fact) and "
                "neither says which is current",
                date=READ_ON,
            ),
            LIMITS_PAGE,
        ),
        (
            "cloud-retention-by-plan:usage-limits-page",
            t(
                "Inngest Cloud keeps trace and log history 24 hours (Free), 7 days (Basic), "
                "14 days (Pro) or 90 days (Enterprise), by the Usage Limits page read {date}, "
                "which disagrees with the Durable Execution limits page (previous fact)",
                date=READ_ON,
            ),
            USAGE_LIMITS_PAGE,
        ),
    ]
