"""Self-hosted Inngest: ``inngest start`` on a throw-away PostgreSQL cluster and ``redis-server``.

The dev server is for development; the server users deploy is ``inngest start`` (same binary),
backed by PostgreSQL (history, apps, functions) and Redis (queue and run state), with a signing
key and an event key, and the app in production mode. This module starts that server on one
machine, without touching anything outside a temporary folder:

* :class:`PostgresCluster`: ``initdb`` into a temporary folder, ``postgres`` on a free port on
  127.0.0.1 (no Unix socket). ``initdb`` and ``postgres`` refuse to run as root, so when the suite
  runs as root (as CI does) both run as Debian's unprivileged ``postgres`` account.
* :class:`RedisServer`: ``redis-server`` on a free port, snapshots and the append-only file off,
  its working folder a temporary one.
* :class:`SelfHostedServer`: ``inngest start`` with free ports for every listener and fresh keys,
  either on the two above (kind ``self-hosted``) or on its own defaults, SQLite and a built-in
  in-memory Redis (kind ``self-hosted-sqlite``). It is a :class:`DevServer` as far as probes are
  concerned: ``url``, ``restart()``, ``log_text()``, ``describe()`` work the same.

A script runs against it with ``--server self-hosted`` (or ``$INNGEST_SUITE_SERVER``, README).
A probe running against the dev server can use one for a while with ``probe.self_hosted()``
(see :func:`harness.suite.on_self_hosted`); servers started so are shared by the items of one
invocation (:class:`SelfHostedPool`) and stopped at its end.

What goes wrong is said with the failing part named (PostgreSQL, Redis, ``inngest start``), and
everything already started is stopped before the error is raised.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from harness.errors import SetupError
from harness.host.ports import free_port, port_is_free
from harness.host.processes import stop_group
from harness.host.validate import EnvCheck, choice_variable
from harness.i18n import Msg, t
from harness.servers.api import DevServerAPI
from harness.servers.devserver import BIN_ENV, DevServer, _binary, _Ports
from serve import ProductionKeys

SERVER_ENV = "INNGEST_SUITE_SERVER"
DEV = "dev"
SELF_HOSTED = "self-hosted"  # inngest start + PostgreSQL + Redis
SELF_HOSTED_SQLITE = "self-hosted-sqlite"  # inngest start on its own defaults
SERVER_KINDS = (DEV, SELF_HOSTED, SELF_HOSTED_SQLITE)
ENV_CHECKS: tuple[EnvCheck, ...] = (choice_variable(SERVER_ENV, SERVER_KINDS),)

# Debian's package names (README, "A self-hosted server").
INSTALL_COMMAND = "apt-get install -y postgresql redis-server"
PG_PROGRAMS = ("initdb", "postgres", "pg_isready", "createdb", "dropdb", "psql")
PG_ACCOUNT = "postgres"  # Debian's unprivileged account for the server
DATABASE = "inngest"

Log = Callable[[str], None]


class SelfHostedUnavailable(Exception):
    """What the self-hosted server needs is not installed; says what and how to provide it:
    apt-get for PostgreSQL and Redis, README's ways for the inngest binary (no Debian package)."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        packages = [
            package
            for part, package in (("PostgreSQL", "postgresql"), ("Redis", "redis-server"))
            if part in missing
        ]
        self.command = f"apt-get install -y {' '.join(packages)}" if packages else ""
        super().__init__(self.reason().text)

    def reason(self) -> Msg:
        """The not-run reason for a check that needed what is missing."""
        if "inngest" in self.missing:
            return t(
                "no inngest binary to start the self-hosted server with: set {variable} or put "
                "inngest on PATH (README, 'Getting a dev server')",
                variable=BIN_ENV,
            )
        return t(
            "{missing} not installed here; install with: {command}",
            missing=", ".join(self.missing),
            command=self.command,
        )


class SelfHostedError(RuntimeError):
    """A part of the self-hosted server failed; the message names it (PostgreSQL, Redis, …)."""


def server_kind(requested: str | None = None) -> str:
    """The server a script runs against: ``requested`` (``--server``), else $INNGEST_SUITE_SERVER,
    else the dev server. SetupError for anything else."""
    kind = requested or os.environ.get(SERVER_ENV) or DEV
    if kind not in SERVER_KINDS:
        raise SetupError(
            f"unknown server {kind!r} (from --server or ${SERVER_ENV}); "
            f"choose one of {', '.join(SERVER_KINDS)}"
        )
    return kind


# --- finding the programs ------------------------------------------------------------------------
def _version_key(path: Path) -> tuple[int, ...]:
    digits = path.parent.name.split(".")
    return tuple(int(d) for d in digits if d.isdigit())


def postgres_bin_dir() -> Path | None:
    """A folder holding initdb, postgres, pg_isready, createdb and dropdb (newest first).

    Debian keeps them in /usr/lib/postgresql/<major>/bin, off PATH; an ``initdb`` on PATH
    (often a symlink into that folder) is tried first.
    """
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    found = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(found, key=lambda p: _version_key(p / "x"), reverse=True)
    for folder in candidates:
        if all(os.access(folder / name, os.X_OK) for name in PG_PROGRAMS):
            return folder
    return None


def missing_programs(kind: str = SELF_HOSTED) -> list[str]:
    """What is not installed for ``kind``: "inngest", "PostgreSQL", "Redis" (empty: all there)."""
    missing = []
    try:
        binary = _binary()
    except SetupError:
        binary = None
    if binary is None:
        missing.append("inngest")
    if kind == SELF_HOSTED:
        if postgres_bin_dir() is None:
            missing.append("PostgreSQL")
        if shutil.which("redis-server") is None:
            missing.append("Redis")
    return missing


def _tail(path: Path, lines: int = 12) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) or "(empty log)"


# --- PostgreSQL ----------------------------------------------------------------------------------
class PostgresCluster:
    """A throw-away PostgreSQL cluster: initdb into a temporary folder, postgres on ``port``."""

    def __init__(self, bin_dir: Path, log_dir: Path, port: int) -> None:
        self.bin = bin_dir
        self.port = port
        self.log_path = log_dir / "postgres.log"
        self._data_root: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.version = ""

    @property
    def uri(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DATABASE}?sslmode=disable"

    def _account(self) -> pwd.struct_passwd | None:
        """The account to run the server as: ``postgres`` when we are root, else ourselves."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(PG_ACCOUNT)
        except KeyError:
            raise SelfHostedError(
                f"PostgreSQL: initdb and postgres refuse to run as root, and there is no "
                f"{PG_ACCOUNT!r} account to run them as (Debian's postgresql package creates it)"
            ) from None

    def _run_as(self) -> dict[str, Any]:
        account = self._account()
        if account is None:
            return {}
        return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}

    def exit_code(self) -> int | None:
        return self._process.poll() if self._process else None

    def start(self, *, timeout: float = 45.0) -> None:
        if not port_is_free(self.port):
            raise SelfHostedError(f"PostgreSQL: port {self.port} is already in use")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        run_as = self._run_as()
        # A folder of its own that the server's account can reach: the suite's work folder is
        # private to root, and so may be $TMPDIR.
        parent = _tmp_reachable_by_all() if run_as else None
        self._data_root = Path(tempfile.mkdtemp(prefix="inngest-suite-pg-", dir=parent))
        if run_as:
            os.chown(self._data_root, run_as["user"], run_as["group"])
        data = self._data_root / "data"
        with self.log_path.open("ab") as log:
            initdb = subprocess.run(
                [str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                 "-E", "UTF8", "--locale=C", "--no-sync"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self._data_root, timeout=timeout, check=False, **run_as,
            )  # fmt: skip
            if initdb.returncode != 0:
                raise SelfHostedError(
                    f"PostgreSQL: initdb failed (exit {initdb.returncode}):\n{_tail(self.log_path)}"
                )
            self._process = subprocess.Popen(
                [str(self.bin / "postgres"), "-D", str(data), "-p", str(self.port),
                 "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                 "-c", "max_connections=200"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self._data_root, start_new_session=True, **run_as,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not self._ready():
            code = self._process.poll()
            if code is not None:
                raise SelfHostedError(
                    f"PostgreSQL exited with code {code} at start-up:\n{_tail(self.log_path)}"
                )
            if time.monotonic() > deadline:
                raise SelfHostedError(
                    f"PostgreSQL did not accept connections within {timeout:.0f}s:\n"
                    f"{_tail(self.log_path)}"
                )
            time.sleep(0.2)
        self._client("createdb", DATABASE)
        version = subprocess.run(
            [str(self.bin / "postgres"), "--version"], capture_output=True, text=True, check=False
        )
        found = re.search(r"\d+(\.\d+)+", version.stdout)  # "postgres (PostgreSQL) 15.18 (…)"
        self.version = found.group(0) if found else "unknown"

    def _ready(self) -> bool:
        probe = subprocess.run(
            [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port),
             "-U", "postgres", "-d", "postgres", "-q"],
            stdin=subprocess.DEVNULL, capture_output=True, check=False,
        )  # fmt: skip
        return probe.returncode == 0

    def _client(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [str(self.bin / program), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             *args],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise SelfHostedError(
                f"PostgreSQL: {program} {' '.join(args)} failed: {done.stderr.strip()}"
            )

    def query(self, sql: str) -> str:
        """One value from ``sql`` run against the server's database (psql, unaligned)."""
        done = subprocess.run(
            [str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", DATABASE, "-tAc", sql],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise SelfHostedError(f"PostgreSQL: query failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def wipe(self) -> None:
        """Drop and re-create the database (nothing may be connected to it)."""
        self._client("dropdb", "--force", "--if-exists", DATABASE)
        self._client("createdb", DATABASE)

    def stop(self) -> None:
        # SIGINT is PostgreSQL's "fast" shutdown: roll back sessions, write a checkpoint, exit.
        process, self._process = self._process, None
        stop_group(process, sig=signal.SIGINT, grace=20)
        if self._data_root:
            shutil.rmtree(self._data_root, ignore_errors=True)
            self._data_root = None


# --- Redis ---------------------------------------------------------------------------------------
class RedisServer:
    """``redis-server`` on ``port``: no RDB snapshots, no append-only file, a temporary folder."""

    def __init__(self, binary: str, workdir: Path, port: int) -> None:
        self.binary = binary
        self.port = port
        self.workdir = workdir / "redis"
        self.log_path = workdir / "redis.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.version = ""

    @property
    def uri(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def exit_code(self) -> int | None:
        return self._process.poll() if self._process else None

    def start(self, *, timeout: float = 20.0) -> None:
        if not port_is_free(self.port):
            raise SelfHostedError(f"Redis: port {self.port} is already in use")
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--dir", str(self.workdir),
                 "--daemonize", "no", "--protected-mode", "yes"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while self.command("PING") != "+PONG":
            code = self._process.poll()
            if code is not None:
                raise SelfHostedError(
                    f"Redis exited with code {code} at start-up:\n{_tail(self.log_path)}"
                )
            if time.monotonic() > deadline:
                raise SelfHostedError(
                    f"Redis did not answer PING within {timeout:.0f}s:\n{_tail(self.log_path)}"
                )
            time.sleep(0.1)
        info = subprocess.run(
            [self.binary, "--version"], capture_output=True, text=True, check=False
        ).stdout
        self.version = next((part[2:] for part in info.split() if part.startswith("v=")), "unknown")

    def command(self, *words: str) -> str | None:
        """Send one inline command; its first reply line, or None when nothing answers."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall((" ".join(words) + "\r\n").encode())
                return sock.recv(4096).decode(errors="replace").split("\r\n")[0]
        except OSError:
            return None

    def flush(self) -> None:
        if self.command("FLUSHALL") != "+OK":
            raise SelfHostedError("Redis: FLUSHALL failed")

    def stop(self) -> None:
        process, self._process = self._process, None
        stop_group(process, sig=signal.SIGTERM, grace=10)
        shutil.rmtree(self.workdir, ignore_errors=True)


# --- inngest start -------------------------------------------------------------------------------
class SelfHostedServer(DevServer):
    """``inngest start`` on free ports, with its backends; a DevServer as probes see it."""

    name = "self-hosted server"

    def __init__(
        self,
        kind: str,
        binary: str,
        serve_url: str,
        workdir: Path,
        *,
        shared: SelfHostedServer | None = None,
    ) -> None:
        """``shared``: another server whose PostgreSQL, Redis and keys this one uses (a second
        instance of the same deployment, see :meth:`replica`); it does not stop them."""
        if kind not in (SELF_HOSTED, SELF_HOSTED_SQLITE):
            raise ValueError(f"not a self-hosted kind: {kind}")
        ports = _Ports.allocate()  # the debug API port stays unused: `start` has no such flag
        super().__init__(
            f"http://127.0.0.1:{ports.http}", "unknown", f"binary {binary}",
            launcher=[binary], serve_url=serve_url, workdir=workdir, ports=ports,
        )  # fmt: skip
        self.kind = kind
        # The production contract: the server signs its requests to the app with the signing
        # key, and accepts events only with an event key. Fresh ones per server.
        self.signing_key = secrets.token_hex(32)
        self.event_key = secrets.token_hex(16)
        self.postgres: PostgresCluster | None = None
        self.redis: RedisServer | None = None
        self._owns_backends = shared is None
        if shared is not None:
            self.signing_key, self.event_key = shared.signing_key, shared.event_key
            self.postgres, self.redis = shared.postgres, shared.redis
        elif kind == SELF_HOSTED:
            # The binary is given; only the backends can be missing here.
            bin_dir, redis = postgres_bin_dir(), shutil.which("redis-server")
            if bin_dir is None or redis is None:
                missing = ["PostgreSQL"] if bin_dir is None else []
                raise SelfHostedUnavailable([*missing, *(["Redis"] if redis is None else [])])
            taken = set(ports.__dict__.values())
            pg_port = free_port(exclude=frozenset(taken))
            redis_port = free_port(exclude=frozenset({*taken, pg_port}))
            self.postgres = PostgresCluster(bin_dir, workdir, pg_port)
            self.redis = RedisServer(redis, workdir, redis_port)

    @property
    def log_path(self) -> Path | None:
        return self._workdir / "inngest-start.log" if self._workdir else None

    @property
    def sqlite_dir(self) -> Path:
        assert self._workdir
        return self._workdir / "sqlite"

    def backend(self) -> str:
        if self.postgres and self.redis:
            return f"PostgreSQL {self.postgres.version} + Redis {self.redis.version}"
        return "SQLite + built-in in-memory Redis"

    def flags(self) -> list[str]:
        assert self._serve_url and self._ports
        ports = self._ports
        # No --sdk-url: the app is synced by a PUT (AppHost.sync), so what is registered after a
        # restart is what the database kept, not a re-sync at boot.
        flags = [
            "start", "--host", "127.0.0.1",
            "--port", str(ports.http),
            "--connect-gateway-port", str(ports.connect_gateway),
            "--connect-gateway-grpc-port", str(ports.connect_gateway_grpc),
            "--connect-executor-grpc-port", str(ports.connect_executor_grpc),
            "--signing-key", self.signing_key, "--event-key", self.event_key,
        ]  # fmt: skip
        options = self.options
        if options.retry_interval_s is not None:
            flags += ["--retry-interval", str(options.retry_interval_s)]
        if options.tick_ms is not None:
            flags += ["--tick", str(options.tick_ms)]
        if options.queue_workers is not None:
            flags += ["--queue-workers", str(options.queue_workers)]
        if self.postgres and self.redis:
            return [*flags, "--postgres-uri", self.postgres.uri, "--redis-uri", self.redis.uri]
        return [*flags, "--sqlite-dir", str(self.sqlite_dir)]

    def describe(self) -> dict[str, Any]:
        described = super().describe()
        secret = {self.signing_key: "<signing key>", self.event_key: "<event key>"}
        described["command"] = [secret.get(part, part) for part in described["command"] or []]
        described["kind"] = self.kind
        described["backend"] = self.backend()
        described["app_mode"] = "production (signing key + event key)"
        return described

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self, *, timeout: float = 60.0) -> None:
        """Start the backends (once) and ``inngest start``; on any failure stop everything."""
        try:
            for part in (self.postgres, self.redis):
                if part is not None and part._process is None:
                    part.start()
            self._start_inngest(timeout)
        except BaseException:
            self.stop()
            raise

    def _start_inngest(self, timeout: float) -> None:
        assert self._launcher and self._workdir and self._ports and self.log_path
        ports = self._ports
        listened = [ports.http, ports.connect_gateway, ports.connect_gateway_grpc,
                    ports.connect_executor_grpc]  # fmt: skip
        busy = [port for port in listened if not port_is_free(port)]
        if busy:
            raise SelfHostedError(f"inngest start: port(s) {busy} are already in use")
        self._workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            try:
                self._process = subprocess.Popen(
                    [*self._launcher, *self.flags()],
                    cwd=self._workdir, stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, start_new_session=True,
                    env={**_server_env(), **dict(self.options.env)},
                )  # fmt: skip
            except OSError as exc:
                raise SelfHostedError(
                    f"inngest start: cannot run {self._launcher[0]}: {exc}"
                ) from exc
        deadline = time.monotonic() + timeout
        while not self._healthy():
            code = self._process.poll()
            if code is not None:
                raise SelfHostedError(
                    f"inngest start exited with code {code} at start-up:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise SelfHostedError(
                    f"inngest start did not answer GET /health within {timeout:.0f}s:\n"
                    f"{self.log_tail()}"
                )
            time.sleep(0.2)
        if self.version == "unknown":
            done = subprocess.run(
                [*self._launcher, "version"], capture_output=True, text=True, check=False
            )
            self.version = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "?"
        # `inngest start` has no GET /dev to report its options; record the ones we gave it.
        self.start_opts = {
            "retry_interval": self.options.retry_interval_s or 0,
            "tick_ms": self.options.tick_ms,
            "queue_workers": self.options.queue_workers,
            "persist": True,
            "backend": self.backend(),
        }

    def _healthy(self) -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200
        return False

    def exit_code(self) -> int | None:
        """The exit code of ``inngest start`` or of a backend that died by itself."""
        for part in (self, self.postgres, self.redis):
            if part is None:
                continue
            process = part._process
            code = process.poll() if process is not None else None
            if code is not None:
                return code
        return None

    def exit_description(self) -> str:
        if self.postgres and self.postgres.exit_code() is not None:
            return "PostgreSQL (under the self-hosted server) exited"
        if self.redis and self.redis.exit_code() is not None:
            return "Redis (under the self-hosted server) exited"
        return "the self-hosted server (inngest start) exited"

    def stop_server(self, *, crash: bool = False, grace: float = 20.0) -> None:
        """Stop ``inngest start`` only (SIGTERM, or SIGKILL with ``crash``); backends stay."""
        process, self._process = self._process, None
        stop_group(process, sig=signal.SIGKILL if crash else signal.SIGTERM, grace=grace)

    def stop(self, *, grace: float = 20.0) -> None:
        """Stop ``inngest start``, then Redis and PostgreSQL; delete their data."""
        self.stop_server(grace=grace)
        for part in (self.redis, self.postgres):
            if part is not None and self._owns_backends:
                part.stop()
        if self._workdir:
            shutil.rmtree(self.sqlite_dir, ignore_errors=True)

    def restart(
        self, *, persist: bool | None = None, wipe: bool = False, crash: bool = False,
        **options: Any,
    ) -> None:  # fmt: skip
        """Stop and start ``inngest start`` on the same ports and backends.

        ``crash`` stops it with SIGKILL instead of SIGTERM. ``wipe`` empties Redis and the
        database first (or the SQLite folder). ``persist`` is accepted for the dev server's
        sake and ignored: ``inngest start`` always keeps its data.
        """
        del persist
        self.stop_server(crash=crash)
        self.options = replace(self.options, **options)
        if wipe:
            if self.redis:
                self.redis.flush()
            if self.postgres:
                self.postgres.wipe()
            shutil.rmtree(self.sqlite_dir, ignore_errors=True)
        try:
            self._start_inngest(60.0)
        except BaseException:
            self.stop()
            raise

    def replica(self, workdir: Path) -> SelfHostedServer:
        """A second ``inngest start`` on this server's PostgreSQL, Redis and keys, on its own
        ports (not started yet). Stopping it leaves the backends running."""
        if not (self.postgres and self.redis):
            raise SelfHostedError("only a server on PostgreSQL + Redis can have a replica")
        assert self._launcher and self._serve_url
        return SelfHostedServer(self.kind, self._launcher[0], self._serve_url, workdir, shared=self)

    def app_keys(self) -> ProductionKeys:
        return ProductionKeys(signing_key=self.signing_key, event_key=self.event_key)

    def connections_to(self, port: int) -> int:
        """How many TCP connections this ``inngest start`` process holds open to ``port`` on
        127.0.0.1 now (0 when it is not running): which instance is calling the app."""
        process = self._process
        if process is None or process.poll() is not None:
            return 0
        return open_connections(process.pid, port)

    def api(self) -> DevServerAPI:
        """An API client that authenticates as the app does (signing key, event key)."""
        return DevServerAPI(self.url, signing_key=self.signing_key, event_key=self.event_key)


def open_connections(pid: int, port: int) -> int:
    """TCP connections process ``pid`` has open to 127.0.0.1:``port``: its socket inodes
    (/proc/<pid>/fd) matched against the connection table (/proc/<pid>/net/tcp), whose remote
    address is hex ``0100007F:<port>``. 0 when the process is gone."""
    try:
        inodes = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        lines = Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return 0
    remote = f"0100007F:{port:04X}"
    established = "01"
    count = 0
    for line in lines:
        fields = line.split()
        if len(fields) > 9 and fields[2] == remote and fields[3] == established:
            count += fields[9] in inodes
    return count


def start_help() -> str | None:
    """``inngest start --help`` of the binary the suite uses (what the server offers), or None."""
    binary = _binary()
    if binary is None:
        return None
    done = subprocess.run(
        [binary, "start", "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    return done.stdout + done.stderr


def _tmp_reachable_by_all() -> str:
    """The temporary folder if another account can reach it (every folder on the way is
    searchable by others), else /tmp: initdb, run as ``postgres``, fails in a private $TMPDIR
    (a pytest tmp_path, say) with nothing in its log."""
    tmp = Path(tempfile.gettempdir()).resolve()
    if all(folder.stat().st_mode & stat.S_IXOTH for folder in [tmp, *tmp.parents]):
        return str(tmp)
    return "/tmp"


def _server_env() -> dict[str, str]:
    """The environment for ``inngest start``: ours, without INNGEST_* settings it would read
    (it takes any flag from an INNGEST_<FLAG> variable; only the command line decides here).
    A probe's own variables (``options.env``, e.g. a feature flag) are added on top."""
    return {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}


def launch(kind: str, serve_url: str, workdir: Path, *, log: Log = print) -> SelfHostedServer:
    """Start a self-hosted server for a whole script run (``--server``); SetupError if it cannot.

    Registered with atexit so that it stops with the Python process whatever happens.
    """
    try:
        server = SelfHostedServer(kind, _required_binary(), serve_url, workdir)
    except SelfHostedUnavailable as exc:
        raise SetupError(f"cannot start the {kind} server: {exc}") from None
    log(f"starting inngest start ({'PostgreSQL + Redis' if server.postgres else 'SQLite'})")
    atexit.register(server.stop)
    try:
        server.start()
    except SelfHostedError as exc:
        raise SetupError(str(exc)) from None
    return server


def _required_binary() -> str:
    binary = _binary()
    if binary is None:
        raise SelfHostedUnavailable(["inngest"])
    return binary


class SelfHostedPool:
    """Self-hosted servers started for probes during one invocation, one per kind, reused by
    later items and stopped at the end (:meth:`stop_all`)."""

    def __init__(self, workdir: Path, serve_url: str) -> None:
        self.workdir = workdir
        self.serve_url = serve_url
        self._servers: dict[str, SelfHostedServer] = {}

    def get(self, kind: str = SELF_HOSTED) -> SelfHostedServer:
        """The running server of ``kind``, started now if need be.

        Raises SelfHostedUnavailable (not installed) or SelfHostedError (failed to start).
        """
        server = self._servers.get(kind)
        if server is not None and server.exit_code() is None and server._process is not None:
            return server
        if server is not None:
            server.stop()
        server = SelfHostedServer(kind, _required_binary(), self.serve_url, self.workdir / kind)
        atexit.register(server.stop)
        server.start()
        self._servers[kind] = server
        return server

    def stop_all(self) -> None:
        for server in self._servers.values():
            server.stop()
        self._servers.clear()
