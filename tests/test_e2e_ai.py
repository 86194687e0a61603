"""11_ai_agent_integration.py end to end against a real dev server (skipped without one).

The riskiest paths only: realtime streaming through the dev server (AI-04) and the agent loop
with failing tools (AI-06). The model is always the local fake: OPENAI_* variables are removed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import ROOT, run_script

pytestmark = pytest.mark.devserver

SCRIPT = ROOT / "11_ai_agent_integration.py"


def test_streaming_and_tool_faults_are_rated_from_executed_checks(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    result = run_script(
        SCRIPT, "--item", "AI-04,AI-06", "--json", "--results-dir", str(tmp_path),
        env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    items = json.loads(result.stdout)["items"]
    for item_id, item in items.items():
        assert item["status"] == "rated", (item_id, item["error"])

    streaming = {c["key"]: c for c in items["AI-04"]["evidence"]["checks"]}
    assert streaming["tokens-reach-subscriber"]["outcome"] == "passed"
    assert streaming["streams-while-step-runs"]["outcome"] == "passed"
    measured = {m["key"] for m in items["AI-04"]["evidence"]["measurements"]}
    assert {"send-to-first-token-s", "model-to-subscriber-ms"} <= measured

    tools = {c["key"]: c for c in items["AI-06"]["evidence"]["checks"]}
    assert tools["flaky-tool-retried-as-step"]["outcome"] == "passed"
    assert tools["model-not-recalled-on-tool-retry"]["outcome"] == "passed"
    assert all(c["run_ids"] for c in tools.values() if c["outcome"] != "not run")
