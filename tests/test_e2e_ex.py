"""EX-05's violation watched to its end against a real dev server (skipped without one).

The run with unstable step IDs is watched at --tick 10 ms until it ends or the bound passes;
whatever Inngest does, the item must come out rated from executed checks, with the executions
counted and the run's outcome kept as evidence.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT, run_script

pytestmark = pytest.mark.devserver

VIOLATION_CHECKS = ("violation-run-ends", "violation-error-clear", "violation-contained",
                    "violation-reported")  # fmt: skip


def test_unstable_step_ids_are_watched_to_the_end_and_rated(tmp_path: Path) -> None:
    result = run_script(
        ROOT / "01_ex_execution_semantics.py",
        "--item", "EX-05", "--json", "--results-dir", str(tmp_path),
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    item = json.loads(result.stdout)["items"]["EX-05"]
    assert item["status"] == "rated", item["error"]
    checks = {c["key"]: c for c in item["evidence"]["checks"]}
    for key in VIOLATION_CHECKS:
        assert checks[key]["outcome"] in ("passed", "failed") and checks[key]["run_ids"], key
    observed = checks["violation-run-ends"]["observed"]
    assert observed["tick ms"] == 10 and observed["final status"]
    measured = {m["key"]: m["value"] for m in item["evidence"]["measurements"]}
    assert measured["unstable-step-executions"] >= 1
    assert 0 < measured["unstable-run-seconds"] <= 130  # the 120 s watch, plus the send
