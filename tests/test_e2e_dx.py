"""10_dx_developer_experience.py end to end against a real dev server (skipped without one).

Only its riskiest paths: a second dev server and a scratch app (DX-03), apps synced and removed
again around invalid configuration (DX-05), and the replay of a recorded run (DX-07).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT, run_script

pytestmark = pytest.mark.devserver

SCRIPT = ROOT / "10_dx_developer_experience.py"


def test_riskiest_dx_items_are_rated_from_executed_checks(tmp_path: Path) -> None:
    result = run_script(
        SCRIPT, "--item", "DX-03,DX-05,DX-07", "--json", "--results-dir", str(tmp_path),
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    items = json.loads(result.stdout)["items"]
    assert list(items) == ["DX-03", "DX-05", "DX-07"]
    for item_id, item in items.items():
        assert item["status"] == "rated", (item_id, item["error"])
        executed = [c for c in item["evidence"]["checks"] if c["outcome"] != "not run"]
        assert executed, item_id

    checks = {c["key"]: c for c in items["DX-03"]["evidence"]["checks"]}
    assert checks["first-run-completes"]["outcome"] == "passed"
    assert checks["first-run-completes"]["run_ids"]

    checks = {c["key"]: c for c in items["DX-05"]["evidence"]["checks"]}
    # Each invalid configuration produced a verdict of its own (the apps were removed between
    # cases, or a later case would have read an earlier app's error).
    assert checks["sync:bad-cron:detected"]["outcome"] == "passed"
    assert "cron" in json.dumps(checks["sync:bad-cron:names-problem"]["observed"])
    assert "expression" in json.dumps(checks["sync:bad-expression:names-problem"]["observed"])

    dx07 = items["DX-07"]
    checks = {c["key"]: c for c in dx07["evidence"]["checks"]}
    assert checks["replay-reproduces-result"]["outcome"] == "passed"
    assert dx07["rating"]["pattern"]["stars"] >= 1
