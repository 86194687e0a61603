"""07_pf_performance.py end to end against a real dev server (skipped without one).

The riskiest paths: timings read from the SDK's hooks across a dev server restart with another
--tick (PF-01), and the bisections that push the dev server past its limits (PF-03). The
figures themselves are not asserted (a shared test machine is no benchmark), only that they
were measured, with their samples, and rated.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT, run_script

pytestmark = pytest.mark.devserver


def test_pf_latency_and_limits_are_measured_and_rated(tmp_path: Path) -> None:
    result = run_script(
        ROOT / "07_pf_performance.py",
        "--item", "PF-01,PF-03", "--json", "--results-dir", str(tmp_path),
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    items = json.loads(result.stdout)["items"]
    for item_id in ("PF-01", "PF-03"):
        assert items[item_id]["status"] == "rated", items[item_id]["error"]
    measurements = {m["key"]: m for m in items["PF-01"]["evidence"]["measurements"]}
    for label in ("default-tick", "low-tick"):
        overhead = measurements[f"step-overhead:{label}"]
        assert len(overhead["samples"]) == 50 and overhead["value"] > 0
        assert "--tick" in overhead["note"]["text"]
    checks = {c["key"]: c for c in items["PF-03"]["evidence"]["checks"]}
    assert checks["event-limit-found"]["outcome"] == "passed"
    assert checks["step-limit-found"]["outcome"] == "passed"
    limits = {m["key"]: m["value"] for m in items["PF-03"]["evidence"]["measurements"]}
    assert limits["largest-event"] > 256 * 1024 and limits["largest-step-output"] > 1024 * 1024
