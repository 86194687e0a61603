"""End to end, against a real Inngest dev server (skipped when none is found; see conftest).

Two layers: the harness's run-reading primitives on runs in awkward states (retries pending,
cancelled, failed), and whole category scripts run as a user runs them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import inngest
import pytest

import serve
from common import inngest_client
from conftest import ROOT, run_script
from harness.errors import ProbeTimeout
from harness.probing.app import AppHost
from harness.servers.api import DevServerAPI, RunNotFound
from harness.servers.devserver import DevServer, discover, free_port

pytestmark = pytest.mark.devserver


# --- functions for the primitive tests -----------------------------------------------------------
@inngest_client.create_function(
    fn_id="e2e-always-fails", trigger=inngest.TriggerEvent(event="e2e/fail"), retries=2
)
async def always_fails(ctx: inngest.Context) -> None:
    async def flaky() -> None:
        raise RuntimeError(f"attempt {ctx.attempt} failed")

    await ctx.step.run("flaky", flaky)


@inngest_client.create_function(
    fn_id="e2e-sleeper", trigger=inngest.TriggerEvent(event="e2e/sleep")
)
async def sleeper(ctx: inngest.Context) -> str:
    await ctx.step.sleep("nap", 3_600_000)
    return "woke"


@dataclass
class Live:
    api: DevServerAPI
    devserver: DevServer


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    workdir = tmp_path_factory.mktemp("live")
    module = sys.modules[__name__]
    app = AppHost(Path(__file__), module, workdir, free_port())
    devserver = discover(app.url, workdir / "devserver")
    api = DevServerAPI(devserver.url)
    try:
        app.start([always_fails, sleeper], devserver.url)
        app.sync(api)
        yield Live(api, devserver)
    finally:
        app.stop()
        api.close()
        devserver.stop()


def first_run(live: Live, name: str) -> str:
    event_id = live.api.send(name, {})
    return live.api.wait_for_runs([event_id], timeout=20)[0].id


def test_run_with_pending_retries_reads_as_running_then_failed(live: Live) -> None:
    run_id = first_run(live, "e2e/fail")
    assert live.api.wait_for_step(run_id, "flaky", timeout=10)  # the first attempt has run
    # The first attempt failed; two retries, 1 s apart, are pending: the run is not final.
    assert live.api.get_run(run_id).status == "RUNNING"
    with pytest.raises(ProbeTimeout, match="RUNNING"):
        live.api.wait_for_run(run_id, timeout=0.5)
    run = live.api.wait_for_run(run_id, timeout=30)
    assert run.status == "FAILED"
    assert run.error and "attempt 2 failed" in run.error
    (step,) = live.api.final_trace(run_id).steps("flaky")
    assert [a.status for a in step.children] == ["FAILED", "FAILED", "FAILED"]


def test_cancelled_run_reads_as_cancelled(live: Live) -> None:
    run_id = first_run(live, "e2e/sleep")
    assert live.api.wait_for_step(run_id, "nap", timeout=10)  # it is sleeping
    live.api.cancel(run_id)
    run = live.api.wait_for_run(run_id, timeout=20)
    assert run.status == "CANCELLED"
    assert run.ended_at is not None


def test_unknown_run_is_not_found(live: Live) -> None:
    with pytest.raises(RunNotFound):
        live.api.get_run("01ARZ3NDEKTSV4RRFFQ69G5FAV")


def test_dev_server_reports_its_version(live: Live) -> None:
    assert live.devserver.version not in ("", "unknown")


# --- whole scripts -------------------------------------------------------------------------------


def test_ex_script_rates_every_item_from_executed_checks(tmp_path: Path) -> None:
    result = run_script(
        ROOT / "01_ex_execution_semantics.py", "--json", "--results-dir", str(tmp_path)
    )
    assert result.returncode in (0, 1), result.stderr[-3000:]  # 1 would be a fail-close verdict
    printed = json.loads(result.stdout)
    saved = json.loads((tmp_path / "01_ex_execution_semantics.json").read_text())
    assert printed["items"] == saved["items"]
    assert list(saved["items"]) == [f"EX-0{n}" for n in range(1, 8)]
    (session,) = saved["sessions"].values()
    assert session["dev_server"]["version"] and session["sdk_version"] == "0.5.19"
    for item_id, item in saved["items"].items():
        assert item["status"] == "rated", (item_id, item["error"])
        assert 1 <= item["rating"]["stars"] <= 5
        executed = [c for c in item["evidence"]["checks"] if c["outcome"] != "not run"]
        assert executed and all(c["run_ids"] for c in executed), item_id


def write_script(directory: Path, name: str, body: str) -> Path:
    header = f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        import inngest
        from common import Category, Evidence, Probe, Rating, Suite, inngest_client
        suite = Suite(__file__, Category.EX)
    """
    footer = """
        if __name__ == "__main__":
            suite.main()
    """
    path = directory / name
    path.write_text(textwrap.dedent(header) + textwrap.dedent(body) + textwrap.dedent(footer))
    return path


def test_sync_the_server_rejects_is_a_clear_exit_2(tmp_path: Path) -> None:
    script = write_script(tmp_path, "50_bad_sync.py", """
        @inngest_client.create_function(
            fn_id="e2e-bad-cron", trigger=inngest.TriggerCron(cron="every blue moon")
        )
        async def bad_cron(ctx: inngest.Context) -> None:
            return None

        @suite.item("EX-01", functions=[bad_cron])
        def probe_it(probe: Probe) -> None:
            probe.check("never", "never reached", True)

        @probe_it.rubric
        def _(ev: Evidence) -> Rating:
            return Rating(stars=5, reason="never reached")
    """)  # fmt: skip
    result = run_script(script, "--results-dir", str(tmp_path), timeout=120)
    assert result.returncode == 2
    assert "did not register" in result.stderr and "cron" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_that_never_ends_is_a_bounded_item_error(tmp_path: Path) -> None:
    script = write_script(tmp_path, "51_never_ends.py", """
        @inngest_client.create_function(
            fn_id="e2e-never-ends", trigger=inngest.TriggerEvent(event="e2e/never")
        )
        async def never_ends(ctx: inngest.Context) -> None:
            await ctx.step.sleep("forever", 3_600_000)

        @suite.item("EX-01", functions=[never_ends], timeout=8)
        def probe_it(probe: Probe) -> None:
            probe.trigger("e2e/never", timeout=60)  # clamped to the item's 8 s budget

        @probe_it.rubric
        def _(ev: Evidence) -> Rating:
            return Rating(stars=5, reason="never reached")
    """)  # fmt: skip
    started = time.monotonic()
    result = run_script(script, "--json", "--results-dir", str(tmp_path), timeout=120)
    assert time.monotonic() - started < 60
    assert result.returncode == 3, result.stderr[-2000:]
    item: dict[str, Any] = json.loads(result.stdout)["items"]["EX-01"]
    assert item["status"] == "error" and item["rating"] is None
    assert "timed out" in item["error"] and "RUNNING" in item["error"]
    assert (tmp_path / "51_never_ends.json").exists()  # what was measured is saved


def test_subset_runs_merge_into_one_results_file(tmp_path: Path) -> None:
    script = ROOT / "01_ex_execution_semantics.py"
    for item in ("EX-02", "EX-07"):
        result = run_script(script, "--item", item, "--results-dir", str(tmp_path))
        assert result.returncode == 0, result.stderr[-2000:]
    saved = json.loads((tmp_path / "01_ex_execution_semantics.json").read_text())
    assert list(saved["items"]) == ["EX-02", "EX-07"]
    assert len(saved["sessions"]) == 2


def test_serve_py_serves_every_script(tmp_path: Path) -> None:
    functions = serve.functions_of(serve.load_script(ROOT / "01_ex_execution_semantics.py"))
    assert {fn.id for fn in functions} >= {"durability-suite-ex01-order-pipeline"}


def test_run_all_runs_a_selection_and_records_the_run(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "run_all.py"), "--item", "EX-02", "--no-report",
         "--results-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=ROOT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "EX-02 Side Effect Guarantee" in result.stderr
    saved = json.loads((tmp_path / "01_ex_execution_semantics.json").read_text())
    assert list(saved["items"]) == ["EX-02"]
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["selection"]["items"] == ["EX-02"] and run["wall_s"] > 0
    assert run["scripts"][0]["exit_code"] == 0
