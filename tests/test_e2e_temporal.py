"""End to end, against Temporal's real dev server (skipped when the temporal extra is missing).

The riskiest paths only, to keep CI's time down (well under a minute): the dev server's life
cycle, and compare_temporal.py run as a user runs it on the items that kill a worker process,
change code under a running workflow and skip time.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, run_script
from harness.servers.devserver import port_is_free
from harness.temporal.server import TemporalDevServer, require

pytestmark = pytest.mark.temporal


def test_the_dev_server_starts_serves_and_stops(tmp_path: Path) -> None:
    server = TemporalDevServer(require(), tmp_path)
    server.start(timeout=60)
    try:
        assert server.ports and not port_is_free(server.ports.grpc)
        client = asyncio.run(server.connect(timeout=30))
        assert client.namespace == "default"
        assert server.db_path.exists()  # its own SQLite file, in the folder it was given
        assert server.versions["server"]
    finally:
        server.stop()
    assert server.exit_code() is None
    deadline = time.monotonic() + 10
    while not port_is_free(server.ports.grpc) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert port_is_free(server.ports.grpc)


def test_the_comparison_measures_crash_recovery_nondeterminism_and_time_skipping(
    tmp_path: Path,
) -> None:
    items = "DX-03,EX-01,EX-06,DX-04"
    answer = run_script(
        ROOT / "compare_temporal.py", "--item", items, "--results-dir", str(tmp_path), timeout=240
    )
    assert answer.returncode == 0, answer.stderr[-3000:]
    document = json.loads((tmp_path / "temporal.json").read_text())
    results = document["items"]
    assert set(results) == set(items.split(","))
    assert all(r["status"] == "measured" for r in results.values()), results

    def passed(item: str, key: str) -> bool:
        return any(
            c["key"] == key and c["outcome"] == "passed"
            for c in results[item]["evidence"]["checks"]
        )

    # A SIGKILLed worker process: the workflow finishes, completed activities are not re-run.
    assert passed("EX-01", "completed-activity-not-rerun")
    assert passed("EX-01", "interrupted-activity-retried")
    # Changed code under a running workflow: a non-determinism error, no side effect.
    assert passed("EX-06", "nde-detected") and passed("EX-06", "new-code-had-no-effect")
    # Time skipping ran on the dev server; the test server did not (and is not claimed).
    assert passed("DX-04", "v2-skips-timers")
    outcomes = {c["key"]: c["outcome"] for c in results["DX-04"]["evidence"]["checks"]}
    assert outcomes["test-server-v1"] == "not run"
    rows = {r["key"]: r for r in document["rows"]}
    assert rows["execution-model"]["temporal"]["basis"] == "measured"
    assert rows["local-replay"]["temporal"]["basis"] == "documented"  # DX-07 not run here
    # Everything it started is gone: the server's port is free again.
    address = document["server"]["address"]
    assert port_is_free(int(address.rsplit(":", 1)[1]))


def test_sigterm_stops_the_comparison_and_its_server(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "compare_temporal.py"), "--item", "EX-01", "--headless",
         "--results-dir", str(tmp_path)],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    port = None
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 60
        for line in process.stderr:  # wait until the probe is under way
            if line.startswith("Temporal dev server"):
                port = int(line.split(" at ")[1].split()[0].rsplit(":", 1)[1])
            if "EX-01 · waiting for the charge activity" in line or time.monotonic() > deadline:
                break
        os.kill(process.pid, signal.SIGTERM)
        _, rest = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, rest[-2000:]
    assert "interrupted" in rest and port is not None
    for pattern in (f"--port {port}", f"127.0.0.1:{port}"):  # the server, the worker process
        leftovers = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
        assert leftovers.stdout == "", f"left running: {pattern}"
    assert port_is_free(port)
