"""Raw samples kept with a measurement, and how compactly the results file holds them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from harness.rating.catalog import lookup
from harness.rating.evidence import Evidence, ItemResult, ItemStatus, Rating
from harness.rating.results import ResultsFile, _inline_number_lists


def test_samples_are_kept_with_a_measurement_and_left_out_when_absent() -> None:
    evidence = Evidence()
    evidence.measure("latency", 12.5, "ms", samples=[10.0, 12.5, 30.25])
    evidence.measure("count", 3, "runs")
    dumped = json.loads(evidence.model_dump_json())
    assert dumped["measurements"][0]["samples"] == [10.0, 12.5, 30.25]
    assert "samples" not in dumped["measurements"][1]
    assert Evidence.model_validate(dumped).measurements[0].samples == [10.0, 12.5, 30.25]


def test_results_file_puts_number_lists_on_one_line() -> None:
    entry = lookup("PF-01")
    evidence = Evidence()
    evidence.measure("step-overhead", 150.0, "ms", samples=[float(x) for x in range(50)])
    evidence.check("k", "a check", True, observed={"tags": ["a", "b"], "text": "[1,  2]"})
    results = ResultsFile(script="07_pf_performance.py", category="PF")
    results.record(
        ItemResult(
            id=entry.id, name=entry.name, category=entry.category.value,
            status=ItemStatus.RATED, rating=Rating(stars=3, reason="because"),
            original_stars=entry.original_stars, evidence=evidence,
            started_at=datetime(2026, 11, 25, tzinfo=UTC), duration_s=1.0, session="s",
        )
    )  # fmt: skip
    text = results.to_json()
    assert '"samples": [0.0, 1.0, 2.0, ' in text  # one line, not fifty
    reloaded = json.loads(text)
    measurement = reloaded["items"]["PF-01"]["evidence"]["measurements"][0]
    assert measurement["samples"] == [float(x) for x in range(50)]
    observed = reloaded["items"]["PF-01"]["evidence"]["checks"][0]["observed"]
    assert observed == {"tags": ["a", "b"], "text": "[1,  2]"}  # strings are untouched


def test_only_lists_spread_over_lines_are_rewritten() -> None:
    assert _inline_number_lists('{"a": "[1,  2]"}') == '{"a": "[1,  2]"}'
    assert _inline_number_lists("[\n  1,\n  -2.5e-05\n]") == "[1, -2.5e-05]"
