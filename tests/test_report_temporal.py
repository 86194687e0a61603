"""The reports' Temporal section from a measured comparison: figures, stars, the original
report's column, differences, and the evidence behind each Temporal cell, in both languages."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from test_report import _figures, result, write_results

from harness.i18n import t
from harness.rating.evidence import Evidence, SourceRef
from harness.rating.results import write_atomically
from harness.report import render as report
from harness.temporal.comparison import COMPARISON_FILE, Comparison, TemporalResult
from harness.temporal.rubrics import ITEM_NAMES, assemble, rate_heartbeat

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def heartbeat_result() -> TemporalResult:
    ev = Evidence()
    for key in ("both-complete", "heartbeat-detects-dead-worker", "heartbeat-faster-than-timeout"):
        ev.check(key, t("a check"), True)
    ev.check("progress-carried-to-retry", t("a check"), False, observed={"resumed_from": 0})
    ev.not_run("cluster", t("a check"), t("one machine"))
    values = {
        "detection-with-heartbeat": 2.2,
        "detection-without-heartbeat": 5.8,
        "heartbeat-timeout": 2.0,
        "resumed-from-row": 0,
        "rows": 24,
    }
    for key, value in values.items():
        ev.measure(key, value, "s", t("the p50 of {n} runs", n=50))
    ev.document("cloud", t("the cloud has regions"), "https://example.invalid/temporal")
    return TemporalResult(
        id="RT-04",
        name=ITEM_NAMES["RT-04"],
        status="measured",
        rating=rate_heartbeat(ev),
        evidence=ev,
        duration_s=20.0,
        source=SourceRef(script="harness/temporal/probes.py", probe="heartbeat_timeout", line=99),
    )


def latency_result() -> TemporalResult:
    ev = Evidence()
    ev.check("all-steps-ran", t("a check"), True)
    for key, value in {
        "activity-step-p50": 47.9,
        "activity-step-p95": 73.7,
        "activity-step-p99": 108.7,
        "activity-step-samples": 177,
        "step-overhead-p50": 45.1,
        "local-step-p50": 2.3,
        "in-process-step-p50": 0.55,
    }.items():
        ev.measure(key, value, "ms")
    return TemporalResult(id="PF-01", name=ITEM_NAMES["PF-01"], status="measured", evidence=ev)


def write_comparison(results_dir: Path) -> None:
    items = {"RT-04": heartbeat_result(), "PF-01": latency_result()}
    comparison = Comparison(
        written_at=NOW,
        temporal_version="1.32.0",
        sdk_version="1.35.0",
        server={"versions": {"cli": "1.9.1", "server": "1.32.0", "ui": "2.54.1"}},
        machine={"cpu_count": 2},
        duration_s=97.0,
        items=items,
        rows=assemble(items),
    )
    write_atomically(results_dir / COMPARISON_FILE, comparison.model_dump_json(indent=2))


def sections(tree: Path) -> tuple[str, str]:
    report.generate(tree / "results", tree)
    en = (tree / "REPORT.md").read_text().split("## Temporal and Inngest")[1].split("\n## ")[0]
    ja = (tree / "REPORT_ja.md").read_text().split("## Temporal と Inngest")[1].split("\n## ")[0]
    return en, ja


def test_measured_cells_show_figures_stars_and_differences(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    write_results(tmp_path / "results", result("RT-04", 2))
    write_comparison(tmp_path / "results")
    en, ja = sections(tmp_path)
    assert "Temporal CLI 1.9.1 (server 1.32.0), Python SDK temporalio 1.35.0, on 2 cores" in en
    heartbeat = next(line for line in en.splitlines() if line.startswith("| Heartbeats"))
    assert "retried 2.2 s after the kill with a 2.0 s heartbeat timeout" in heartbeat
    assert "| ★★★★☆ | measured (`RT-04 progress-carried-to-retry`) | ★★★★★ native |" in heartbeat
    assert "**differs**: measured 4★ where the original report gave 5★" in heartbeat
    assert "[RT-04](#rt-04) ★★☆☆☆" in heartbeat  # the Inngest side from its own results
    latency = next(line for line in en.splitlines() if line.startswith("| Step latency"))
    assert "p50 47.9 ms" in latency and "about 4 ms per step" in latency
    assert "**differs**: measured p50 45.1 ms of overhead per activity step" in latency
    documented = next(line for line in en.splitlines() if line.startswith("| Determinism"))
    assert "[documented, not executed](https://" in documented  # not measured: still cited
    assert "| agrees |" not in en  # nothing measured agrees here
    assert "**相違**" in ja and "元のレポートは 5★、測定では 4★" in ja


def test_the_evidence_behind_each_temporal_cell_is_listed(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    write_comparison(tmp_path / "results")
    en, ja = sections(tmp_path)
    evidence = en.split("### Temporal evidence")[1]
    assert "#### Temporal RT-04" in evidence and "#### Temporal PF-01" in evidence
    assert "✘ a check <sub>`progress-carried-to-retry`</sub>" in evidence
    assert '`{"resumed_from": 0}`' in evidence
    assert "not run: one machine" in evidence
    assert "`detection-with-heartbeat` = 2.2 s — the p50 of 50 runs" in evidence
    assert "[documented, not executed](https://example.invalid/temporal)" in evidence
    assert "[`heartbeat_timeout`](harness/temporal/probes.py#L99) in 20 s." in evidence
    assert "figures, no stars" in evidence  # PF-01 has figures, not stars
    assert "### Temporal の根拠" in ja


def test_both_languages_carry_the_same_numbers_in_the_temporal_section(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    write_comparison(tmp_path / "results")
    en, ja = sections(tmp_path)
    assert re.findall(r"[★☆]+", en) == re.findall(r"[★☆]+", ja)
    assert _figures(en) == _figures(ja)
