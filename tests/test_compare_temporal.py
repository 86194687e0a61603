"""compare_temporal.py without a Temporal server: usage errors, a missing CLI, the documented-only
mode, what a run writes (the probes replaced by a fake), and the activities on their own."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

import compare_temporal
from harness.i18n import t
from harness.probing.ledger import effect_key, side_effects
from harness.rating.evidence import Evidence
from harness.temporal.comparison import COMPARISON_FILE, Comparison, TemporalResult
from harness.temporal.rubrics import ITEM_NAMES, RUBRICS
from harness.temporal.server import BIN_ENV


def test_an_unknown_item_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        compare_temporal.main(["--item", "EX-01,XX-99"])
    assert caught.value.code == 2
    assert "unknown item(s) XX-99" in capsys.readouterr().err


def test_a_missing_cli_exits_2_with_instructions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(BIN_ENV, str(tmp_path / "no-temporal-here"))
    assert compare_temporal.main(["--results-dir", str(tmp_path)]) == 2
    assert "TEMPORAL_CLI_BIN=" in (err := capsys.readouterr().err) and "not an executable" in err
    assert not (tmp_path / COMPARISON_FILE).exists()


def test_documented_only_needs_no_temporal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BIN_ENV, str(tmp_path / "no-temporal-here"))
    assert compare_temporal.main(["--results-dir", str(tmp_path), "--documented-only"]) == 0
    comparison = Comparison.model_validate_json((tmp_path / COMPARISON_FILE).read_text())
    assert not comparison.measured
    assert {r.temporal.basis for r in comparison.rows} == {"documented"}


def _result(item_id: str, *, error: str | None = None) -> TemporalResult:
    ev = Evidence()
    if error is None:
        ev.check("completes-after-crash", t("a check"), True)
        ev.measure("crash-to-completion", 9.5, "s")
        ev.measure("retry-attempt", 2, "attempt")
        ev.measure("history-events", 25, "events")
    return TemporalResult(
        id=item_id,
        name=ITEM_NAMES[item_id],
        status="error" if error else "measured",
        rating=RUBRICS[item_id](ev) if item_id in RUBRICS and not error else None,
        evidence=ev,
        error=error,
    )


@pytest.fixture
def fake_run(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Replace the server and probes: the run "measures" what each call is told to."""
    pytest.importorskip("temporalio")
    from harness.temporal import probes as temporal_probes

    calls: list[list[str]] = []

    async def run_comparison(binary: str, workdir: Path, selected: list[str], **_: Any):
        calls.append(list(selected))
        outcome = temporal_probes.RunOutcome(
            server={"versions": {"cli": "9.9.9", "server": "1.2.3", "ui": "4.5.6"}},
            machine={"cpu_count": 2},
            duration_s=12.0,
        )
        for item_id in selected:
            outcome.results[item_id] = _result(
                item_id, error="boom" if item_id == "RT-04" else None
            )
        return outcome

    monkeypatch.setattr(temporal_probes, "run_comparison", run_comparison)
    monkeypatch.setattr(compare_temporal, "require", lambda: "temporal")
    return calls


def test_a_run_writes_measured_rows_and_keeps_earlier_items(
    tmp_path: Path, fake_run: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert compare_temporal.main(["--results-dir", str(tmp_path), "--item", "EX-01"]) == 0
    first = Comparison.model_validate_json((tmp_path / COMPARISON_FILE).read_text())
    assert first.temporal_version == "1.2.3" and first.duration_s == 12.0
    row = {r.key: r for r in first.rows}["execution-model"]
    assert (
        row.temporal.basis == "measured" and row.temporal.stars == 2
    )  # the re-run check is missing
    assert "9.5 s later" in str(row.temporal.text)
    # A later run of another item keeps EX-01 and reports the errored item with exit code 3.
    assert compare_temporal.main(["--results-dir", str(tmp_path), "--item", "RT-04"]) == 3
    second = Comparison.model_validate_json((tmp_path / COMPARISON_FILE).read_text())
    assert set(second.items) == {"EX-01", "RT-04"}
    assert second.items["RT-04"].error == "boom"
    assert fake_run == [["EX-01"], ["RT-04"]]
    assert "RT-04" in json.loads((tmp_path / COMPARISON_FILE).read_text())["items"]
    assert "Execution model: ★★☆☆☆" in capsys.readouterr().out


def test_no_save_writes_nothing(tmp_path: Path, fake_run: list[list[str]]) -> None:
    assert compare_temporal.main(["--results-dir", str(tmp_path), "--no-save"]) == 3
    assert not (tmp_path / COMPARISON_FILE).exists()
    assert fake_run[0][0] == "DX-03"  # every item, in run order


# --- the activities, run by the SDK's activity test environment (no server) ---------------------
def test_an_export_resumes_from_its_last_heartbeat(ledger: Path) -> None:
    testing = pytest.importorskip("temporalio.testing")
    from harness.temporal.workflows import ExportJob, export_rows

    env = testing.ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=2, heartbeat_details=[20])
    beats: list[Any] = []
    env.on_heartbeat = lambda *details: beats.append(details[0])
    job = ExportJob("tag", rows=22, row_seconds=0, heartbeat=True)
    assert asyncio.run(env.run(export_rows, job)) == 22
    [attempt] = side_effects.values(effect_key("tag", "export-attempt"))
    assert attempt["attempt"] == 2 and attempt["from_row"] == 20
    assert side_effects.values(effect_key("tag", "row-exported")) == [20, 21]
    assert beats == [21, 22]


def test_a_declined_charge_says_whether_to_retry(ledger: Path) -> None:
    testing = pytest.importorskip("temporalio.testing")
    from temporalio.exceptions import ApplicationError

    from harness.temporal.workflows import ChargePlan, flaky_charge

    env = testing.ActivityEnvironment()
    final = ChargePlan(
        "t1",
        None,
        non_retryable=True,
        maximum_attempts=5,
        initial_interval_s=1,
        backoff_coefficient=2,
    )
    with pytest.raises(ApplicationError) as caught:
        asyncio.run(env.run(flaky_charge, final))
    assert caught.value.non_retryable and caught.value.type == "CardDeclined"
    env.info = dataclasses.replace(env.info, attempt=4)
    recovering = dataclasses.replace(final, tag="t2", succeed_on_attempt=4, non_retryable=False)
    assert asyncio.run(env.run(flaky_charge, recovering)) == 4


def test_an_item_past_the_whole_comparisons_budget_is_not_run() -> None:
    pytest.importorskip("temporalio")
    import time

    from harness.temporal import probes as temporal_probes

    ctx: Any = object()  # never touched: the item does not start
    result = asyncio.run(
        temporal_probes.run_item(
            temporal_probes.ITEMS["DX-04"], ctx, total_deadline=time.monotonic() - 1
        )
    )
    assert result.status == "not run" and result.rating is None
    assert result.error == "the comparison's 300 s budget was used up"


def test_a_comparison_that_cannot_be_written_goes_to_the_temp_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tempfile

    from harness.rating import results

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def read_only(path: Path, text: str) -> None:  # the folder turned read-only after the check
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(results, "write_atomically", read_only)
    code = compare_temporal.main(["--results-dir", str(tmp_path), "--documented-only"])
    assert code == 2
    (fallback,) = tmp_path.glob("temporal-unsaved-*.json")
    assert str(fallback) in capsys.readouterr().err
    assert Comparison.model_validate_json(fallback.read_text()).rows
