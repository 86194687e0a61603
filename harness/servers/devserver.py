"""Finding, starting, restarting and stopping an Inngest dev server.

Order of discovery (README, "Getting a dev server"):
1. ``INNGEST_DEV_SERVER_URL``, if set and answering ``GET /dev``;
2. an ``inngest`` / ``inngest-cli`` binary named by ``INNGEST_DEV_SERVER_BIN`` or found on PATH;
3. ``npx --yes inngest-cli@PINNED_CLI_VERSION``, where npx can install it;
otherwise :class:`SetupError` with instructions.

A server this module starts gets a free port for every listener it opens (HTTP, connect
gateway, gRPC, debug API), so it never collides with another dev server on the machine, and
is stopped when the Python process exits.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from harness.errors import SetupError
from harness.host.ports import free_port, port_is_free
from harness.host.processes import stop_group
from harness.host.validate import EnvCheck, executable_variable, url_variable
from harness.servers.serverbuild import describe_binary

if TYPE_CHECKING:
    from serve import ProductionKeys

PINNED_CLI_VERSION = "1.43.0"
URL_ENV = "INNGEST_DEV_SERVER_URL"
BIN_ENV = "INNGEST_DEV_SERVER_BIN"
BINARY_NAMES = ("inngest", "inngest-cli")
ENV_CHECKS: tuple[EnvCheck, ...] = (url_variable(URL_ENV), executable_variable(BIN_ENV))

# Retries in the dev server default to a 15 s .. 2 h table plus up to 30 s of jitter. The suite
# runs with a 1 s linear interval so every check finishes in bounded time; the flag is recorded
# in the results, and retry timing itself belongs to the RT category.
RETRY_INTERVAL_S = 1
START_ATTEMPTS = 3  # new ports after a port was taken between choosing and binding

HOW_TO_GET_ONE = f"""No Inngest dev server could be found or started.
Provide one of:
  * {URL_ENV}=http://127.0.0.1:8288   a dev server you started yourself (`inngest dev`)
  * {BIN_ENV}=/path/to/inngest        an inngest-cli binary the suite starts and stops
  * `inngest` or `inngest-cli` on PATH
  * npx with access to the inngest-cli@{PINNED_CLI_VERSION} package and its binary download
See README.md, "Getting a dev server"."""

Log = Callable[[str], None]


def fetch_info(url: str, timeout: float = 2.0) -> dict[str, Any] | None:
    """The dev server's ``GET /dev`` document, or None when nothing answers there."""
    try:
        response = httpx.get(f"{url.rstrip('/')}/dev", timeout=timeout)
        body = response.json()
    except (httpx.HTTPError, httpx.InvalidURL, ValueError):  # InvalidURL: a mistyped URL
        return None
    if response.status_code != 200 or not isinstance(body, dict) or "version" not in body:
        return None
    return body


@dataclass(frozen=True)
class DevServerOptions:
    """The flags of an owned dev server that items may change (and that results record).

    ``retry_interval_s=None`` means the dev server's default backoff table; the suite's default
    is a 1 s linear interval (see RETRY_INTERVAL_S). ``tick_ms=None`` means the default tick.
    """

    retry_interval_s: int | None = RETRY_INTERVAL_S
    tick_ms: int | None = None
    queue_workers: int | None = None
    persist: bool = False
    # Extra environment variables, e.g. (("INNGEST_EXPERIMENTAL_PROM_METRICS", "1"),).
    env: tuple[tuple[str, str], ...] = ()

    def flags(self, workdir: Path) -> list[str]:
        flags: list[str] = []
        if self.retry_interval_s is not None:
            flags += ["--retry-interval", str(self.retry_interval_s)]
        if self.tick_ms is not None:
            flags += ["--tick", str(self.tick_ms)]
        if self.queue_workers is not None:
            flags += ["--queue-workers", str(self.queue_workers)]
        if self.persist:
            flags += ["--persist", "--sqlite-dir", str(workdir / "sqlite")]
        return flags


@dataclass
class _Ports:
    http: int
    connect_gateway: int
    connect_gateway_grpc: int
    connect_executor_grpc: int
    debug_api: int

    @classmethod
    def allocate(cls) -> _Ports:
        """Five distinct free ports (nothing reserves them, so each must avoid the others)."""
        chosen: list[int] = []
        for _ in range(5):
            chosen.append(free_port(exclude=frozenset(chosen)))
        return cls(*chosen)

    def flags(self) -> list[str]:
        return [
            "--port", str(self.http),
            "--connect-gateway-port", str(self.connect_gateway),
            "--connect-gateway-grpc-port", str(self.connect_gateway_grpc),
            "--connect-executor-grpc-port", str(self.connect_executor_grpc),
            "--debug-api-port", str(self.debug_api),
        ]  # fmt: skip


class PortTaken(SetupError):
    """A port chosen for a listener was taken by another program before the server bound it."""


class DevServer:
    """A dev server the suite talks to: one it found, or one it started (``owned``)."""

    # What results and messages call it; harness.servers.selfhosted.SelfHostedServer says otherwise.
    name = "dev server"
    kind = "dev"

    def __init__(
        self,
        url: str,
        version: str,
        source: str,
        *,
        launcher: list[str] | None = None,
        serve_url: str | None = None,
        workdir: Path | None = None,
        ports: _Ports | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.version = version
        self.source = source
        self._launcher = launcher
        self._serve_url = serve_url
        self._workdir = workdir
        self._ports = ports
        self._process: subprocess.Popen[bytes] | None = None
        self.options = DevServerOptions()
        self.start_opts: dict[str, Any] = {}  # as the dev server reports them in GET /dev

    @property
    def owned(self) -> bool:
        return self._launcher is not None

    @property
    def launcher(self) -> list[str] | None:
        """The command that starts the binary (without ``dev`` and flags); None if external."""
        return list(self._launcher) if self._launcher else None

    @property
    def log_path(self) -> Path | None:
        return self._workdir / "devserver.log" if self._workdir else None

    def flags(self) -> list[str]:
        if not self.owned:
            return []
        assert self._serve_url and self._ports
        flags = ["dev", "--no-discovery", "--no-poll", "-u", self._serve_url, "--host", "127.0.0.1"]
        flags += self._ports.flags()
        assert self._workdir
        return flags + self.options.flags(self._workdir)

    @property
    def persist(self) -> bool:
        return self.options.persist

    @property
    def retry_interval_s(self) -> int:
        """The linear retry interval in seconds, or 0 for the default backoff table."""
        return int(self.start_opts.get("retry_interval") or 0)

    def retry_allowance(self, retries: int) -> float:
        """How long ``retries`` retries may take before the next attempt, with some margin."""
        if self.retry_interval_s:
            return retries * (self.retry_interval_s + 3.0)
        return retries * 50.0  # the default table starts at 15 s plus up to 30 s of jitter

    def app_keys(self) -> ProductionKeys | None:
        """The keys an app needs to run in production mode against this server (none here)."""
        return None

    def exit_description(self) -> str:
        """What died, for the watchdog's message (a self-hosted server has several parts)."""
        return f"the {self.name} exited"

    def adopt(self, info: dict[str, Any]) -> None:
        """Take version and start options from a ``GET /dev`` answer."""
        self.version = str(info["version"])
        self.start_opts = dict(info.get("startOpts") or {})

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "url": self.url,
            "version": self.version,
            "source": self.source,
            "owned": self.owned,
            "command": [*(self._launcher or []), *self.flags()] if self.owned else None,
            "options": asdict(self.options) if self.owned else None,
            "start_opts": self.start_opts,
            "build": describe_binary(self.binary_path),
        }

    @property
    def binary_path(self) -> str | None:
        """The binary an owned server runs (npx's cached one for npx); None for an external
        server, whose build cannot be read from here."""
        if not self._launcher:
            return None
        return self._launcher[0] if len(self._launcher) == 1 else npx_installed_binary()

    # --- lifecycle of an owned server ----------------------------------------------------------
    def start(self, *, timeout: float = 60.0) -> None:
        assert self._launcher and self._workdir, "only a dev server the suite owns can start"
        self._workdir.mkdir(parents=True, exist_ok=True)
        busy = [
            p for p in (self._ports.__dict__.values() if self._ports else []) if not port_is_free(p)
        ]
        if busy:
            raise PortTaken(f"port(s) {busy} are already in use; cannot start the dev server")
        assert self.log_path
        with self.log_path.open("ab") as log:
            try:
                self._process = subprocess.Popen(
                    [*self._launcher, *self.flags()],
                    cwd=self._workdir,
                    env={**os.environ, **dict(self.options.env)} if self.options.env else None,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,  # own process group: stop() also ends npx's child
                )
            except OSError as exc:
                raise SetupError(f"cannot start {self._launcher[0]}: {exc}") from exc
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                tail = self.log_tail()
                error = PortTaken if "address already in use" in tail else SetupError
                raise error(
                    f"the dev server exited with code {self._process.returncode} at start-up:\n"
                    f"{tail}"
                )
            info = fetch_info(self.url, timeout=1.0)
            if info:
                self.adopt(info)
                return
            time.sleep(0.2)
        self.stop()
        raise SetupError(f"the dev server did not answer within {timeout:.0f}s:\n{self.log_tail()}")

    def exit_code(self) -> int | None:
        """The exit code of an owned server that died by itself; None while it runs (or when
        the suite stopped it on purpose, or it is not ours)."""
        process = self._process
        return process.poll() if process is not None else None

    def stop(self, *, grace: float = 10.0) -> None:
        process, self._process = self._process, None
        stop_group(process, grace=grace)

    def restart(self, *, persist: bool | None = None, wipe: bool = False, **options: Any) -> None:
        """Stop and start again on the same ports, optionally with other options.

        ``options`` are fields of :class:`DevServerOptions` (``retry_interval_s=None`` for the
        default backoff, ``tick_ms=…``); ``wipe`` deletes what ``--persist`` kept.
        """
        if not self.owned:
            raise RuntimeError("only a dev server the suite started can be restarted")
        self.stop()
        if persist is not None:
            options["persist"] = persist
        self.options = replace(self.options, **options)
        if wipe and self._workdir:
            shutil.rmtree(self._workdir / "sqlite", ignore_errors=True)
        self.start()

    def log_text(self) -> str:
        """Everything an owned dev server logged; empty for an external one."""
        if not self.log_path or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 15) -> str:
        if not self.log_path or not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def _binary() -> str | None:
    named = os.environ.get(BIN_ENV)
    if named:
        is_executable = os.path.isfile(named) and os.access(named, os.X_OK)
        path = shutil.which(named) or (named if is_executable else None)
        if path is None:
            raise SetupError(f"{BIN_ENV}={named} is not an executable file")
        return path
    for name in BINARY_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _npx_launcher(log: Log) -> list[str] | None:
    npx = shutil.which("npx")
    if npx is None:
        return None
    launcher = [npx, "--yes", "--ignore-scripts=false", f"inngest-cli@{PINNED_CLI_VERSION}"]
    log(f"trying {' '.join(launcher[1:])} (downloads the CLI and its binary)")
    try:
        probe = subprocess.run(
            [*launcher, "version"], capture_output=True, timeout=180, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        log("npx did not finish installing inngest-cli within 180s")
        return None
    if probe.returncode != 0:
        log(f"npx could not run inngest-cli (exit {probe.returncode})")
        return None
    return launcher


@dataclass(frozen=True)
class Located:
    """Where a dev server comes from: a running one (``info`` from its GET /dev) or a command
    that starts one (``launcher``)."""

    source: str
    url: str | None = None
    info: dict[str, Any] | None = None
    launcher: tuple[str, ...] = ()

    def environment(self) -> dict[str, str]:
        """Variables that make a child process find this same server without looking again
        (run_all.py hands them to every script)."""
        if self.url:
            return {URL_ENV: self.url}
        if len(self.launcher) == 1:
            return {BIN_ENV: self.launcher[0]}
        return {}  # npx: each child runs the (now cached) package itself


def locate(log: Log = print) -> Located:
    """Find a dev server in the order of the module docstring; SetupError with what was tried
    and how to provide one when there is none. Starts nothing (npx may install the CLI)."""
    url = os.environ.get(URL_ENV)
    if url:
        info = fetch_info(url)
        if info:
            return Located(f"{URL_ENV}={url}", url=url, info=info)
        log(f"{URL_ENV}={url} does not answer GET /dev; looking for a binary instead")
    binary = _binary()
    if binary:
        return Located(f"binary {binary}", launcher=(binary,))
    launcher = _npx_launcher(log)
    if launcher:
        installed = npx_installed_binary()
        return Located(
            f"npx inngest-cli@{PINNED_CLI_VERSION}",
            launcher=(installed,) if installed else tuple(launcher),
        )
    raise SetupError(HOW_TO_GET_ONE)


def npx_installed_binary() -> str | None:
    """The binary npx installed for inngest-cli@PINNED_CLI_VERSION, if it can be found in
    npx's cache, so that it can be started directly (and by several processes at once)."""
    cache = Path(os.environ.get("NPM_CONFIG_CACHE") or Path.home() / ".npm") / "_npx"
    for package in cache.glob("*/node_modules/inngest-cli"):
        with contextlib.suppress(OSError, ValueError):
            version = json.loads((package / "package.json").read_text())["version"]
            binary = package / "bin" / "inngest"
            if version == PINNED_CLI_VERSION and os.access(binary, os.X_OK):
                return str(binary)
    return None


def discover(serve_url: str, workdir: Path, *, log: Log = print) -> DevServer:
    """Find a dev server, or start one that will sync ``serve_url``; see the module docstring."""
    located = locate(log)
    if located.url and located.info:
        server = DevServer(located.url, str(located.info["version"]), located.source)
        server.adopt(located.info)
        return server
    launcher, source = list(located.launcher), located.source

    for attempt in range(1, START_ATTEMPTS + 1):
        ports = _Ports.allocate()
        server = DevServer(
            f"http://127.0.0.1:{ports.http}",
            "unknown",
            source,
            launcher=launcher,
            serve_url=serve_url,
            workdir=workdir,
            ports=ports,
        )
        try:
            server.start()
        except PortTaken as exc:
            # Reserved ports only keep other suite processes away; anything else may still
            # bind one in the gap. New ports, then, a few times.
            if attempt == START_ATTEMPTS:
                raise
            log(f"a port was taken before the dev server bound it ({exc}); trying new ports")
            continue
        atexit.register(server.stop)
        return server
    raise AssertionError("unreachable")
