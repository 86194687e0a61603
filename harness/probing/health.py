"""Noticing that the infrastructure under a probe died: the dev server or the app we host.

Without this, a dead dev server makes every later item fail on its own with a connection error
and a traceback, and those errors read as findings about Inngest. A :class:`Watchdog` thread
watches both parts while items run. When one dies unexpectedly (not stopped or killed by a
probe on purpose), it records what died and interrupts the main thread, which ends the run with
one message; the items that were not measured are recorded as such.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType

from harness.probing.app import AppHost
from harness.servers.devserver import DevServer, fetch_info

# How an external dev server is judged gone: this many failed GET /dev in a row.
EXTERNAL_MISSES = 3


@dataclass(frozen=True)
class Failure:
    component: str  # "dev server" or "app"
    what: str  # one sentence: what happened
    exit_code: int | None
    log_tail: str
    during: str | None = None  # the item that was running

    def message(self) -> str:
        during = f" during {self.during}" if self.during else ""
        code = f" (exit code {self.exit_code})" if self.exit_code is not None else ""
        tail = "\n".join(f"    {line}" for line in self.log_tail.splitlines()[-10:])
        return f"{self.what}{code}{during}. Last lines of its log:\n{tail or '    (empty)'}"

    def not_run_reason(self) -> str:
        return f"not run: the {self.component} failed" + (
            f" during {self.during}" if self.during else ""
        )


class InfrastructureFailure(BaseException):
    """Raised in the main thread when the dev server or the app died under a probe.

    A BaseException, like KeyboardInterrupt, so that a probe's ``except Exception`` cannot
    swallow it and carry on against a dead server.
    """

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message())
        self.failure = failure


class Watched:
    """What the watchdog asks of a component: is it gone, and what to say about it.

    ``suspect`` says a component missed an answer but is not yet judged gone (an external server
    gets a few chances), so that an error it caused can wait for the verdict.
    """

    def __init__(
        self,
        component: str,
        probe: Callable[[], Failure | None],
        suspect: Callable[[], bool] = lambda: False,
    ) -> None:
        self.component = component
        self.probe = probe
        self.suspect = suspect


def devserver_watch(devserver: DevServer) -> Watched:
    misses = 0

    def probe() -> Failure | None:
        nonlocal misses
        if devserver.owned:
            code = devserver.exit_code()
            if code is None:
                return None
            return Failure(devserver.name, devserver.exit_description(), code, devserver.log_tail())
        misses = 0 if fetch_info(devserver.url, timeout=2.0) else misses + 1
        if misses < EXTERNAL_MISSES:
            return None
        return Failure(
            "dev server",
            f"the dev server at {devserver.url} stopped answering GET /dev",
            None,
            "(an external dev server: its log is not ours to read)",
        )

    return Watched("dev server", probe, suspect=lambda: misses > 0)


def app_watch(app: AppHost) -> Watched:
    def probe() -> Failure | None:
        what, code = app.unexpected_exit()
        return Failure("app", what, code, app.log_tail()) if what else None

    return Watched("app", probe)


class Watchdog:
    """Watches components on a thread; :meth:`watching` turns a failure into an exception."""

    def __init__(self, *watched: Watched, interval: float = 0.5) -> None:
        self._watched = watched
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failure: Failure | None = None
        self.current_item: str | None = None

    def poll(self) -> Failure | None:
        """Check every component once; the first failure found is kept and returned."""
        if self.failure is None:
            for watched in self._watched:
                found = watched.probe()
                if found:
                    self.failure = Failure(
                        found.component, found.what, found.exit_code, found.log_tail,
                        self.current_item,
                    )  # fmt: skip
                    break
        return self.failure

    def raise_if_failed(self, *, settle: float = 5.0) -> None:
        """Raise :class:`InfrastructureFailure` if a component is (or now turns out) dead.

        Called when a probe fails, to tell "the probe broke" from "the server under it died":
        while a component is only suspect, keep asking for up to ``settle`` seconds.
        """
        deadline = time.monotonic() + settle
        while True:
            failure = self.poll()
            if failure:
                raise InfrastructureFailure(failure)
            if not any(w.suspect() for w in self._watched) or time.monotonic() > deadline:
                return
            time.sleep(self._interval)

    def _run(self, main_thread: int) -> None:
        while not self._stop.wait(self._interval):
            if self.poll():
                # A real signal to the main thread interrupts whatever it waits on (a sleep, a
                # socket); the handler installed by watching() turns it into the exception.
                signal.pthread_kill(main_thread, signal.SIGUSR1)
                return

    @contextlib.contextmanager
    def watching(self) -> Iterator[Watchdog]:
        """Watch for the duration of the block (main thread only)."""
        main = threading.main_thread()
        assert threading.current_thread() is main, "the watchdog interrupts the main thread"

        def on_signal(_signum: int, _frame: FrameType | None) -> None:
            if self.failure:
                raise InfrastructureFailure(self.failure)

        previous = signal.signal(signal.SIGUSR1, on_signal)
        self._stop.clear()
        assert main.ident is not None
        self._thread = threading.Thread(
            target=self._run, args=(main.ident,), name="watchdog", daemon=True
        )
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(timeout=5)
            signal.signal(signal.SIGUSR1, previous)
