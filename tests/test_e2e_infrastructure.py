"""When the infrastructure under a script dies: one clear stop, nothing measured lost.

Each test runs a small category script (written to a temp dir) whose second item waits on a long
sleep, kills or stops something under it, and checks what the user sees. Skipped without a dev
server (see conftest).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from harness.servers.devserver import discover, free_port

pytestmark = pytest.mark.devserver

SCRIPT = """
    import sys
    sys.path.insert(0, {root!r})
    import inngest
    from common import Category, Evidence, Probe, Rating, Suite, inngest_client, t
    suite = Suite(__file__, Category.EX)

    @inngest_client.create_function(
        fn_id="e2e-infra-quick", trigger=inngest.TriggerEvent(event="e2e-infra/quick")
    )
    async def quick(ctx: inngest.Context) -> str:
        return "done"

    @inngest_client.create_function(
        fn_id="e2e-infra-slow", trigger=inngest.TriggerEvent(event="e2e-infra/slow")
    )
    async def slow(ctx: inngest.Context) -> str:
        await ctx.step.sleep("long-sleep", 120_000)
        return "woke"

    @suite.item("EX-01", functions=[quick])
    def first(probe: Probe) -> None:
        run = probe.trigger("e2e-infra/quick")
        probe.check("done", t("the quick run completes"), run.status == "COMPLETED",
                    run_ids=[run.id])

    @suite.item("EX-02", functions=[slow], timeout=100)
    def second(probe: Probe) -> None:
        with probe.app.run_as_process():
            probe.say("waiting on a long sleep")
            probe.trigger("e2e-infra/slow", timeout=90)

    @suite.item("EX-03", functions=[quick])
    def third(probe: Probe) -> None:
        probe.trigger("e2e-infra/quick")

    for item in (first, second, third):
        item.rubric(lambda ev: Rating(stars=5, reason=t("as measured"), drivers=["done"]))

    if __name__ == "__main__":
        suite.main()
"""


def children_of(pid: int) -> dict[int, str]:
    """Live child processes of ``pid``: pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found[int(entry.name)] = cmdline
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Running:
    """A script started as a user starts it, with its stderr read line by line."""

    def __init__(self, tmp_path: Path, env: dict[str, str] | None = None) -> None:
        script = tmp_path / "52_infrastructure.py"
        script.write_text(textwrap.dedent(SCRIPT.format(root=str(ROOT))))
        self.results = tmp_path / "52_infrastructure.json"
        self.process = subprocess.Popen(
            [sys.executable, str(script), "--results-dir", str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env={**os.environ, "COLUMNS": "200", **(env or {})},
        )
        self.stderr: list[str] = []

    def wait_for_line(self, text: str, timeout: float = 90) -> None:
        assert self.process.stderr
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            self.stderr.append(line)
            if text in line:
                return
        raise AssertionError(f"{text!r} never appeared:\n{''.join(self.stderr)}")

    def wait_for_app_child(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any("serve.py" in c for c in children_of(self.process.pid).values()):
                time.sleep(3)  # let the slow run reach its sleep
                return
            time.sleep(0.2)
        raise AssertionError("the app never moved into a child process")

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        _out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, "".join(self.stderr) + err

    def items(self) -> dict[str, Any]:
        return json.loads(self.results.read_text())["items"]


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    script = Running(tmp_path)
    yield script
    if script.process.poll() is None:
        script.process.kill()


def test_an_owned_dev_server_killed_mid_item_ends_the_run_with_one_message(
    running: Running,
) -> None:
    running.wait_for_line("EX-01")
    running.wait_for_app_child()
    (devserver,) = [pid for pid, cmd in children_of(running.process.pid).items() if " dev " in cmd]
    os.kill(devserver, signal.SIGKILL)
    clock = time.monotonic()
    code, stderr = running.finish()
    assert time.monotonic() - clock < 15
    assert code == 2, stderr
    assert stderr.count("the dev server exited") == 1, stderr
    assert "exit code -9" in stderr and "during EX-02" in stderr
    assert "Traceback" not in stderr and "ConnectError" not in stderr
    items = running.items()
    assert items["EX-01"]["status"] == "rated"
    assert items["EX-02"]["status"] == items["EX-03"]["status"] == "not run"
    assert items["EX-03"]["error"] == "not run: the dev server failed during EX-02"
    assert not children_of(running.process.pid)


def test_an_external_dev_server_that_stops_answering_ends_the_run(tmp_path: Path) -> None:
    external = discover(f"http://127.0.0.1:{free_port()}/api/inngest", tmp_path / "external")
    try:
        script = Running(tmp_path, env={"INNGEST_DEV_SERVER_URL": external.url})
        script.wait_for_line("EX-01")
        script.wait_for_app_child()
        external.stop()
        code, stderr = script.finish()
    finally:
        external.stop()
    assert code == 2, stderr
    assert "stopped answering" in stderr and "during EX-02" in stderr, stderr
    assert "Traceback" not in stderr
    assert script.items()["EX-02"]["status"] == "not run"


def test_sigterm_stops_everything_the_script_started(running: Running) -> None:
    running.wait_for_line("EX-01")
    running.wait_for_app_child()
    started = children_of(running.process.pid)
    assert any(" dev " in c for c in started.values()) and any(
        "serve.py" in c for c in started.values()
    )
    running.process.send_signal(signal.SIGTERM)
    code, stderr = running.finish()
    assert code == 130, stderr
    assert "interrupted" in stderr
    time.sleep(0.5)
    assert [pid for pid in started if alive(pid)] == []
    assert running.items()["EX-01"]["status"] == "rated"  # what was measured is kept
