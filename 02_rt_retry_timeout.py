"""RT — Retry & timeout: how Inngest retries failures, bounds waits, and what it leaves to you.

Items RT-01 … RT-04. Each item below is: the Inngest function(s) it runs, the probe that drives
them against a real dev server and records what happened, and the rubric that turns that
evidence into stars. RT-03 (circuit breaker) and RT-04 (heartbeat) have no native feature: they
build the usual pattern, test it, and rate the platform and the pattern separately. Run
``python 02_rt_retry_timeout.py --help`` for options.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from datetime import timedelta
from typing import Any, TypedDict

import inngest
from pydantic import BaseModel

from common import (
    Category,
    Evidence,
    Msg,
    PatternRating,
    Probe,
    ProbeTimeout,
    Rating,
    Run,
    Suite,
    TraceNotReady,
    effect_key,
    inngest_client,
    pattern_module,
    runops,
    side_effects,
    t,
    timing,
)
from harness.rating.stats import Distribution
from patterns.chunked_steps import run_in_chunks
from patterns.circuit_breaker import CircuitBreaker, call_through
from patterns.step_deadline import backstop, run_with_deadline

suite = Suite(__file__, Category.RT)

# The dev server's source at the version the results were produced with (see README).
INNGEST_SOURCE = "https://github.com/inngest/inngest/blob/v1.43.0/"
SECOND = timedelta(seconds=1)


def _attempts(
    probe: Probe, run_id: str, step: str, *, final: bool = True
) -> tuple[list[str], list[float]]:
    """The statuses and start times (epoch seconds) of every attempt of ``step`` in the trace
    (of a finished run, or with ``final=False`` as far as the run has got)."""
    if not final:
        try:
            spans = probe.api.trace(run_id).steps(step)
        except TraceNotReady:
            return [], []
    else:
        spans = probe.api.final_trace(run_id).steps(step)
    if not spans:
        return [], []
    starts = [s.timestamp() for s in timing.attempt_starts(spans[0])]
    return timing.attempt_statuses(spans[0]), starts


# ═══ RT-01 Retry strategy ══════════════════════════════════════════════════════════════════════
# One feed import, registered with different retry counts; an order check that rejects bad input
# for good; a CRM sync that is told when to come back; and an invoice settlement that fails once
# inside a step and once outside any step. The default backoff is measured on a dev server
# started without --retry-interval.


class SupplierUnavailable(Exception):
    """The supplier's API answered 503: another attempt may succeed."""


class FeedImport(BaseModel):
    feed: str
    failures: int  # how many calls the supplier fails before it answers


async def import_feed(ctx: inngest.Context) -> str:
    request = FeedImport.model_validate(ctx.event.data)

    async def fetch_feed() -> str:
        call = side_effects.executed(ctx.event, f"{request.feed}:fetch", time.time())
        if call <= request.failures:
            raise SupplierUnavailable(f"supplier answered 503 to call {call}")
        return f"{request.feed}: 120 products"

    return await ctx.step.run("fetch-feed", fetch_feed)


# The same code with three retry settings: only `retries` differs.
import_feed_no_retries = inngest_client.create_function(
    fn_id="rt01-import-feed-no-retries",
    trigger=inngest.TriggerEvent(event="rt01/feed.no-retries"),
    retries=0,
)(import_feed)
import_feed_two_retries = inngest_client.create_function(
    fn_id="rt01-import-feed-two-retries",
    trigger=inngest.TriggerEvent(event="rt01/feed.two-retries"),
    retries=2,
)(import_feed)
import_feed_three_retries = inngest_client.create_function(
    fn_id="rt01-import-feed-three-retries",
    trigger=inngest.TriggerEvent(event="rt01/feed.three-retries"),
    retries=3,
)(import_feed)


class OrderLine(BaseModel):
    sku: str
    quantity: int


@inngest_client.create_function(
    fn_id="rt01-validate-order",
    trigger=inngest.TriggerEvent(event="rt01/order.submitted"),
    retries=3,
)
async def validate_order(ctx: inngest.Context) -> int:
    line = OrderLine.model_validate(ctx.event.data)

    async def check_quantity() -> int:
        side_effects.executed(ctx.event, "validate:call")
        if line.quantity <= 0:
            # Retrying cannot fix bad input: stop now instead of spending the retries.
            raise inngest.NonRetriableError(f"quantity must be positive, got {line.quantity}")
        return line.quantity

    return await ctx.step.run("check-quantity", check_quantity)


class ContactSync(BaseModel):
    contact_id: str
    retry_after_s: int


@inngest_client.create_function(
    fn_id="rt01-sync-crm-contact",
    trigger=inngest.TriggerEvent(event="rt01/contact.updated"),
    retries=3,
)
async def sync_crm_contact(ctx: inngest.Context) -> str:
    request = ContactSync.model_validate(ctx.event.data)

    async def push_contact() -> str:
        call = side_effects.executed(ctx.event, "crm:call", time.time())
        if call == 1:
            # The CRM answered 429 with Retry-After: come back then, not on the backoff table.
            raise inngest.RetryAfterError(
                "CRM rate limit reached", timedelta(seconds=request.retry_after_s)
            )
        return f"contact {request.contact_id} synced"

    return await ctx.step.run("push-contact", push_contact)


class InvoiceSettlement(BaseModel):
    invoice_id: str
    failures: int  # how many times the failing part fails before it succeeds


@inngest_client.create_function(
    fn_id="rt01-settle-invoice-step-fails",
    trigger=inngest.TriggerEvent(event="rt01/invoice.settle-step"),
    retries=2,
)
async def settle_invoice_step_fails(ctx: inngest.Context) -> str:
    request = InvoiceSettlement.model_validate(ctx.event.data)

    async def load_invoice() -> str:
        side_effects.executed(ctx.event, "step-case:load")
        return f"invoice {request.invoice_id}"

    async def charge() -> str:
        if side_effects.executed(ctx.event, "step-case:charge") <= request.failures:
            raise RuntimeError("payment provider timed out")
        return "charged"

    invoice = await ctx.step.run("load-invoice", load_invoice)
    return f"{invoice}: " + await ctx.step.run("charge", charge)


@inngest_client.create_function(
    fn_id="rt01-settle-invoice-body-fails",
    trigger=inngest.TriggerEvent(event="rt01/invoice.settle-body"),
    retries=2,
)
async def settle_invoice_body_fails(ctx: inngest.Context) -> str:
    request = InvoiceSettlement.model_validate(ctx.event.data)

    async def load_invoice() -> str:
        side_effects.executed(ctx.event, "body-case:load")
        return f"invoice {request.invoice_id}"

    invoice = await ctx.step.run("load-invoice", load_invoice)
    # Outside any step: a failure here fails the whole request, and the function is retried.
    if side_effects.executed(ctx.event, "body-case:check") <= request.failures:
        raise RuntimeError("ledger totals not consistent yet")
    return f"{invoice}: settled"


# The dev server's default backoff (pkg/backoff/backoff.go, TableBackoff): the delay before
# retry n is TABLE[n-1] (the last value after that) plus 0-30 s of random jitter.
DEFAULT_BACKOFF_TABLE_S = (15, 30, 60, 120, 300, 600, 1200, 2400, 3600, 7200)
DEFAULT_JITTER_MAX_S = 30
SCHEDULE_RUNS = 6  # runs measured in parallel: six samples of each gap
SCHEDULE_RETRIES = 2  # two gaps per run: at most 45 s + 60 s of waiting
RETRY_AFTER_S = 5
FAILS_FOREVER = 99


@suite.item(
    "RT-01",
    functions=[
        import_feed_no_retries,
        import_feed_two_retries,
        import_feed_three_retries,
        validate_order,
        sync_crm_contact,
        settle_invoice_step_fails,
        settle_invoice_body_fails,
    ],
    timeout=150,
)
def retry_strategy(probe: Probe) -> None:
    # 1. What is counted does not depend on timing: run it on the suite's fast linear retries.
    events = {
        "no-retries": probe.send(
            "rt01/feed.no-retries", {"feed": "no-retries", "failures": FAILS_FOREVER}
        ),
        "three-retries": probe.send(
            "rt01/feed.three-retries", {"feed": "three-retries", "failures": FAILS_FOREVER}
        ),
        "non-retriable": probe.send("rt01/order.submitted", {"sku": "A-1", "quantity": 0}),
        "step-fails": probe.send(
            "rt01/invoice.settle-step", {"invoice_id": "INV-1", "failures": 2}
        ),
        "body-fails": probe.send(
            "rt01/invoice.settle-body", {"invoice_id": "INV-2", "failures": 2}
        ),
    }
    run_ids = {case: probe.run_of(event) for case, event in events.items()}
    probe.say("waiting for the runs that count attempts")
    finished = runops.wait_for_all(
        probe.api,
        list(run_ids.values()),
        timeout=probe.bound(30 + probe.devserver.retry_allowance(3)),
    )
    runs = dict(zip(run_ids, finished, strict=True))

    for case, retries in (("no-retries", 0), ("three-retries", 3)):
        statuses, _ = _attempts(probe, run_ids[case], "fetch-feed")
        calls = probe.effects(f"{case}:fetch")
        probe.check(
            f"retries-{retries}-attempts",
            t("retries={n}: attempts, the first plus each retry, counted in the ledger and in the "
              "trace: {attempts}",
              n=retries, attempts=retries + 1),
            runs[case].status == "FAILED" and calls == retries + 1 == len(statuses),
            observed={"status": runs[case].status, "ledger calls": calls,
                      "trace attempts": statuses},
            expected=f"FAILED after {retries + 1} attempts",
            run_ids=[run_ids[case]],
        )  # fmt: skip
    linear_starts = probe.effect_values("three-retries:fetch")
    interval = probe.devserver.retry_interval_s
    if len(linear_starts) > 1:
        probe.measure(
            "linear-gap-mean",
            round(sum(timing.gaps_s(linear_starts)) / (len(linear_starts) - 1), 2),
            "s",
            t("mean gap between the attempts of one run, dev server started with "
              "--retry-interval {interval}", interval=interval)
            if interval
            else t("mean gap between the attempts of one run on the dev server's default "
                   "backoff"),
        )  # fmt: skip

    run = runs["non-retriable"]
    probe.check(
        "non-retriable-one-attempt",
        t("NonRetriableError ends the run after one attempt, with retries left"),
        run.status == "FAILED" and probe.effects("validate:call") == 1,
        observed={"status": run.status, "calls": probe.effects("validate:call"),
                  "error": run.error},
        expected="FAILED after 1 of 4 possible attempts",
        run_ids=[run.id],
    )  # fmt: skip

    run = runs["step-fails"]
    statuses, _ = _attempts(probe, run.id, "charge")
    probe.check(
        "step-failure-retries-step",
        t("a failing step is retried on its own; the step before it is not run again"),
        run.status == "COMPLETED"
        and probe.effects("step-case:load") == 1
        and probe.effects("step-case:charge") == 3,
        observed={"status": run.status, "load-invoice runs": probe.effects("step-case:load"),
                  "charge runs": probe.effects("step-case:charge"), "charge attempts": statuses},
        expected="COMPLETED; load-invoice 1, charge 3",
        run_ids=[run.id],
    )  # fmt: skip
    run = runs["body-fails"]
    probe.check(
        "body-failure-retries-function",
        t(
            "a failure outside any step retries the function; its completed step is replayed "
            "from state, not run again"
        ),
        run.status == "COMPLETED"
        and probe.effects("body-case:load") == 1
        and probe.effects("body-case:check") == 3,
        observed={"status": run.status, "load-invoice runs": probe.effects("body-case:load"),
                  "code outside steps ran": probe.effects("body-case:check")},
        expected="COMPLETED; load-invoice 1, code outside steps 3",
        run_ids=[run.id],
    )  # fmt: skip
    # Are those two failed attempts of the function body visible afterwards?
    trace = probe.api.final_trace(run.id)
    # Context for the retry semantics rated here: what a trace shows is observability (OB-03).
    probe.check(
        "body-retries-visible",
        t("the trace of the finished run shows the failed attempts of code outside steps"),
        sum(1 for span in trace.walk() if span.status == "FAILED") >= 2,
        observed={"trace": [[s.name, s.status, [a.status for a in s.children]]
                            for s in trace.steps()]},
        expected="2 FAILED attempts somewhere in the trace",
        run_ids=[run.id],
        informational=True,
    )  # fmt: skip

    probe.document(
        "retries-documented",
        t(
            "by default a function or step is retried 4 times after the first attempt; "
            "retries=0 turns retries off; retries use backoff with jitter"
        ),
        "https://www.inngest.com/docs/features/inngest-functions/error-retries/retries",
    )
    probe.document(
        "backoff-table-source",
        t(
            "the dev server's default backoff is a fixed table, 15 s, 30 s, 1 min, 2 min, "
            "5 min, 10 min, 20 min, 40 min, 1 h, then 2 h for every later retry, plus 0-30 s "
            "of random jitter per retry; --retry-interval replaces it with a fixed interval"
        ),
        INNGEST_SOURCE + "pkg/backoff/backoff.go",
    )
    probe.document(
        "retry-after-clamped",
        t("a Retry-After is clamped to between 1 s and 24 h from now"),
        INNGEST_SOURCE + "pkg/execution/driver/httpdriver/parse.go",
    )

    # 2. The default schedule, on a dev server started without --retry-interval.
    if not probe.devserver.owned:
        reason = t(
            "the dev server is external ($INNGEST_DEV_SERVER_URL); the suite cannot restart it "
            "without --retry-interval"
        )
        for key, description in _SCHEDULE_CHECKS.items():
            probe.not_run(key, description, reason)
        _retry_after(probe, default_backoff=False)
        return
    with probe.devserver_options(retry_interval_s=None):
        probe.say("measuring the default retry schedule (up to about 2 minutes)")
        _default_schedule(probe)


_SCHEDULE_CHECKS = {
    "default-schedule-matches-source": t(
        "each gap of the default schedule lies within its table value + 0-30 s of jitter"
    ),
    "default-schedule-backs-off": t("later retries wait longer than earlier ones"),
    "default-schedule-jittered": t("the same retry waits a different time in different runs"),
}


def _default_schedule(probe: Probe) -> None:
    feeds = [f"default-{n}" for n in range(SCHEDULE_RUNS)]
    run_ids = [
        probe.run_of(probe.send("rt01/feed.two-retries", {"feed": feed, "failures": FAILS_FOREVER}))
        for feed in feeds
    ]
    retry_after_run = _send_retry_after(probe)
    worst_case = sum(
        DEFAULT_BACKOFF_TABLE_S[i] + DEFAULT_JITTER_MAX_S for i in range(SCHEDULE_RETRIES)
    )
    runs = runops.wait_for_all(probe.api, run_ids, timeout=probe.bound(worst_case + 20))
    _check_retry_after(probe, retry_after_run, default_backoff=True)

    trace_gaps = [timing.gaps_s(_attempts(probe, run.id, "fetch-feed")[1]) for run in runs]
    ledger_gaps = [timing.gaps_s(probe.effect_values(f"{feed}:fetch")) for feed in feeds]
    per_retry = timing.by_retry(trace_gaps)
    fits = timing.fit_schedule(per_retry, DEFAULT_BACKOFF_TABLE_S, DEFAULT_JITTER_MAX_S)
    complete = all(len(g) == SCHEDULE_RETRIES for g in trace_gaps)
    for fit in fits:
        stats = Distribution.of(fit.measured, digits=2)
        note = t(
            "gap before retry {retry} on the default schedule, over {n} runs started together; "
            "from the trace's attempt start times",
            retry=fit.retry,
            n=stats.n,
        )
        probe.measure(f"default-gap-{fit.retry}-mean", stats.mean, "s", note)
        probe.measure(f"default-gap-{fit.retry}-min", stats.min, "s", note)
        probe.measure(f"default-gap-{fit.retry}-max", stats.max, "s", note)
        probe.measure(f"default-gap-{fit.retry}-stdev", stats.stdev, "s", note)
    jitter = [j for fit in fits for j in fit.jitter_s]
    if jitter:
        note = t(
            "measured gap minus the table's value, over all retries and runs: the jitter plus "
            "the queue's scheduling delay"
        )
        probe.measure("default-jitter-min", min(jitter), "s", note)
        probe.measure("default-jitter-max", max(jitter), "s", note)
    ratio = timing.growth_ratio(per_retry)
    if ratio is not None:
        probe.measure(
            "default-growth-ratio",
            ratio,
            "x",
            t("mean of the last retry's gaps over the mean of the first's"),
        )

    observed: dict[str, Any] = {
        "gaps per run (trace)": trace_gaps,
        "gaps per run (ledger)": ledger_gaps,
        "statuses": [r.status for r in runs],
    }
    probe.check(
        "default-schedule-matches-source",
        _SCHEDULE_CHECKS["default-schedule-matches-source"],
        complete and all(fit.fits for fit in fits),
        observed={
            **observed,
            "per retry": [
                {"retry": f.retry, "table s": f.expected_min_s, "measured": f.measured,
                 "jitter s": f.jitter_s, "outside": f.outside}
                for f in fits
            ],
        },
        expected=", ".join(
            f"retry {f.retry}: {f.expected_min_s:g}-{f.expected_max_s:g} s" for f in fits
        ),
        run_ids=[r.id for r in runs],
    )  # fmt: skip
    # Growth of the mean, not a margin: with 0-30 s of jitter on a 15 s then 30 s table and six
    # runs, a mean that does not grow at all is about a one-in-a-thousand draw, while a margin
    # (a ratio above 1.2 was required before) failed one whole run in three by chance.
    probe.check(
        "default-schedule-backs-off",
        _SCHEDULE_CHECKS["default-schedule-backs-off"],
        complete and ratio is not None and ratio > 1.0,
        observed={"mean gap per retry": [Distribution.of(g, digits=2).mean for g in per_retry],
                  "growth ratio": ratio},
        expected="the mean gap grows from retry to retry (ratio > 1)",
        run_ids=[r.id for r in runs],
    )  # fmt: skip
    spreads = [Distribution.of(g, digits=2).range for g in per_retry]
    probe.check(
        "default-schedule-jittered",
        _SCHEDULE_CHECKS["default-schedule-jittered"],
        complete and any(spread > 1.0 for spread in spreads),
        observed={"spread (max - min) per retry, s": spreads},
        expected="a spread above 1 s for some retry",
        run_ids=[r.id for r in runs],
    )  # fmt: skip


def _send_retry_after(probe: Probe) -> str:
    return probe.run_of(
        probe.send("rt01/contact.updated", {"contact_id": "C-7", "retry_after_s": RETRY_AFTER_S})
    )


def _retry_after(probe: Probe, *, default_backoff: bool) -> None:
    run_id = _send_retry_after(probe)
    probe.wait(run_id, timeout=30 + probe.devserver.retry_allowance(1))
    _check_retry_after(probe, run_id, default_backoff=default_backoff)


def _check_retry_after(probe: Probe, run_id: str, *, default_backoff: bool) -> None:
    # Not finished long after its 5 s retry was due: a finding (the check fails with what the
    # run shows), not a broken probe.
    run = probe.wait_or_last(run_id, timeout=30)
    statuses, starts = _attempts(probe, run_id, "push-contact", final=run.final)
    gaps = timing.gaps_s(starts)
    gap = gaps[0] if gaps else None
    if gap is not None:
        probe.measure(
            "retry-after-gap",
            gap,
            "s",
            t("gap between the attempt that raised RetryAfterError({seconds} s) and the next",
              seconds=RETRY_AFTER_S),
        )  # fmt: skip
    observed = {"status": run.status, "attempts": statuses, "gap s": gap,
                "ledger gaps s": timing.gaps_s(probe.effect_values("crm:call"))}  # fmt: skip
    probe.check(
        "retry-after-honoured",
        t("RetryAfterError({seconds} s) delays the next attempt by at least that long",
          seconds=RETRY_AFTER_S),
        run.status == "COMPLETED" and gap is not None and gap >= RETRY_AFTER_S - 0.25,
        observed=observed,
        expected=f"COMPLETED, gap >= {RETRY_AFTER_S} s",
        run_ids=[run_id],
    )  # fmt: skip
    description = t(
        "RetryAfterError replaces the backoff: the retry comes before the table's first {table} s",
        table=DEFAULT_BACKOFF_TABLE_S[0],
    )
    if not default_backoff:
        probe.not_run(
            "retry-after-overrides-backoff",
            description,
            t("the dev server does not run on its default backoff here"),
        )
        return
    probe.check(
        "retry-after-overrides-backoff",
        description,
        gap is not None and gap < DEFAULT_BACKOFF_TABLE_S[0],
        observed=observed,
        expected=f"gap < {DEFAULT_BACKOFF_TABLE_S[0]} s",
        run_ids=[run_id],
    )


@retry_strategy.rubric
def _(ev: Evidence) -> Rating:
    counts = ["retries-0-attempts", "retries-3-attempts"]
    if not all(ev.passed(k) for k in counts):
        return Rating(
            stars=1,
            reason=t("retries=N did not give N+1 attempts"),
            drivers=counts,
        )
    semantics = [
        "non-retriable-one-attempt",
        "step-failure-retries-step",
        "body-failure-retries-function",
    ]
    if not all(ev.passed(k) for k in semantics):
        return Rating(
            stars=2,
            reason=t(
                "attempts are counted right, but NonRetriableError or what a retry repeats "
                "did not behave as documented"
            ),
            drivers=semantics,
        )
    if not ev.passed("retry-after-honoured"):
        return Rating(
            stars=3,
            reason=t("retries work, but RetryAfterError did not delay the next attempt"),
            drivers=["retry-after-honoured"],
        )
    if ev.failed("retry-after-overrides-backoff"):
        # Not run where the dev server has no default backoff to override.
        return Rating(
            stars=3,
            reason=t(
                "retries work, but RetryAfterError does not set the next attempt: the retry "
                "still waited for the default backoff"
            ),
            drivers=["retry-after-honoured", "retry-after-overrides-backoff"],
        )
    schedule = list(_SCHEDULE_CHECKS)
    if any(ev.failed(k) for k in schedule):
        return Rating(
            stars=4,
            reason=t(
                "retry control works, but the default schedule is not the documented backoff "
                "with jitter"
            ),
            drivers=[k for k in schedule if ev.failed(k)],
        )
    if not all(ev.passed(k) for k in schedule):
        return Rating(
            stars=4,
            reason=t("retry control works; the default schedule could not be measured here"),
            drivers=schedule,
        )
    return Rating(
        stars=5,
        reason=t(
            "retries=N gives N+1 attempts, a failing step is retried alone, NonRetriableError "
            "stops at once, RetryAfterError sets the next attempt, and the default schedule "
            "backs off (a fixed table, 15 s then 30 s) with up to 30 s of jitter"
        ),
        drivers=[
            *counts,
            *semantics,
            "retry-after-honoured",
            "retry-after-overrides-backoff",
            *schedule,
        ],
        advice=t(
            "The backoff itself cannot be configured per function (only the number of "
            "retries): raise RetryAfterError where a dependency says when to come back, and "
            "NonRetriableError for failures a retry cannot fix."
        ),
    )


# ═══ RT-02 Timeout system ══════════════════════════════════════════════════════════════════════
# Run-level timeouts (a report that waited too long to start, an export that ran too long), the
# timeouts of wait_for_event and invoke, a per-step deadline built with asyncio.wait_for, and a
# step whose request never returns.


class ReportRequest(BaseModel):
    report: str
    render_s: float


@inngest_client.create_function(
    fn_id="rt02-render-report",
    trigger=inngest.TriggerEvent(event="rt02/report.requested"),
    concurrency=[inngest.Concurrency(limit=1)],  # one report at a time: later ones queue
    timeouts=inngest.Timeouts(start=3 * SECOND),  # a report not started within 3 s is dropped
)
async def render_report(ctx: inngest.Context) -> str:
    request = ReportRequest.model_validate(ctx.event.data)

    async def render() -> str:
        side_effects.executed(ctx.event, f"render:{request.report}")
        await asyncio.sleep(request.render_s)
        return f"{request.report}.pdf"

    return await ctx.step.run("render", render)


@inngest_client.create_function(
    fn_id="rt02-export-ledger",
    trigger=inngest.TriggerEvent(event="rt02/export.requested"),
    timeouts=inngest.Timeouts(finish=4 * SECOND),  # the whole run, sleeps included
)
async def export_ledger(ctx: inngest.Context) -> str:
    async def prepare() -> str:
        side_effects.executed(ctx.event, "export:prepare")
        return "export-batch-1"

    async def upload() -> str:
        side_effects.executed(ctx.event, "export:upload")
        return "uploaded"

    batch = await ctx.step.run("prepare-export", prepare)
    await ctx.step.sleep("wait-for-bank-window", 20 * SECOND)
    return f"{batch}: " + await ctx.step.run("upload-export", upload)


@inngest_client.create_function(
    fn_id="rt02-await-approval",
    trigger=inngest.TriggerEvent(event="rt02/expense.submitted"),
)
async def await_approval(ctx: inngest.Context) -> str:
    approval = await ctx.step.wait_for_event(
        "manager-approval", event="rt02/expense.approved", timeout=3 * SECOND
    )
    return "expired" if approval is None else "approved"


@inngest_client.create_function(
    fn_id="rt02-slow-payment",
    trigger=inngest.TriggerEvent(event="rt02/payment.requested"),
)
async def slow_payment(ctx: inngest.Context) -> str:
    await ctx.step.sleep("wait-for-bank", 12 * SECOND)

    async def settle() -> str:
        side_effects.executed(ctx.event, "payment:settled")
        return "paid"

    return await ctx.step.run("settle", settle)


@inngest_client.create_function(
    fn_id="rt02-checkout",
    trigger=inngest.TriggerEvent(event="rt02/checkout.started"),
    retries=0,
)
async def checkout(ctx: inngest.Context) -> dict[str, str]:
    try:
        payment = await ctx.step.invoke(
            "take-payment",
            function=slow_payment,
            data={"tag": ctx.event.data["tag"]},
            timeout=3 * SECOND,
        )
    except inngest.StepError as exc:
        # The invoke's timeout surfaces as a step error the caller can handle.
        return {"payment": "timed out", "error": exc.message}
    return {"payment": str(payment)}


class QuoteUnavailable(Exception):
    """The FX service gave no quote in time."""


class QuoteRequest(BaseModel):
    currency: str
    first_call_latency_s: float  # how slow the FX service is on the first call


QUOTE_DEADLINE_S = 2.0


async def fx_service_quote(currency: str, latency_s: float) -> float:
    """A fake FX service that answers after ``latency_s``."""
    await asyncio.sleep(latency_s)
    return 1.0842 if currency == "EUR" else 1.0


@inngest_client.create_function(
    fn_id="rt02-fetch-fx-quote",
    trigger=inngest.TriggerEvent(event="rt02/quote.requested"),
    retries=2,
)
async def fetch_fx_quote(ctx: inngest.Context) -> float:
    request = QuoteRequest.model_validate(ctx.event.data)

    async def quote() -> float:
        call = side_effects.executed(ctx.event, "quote:call")
        latency = request.first_call_latency_s if call == 1 else 0.0
        return await fx_service_quote(request.currency, latency)

    # step.run has no deadline of its own: the pattern bounds each attempt inside the step and
    # turns the timeout into an ordinary error, so the step is retried.
    return await run_with_deadline(ctx, "fetch-quote", quote, QUOTE_DEADLINE_S, QuoteUnavailable)


class StuckCall(BaseModel):
    case: str
    tag: str


HANG_MAX_S = 150.0  # the stuck dependency gives up by itself after this (a safety net)


async def stuck_dependency_answer(call: StuckCall) -> str:
    """A dependency whose answer never comes, until the probe records ``release``."""
    deadline = time.monotonic() + HANG_MAX_S
    while side_effects.count(effect_key(call.tag, "release")) == 0:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    return "late answer"


async def call_stuck_dependency(ctx: inngest.Context) -> str:
    call = StuckCall.model_validate(ctx.event.data)

    async def request_dependency() -> str:
        side_effects.executed(ctx.event, f"{call.case}:call-started", time.time())
        answer = await stuck_dependency_answer(call)
        side_effects.executed(ctx.event, f"{call.case}:call-returned", time.time())
        return answer

    async def record_answer() -> None:
        side_effects.executed(ctx.event, f"{call.case}:after")

    answer = await ctx.step.run("call-dependency", request_dependency)
    await ctx.step.run("record-answer", record_answer)
    return answer


call_stuck_dependency_unbounded = inngest_client.create_function(
    fn_id="rt02-call-stuck-dependency",
    trigger=inngest.TriggerEvent(event="rt02/stuck.unbounded"),
)(call_stuck_dependency)
call_stuck_dependency_bounded = inngest_client.create_function(
    fn_id="rt02-call-stuck-dependency-bounded",
    trigger=inngest.TriggerEvent(event="rt02/stuck.bounded"),
    timeouts=backstop(5),  # the only bound Inngest offers on a hang
)(call_stuck_dependency)

HANG_OBSERVE_S = 30.0  # how long the probe watches a request that never returns
SLACK_S = 5.0  # allowed lateness of a timeout on a loaded machine


@suite.item(
    "RT-02",
    functions=[
        render_report,
        export_ledger,
        await_approval,
        slow_payment,
        checkout,
        fetch_fx_quote,
        call_stuck_dependency_unbounded,
        call_stuck_dependency_bounded,
    ],
    timeout=60,
)
def timeout_system(probe: Probe) -> None:
    # Everything starts together; the stuck request is watched while the rest finishes.
    hung = probe.run_of(probe.send("rt02/stuck.unbounded", {"case": "unbounded"}))
    hung_bounded = probe.run_of(probe.send("rt02/stuck.bounded", {"case": "bounded"}))
    first_report = probe.run_of(
        probe.send("rt02/report.requested", {"report": "first", "render_s": 8})
    )
    if not probe.wait_for_effect("render:first", timeout=15):
        raise RuntimeError("the first report never started; nothing would queue behind it")
    queued_report = probe.run_of(
        probe.send("rt02/report.requested", {"report": "second", "render_s": 0})
    )
    export = probe.run_of(probe.send("rt02/export.requested"))
    approval = probe.run_of(probe.send("rt02/expense.submitted"))
    checkout_run = probe.run_of(probe.send("rt02/checkout.started"))
    quote = probe.run_of(
        probe.send("rt02/quote.requested", {"currency": "EUR", "first_call_latency_s": 10})
    )
    probe.say("waiting for the timed-out runs")
    runs = {
        r.id: r
        for r in runops.wait_for_all(
            probe.api,
            [queued_report, first_report, export, approval, checkout_run, quote, hung_bounded],
            timeout=probe.bound(40),
        )
    }

    run = runs[queued_report]
    probe.measure("start-timeout-cancelled-after", _seconds(run), "s",
                  t("from queueing to cancellation, timeouts.start = 3 s"))  # fmt: skip
    probe.check(
        "start-timeout-cancels-queued",
        t("timeouts.start cancels a run that waited behind a concurrency limit too long"),
        run.status == "CANCELLED"
        and probe.effects("render:second") == 0
        and 3 <= _seconds(run) <= 3 + SLACK_S,
        observed={"status": run.status, "seconds until final": _seconds(run),
                  "second report rendered": probe.effects("render:second"),
                  "first report": runs[first_report].status},
        expected="CANCELLED after about 3 s, never rendered",
        run_ids=[queued_report, first_report],
    )  # fmt: skip

    run = runs[export]
    probe.measure("finish-timeout-cancelled-after", _seconds(run), "s",
                  t("from start to cancellation, timeouts.finish = 4 s"))  # fmt: skip
    probe.check(
        "finish-timeout-cancels-running",
        t("timeouts.finish cancels a run that runs too long, its sleep included"),
        run.status == "CANCELLED"
        and probe.effects("export:prepare") == 1
        and probe.effects("export:upload") == 0
        and 4 <= _seconds(run) <= 4 + SLACK_S,
        observed={"status": run.status, "seconds until final": _seconds(run),
                  "upload ran": probe.effects("export:upload")},
        expected="CANCELLED after about 4 s, upload never ran",
        run_ids=[export],
    )  # fmt: skip

    run = runs[approval]
    probe.measure("wait-for-event-timeout", _seconds(run), "s",
                  t("run duration of a wait_for_event(timeout=3 s) that got no event"))  # fmt: skip
    probe.check(
        "wait-for-event-timeout",
        t("wait_for_event returns None when its timeout passes"),
        run.status == "COMPLETED"
        and run.output == "expired"
        and 3 <= _seconds(run) <= 3 + SLACK_S,
        observed={"status": run.status, "output": run.output, "seconds": _seconds(run)},
        expected="COMPLETED with 'expired' after about 3 s",
        run_ids=[approval],
    )  # fmt: skip

    run = runs[checkout_run]
    output = run.output if isinstance(run.output, dict) else {}
    probe.measure("invoke-timeout", _seconds(run), "s",
                  t("run duration of a parent whose invoke(timeout=3 s) timed out"))  # fmt: skip

    run = runs[quote]
    statuses, _ = _attempts(probe, quote, "fetch-quote")
    first_attempt_s = _first_attempt_duration(probe, quote, "fetch-quote")
    if first_attempt_s is not None:
        probe.measure("step-deadline-first-attempt", first_attempt_s, "s",
                      t("duration of the attempt cut off by asyncio.wait_for({seconds} s)",
                        seconds=QUOTE_DEADLINE_S))  # fmt: skip
    probe.check(
        "step-deadline-pattern",
        t("a deadline inside the step (asyncio.wait_for) cuts a slow call short and the step "
          "is retried"),
        run.status == "COMPLETED"
        and statuses == ["FAILED", "COMPLETED"]
        and first_attempt_s is not None
        and first_attempt_s < QUOTE_DEADLINE_S + SLACK_S,
        observed={"status": run.status, "attempts": statuses,
                  "first attempt s": first_attempt_s, "output": run.output},
        expected=f"COMPLETED; first attempt cut at about {QUOTE_DEADLINE_S} s, not 10 s",
        run_ids=[quote],
    )  # fmt: skip
    parameters = sorted(inspect.signature(inngest.Step.run).parameters)
    probe.check(
        "step-deadline-native",
        t("step.run accepts a deadline of its own"),
        any("timeout" in p or "deadline" in p for p in parameters),
        observed={"step.run parameters": parameters},
        expected="a timeout/deadline parameter",
    )

    run = runs[hung_bounded]
    probe.measure("bounded-hang-cancelled-after", _seconds(run), "s",
                  t("from start to cancellation of a run whose step request never returned, "
                    "timeouts.finish = 5 s"))  # fmt: skip
    probe.check(
        "finish-timeout-bounds-hang",
        t("timeouts.finish cancels a run whose step request never returns"),
        run.status == "CANCELLED" and 5 <= _seconds(run) <= 5 + SLACK_S,
        observed={"status": run.status, "seconds until final": _seconds(run),
                  "request still open": probe.effects("bounded:call-returned") == 0},
        expected="CANCELLED after about 5 s",
        run_ids=[hung_bounded],
    )  # fmt: skip

    # The unbounded stuck request: watch it for HANG_OBSERVE_S, then let it answer.
    if not probe.wait_for_effect("unbounded:call-started", timeout=10):
        raise RuntimeError("the stuck call never started")
    started = probe.effect_values("unbounded:call-started")[0]
    statuses_seen: set[str] = set()
    probe.say(f"watching a step whose request never returns ({HANG_OBSERVE_S:.0f} s)")
    while time.time() - started < HANG_OBSERVE_S:
        probe.bound(1)
        statuses_seen.add(probe.api.get_run(hung).status)
        time.sleep(1)
    watched_s = round(time.time() - started, 1)
    calls_while_hung = probe.effects("unbounded:call-started")
    probe.measure("hang-observed", watched_s, "s",
                  t("how long a step request that never returned was watched: a lower bound "
                    "of the dev server's request timeout"))  # fmt: skip
    probe.check(
        "hung-step-detected",
        t("a step whose request never returns is timed out and retried"),
        calls_while_hung > 1 or bool(statuses_seen - {"RUNNING"}),
        observed={"statuses seen": sorted(statuses_seen), "attempts started": calls_while_hung,
                  "watched s": watched_s},
        expected=f"a second attempt or a failure within {HANG_OBSERVE_S:.0f} s",
        run_ids=[hung],
    )  # fmt: skip
    probe.document(
        "request-timeout-source",
        t(
            "the dev server waits up to 2 hours for an app's response to a step request "
            "(MaxFunctionTimeout, used as the HTTP client timeout)"
        ),
        INNGEST_SOURCE + "pkg/consts/consts.go",
    )
    probe.document(
        "request-timeout-docs",
        t("each step's timeout depends on the host; Inngest supports at most 2 hours"),
        "https://www.inngest.com/docs/usage-limits/inngest",
    )

    side_effects.record(probe.key("release"))  # the dependency answers at last
    released = probe.wait(hung, timeout=20)
    if not probe.wait_for_effect("bounded:call-returned", timeout=10):
        raise RuntimeError("the bounded run's stuck call never returned after release")
    time.sleep(2)  # give a (wrong) continuation of the cancelled run time to show up
    probe.check(
        "hung-step-answer-accepted",
        t("the dev server keeps the request open: a late answer still completes the run"),
        released.status == "COMPLETED",
        observed={"status": released.status, "attempts": probe.effects("unbounded:call-started")},
        expected="COMPLETED with one attempt",
        run_ids=[hung],
        # How the watched hang ended once released: context for hung-step-detected, which
        # rates whether anything bounded it.
        informational=True,
    )  # fmt: skip
    probe.check(
        "late-answer-after-cancel-ignored",
        t("after timeouts.finish cancelled a run, its step's late answer starts no further step"),
        probe.effects("bounded:after") == 0 and probe.api.get_run(hung_bounded).status
        == "CANCELLED",
        observed={"steps after the late answer": probe.effects("bounded:after")},
        expected="0",
        run_ids=[hung_bounded],
    )  # fmt: skip

    # The invoked child: did the parent's timeout stop it? (it sleeps 12 s, long finished now)
    child_settled = probe.effects("payment:settled")
    probe.check(
        "invoke-timeout",
        t("step.invoke raises an error once its timeout passes"),
        runs[checkout_run].status == "COMPLETED"
        and output.get("payment") == "timed out"
        and 3 <= _seconds(runs[checkout_run]) <= 3 + SLACK_S,
        observed={"status": runs[checkout_run].status, "output": output,
                  "seconds": _seconds(runs[checkout_run]),
                  "child went on and settled": child_settled},
        expected="COMPLETED with 'timed out' after about 3 s",
        run_ids=[checkout_run],
    )  # fmt: skip
    probe.check(
        "invoke-timeout-stops-child",
        t("when an invoke times out, the invoked run is stopped too"),
        child_settled == 0,
        observed={"invoked run settled the payment after its caller gave up": child_settled},
        expected="0 (the child cancelled with its caller's timeout)",
        run_ids=[checkout_run],
    )


def _seconds(run: Run) -> float:
    """A finished run's duration by the dev server's own timestamps (-1 when unknown)."""
    return round(run.duration_s, 2) if run.duration_s is not None else -1.0


def _first_attempt_duration(probe: Probe, run_id: str, step: str) -> float | None:
    spans = probe.api.final_trace(run_id).steps(step)
    attempts = spans[0].children if spans else []
    first = attempts[0] if attempts else None
    if first is None or first.started_at is None or first.ended_at is None:
        return None
    return round((first.ended_at - first.started_at).total_seconds(), 2)


@timeout_system.rubric
def _(ev: Evidence) -> Rating:
    run_level = ["start-timeout-cancels-queued", "finish-timeout-cancels-running"]
    waits = ["wait-for-event-timeout", "invoke-timeout"]
    basics = [*run_level, *waits]
    pattern = _rt02_pattern(ev)
    if not any(ev.passed(k) for k in basics):
        return Rating(stars=1, reason=t("no timeout took effect"), drivers=basics, pattern=pattern)
    if not all(ev.passed(k) for k in basics):
        return Rating(
            stars=2,
            reason=t("some run-level or wait timeouts did not take effect"),
            drivers=[k for k in basics if not ev.passed(k)],
            pattern=pattern,
        )
    native_step = ev.passed("step-deadline-native")
    detected = ev.passed("hung-step-detected")
    if native_step and detected:
        return Rating(
            stars=5,
            reason=t(
                "run, wait and invoke timeouts work, steps take their own deadline, and a hung "
                "request was timed out or retried within the {s:.0f} s it was watched",
                s=HANG_OBSERVE_S,
            ),
            drivers=[*basics, "step-deadline-native", "hung-step-detected"],
            pattern=pattern,
        )
    if native_step or detected:
        return Rating(
            stars=4,
            reason=t(
                "run, wait and invoke timeouts work; either steps take no deadline of their own, "
                "or a hung request was neither timed out nor retried within the {s:.0f} s it "
                "was watched",
                s=HANG_OBSERVE_S,
            ),
            drivers=[*basics, "step-deadline-native", "hung-step-detected"],
            pattern=pattern,
        )
    if ev.passed("finish-timeout-bounds-hang"):
        return Rating(
            stars=3,
            reason=t(
                "timeouts.start/finish, wait_for_event and invoke timeouts all work, but a step "
                "has no deadline of its own and a request that never returned was neither timed "
                "out nor retried within the {s:.0f} s it was watched (the source holds it up to "
                "2 h) unless timeouts.finish cancels the whole run",
                s=HANG_OBSERVE_S,
            ),
            drivers=[*basics, "step-deadline-native", "hung-step-detected",
                     "finish-timeout-bounds-hang"],
            advice=_rt02_advice(ev),
            pattern=pattern,
        )  # fmt: skip
    return Rating(
        stars=2,
        reason=t(
            "timeouts work for waits and runs, but nothing bounded a step that hung: no retry "
            "within the {s:.0f} s it was watched, and timeouts.finish did not cancel its run",
            s=HANG_OBSERVE_S,
        ),
        drivers=["finish-timeout-bounds-hang", "hung-step-detected"],
        pattern=pattern,
    )


def _rt02_advice(ev: Evidence) -> Msg:
    if ev.failed("invoke-timeout-stops-child"):
        return t(
            "Give every function that calls slow dependencies a timeouts.finish, and bound "
            "each awaited call inside its step (asyncio.wait_for) so a slow call becomes a "
            "retried step error. An invoke's timeout does not stop the invoked run: give the "
            "child its own timeouts.finish or cancel it."
        )
    return t(
        "Give every function that calls slow dependencies a timeouts.finish, and bound "
        "each awaited call inside its step (asyncio.wait_for) so a slow call becomes a "
        "retried step error."
    )


def _rt02_pattern(ev: Evidence) -> PatternRating:
    name = t("a per-step deadline: asyncio.wait_for inside the step, timeouts.finish as backstop")
    # The backstop holds only if the cancelled run stays stopped when its step answers late.
    drivers = [
        "step-deadline-pattern",
        "finish-timeout-bounds-hang",
        "late-answer-after-cancel-ignored",
    ]
    if all(ev.passed(k) for k in drivers):
        return PatternRating(
            module=pattern_module(run_with_deadline),
            pattern=name,
            stars=4,
            reason=t(
                "the in-step deadline cut the slow call short and the step was retried; it "
                "only bounds awaited code, so a blocked thread still needs timeouts.finish"
            ),
            drivers=drivers,
        )
    return PatternRating(
        module=pattern_module(run_with_deadline),
        pattern=name,
        stars=2,
        reason=t("the in-step deadline or its backstop did not work as intended"),
        drivers=drivers,
    )


# ═══ RT-03 Circuit breaker ═════════════════════════════════════════════════════════════════════
# Nothing native. The pattern (patterns/circuit_breaker.py): a breaker whose state (consecutive
# failures, when it opened) lives in a shared, durable store (SQLite here; Redis or a database
# table in production); an open breaker fails the step with NonRetriableError, so neither the run
# nor its retries call the dependency; a concurrency limit paces the calls.


class GatewayDown(Exception):
    """The payment gateway answered 502."""


BREAKER_THRESHOLD = 3
BREAKER_COOLDOWN_S = 6.0


def gateway_breaker(tag: str) -> CircuitBreaker:
    """The payment gateway's breaker. One per dependency; the tag keeps probes apart."""
    store = side_effects.path.with_name("circuit-breakers.sqlite")
    return CircuitBreaker(
        store, f"payment-gateway/{tag}", threshold=BREAKER_THRESHOLD, cooldown_s=BREAKER_COOLDOWN_S
    )


class Charge(BaseModel):
    order_id: str
    tag: str


async def payment_gateway_charge(ctx: inngest.Context, charge: Charge) -> str:
    """A fake payment gateway: every call is counted; it fails until the probe records
    ``gateway-recovered``."""
    side_effects.executed(ctx.event, "gateway:call", time.time())
    if side_effects.count(effect_key(charge.tag, "gateway-recovered")) == 0:
        raise GatewayDown("payment gateway answered 502")
    return f"receipt-{charge.order_id}"


@inngest_client.create_function(
    fn_id="rt03-charge-with-breaker",
    trigger=inngest.TriggerEvent(event="rt03/order.charge-guarded"),
    retries=2,
    concurrency=[inngest.Concurrency(limit=1)],  # pace the calls: one charge in flight at a time
)
async def charge_with_breaker(ctx: inngest.Context) -> str:
    charge = Charge.model_validate(ctx.event.data)
    breaker = gateway_breaker(charge.tag)

    async def charge_card() -> str:
        return await call_through(
            breaker, lambda: payment_gateway_charge(ctx, charge), failures=(GatewayDown,)
        )

    return await ctx.step.run("charge-card", charge_card)


@inngest_client.create_function(
    fn_id="rt03-charge-without-breaker",
    trigger=inngest.TriggerEvent(event="rt03/order.charge-plain"),
    retries=2,
)
async def charge_without_breaker(ctx: inngest.Context) -> str:
    charge = Charge.model_validate(ctx.event.data)

    async def charge_card() -> str:
        return await payment_gateway_charge(ctx, charge)

    return await ctx.step.run("charge-card", charge_card)


OUTAGE_RUNS = 6


@suite.item("RT-03", functions=[charge_with_breaker, charge_without_breaker], timeout=40)
def circuit_breaker(probe: Probe) -> None:
    # Native: without a breaker, does anything stop runs calling a gateway that keeps failing?
    plain = [
        probe.run_of(probe.send("rt03/order.charge-plain", {"order_id": f"P{n}"})) for n in range(3)
    ]
    runops.wait_for_all(
        probe.api, plain, timeout=probe.bound(20 + probe.devserver.retry_allowance(2))
    )
    calls = probe.effects("gateway:call")
    probe.check(
        "native-stops-calling",
        t("without user code, Inngest stops calling a dependency that keeps failing"),
        calls < 3 * 3,
        observed={"runs": 3, "attempts allowed each": 3, "gateway calls": calls},
        expected="fewer than 9 calls",
        run_ids=plain,
    )

    # The pattern: an outage, seen by runs in a child app process that is then killed.
    probe.new_scenario()
    breaker = gateway_breaker(probe.tag)
    with probe.app.run_as_process() as app:
        outage_started = time.time()
        guarded = [
            probe.run_of(probe.send("rt03/order.charge-guarded", {"order_id": f"G{n}"}))
            for n in range(OUTAGE_RUNS)
        ]
        runs = runops.wait_for_all(
            probe.api, guarded, timeout=probe.bound(30 + probe.devserver.retry_allowance(2))
        )
        outage_s = time.time() - outage_started
        calls = probe.effects("gateway:call")
        # A trial call may go out each time the cooldown passes while the outage lasts.
        allowed = BREAKER_THRESHOLD + int(outage_s // BREAKER_COOLDOWN_S)
        fast_failures = [
            r.id for r in runs if r.status == "FAILED" and "circuit is open" in (r.error or "")
        ]
        probe.check(
            "opens-after-threshold",
            t("after {n} failures the breaker opens and runs stop calling the gateway",
              n=BREAKER_THRESHOLD),
            calls <= allowed and breaker.state() in ("open", "half-open"),
            observed={"runs": OUTAGE_RUNS, "gateway calls": calls, "allowed": allowed,
                      "breaker": breaker.state(), "statuses": [r.status for r in runs]},
            expected=f"at most {allowed} calls for {OUTAGE_RUNS} runs of 3 attempts",
            run_ids=guarded,
        )  # fmt: skip
        probe.check(
            "open-fails-fast",
            t("while the breaker is open, a run fails at once (NonRetriableError, no retries)"),
            len(fast_failures) >= OUTAGE_RUNS - BREAKER_THRESHOLD,
            observed={"runs failed by the open breaker": len(fast_failures),
                      "errors": sorted({r.error or "" for r in runs})},
            expected=f"at least {OUTAGE_RUNS - BREAKER_THRESHOLD} runs",
            run_ids=guarded,
        )  # fmt: skip

        # The breaker's state is not in the app process: kill it and start a new one.
        app.kill()
        app.start()
        state_after_restart = breaker.state()
        calls_before = probe.effects("gateway:call")
        after_restart = probe.run_of(
            probe.send("rt03/order.charge-guarded", {"order_id": "G-after-restart"})
        )
        run = probe.wait(after_restart, timeout=20)
        calls_after_restart = probe.effects("gateway:call") - calls_before
        probe.check(
            "state-survives-app-restart",
            t("the breaker stays open for a new app process (its state is durable and shared)"),
            # Open: no call. Cooled down meanwhile: one trial call. A breaker that forgot its
            # state would be closed and let all 3 attempts call the gateway.
            run.status == "FAILED" and calls_after_restart <= 1,
            observed={"breaker after restart": state_after_restart, "status": run.status,
                      "gateway calls": calls_after_restart, "error": run.error},
            expected="FAILED with at most one (trial) gateway call",
            run_ids=[after_restart],
        )  # fmt: skip

        # The gateway recovers; after the cooldown a trial call closes the breaker.
        side_effects.record(probe.key("gateway-recovered"))
        wait_s = max(0.0, breaker_opened_at(breaker) + BREAKER_COOLDOWN_S - time.time())
        probe.say(f"gateway recovered; waiting {wait_s:.0f} s of breaker cooldown")
        time.sleep(probe.bound(wait_s + 0.5))
        recovered = [
            probe.run_of(probe.send("rt03/order.charge-guarded", {"order_id": f"R{n}"}))
            for n in range(3)
        ]
        runs = runops.wait_for_all(probe.api, recovered, timeout=probe.bound(30))
        probe.check(
            "closes-after-recovery",
            t("once the gateway recovers, a trial call closes the breaker and charges go "
              "through"),
            all(r.status == "COMPLETED" for r in runs) and breaker.state() == "closed",
            observed={"statuses": [r.status for r in runs], "breaker": breaker.state()},
            expected="3 COMPLETED, breaker closed",
            run_ids=recovered,
        )  # fmt: skip


def breaker_opened_at(breaker: CircuitBreaker) -> float:
    return breaker.opened_at()


@circuit_breaker.rubric
def _(ev: Evidence) -> Rating:
    pattern = _rt03_pattern(ev)
    if ev.passed("native-stops-calling"):
        return Rating(
            stars=4,
            reason=t("Inngest itself stopped calling the failing dependency"),
            drivers=["native-stops-calling"],
            pattern=pattern,
        )
    if not ev.passed("open-fails-fast"):
        return Rating(
            stars=1,
            reason=t(
                "no circuit breaker, and NonRetriableError did not end a run at once: nothing "
                "to build one with"
            ),
            drivers=["native-stops-calling", "open-fails-fast"],
            pattern=pattern,
        )
    return Rating(
        stars=2,
        reason=t(
            "no circuit breaker: without one every run called the failing gateway on every "
            "attempt; NonRetriableError and concurrency limits are the building blocks"
        ),
        drivers=["native-stops-calling", "open-fails-fast"],
        advice=t(
            "Keep breaker state in a shared store (Redis, a table) and raise NonRetriableError "
            "while it is open; add a concurrency or throttle limit on the function that calls "
            "the dependency."
        ),
        pattern=pattern,
    )


def _rt03_pattern(ev: Evidence) -> PatternRating:
    name = t("a circuit breaker with shared SQLite state and NonRetriableError while open")
    module = pattern_module(call_through)
    keys = ["opens-after-threshold", "open-fails-fast", "state-survives-app-restart",
            "closes-after-recovery"]  # fmt: skip
    if not ev.passed("opens-after-threshold"):
        return PatternRating(pattern=name, module=module, stars=1,
                             reason=t("the breaker did not stop the calls"),
                             drivers=["opens-after-threshold"])  # fmt: skip
    if not ev.passed("open-fails-fast"):
        return PatternRating(pattern=name, module=module, stars=2,
                             reason=t("calls stopped, but runs did not fail fast while open"),
                             drivers=["open-fails-fast"])  # fmt: skip
    if not (ev.passed("closes-after-recovery") and ev.passed("state-survives-app-restart")):
        return PatternRating(
            module=module,
            pattern=name,
            stars=3,
            reason=t("the breaker opens, but does not close again or loses its state"),
            drivers=["closes-after-recovery", "state-survives-app-restart"],
        )
    return PatternRating(
        module=module,
        pattern=name,
        stars=4,
        reason=t(
            "opens after the threshold, fails runs fast without calling the gateway, keeps "
            "its state across an app restart, and closes after recovery; it is your code and "
            "your store to run"
        ),
        drivers=keys,
    )


# ═══ RT-04 Heartbeat ═══════════════════════════════════════════════════════════════════════════
# Nothing native. A catalogue reindex done as one long step is compared with the same work split
# into one step per chunk: the app is SIGKILLed in the middle of both.


class Reindex(BaseModel):
    chunks: int
    chunk_s: float


async def reindex_chunk(ctx: inngest.Context, name: str, chunk: int, seconds: float) -> int:
    side_effects.executed(ctx.event, name, chunk)
    await asyncio.sleep(seconds)  # the work of one chunk
    return chunk


@inngest_client.create_function(
    fn_id="rt04-reindex-one-step",
    trigger=inngest.TriggerEvent(event="rt04/reindex.one-step"),
    retries=3,
)
async def reindex_in_one_step(ctx: inngest.Context) -> int:
    job = Reindex.model_validate(ctx.event.data)

    async def reindex_everything() -> int:
        for chunk in range(job.chunks):
            await reindex_chunk(ctx, "one-step:chunk", chunk, job.chunk_s)
        return job.chunks

    return await ctx.step.run("reindex-everything", reindex_everything)


@inngest_client.create_function(
    fn_id="rt04-reindex-chunked",
    trigger=inngest.TriggerEvent(event="rt04/reindex.chunked"),
    retries=3,
)
async def reindex_in_chunks(ctx: inngest.Context) -> int:
    job = Reindex.model_validate(ctx.event.data)

    async def reindex(chunk: int) -> int:
        return await reindex_chunk(ctx, "chunked:chunk", chunk, job.chunk_s)

    # One step per chunk: each is a checkpoint, visible in the run's trace as it completes.
    done = await run_in_chunks(ctx, "chunk", range(job.chunks), reindex)
    return len(done)


CHUNKS = 8
CHUNK_S = 0.7
KILL_AFTER_CHUNKS = 4  # the app is SIGKILLed while the 4th chunk runs


class TraceView(TypedDict):
    """What the run's trace showed while the ledger said chunk ``chunk`` was under way."""

    chunk: int
    steps: list[list[Any]]  # [name, status, attempts, attempt spans] per step, times left out


def _trace_while_running(probe: Probe, run_id: str, effect: str) -> list[TraceView]:
    """Every different view of the run's trace, polled until the ledger shows the kill point.
    Times are left out: a clock that moves is not progress."""
    seen: list[TraceView] = []
    deadline = time.monotonic() + probe.bound(30)
    while probe.effects(effect) < KILL_AFTER_CHUNKS and time.monotonic() < deadline:
        chunk = probe.effects(effect)
        with contextlib.suppress(RuntimeError):  # TraceNotReady just after the start
            steps = [
                [s.name, s.status, s.attempts, len(s.children)]
                for s in probe.api.trace(run_id).steps()
            ]
            view = TraceView(chunk=chunk, steps=steps)
            if not seen or seen[-1] != view:
                seen.append(view)
        time.sleep(0.2)
    if probe.effects(effect) < KILL_AFTER_CHUNKS:
        raise ProbeTimeout(f"the reindex never reached chunk {KILL_AFTER_CHUNKS}")
    return seen


def _completed_steps(views: list[TraceView]) -> list[int]:
    """How many completed steps the trace showed, each change once."""
    counts: list[int] = []
    for view in views:
        done = sum(1 for step in view["steps"] if step[1] == "COMPLETED")
        if not counts or counts[-1] != done:
            counts.append(done)
    return counts


def _views_during_step(views: list[TraceView]) -> list[list[list[Any]]]:
    """The different things the trace said while the long step was well under way (from the
    second chunk on, so the step's first appearance is not counted as progress)."""
    distinct: list[list[list[Any]]] = []
    for view in views:
        if view["chunk"] >= 2 and view["steps"] not in distinct:
            distinct.append(view["steps"])
    return distinct


@suite.item("RT-04", functions=[reindex_in_one_step, reindex_in_chunks], timeout=50)
def heartbeat(probe: Probe) -> None:
    job = {"chunks": CHUNKS, "chunk_s": CHUNK_S}
    with probe.app.run_as_process() as app:
        one_step = probe.run_of(probe.send("rt04/reindex.one-step", job))
        views_one = _trace_while_running(probe, one_step, "one-step:chunk")
        app.kill()
        app.start()
        one_run = probe.wait_or_last(one_step, timeout=20)

        chunked = probe.run_of(probe.send("rt04/reindex.chunked", job))
        progress_chunked = _completed_steps(_trace_while_running(probe, chunked, "chunked:chunk"))
        app.kill()
        app.start()
        chunked_run = probe.wait_or_last(chunked, timeout=20)

    one_chunks = probe.effect_values("one-step:chunk")
    chunked_chunks = probe.effect_values("chunked:chunk")
    probe.measure("one-step-chunks-redone", len(one_chunks) - CHUNKS, "chunks",
                  t("chunks of work done twice after a SIGKILL during chunk {k} of {n}, one "
                    "long step", k=KILL_AFTER_CHUNKS, n=CHUNKS))  # fmt: skip
    probe.measure("chunked-chunks-redone", len(chunked_chunks) - CHUNKS, "chunks",
                  t("chunks of work done twice after a SIGKILL during chunk {k} of {n}, one "
                    "step per chunk", k=KILL_AFTER_CHUNKS, n=CHUNKS))  # fmt: skip
    probe.check(
        "long-step-completes-after-crash",
        t("one long step completes after the app is SIGKILLed in the middle of it"),
        one_run.status == "COMPLETED" and one_run.output == CHUNKS,
        observed={"status": one_run.status, "output": one_run.output},
        run_ids=[one_step],
    )
    probe.check(
        "long-step-progress-kept",
        t("a long step keeps the progress it made before a crash"),
        # Only a run that finished shows what was kept: a failed one did not do the rest.
        one_run.status == "COMPLETED" and len(one_chunks) <= CHUNKS + 1,
        observed={"chunk executions in order": one_chunks},
        expected=f"{CHUNKS} or {CHUNKS + 1} executions (only the interrupted chunk again)",
        run_ids=[one_step],
    )
    during_step = _views_during_step(views_one)
    probe.check(
        "long-step-progress-visible",
        t(
            "a long step's progress can be read from outside while it runs: the run's trace "
            "changes as the step works through its chunks"
        ),
        len(during_step) > 1,
        observed={
            f"trace views while chunks 2-{KILL_AFTER_CHUNKS} ran": during_step,
            "every view (chunk under way, steps)": views_one,
        },
        expected="a different trace at a later chunk (steps as [name, status, attempts, spans])",
        run_ids=[one_step],
    )
    probe.check(
        "chunked-completes",
        t("the chunked reindex completes after the app is SIGKILLed"),
        chunked_run.status == "COMPLETED" and chunked_run.output == CHUNKS,
        observed={"status": chunked_run.status, "output": chunked_run.output},
        run_ids=[chunked],
    )
    probe.check(
        "chunked-resumes-from-last-chunk",
        t("after the SIGKILL only the interrupted chunk runs again"),
        sorted(chunked_chunks) == sorted([*range(CHUNKS), KILL_AFTER_CHUNKS - 1]),
        observed={"chunk executions in order": chunked_chunks},
        expected=f"each chunk once, chunk {KILL_AFTER_CHUNKS - 1} twice",
        run_ids=[chunked],
    )
    probe.check(
        "chunked-progress-visible",
        t("the chunked reindex's progress is visible through the API while it runs"),
        len(progress_chunked) > 1 and progress_chunked == sorted(progress_chunked),
        observed={"completed steps seen in the trace while running": progress_chunked},
        expected="a count that grows while the run is in progress",
        run_ids=[chunked],
    )
    probe.document(
        "no-heartbeat",
        t(
            "the SDK has no heartbeat call; the dev server bounds a step's request only by "
            "its 2 hour HTTP timeout (see RT-02)"
        ),
        INNGEST_SOURCE + "pkg/execution/exechttp/exechttp.go",
    )


@heartbeat.rubric
def _(ev: Evidence) -> Rating:
    pattern = _rt04_pattern(ev)
    if not ev.passed("long-step-completes-after-crash"):
        return Rating(
            stars=1,
            reason=t("a long step did not survive an app crash"),
            drivers=["long-step-completes-after-crash"],
            pattern=pattern,
        )
    kept, visible = ev.passed("long-step-progress-kept"), ev.passed("long-step-progress-visible")
    drivers = ["long-step-progress-kept", "long-step-progress-visible"]
    if kept and visible:
        return Rating(stars=4, reason=t("a long step reports and keeps its progress"),
                      drivers=drivers, pattern=pattern)  # fmt: skip
    if kept or visible:
        return Rating(
            stars=3,
            reason=t("a long step either keeps or reports its progress, not both"),
            drivers=drivers,
            pattern=pattern,
        )
    return Rating(
        stars=2,
        reason=t(
            "no heartbeat: a long step is all or nothing, its progress is invisible while it "
            "runs and a crash repeats it from the start (it is retried, so it completes)"
        ),
        drivers=["long-step-completes-after-crash", *drivers],
        advice=t(
            "Split long work into one step per chunk (each chunk a checkpoint visible in the "
            "trace), and bound the whole run with timeouts.finish."
        ),
        pattern=pattern,
    )


def _rt04_pattern(ev: Evidence) -> PatternRating:
    name = t("step splitting: one step per chunk instead of heartbeats")
    if not (ev.passed("chunked-completes") and ev.passed("chunked-resumes-from-last-chunk")):
        return PatternRating(
            module=pattern_module(run_in_chunks),
            pattern=name,
            stars=1 if not ev.passed("chunked-completes") else 2,
            reason=t("the chunked run did not resume from its last chunk"),
            drivers=["chunked-completes", "chunked-resumes-from-last-chunk"],
        )
    if not ev.passed("chunked-progress-visible"):
        return PatternRating(
            module=pattern_module(run_in_chunks),
            pattern=name,
            stars=3,
            reason=t("the run resumes from its last chunk, but progress is not visible"),
            drivers=["chunked-progress-visible"],
        )
    return PatternRating(
            module=pattern_module(run_in_chunks),
            
        pattern=name,
        stars=4,
        reason=t(
            "each chunk is a checkpoint: progress is visible in the trace while the run goes on "
            "and a SIGKILL repeats only the interrupted chunk; a hung chunk is still not "
            "detected (no heartbeat timeout)"
        ),
        drivers=["chunked-completes", "chunked-resumes-from-last-chunk",
                 "chunked-progress-visible"],
    )  # fmt: skip


if __name__ == "__main__":
    suite.main()
