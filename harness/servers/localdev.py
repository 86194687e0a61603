"""Local development as a developer lives it, for the DX items.

* :class:`ScratchApp`: an app written as source text (``main.py``), run the way the Python quick
  start runs one (``INNGEST_DEV=<dev server> uvicorn main:app``) in a process of its own, so a
  probe can time it from nothing and restart it with changed code.
* :func:`start_polling_dev_server`: a second dev server, started like ``inngest dev -u <app>``
  with polling on (the suite's own dev server runs with ``--no-poll``), which registers the app
  and picks up its code changes by itself. It has its own free ports; stop it when done.
* :func:`sync_throwaway_app`: sync a set of functions as an app of its own and report what a
  developer gets to see (the sync answer, the app's error, the dev server's log), then remove
  the app again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastapi
import httpx
import inngest
import inngest.fast_api

import serve
from harness.host.ports import free_port
from harness.servers.api import DevServerAPI
from harness.servers.devserver import DevServer, _Ports

SERVE_PATH = "/api/inngest"


class ScratchApp:
    """``uvicorn main:app`` for a ``main.py`` written from source text, on a given port."""

    def __init__(
        self,
        workdir: Path,
        port: int,
        dev_server_url: str,
        keys: serve.ProductionKeys | None = None,
    ) -> None:
        """``keys``: the server is a production one (``inngest start``); the program is then
        configured as the SDK documents for production, by environment: INNGEST_BASE_URL and
        the signing and event keys, without INNGEST_DEV. The program's text is the same."""
        self.workdir = workdir
        self.port = port
        self.dev_server_url = dev_server_url
        self.keys = keys
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{SERVE_PATH}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "app.log"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def _answering(self) -> tuple[int, ...]:
        # In production mode the SDK refuses an unsigned GET (401): that is the app answering.
        return (200,) if self.keys is None else (200, 401)

    def environment(self) -> dict[str, str]:
        """The program's environment: INNGEST_DEV for the dev server, or the production
        configuration (base URL and keys, no INNGEST_DEV) for a server with ``keys``."""
        env = {**os.environ, "INNGEST_DEV": self.dev_server_url}
        if self.keys is not None:
            del env["INNGEST_DEV"]
            env |= {
                "INNGEST_BASE_URL": self.dev_server_url,
                serve.SIGNING_KEY_ENV: self.keys.signing_key,
                serve.EVENT_KEY_ENV: self.keys.event_key,
            }
        return env

    def start(self, source: str, *, timeout: float = 30.0) -> float:
        """Write ``source`` as main.py and serve it; returns the seconds until it answered."""
        self.stop()
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "main.py").write_text(source, encoding="utf-8")
        env = self.environment()
        command = [
            sys.executable, "-m", "uvicorn", "main:app", "--app-dir", str(self.workdir),
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
        ]  # fmt: skip
        started = time.monotonic()
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                tail = "\n".join(self.log_text().splitlines()[-10:])
                self._process = None
                raise RuntimeError(f"the scratch app exited at start-up:\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url, timeout=1.0).status_code in self._answering:
                    return time.monotonic() - started
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the scratch app did not answer within {timeout:.0f}s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class PollingDevServer(DevServer):
    """A dev server that polls its apps (``--poll-interval``) instead of ``--no-poll``."""

    def __init__(self, *args: object, poll_interval_s: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.poll_interval_s = poll_interval_s

    def flags(self) -> list[str]:
        flags = [flag for flag in super().flags() if flag != "--no-poll"]
        return [*flags, "--poll-interval", str(self.poll_interval_s)]


def start_polling_dev_server(
    template: DevServer, serve_url: str, workdir: Path, *, poll_interval_s: int = 1
) -> PollingDevServer:
    """Start a second dev server like ``template`` (same binary), polling ``serve_url``.

    Raises RuntimeError when ``template`` is not a dev server the suite started (there is no
    binary to start another one from).
    """
    launcher = template._launcher
    if launcher is None:
        raise RuntimeError("only a dev server the suite started can be started a second time")
    ports = _Ports.allocate()
    server = PollingDevServer(
        f"http://127.0.0.1:{ports.http}",
        "unknown",
        f"{template.source} (second instance)",
        launcher=launcher,
        serve_url=serve_url,
        workdir=workdir,
        ports=ports,
        poll_interval_s=poll_interval_s,
    )
    server.start()
    return server


@dataclass
class SyncVerdict:
    """What a developer sees when an app syncs: the SDK's answer to the sync request, the dev
    server's verdict on the app (its error, the functions it registered) and its log lines."""

    http_status: int | None
    body: str
    app_error: str | None
    registered: dict[str, list[str]]  # function slug -> trigger values
    dev_server_log: list[str] = field(default_factory=list)
    serve_error: str | None = None  # the SDK refused the functions before any sync

    @property
    def messages(self) -> list[str]:
        """Every message about the sync, wherever it showed up."""
        found = [self.serve_error, self.app_error, self.body, *self.dev_server_log]
        return [m for m in found if m]


def sync_throwaway_app(
    api: DevServerAPI,
    client: inngest.Inngest,
    functions: list[inngest.Function[Any]],
    *,
    log: Callable[[], str] = lambda: "",
    timeout: float = 10.0,
) -> SyncVerdict:
    """Serve ``functions`` with ``client`` on a free port, sync them with the dev server behind
    ``api`` and report what it made of them; the app is removed from the dev server afterwards
    (an app left in error would be pinged every few seconds and show up as an app error).

    ``log`` returns the dev server's log so far; the lines it adds during the sync are kept.
    """
    app = fastapi.FastAPI()
    try:
        inngest.fast_api.serve(app, client, functions)
    except Exception as exc:  # the SDK validating the functions itself
        return SyncVerdict(None, "", None, {}, serve_error=f"{type(exc).__name__}: {exc}")
    port = free_port()
    server = serve.InProcessServer(app, port)
    server.start()
    before = len(log())
    suffix = f":{port}{SERVE_PATH}"
    try:
        response = httpx.put(f"http://127.0.0.1{suffix}", timeout=30)
        deadline = time.monotonic() + timeout
        mine: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            mine = [a for a in api.apps() if str(a.get("url") or "").endswith(suffix)]
            if any(a.get("error") or a.get("functions") for a in mine):
                break
            time.sleep(0.2)
        added = [line for line in log()[before:].splitlines() if "WARN" in line or "ERROR" in line]
        return SyncVerdict(
            http_status=response.status_code,
            body=response.text,
            app_error=next((str(a["error"]) for a in mine if a.get("error")), None),
            registered={
                f["slug"]: [t["value"] for t in f.get("triggers") or []]
                for a in mine
                for f in a.get("functions") or []
            },
            dev_server_log=added,
        )
    finally:
        for stale in [a for a in api.apps() if str(a.get("url") or "").endswith(suffix)]:
            api.delete_app(str(stale["id"]))
        server.stop()
