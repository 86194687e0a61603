"""End to end for 03_wf_workflow_primitives.py, against a real dev server (skipped without one).

The riskiest paths only (about a minute): reading many runs of one function after a burst, a
second app for cross-app invokes, and the flow-control measurements with their timelines.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import inngest
import pytest

from common import inngest_client
from conftest import ROOT, run_script
from harness.probing.app import AppHost
from harness.probing.flow import send_burst, wait_for_function_runs
from harness.servers.api import DevServerAPI
from harness.servers.devserver import discover, free_port

pytestmark = pytest.mark.devserver


@inngest_client.create_function(
    fn_id="e2e-wf-square", trigger=inngest.TriggerEvent(event="e2e/wf.square")
)
async def square(ctx: inngest.Context) -> int:
    n = int(str(ctx.event.data["n"]))
    return n * n


@inngest_client.create_function(
    fn_id="e2e-wf-batch",
    trigger=inngest.TriggerEvent(event="e2e/wf.batch"),
    batch_events=inngest.Batch(max_size=3, timeout=1_000),
)
async def batch_size(ctx: inngest.Context) -> int:
    return len(ctx.events)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServerAPI]:
    workdir = tmp_path_factory.mktemp("wf-live")
    app = AppHost(Path(__file__), sys.modules[__name__], workdir, free_port())
    devserver = discover(app.url, workdir / "devserver")
    client = DevServerAPI(devserver.url)
    try:
        app.start([square, batch_size], devserver.url)
        app.sync(client)
        yield client
    finally:
        app.stop()
        client.close()
        devserver.stop()


def test_a_burst_and_every_run_it_started(api: DevServerAPI) -> None:
    burst = send_burst(api, "e2e/wf.square", [{"n": n} for n in range(5)])
    runs = wait_for_function_runs(api, square.id, since=burst.origin, count=5, timeout=30)
    assert sorted(r.output for r in runs) == [0, 1, 4, 9, 16]
    assert all(r.status == "COMPLETED" for r in runs)


def test_batched_runs_are_found_without_an_event_to_name_them(api: DevServerAPI) -> None:
    burst = send_burst(api, "e2e/wf.batch", [{"n": n} for n in range(7)])
    runs = wait_for_function_runs(
        api, batch_size.id, since=burst.origin, count=3, timeout=30, settle=1.5
    )
    assert sorted(r.output for r in runs) == [1, 3, 3]


def test_wf_script_measures_invokes_and_flow_control(tmp_path: Path) -> None:
    result = run_script(
        ROOT / "03_wf_workflow_primitives.py",
        "--item",
        "WF-02,WF-06",
        "--json",
        "--results-dir",
        str(tmp_path),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    items: dict[str, Any] = json.loads(result.stdout)["items"]
    assert list(items) == ["WF-02", "WF-06"]
    for item_id, item in items.items():
        assert item["status"] == "rated", (item_id, item["error"])
        executed = [c for c in item["evidence"]["checks"] if c["outcome"] != "not run"]
        assert executed and all(c["run_ids"] for c in executed), item_id
        assert all(m["note"] for m in item["evidence"]["measurements"]), item_id
    checks = {c["key"]: c for c in items["WF-06"]["evidence"]["checks"]}
    # The app really ran work side by side, so a limit of 1 or 2 could be told apart.
    assert checks["concurrency-overlap-observable"]["outcome"] == "passed"
    observed = checks["concurrency-limit-held"]["observed"]
    timeline = observed["timeline ms [customer#seq, start, end, key]"]
    assert len(timeline) == 6 and all(0 <= row[1] <= row[2] for row in timeline)
    assert checks["rate-limit-drops-excess"]["observed"]["events sent"] == 18
    # The second app was served, synced and reached by invoke_by_id.
    invoked = {c["key"]: c for c in items["WF-02"]["evidence"]["checks"]}["cross-app-invoke"]
    assert invoked["outcome"] == "passed", invoked
