"""The self-hosted server as a harness capability, without the network: choosing the server,
what is missing and how to install it, flags, redaction, the app in production mode, API
credentials; then, where PostgreSQL and Redis are installed, the bad conditions: a port taken,
an ``inngest start`` that exits at start-up, and nothing left running afterwards."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

import serve
from harness.errors import SetupError
from harness.probing.app import AppHost
from harness.probing.health import devserver_watch
from harness.servers import selfhosted
from harness.servers.api import DevServerAPI
from harness.servers.devserver import DevServer, free_port, port_is_free
from harness.servers.selfhosted import (
    INSTALL_COMMAND,
    SELF_HOSTED,
    SELF_HOSTED_SQLITE,
    SERVER_ENV,
    PostgresCluster,
    RedisServer,
    SelfHostedError,
    SelfHostedServer,
    SelfHostedUnavailable,
    missing_programs,
    postgres_bin_dir,
    server_kind,
)
from harness.suite import _parse_args

SERVE_URL = "http://127.0.0.1:1/api/inngest"
BACKENDS = postgres_bin_dir() is not None and bool(__import__("shutil").which("redis-server"))
needs_backends = pytest.mark.skipif(
    not BACKENDS, reason=f"PostgreSQL or Redis not installed ({INSTALL_COMMAND})"
)


# --- choosing the server --------------------------------------------------------------------------
def test_the_dev_server_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SERVER_ENV, raising=False)
    assert server_kind() == "dev"


def test_the_option_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SERVER_ENV, SELF_HOSTED_SQLITE)
    assert server_kind() == SELF_HOSTED_SQLITE
    assert server_kind(SELF_HOSTED) == SELF_HOSTED


def test_an_unknown_server_is_a_setup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SERVER_ENV, "kubernetes")
    with pytest.raises(SetupError, match=r"unknown server .kubernetes.*self-hosted"):
        server_kind()


def test_scripts_accept_the_server_option() -> None:
    suite = SimpleNamespace(
        items={}, script=Path("08_op_operations.py"), category=SimpleNamespace(value="Operations")
    )
    assert _parse_args(suite, ["--server", "self-hosted"]).server == "self-hosted"  # type: ignore[arg-type]
    assert _parse_args(suite, []).server is None  # type: ignore[arg-type]
    with pytest.raises(SystemExit):
        _parse_args(suite, ["--server", "cloud"])  # type: ignore[arg-type]


# --- what is missing ------------------------------------------------------------------------------
def test_missing_postgres_and_redis_are_named_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(selfhosted, "postgres_bin_dir", lambda: None)
    monkeypatch.setattr(selfhosted.shutil, "which", lambda name: None)
    monkeypatch.setattr(selfhosted, "_binary", lambda: "/usr/bin/inngest")
    assert missing_programs(SELF_HOSTED) == ["PostgreSQL", "Redis"]
    assert missing_programs(SELF_HOSTED_SQLITE) == []
    with pytest.raises(SelfHostedUnavailable) as caught:
        SelfHostedServer(SELF_HOSTED, "/usr/bin/inngest", SERVE_URL, Path("/tmp/unused"))
    reason = caught.value.reason()
    assert reason.params == {"missing": "PostgreSQL, Redis", "command": INSTALL_COMMAND}
    assert "apt-get install -y postgresql redis-server" in str(caught.value)


def test_a_missing_inngest_binary_names_the_right_remedy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A machine with PostgreSQL and Redis but no inngest: apt-get cannot help there.
    monkeypatch.setattr(selfhosted, "_binary", lambda: None)
    with pytest.raises(SetupError) as caught:
        selfhosted.launch(SELF_HOSTED, SERVE_URL, tmp_path, log=lambda _: None)
    message = str(caught.value)
    assert "INNGEST_DEV_SERVER_BIN" in message and "PATH" in message
    assert "apt-get" not in message
    reason = SelfHostedUnavailable(["inngest"]).reason()
    assert reason.params == {"variable": "INNGEST_DEV_SERVER_BIN"}


def test_the_server_needs_only_the_backends_when_given_its_binary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(selfhosted, "postgres_bin_dir", lambda: None)
    monkeypatch.setattr(selfhosted, "_binary", lambda: None)  # nothing on PATH: irrelevant here
    with pytest.raises(SelfHostedUnavailable) as caught:
        SelfHostedServer(SELF_HOSTED, "/opt/inngest", SERVE_URL, Path("/tmp/unused"))
    assert caught.value.missing[0] == "PostgreSQL" and "inngest" not in caught.value.missing
    assert caught.value.command.startswith("apt-get install -y postgresql")


def test_launch_turns_missing_programs_into_a_setup_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(selfhosted, "postgres_bin_dir", lambda: None)
    monkeypatch.setattr(selfhosted, "_binary", lambda: "/usr/bin/inngest")
    with pytest.raises(SetupError, match="install with"):
        selfhosted.launch(SELF_HOSTED, SERVE_URL, tmp_path, log=lambda _: None)


# --- flags and what results record ----------------------------------------------------------------
def test_sqlite_server_flags_keys_and_redaction(tmp_path: Path) -> None:
    server = SelfHostedServer(SELF_HOSTED_SQLITE, "/usr/bin/inngest", SERVE_URL, tmp_path)
    flags = server.flags()
    assert flags[0] == "start" and "--sqlite-dir" in flags and "--postgres-uri" not in flags
    assert "-u" not in flags  # registrations after a restart must come from the database
    assert flags[flags.index("--signing-key") + 1] == server.signing_key
    assert flags[flags.index("--retry-interval") + 1] == "1"
    described = server.describe()
    assert described["kind"] == SELF_HOSTED_SQLITE
    assert server.signing_key not in described["command"]
    assert "<signing key>" in described["command"] and "<event key>" in described["command"]
    assert described["backend"] == "SQLite + built-in in-memory Redis"
    assert server.app_keys() == serve.ProductionKeys(server.signing_key, server.event_key)
    assert len(bytes.fromhex(server.signing_key)) == 32


@needs_backends
def test_postgres_server_flags(tmp_path: Path) -> None:
    server = SelfHostedServer(SELF_HOSTED, "/usr/bin/inngest", SERVE_URL, tmp_path)
    assert server.postgres and server.redis
    flags = server.flags()
    assert flags[flags.index("--postgres-uri") + 1] == server.postgres.uri
    assert flags[flags.index("--redis-uri") + 1] == server.redis.uri
    assert server.postgres.port != server.redis.port
    assert {server.postgres.port, server.redis.port}.isdisjoint(server._ports.__dict__.values())
    replica = server.replica(tmp_path / "replica")
    assert replica.postgres is server.postgres and replica.signing_key == server.signing_key
    assert replica.url != server.url and not replica._owns_backends


def test_the_watchdog_names_the_part_that_died(tmp_path: Path) -> None:
    server = SelfHostedServer(SELF_HOSTED_SQLITE, "/usr/bin/inngest", SERVE_URL, tmp_path)
    server._process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(4)"])
    server._process.wait()
    failure = devserver_watch(server).probe()
    assert failure and failure.component == "self-hosted server" and failure.exit_code == 4
    assert failure.what == "the self-hosted server (inngest start) exited"
    plain = DevServer("http://127.0.0.1:1", "x", "test")
    assert plain.exit_description() == "the dev server exited" and plain.app_keys() is None
    assert plain.describe()["kind"] == "dev"


# --- the app in production mode, and API credentials ----------------------------------------------
def test_production_keys_from_the_sdks_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(serve.SIGNING_KEY_ENV, raising=False)
    monkeypatch.setenv(serve.EVENT_KEY_ENV, "e")
    assert serve.ProductionKeys.from_env() is None  # both or nothing
    monkeypatch.setenv(serve.SIGNING_KEY_ENV, "s")
    assert serve.ProductionKeys.from_env() == serve.ProductionKeys("s", "e")


def test_the_client_is_in_production_mode_only_with_keys() -> None:
    assert not serve.make_client("http://127.0.0.1:9").is_production
    client = serve.make_client("http://127.0.0.1:9", serve.ProductionKeys("ab" * 8, "ev"))
    assert client.is_production and client.signing_key == "ab" * 8 and client.event_key == "ev"


def test_a_child_app_process_gets_the_keys_and_only_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[str, dict[str, str]] = {}

    class Recorder:
        def __init__(self, command: list[str], **kwargs: object) -> None:
            seen["env"] = kwargs["env"]  # type: ignore[assignment]

        def poll(self) -> int:
            return 1

    monkeypatch.setenv(serve.SIGNING_KEY_ENV, "from-my-shell")
    monkeypatch.setattr(subprocess, "Popen", Recorder)
    host = AppHost(Path(__file__), sys.modules[__name__], tmp_path, free_port())
    host.keys = serve.ProductionKeys("server-key", "event-key")
    from harness.probing.app import AppProcess

    with pytest.raises(RuntimeError):
        AppProcess(host, []).start(timeout=1)
    assert seen["env"][serve.SIGNING_KEY_ENV] == "server-key"
    host.keys = None
    with pytest.raises(RuntimeError):
        AppProcess(host, []).start(timeout=1)
    assert serve.SIGNING_KEY_ENV not in seen["env"]


def test_api_sends_the_signing_key_and_the_event_key() -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        sent = request.read()
        count = len(__import__("json").loads(sent)) if sent.startswith(b"[") else 1
        return httpx.Response(200, json={"ids": [f"E{i}" for i in range(count)]})

    api = DevServerAPI(
        "http://server.test", transport=httpx.MockTransport(handler),
        signing_key="sk", event_key="ek",
    )  # fmt: skip
    assert api.send("a/b", {}) == "E0"
    assert api.send_many([{"name": "a/b", "data": {}}] * 3) == ["E0", "E1", "E2"]
    assert all(r.url.path == "/e/ek" for r in requests)
    assert all(r.headers["Authorization"] == "Bearer sk" for r in requests)
    plain = DevServerAPI("http://server.test", transport=httpx.MockTransport(handler))
    plain.send("a/b", {})
    assert requests[-1].url.path == "/e/suite-key" and "Authorization" not in requests[-1].headers


def test_send_many_insists_on_one_id_per_event() -> None:
    api = DevServerAPI(
        "http://server.test",
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"ids": ["E0"]})),
    )
    with pytest.raises(RuntimeError, match="expected 2 event IDs"):
        api.send_many([{"name": "a", "data": {}}, {"name": "b", "data": {}}])


# --- bad conditions with real PostgreSQL and Redis ------------------------------------------------
def listening(port: int) -> bool:
    return not port_is_free(port)


@needs_backends
def test_a_taken_redis_port_is_named(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        redis = RedisServer(__import__("shutil").which("redis-server"), tmp_path, port)
        with pytest.raises(SelfHostedError, match=f"Redis: port {port} is already in use"):
            redis.start()
    assert redis._process is None


@needs_backends
def test_a_taken_postgres_port_is_named(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bin_dir = postgres_bin_dir()
        assert bin_dir
        cluster = PostgresCluster(bin_dir, tmp_path, port)
        with pytest.raises(SelfHostedError, match=f"PostgreSQL: port {port} is already in use"):
            cluster.start()


@needs_backends
def test_an_inngest_start_that_exits_leaves_nothing_running(tmp_path: Path) -> None:
    fake = tmp_path / "inngest"
    fake.write_text("#!/bin/sh\necho 'Error: signing-key is broken' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    server = SelfHostedServer(SELF_HOSTED, str(fake), SERVE_URL, tmp_path / "server")
    assert server.postgres and server.redis
    with pytest.raises(SelfHostedError) as caught:
        server.start()
    message = str(caught.value)
    assert "inngest start exited with code 3" in message and "signing-key is broken" in message
    # PostgreSQL and Redis had started; both are stopped again, their data deleted.
    assert server.postgres._process is None and server.redis._process is None
    assert not listening(server.postgres.port) and not listening(server.redis.port)
    assert server.postgres._data_root is None
    leftovers = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert f"-p {server.postgres.port}" not in leftovers
    assert f"--port {server.redis.port}" not in leftovers


@needs_backends
@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as another account")
def test_postgres_runs_as_the_unprivileged_account_when_we_are_root(tmp_path: Path) -> None:
    bin_dir = postgres_bin_dir()
    assert bin_dir
    cluster = PostgresCluster(bin_dir, tmp_path, free_port())
    try:
        cluster.start()
        assert cluster.query("SELECT current_user") == "postgres"
        owner = subprocess.run(
            ["ps", "-o", "user=", "-p", str(cluster._process.pid)],  # type: ignore[union-attr]
            capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        assert owner == "postgres"
        cluster.wipe()  # drop and re-create the database
        assert cluster.query("SELECT count(*) FROM pg_stat_user_tables") == "0"
    finally:
        cluster.stop()
    assert not listening(cluster.port)


@needs_backends
@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as another account")
def test_postgres_starts_from_a_private_tmpdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # initdb, run as postgres, cannot reach a TMPDIR only root can enter (pytest's tmp_path is
    # one): the cluster's data goes where that account can reach it instead.
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    monkeypatch.setenv("TMPDIR", str(private))
    monkeypatch.setattr(selfhosted.tempfile, "tempdir", None)  # read TMPDIR again
    bin_dir = postgres_bin_dir()
    assert bin_dir
    cluster = PostgresCluster(bin_dir, tmp_path, free_port())
    try:
        cluster.start()
        assert cluster.query("SELECT 1") == "1"
        assert not cluster._data_root.is_relative_to(private)  # type: ignore[union-attr]
    finally:
        cluster.stop()


def test_a_tmpdir_others_cannot_search_is_not_used_for_another_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_ = tmp_path / "open"
    open_.mkdir()
    open_.chmod(0o755)
    tmp_path.chmod(0o755)
    monkeypatch.setattr(selfhosted.tempfile, "gettempdir", lambda: str(open_))
    searchable = all(f.stat().st_mode & stat.S_IXOTH for f in open_.resolve().parents)
    assert selfhosted._tmp_reachable_by_all() == (str(open_.resolve()) if searchable else "/tmp")
    open_.chmod(0o700)
    assert selfhosted._tmp_reachable_by_all() == "/tmp"


def test_cancel_falls_back_to_graphql_where_rest_answers_404() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.method == "DELETE":
            return httpx.Response(404, json={"error": "Unable to load function run"})
        assert b"cancelRun" in request.read()
        return httpx.Response(200, json={"data": {"cancelRun": {"id": "R1"}}})

    DevServerAPI("http://server.test", transport=httpx.MockTransport(handler)).cancel("R1")
    assert seen == ["DELETE /v1/runs/R1", "POST /v0/gql"]


def test_open_connections_counts_a_process_s_connections_to_a_port() -> None:
    import os
    import socket

    from harness.servers.selfhosted import open_connections

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert open_connections(os.getpid(), port) == 0
        with socket.create_connection(("127.0.0.1", port)):
            accepted, _ = listener.accept()
            with accepted:
                assert open_connections(os.getpid(), port) == 1
    assert open_connections(2**22 + 1, port) == 0  # no such process
