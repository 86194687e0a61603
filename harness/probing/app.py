"""The app under test: one URL for the whole run, served in-process or by a child process.

Most items use the in-process server (fast, simple). An item that must crash the app uses
:meth:`AppHost.run_as_process`, which moves serving to a child process on the *same* port, so
the dev server keeps calling the same URL while the probe SIGKILLs and restarts it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import inngest

import serve
from harness.errors import SetupError
from harness.servers.api import DevServerAPI

Functions = list[inngest.Function[Any]]


class AppProcess:
    """``python serve.py`` for one script's functions, as a child process that can be killed."""

    def __init__(self, host: AppHost, functions: Functions) -> None:
        self._host = host
        self._names = serve.attribute_names(host.module, functions)
        self._process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, functions: Functions | None = None, *, timeout: float = 30.0) -> None:
        """Start serving (again); ``functions`` swaps in other code under the same IDs."""
        if functions is not None:
            self._names = serve.attribute_names(self._host.module, functions)
        host = self._host
        command = [
            sys.executable, str(Path(serve.__file__).resolve()),
            "--script", str(host.script), "--functions", ",".join(self._names),
            "--port", str(host.port), "--dev-server-url", host.dev_server_url, "--no-sync",
        ]  # fmt: skip
        # The child serves in production mode exactly when the host does (serve.py reads the
        # SDK's key variables); never because of keys that happen to be in our environment.
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in (serve.SIGNING_KEY_ENV, serve.EVENT_KEY_ENV)
        }
        if host.keys:
            env[serve.SIGNING_KEY_ENV] = host.keys.signing_key
            env[serve.EVENT_KEY_ENV] = host.keys.event_key
        with host.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the app process exited at start-up:\n{host.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if self._answers():
                    return
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the app process did not answer within {timeout:.0f}s")

    def _answers(self) -> bool:
        host = self._host
        if host.keys is None:
            return httpx.get(host.url, timeout=1.0).status_code == 200
        # In production mode the SDK refuses (and logs as an error) an unsigned GET of its
        # endpoint, and probes read the app's log: ask uvicorn for something else instead.
        return httpx.get(f"http://127.0.0.1:{host.port}/", timeout=1.0).status_code < 500

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, in-flight requests die with the process."""
        # Forget the process first: from here on its death is on purpose (see exit_code).
        process, self._process = self._process, None
        if process and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def exit_code(self) -> int | None:
        """The exit code if the process died by itself; None while it runs or after kill()."""
        process = self._process
        return process.poll() if process is not None else None


class AppHost:
    def __init__(self, script: Path, module: ModuleType, workdir: Path, port: int) -> None:
        self.script = script
        self.module = module
        self.port = port
        self.workdir = workdir
        self.dev_server_url = ""
        self.keys: serve.ProductionKeys | None = None  # production mode (self-hosted server)
        self._functions: Functions = []
        self._in_process: serve.InProcessServer | None = None
        self._child: AppProcess | None = None
        self._log_handler: logging.Handler | None = None
        self.synced_at: float | None = None  # time.time() of the last confirmed sync

    @property
    def functions(self) -> Functions:
        """The functions the app serves (and the dev server has registered)."""
        return list(self._functions)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{serve.SERVE_PATH}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "app.log"

    def log_tail(self, lines: int = 15) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(
        self,
        functions: Functions,
        dev_server_url: str,
        keys: serve.ProductionKeys | None = None,
    ) -> None:
        self._functions = functions
        self.dev_server_url = dev_server_url
        self.keys = keys
        self._capture_sdk_logs()
        self._start_in_process()

    def retarget(self, server_url: str, keys: serve.ProductionKeys | None) -> None:
        """Serve the same functions for another server (production mode with ``keys``)."""
        if self._child is not None:
            raise RuntimeError("cannot switch servers while the app runs as a child process")
        self.stop()
        self.dev_server_url = server_url
        self.keys = keys
        self._start_in_process()

    def _capture_sdk_logs(self) -> None:
        # The SDK's log lines (warnings about steps, errors) are evidence; keep them in a file.
        if self._log_handler is None:
            self._log_handler = logging.FileHandler(self.log_path)
            self._log_handler.setFormatter(
                logging.Formatter("%(asctime)s %(levelname)s %(message)s")
            )
            sdk_logger = logging.getLogger("inngest")
            sdk_logger.addHandler(self._log_handler)
            sdk_logger.setLevel(logging.INFO)
            sdk_logger.propagate = False

    def _start_in_process(self) -> None:
        server = serve.InProcessServer(
            serve.build_app(self._functions, self.dev_server_url, self.keys), self.port
        )
        try:
            server.start()
        except RuntimeError as exc:
            raise SetupError(f"cannot serve the app on port {self.port}: {exc}") from exc
        self._in_process = server

    def stop(self) -> None:
        server, self._in_process = self._in_process, None
        if server:
            server.stop()

    def unexpected_exit(self) -> tuple[str | None, int | None]:
        """What died without a probe meaning it to, and its exit code; (None, None) if nothing."""
        server = self._in_process
        if server is not None and not server.running:
            return "the app's in-process server stopped", None
        child = self._child
        code = child.exit_code() if child else None
        if code is not None:
            return "the app process exited", code
        return None, None

    @contextlib.contextmanager
    def run_as_process(self, functions: Functions | None = None) -> Iterator[AppProcess]:
        """Serve from a killable child process for the duration of the block."""
        self.stop()
        process = AppProcess(self, functions or self._functions)
        self._child = process
        try:
            process.start()
            yield process
        finally:
            self._child = None
            process.kill()
            self._start_in_process()

    def sync(self, api: DevServerAPI, *, timeout: float = 20.0) -> set[str]:
        """Sync the app and confirm the dev server registered every function; SetupError if not."""
        try:
            response = serve.sync(self.url)
        except httpx.HTTPError as exc:
            raise SetupError(f"could not reach the app at {self.url} to sync it: {exc}") from exc
        if response.status_code != 200:
            raise SetupError(
                f"the dev server rejected the sync of {self.url} (HTTP {response.status_code}): "
                f"{response.text[:500]}"
            )
        # The PUT can answer 200 while the dev server refuses the functions (an invalid cron,
        # say): it then records the reason as an app error. Confirm what it registered.
        expected = {fn.get_id() for fn in self._functions}
        deadline = time.monotonic() + timeout
        registered: set[str] = set()
        errors: dict[str, str] = {}
        while time.monotonic() < deadline:
            registered = api.function_slugs()
            if expected <= registered:
                self.synced_at = time.time()
                return expected
            errors = api.app_errors()
            if errors:
                break
            time.sleep(0.2)
        raise SetupError(
            f"the dev server did not register the app's functions: {len(expected & registered)} "
            f"of {len(expected)} listed, missing {sorted(expected - registered)}"
            + "".join(f"\n  {url}: {error}" for url, error in errors.items())
        )
