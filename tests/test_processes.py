"""Stopping a child process group: politely first, then for good."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from harness.host.processes import stop_group


def spawn(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code], start_new_session=True)


def test_a_process_that_obeys_sigterm_stops_at_once() -> None:
    process = spawn("import time; time.sleep(30)")
    clock = time.monotonic()
    stop_group(process, grace=10)
    assert process.returncode == -signal.SIGTERM and time.monotonic() - clock < 5


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace() -> None:
    process = spawn(
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(flush=True);"
        " time.sleep(30)"
    )
    time.sleep(0.5)  # let it install the handler
    stop_group(process, grace=0.5)
    assert process.returncode == -signal.SIGKILL


def test_nothing_to_stop_is_fine() -> None:
    stop_group(None, grace=1)
    done = spawn("pass")
    done.wait()
    stop_group(done, grace=1)
    assert done.returncode == 0
