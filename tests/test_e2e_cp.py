"""End to end: 06_cp_compensation.py against a real dev server (skipped without one).

The whole script (about 30 s): every item drives runs through manual operations (REST and
GraphQL cancel, rerun, rerun from a step), which is where a dev server upgrade would break it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT, run_script

pytestmark = pytest.mark.devserver

SCRIPT = ROOT / "06_cp_compensation.py"


def test_cp_script_rates_every_item_from_executed_checks(tmp_path: Path) -> None:
    result = run_script(SCRIPT, "--json", "--results-dir", str(tmp_path), timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]  # CP has no fail-close item
    items = json.loads(result.stdout)["items"]
    assert list(items) == ["CP-01", "CP-02", "CP-03", "CP-04"]
    for item_id, item in items.items():
        assert item["status"] == "rated", (item_id, item["error"])
        assert 1 <= item["rating"]["stars"] <= 5
        executed = [c for c in item["evidence"]["checks"] if c["outcome"] != "not run"]
        assert executed, item_id
    checks = {c["key"]: c for c in items["CP-02"]["evidence"]["checks"]}
    # A rerun was really started and finished: the check names both runs.
    assert len(checks["rerun-from-step-reuses-earlier-steps"]["run_ids"]) == 2
