"""The reports' fault-campaign section and the items that cite it, from a saved campaign."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from test_report import result, write_results

from harness.faults.model import (
    CAMPAIGN_FILE,
    Campaign,
    CampaignFile,
    InvariantOutcome,
    RepeatFigures,
)
from harness.rating.results import write_atomically
from harness.report import render as report


def campaign(kind: str, *, lost: int = 0) -> Campaign:
    outcomes = [
        InvariantOutcome(key=key, checked=40, holds=True, total_violations=0)
        for key in report.INVARIANT_NAMES
    ]
    if lost:
        outcomes[-1] = InvariantOutcome(
            key="nothing-lost-across-server-restarts",
            checked=12,
            holds=False,
            total_violations=lost,
            violations=[{"order": "order-1-00003", "statuses": ["RUNNING"]}],
        )
    return Campaign(
        server_kind=kind,
        server={"version": "1.43.0-e7b1e6e"},
        sdk_version="0.5.19",
        started_at=datetime(2026, 12, 4, tzinfo=UTC),
        argv=["fault_campaign.py"],
        seed=3,
        duration_s=60,
        wall_s=81.0,
        quiescence_s=9.5,
        quiescence_bound_s=90,
        orders=40,
        sends=49,
        duplicate_sends={"same-event-id": 5, "same-idempotency-key": 4},
        failed_sends=2,
        runs=40,
        faults_planned=33,
        faults_injected={"app-kill": 7, "server-kill": 2},
        invariants=outcomes,
        repeats=RepeatFigures(executions=182, repeats=22, explained=22, unexplained=0),
        recovery_s=[0.4, 2.7, 13.9],
        history_file=f"results/fault_campaign/{kind}-history.jsonl.gz",
    )


def _reports(tmp_path: Path, saved: CampaignFile | None) -> dict[str, str]:
    write_results(tmp_path, result("EX-04", 3), result("EX-05", 3))
    if saved is not None:
        write_atomically(tmp_path / CAMPAIGN_FILE, saved.model_dump_json())
    data = report.ReportData.load(tmp_path)
    return {lang: report.render_report(data, lang, {}) for lang in ("en", "ja")}


def test_the_section_shows_both_campaigns_and_a_violation_with_its_counterexample(
    tmp_path: Path,
) -> None:
    saved = CampaignFile(
        campaigns={"dev": campaign("dev"), "self-hosted": campaign("self-hosted", lost=1)}
    )
    en = _reports(tmp_path, saved)["en"]
    section = en.split("## Durability under random faults")[1].split("\n## ")[0]
    assert "| Campaign | self-hosted (PostgreSQL + Redis) | dev server |" in section
    assert "app killed 7, server killed (SIGKILL) 2" in section
    assert '**violated in 1 of 12**; first: `{"order": "order-1-00003"' in section
    assert "held (40 checked)" in section and "median 2.7 s, max 13.9 s" in section
    assert "seed 3" in section and "results/fault_campaign/dev-history.jsonl.gz" in section


def test_items_whose_claims_the_campaign_tests_cite_it_and_others_do_not(tmp_path: Path) -> None:
    reports = _reports(tmp_path, CampaignFile(campaigns={"self-hosted": campaign("self-hosted")}))
    en = reports["en"]
    ex04 = en.split("#### EX-04")[1].split("####")[0]
    assert "Under random faults ([the fault campaign](#fault-campaign)):" in ex04
    assert "runs in flight when the server is stopped complete after it comes back" in ex04
    assert "Under random faults" not in en.split("#### EX-05")[1].split("####")[0]
    assert "ランダムな障害の下で" in reports["ja"] and "held (" not in reports["ja"]


def test_without_a_campaign_the_report_says_how_to_record_one(tmp_path: Path) -> None:
    en = _reports(tmp_path, None)["en"]
    assert "No fault campaign has been recorded (`python fault_campaign.py`)." in en
    assert "Under random faults" not in en


def test_orders_acknowledged_then_lost_are_explained_from_the_source(tmp_path: Path) -> None:
    lost = campaign("self-hosted")
    lost.invariants[0] = InvariantOutcome(
        key="every-run-final",
        checked=40,
        holds=False,
        total_violations=2,
        violations=[
            {"order": "o1", "found": "no run", "seconds_after_acknowledged": 0.05},
            {"order": "o2", "found": "no run", "seconds_after_acknowledged": 0.23},
        ],
    )
    reports = _reports(tmp_path, CampaignFile(campaigns={"self-hosted": lost}))
    assert "2 orders the server had acknowledged" in reports["en"]
    assert "stopped 0.23 s or less after it answered" in reports["en"]
    assert "pkg/cuedefs/config/config.cue" in reports["ja"] and "2 件は" in reports["ja"]
