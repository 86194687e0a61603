"""The watchdog: a dead dev server or app interrupts the main thread with one clear failure."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import inngest
import pytest

from common import inngest_client
from harness.probing.health import (
    EXTERNAL_MISSES,
    Failure,
    InfrastructureFailure,
    Watchdog,
    Watched,
    app_watch,
    devserver_watch,
)
from harness.servers.devserver import DevServer, free_port


@inngest_client.create_function(fn_id="health-idle", trigger=inngest.TriggerEvent(event="idle"))
async def idle_function(ctx: inngest.Context) -> None:
    return None


def failing_after(seconds: float) -> Watched:
    deadline = time.monotonic() + seconds
    return Watched(
        "dev server",
        lambda: (
            Failure("dev server", "the dev server exited", 137, "log line")
            if time.monotonic() > deadline
            else None
        ),
    )


def test_a_failure_interrupts_a_long_wait_in_the_main_thread() -> None:
    watchdog = Watchdog(failing_after(0.2), interval=0.05)
    watchdog.current_item = "EX-03"
    clock = time.monotonic()
    with pytest.raises(InfrastructureFailure) as caught, watchdog.watching():
        time.sleep(20)
    assert time.monotonic() - clock < 3
    failure = caught.value.failure
    assert failure.during == "EX-03" and failure.exit_code == 137
    assert "the dev server exited (exit code 137) during EX-03" in str(caught.value)
    assert failure.not_run_reason() == "not run: the dev server failed during EX-03"


def test_it_is_not_an_exception_a_probe_can_swallow() -> None:
    assert not issubclass(InfrastructureFailure, Exception)


def test_nothing_happens_while_everything_lives() -> None:
    watchdog = Watchdog(Watched("app", lambda: None), interval=0.01)
    with watchdog.watching():
        time.sleep(0.1)
    assert watchdog.failure is None
    watchdog.raise_if_failed()


def test_raise_if_failed_checks_synchronously() -> None:
    watchdog = Watchdog(failing_after(0))
    with pytest.raises(InfrastructureFailure):
        watchdog.raise_if_failed()


def test_the_signal_handler_is_restored_afterwards() -> None:
    import signal

    before = signal.getsignal(signal.SIGUSR1)
    with Watchdog(Watched("app", lambda: None), interval=0.01).watching():
        assert signal.getsignal(signal.SIGUSR1) is not before
    assert signal.getsignal(signal.SIGUSR1) is before


def test_an_owned_dev_server_that_exits_by_itself_is_a_failure(tmp_path: Path) -> None:
    server = DevServer("http://127.0.0.1:1", "x", "test", launcher=["true"], workdir=tmp_path)
    server._process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    server._process.wait()
    failure = devserver_watch(server).probe()
    assert failure and failure.exit_code == 3 and failure.component == "dev server"


def test_an_owned_dev_server_stopped_on_purpose_is_not_a_failure(tmp_path: Path) -> None:
    server = DevServer("http://127.0.0.1:1", "x", "test", launcher=["true"], workdir=tmp_path)
    server._process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True
    )
    server.stop()
    assert devserver_watch(server).probe() is None


def test_an_external_dev_server_fails_after_several_missed_answers() -> None:
    server = DevServer(f"http://127.0.0.1:{free_port()}", "x", "external")
    watch = devserver_watch(server)
    results = [watch.probe() for _ in range(EXTERNAL_MISSES)]
    assert results[:-1] == [None] * (EXTERNAL_MISSES - 1)
    assert results[-1] and "stopped answering" in results[-1].what


def test_the_app_dying_by_itself_is_a_failure_but_a_kill_is_not() -> None:
    child = SimpleNamespace(code=None)
    host = SimpleNamespace(
        unexpected_exit=lambda: (
            ("the app process exited", child.code) if child.code else (None, None)
        ),
        log_tail=lambda: "app log",
    )
    watch = app_watch(host)  # type: ignore[arg-type]
    assert watch.probe() is None
    child.code = -9
    failure = watch.probe()
    assert failure and failure.component == "app" and failure.log_tail == "app log"


def test_watching_must_happen_on_the_main_thread() -> None:
    errors: list[BaseException] = []

    def elsewhere() -> None:
        try:
            with Watchdog().watching():
                pass
        except AssertionError as exc:
            errors.append(exc)

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert errors


def test_an_error_waits_for_the_verdict_on_a_suspect_component() -> None:
    answers = iter([None, None, Failure("dev server", "stopped answering", None, "")])
    watchdog = Watchdog(Watched("dev server", lambda: next(answers), lambda: True), interval=0.01)
    with pytest.raises(InfrastructureFailure, match="stopped answering"):
        watchdog.raise_if_failed(settle=2)


def test_a_suspect_that_recovers_lets_the_error_stand() -> None:
    watchdog = Watchdog(Watched("dev server", lambda: None, lambda: True), interval=0.01)
    clock = time.monotonic()
    watchdog.raise_if_failed(settle=0.2)
    assert time.monotonic() - clock < 1


def test_a_real_app_process_that_dies_is_noticed_and_a_kill_is_not(tmp_path: Path) -> None:
    import os
    import signal as signals

    from harness.probing.app import AppHost

    module = sys.modules[__name__]
    host = AppHost(Path(__file__), module, tmp_path, free_port())
    host.dev_server_url = "http://127.0.0.1:1"
    with host.run_as_process([idle_function]) as process:
        assert host.unexpected_exit() == (None, None)
        assert process.pid
        os.kill(process.pid, signals.SIGKILL)
        deadline = time.monotonic() + 10
        while host.unexpected_exit() == (None, None) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert host.unexpected_exit() == ("the app process exited", -9)
        process.start()
        process.kill()
        assert host.unexpected_exit() == (None, None)
    host.stop()
