"""09_ob_observability.py end to end against a real dev server (skipped without one).

The whole script runs (about half a minute): the UI read through its own queries and headless
Chromium, a dev server restarted with other environment variables, a self-hosted server
started beside it, spans from the tracing middleware, alerts to a local webhook.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT, run_script
from harness.probing.browser import find_chromium

pytestmark = pytest.mark.devserver


def test_ob_script_rates_every_item_from_executed_checks(tmp_path: Path) -> None:
    result = run_script(
        ROOT / "09_ob_observability.py", "--json", "--results-dir", str(tmp_path), timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    items = json.loads(result.stdout)["items"]
    assert list(items) == [f"OB-0{n}" for n in range(1, 7)]
    for item_id, item in items.items():
        assert item["status"] == "rated", (item_id, item["error"])
        executed = [c for c in item["evidence"]["checks"] if c["outcome"] != "not run"]
        assert executed, item_id
    checks = {c["key"]: c for c in items["OB-04"]["evidence"]["checks"]}
    for key in ("one-run-span", "parent-child", "no-duplicate-memoized", "failed-attempt-error"):
        assert checks[key]["outcome"] == "passed", checks[key]
    alerts = {c["key"]: c["outcome"] for c in items["OB-05"]["evidence"]["checks"]}
    assert alerts["handler-alert"] == "passed"
    screenshot = {c["key"]: c for c in items["OB-01"]["evidence"]["checks"]}["screenshot"]
    if find_chromium():
        assert screenshot["outcome"] == "passed"
        assert (tmp_path / screenshot["observed"]["file"]).stat().st_size > 10_000
    else:
        assert screenshot["outcome"] == "not run"
