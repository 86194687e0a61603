"""harness.probing.cloud_docs: the plan limits items cite, with both pages and the day read."""

from __future__ import annotations

import re

from conftest import ROOT
from harness.probing import cloud_docs


def test_each_figure_is_cited_from_both_pages_with_the_day_read() -> None:
    for facts in (cloud_docs.concurrency_by_plan(), cloud_docs.history_retention_by_plan()):
        assert [source for _, _, source in facts] == [
            cloud_docs.LIMITS_PAGE,
            cloud_docs.USAGE_LIMITS_PAGE,
        ]
        for _, claim, _ in facts:
            assert claim.params["date"] == cloud_docs.READ_ON
            assert "disagree" in claim.id  # the pages differ: no fact hides that
        assert len({key for key, _, _ in facts}) == 2


def test_no_script_cites_plan_limits_of_its_own() -> None:
    # Plan concurrency and history retention are cited only through harness.probing.cloud_docs, so
    # that PF-02, OP-04 and OP-05 cannot drift apart again.
    for script in sorted(ROOT.glob("[01][0-9]_*.py")):
        text = script.read_text()
        assert not re.search(r'"cloud-(concurrency|retention)', text), script.name
