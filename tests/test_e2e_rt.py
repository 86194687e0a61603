"""End to end: 02_rt_retry_timeout.py against a real dev server (skipped without one).

Covers the riskiest paths only, to keep the time down: RT-01 (a fail-close item, which restarts
the dev server on its default backoff and measures it, about 2 minutes) and RT-04 (SIGKILLs the
app in the middle of a step, twice).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT, run_script

pytestmark = pytest.mark.devserver

SCRIPT = ROOT / "02_rt_retry_timeout.py"


def test_retry_schedule_and_heartbeat_items_are_rated_from_executed_checks(tmp_path: Path) -> None:
    result = run_script(
        SCRIPT, "--item", "RT-01,RT-04", "--json", "--results-dir", str(tmp_path), timeout=300
    )
    assert result.returncode in (0, 1), result.stderr[-3000:]  # 1 would be a fail-close verdict
    items = json.loads(result.stdout)["items"]
    assert list(items) == ["RT-01", "RT-04"]
    for item_id, item in items.items():
        assert item["status"] == "rated", (item_id, item["error"])
        executed = [c for c in item["evidence"]["checks"] if c["outcome"] != "not run"]
        assert executed and all(
            c["run_ids"] for c in executed if c["key"] != "step-deadline-native"
        )

    rt01 = items["RT-01"]
    checks = {c["key"]: c for c in rt01["evidence"]["checks"]}
    # The default schedule really was measured (the suite's dev server is owned here).
    assert checks["default-schedule-matches-source"]["outcome"] != "not run"
    measured = {m["key"]: m["value"] for m in rt01["evidence"]["measurements"]}
    assert measured["default-gap-1-min"] >= 10  # not the suite's 1 s linear interval
    assert measured["linear-gap-mean"] < 5  # and that one was restored for the rest
    rt04 = items["RT-04"]
    assert rt04["rating"]["pattern"]["stars"] >= 1
    session = json.loads((tmp_path / "02_rt_retry_timeout.json").read_text())["sessions"]
    (only,) = session.values()
    assert "--retry-interval" in only["dev_server"]["command"]
