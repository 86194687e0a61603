"""Dev server discovery without a real dev server: ports, GET /dev, env vars and flags."""

from __future__ import annotations

import json
import random
import stat
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.errors import SetupError
from harness.servers.devserver import (
    BIN_ENV,
    URL_ENV,
    DevServer,
    DevServerOptions,
    _Ports,
    discover,
    fetch_info,
    free_port,
)

SERVE_URL = "http://127.0.0.1:1/api/inngest"
PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


class FakeDevServer:
    """A tiny HTTP server on 127.0.0.1 that answers ``GET /dev`` with ``body``."""

    def __init__(self, body: object) -> None:
        self.body = body
        self.port = free_port()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/dev":
                    self.send_error(404)
                    return
                payload = json.dumps(fake.body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake_server() -> Iterator[FakeDevServer]:
    fake = FakeDevServer({"version": "9.9.9", "startOpts": {}})
    fake.thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()
        fake.thread.join(timeout=5)


@pytest.fixture
def empty_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No dev server anywhere: no URL, no binary env var, and a PATH without inngest or npx."""
    bare = tmp_path / "empty-bin"
    bare.mkdir()
    monkeypatch.delenv(URL_ENV, raising=False)
    monkeypatch.delenv(BIN_ENV, raising=False)
    monkeypatch.setenv("PATH", str(bare))
    return bare


def executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


# --- GET /dev -------------------------------------------------------------------------------
def test_fetch_info_none_when_nothing_listens() -> None:
    assert fetch_info(f"http://127.0.0.1:{free_port()}", timeout=1.0) is None


def test_fetch_info_returns_json(fake_server: FakeDevServer) -> None:
    assert fetch_info(fake_server.url + "/") == {"version": "9.9.9", "startOpts": {}}


def test_fetch_info_none_without_version(fake_server: FakeDevServer) -> None:
    fake_server.body = {"something": "else"}
    assert fetch_info(fake_server.url) is None
    fake_server.body = ["version"]
    assert fetch_info(fake_server.url) is None


def test_fetch_info_none_for_malformed_url() -> None:
    assert fetch_info("http://127.0.0.1:not-a-port") is None


# --- discover -------------------------------------------------------------------------------
def test_discover_uses_url_env(
    fake_server: FakeDevServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(URL_ENV, fake_server.url)
    monkeypatch.delenv(BIN_ENV, raising=False)
    server = discover(SERVE_URL, tmp_path / "ds", log=lambda message: None)
    assert server.owned is False
    assert server.version == "9.9.9"
    assert server.url == fake_server.url
    assert URL_ENV in server.source
    described = server.describe()
    assert described["owned"] is False
    assert described["version"] == "9.9.9"
    assert described["command"] is None
    assert server.flags() == []
    assert not (tmp_path / "ds").exists()


def test_discover_without_any_source_explains(empty_path: Path, tmp_path: Path) -> None:
    logged: list[str] = []
    with pytest.raises(SetupError) as excinfo:
        discover(SERVE_URL, tmp_path / "ds", log=logged.append)
    message = str(excinfo.value)
    assert URL_ENV in message
    assert BIN_ENV in message


def test_discover_falls_through_when_url_does_not_answer(
    empty_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv(URL_ENV, dead)
    logged: list[str] = []
    with pytest.raises(SetupError, match=BIN_ENV):
        discover(SERVE_URL, tmp_path / "ds", log=logged.append)
    assert any(dead in line for line in logged)


def test_discover_with_malformed_url_raises_setup_error(
    empty_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(URL_ENV, "http://127.0.0.1:not-a-port")
    with pytest.raises(SetupError):
        discover(SERVE_URL, tmp_path / "ds", log=lambda message: None)


def test_discover_rejects_non_executable_bin(
    empty_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "inngest"
    plain.write_text("#!/bin/sh\nexit 0\n")
    plain.chmod(0o644)
    monkeypatch.setenv(BIN_ENV, str(plain))
    with pytest.raises(SetupError) as excinfo:
        discover(SERVE_URL, tmp_path / "ds", log=lambda message: None)
    assert BIN_ENV in str(excinfo.value)
    assert str(plain) in str(excinfo.value)


def test_discover_rejects_missing_bin(
    empty_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no-such-inngest"
    monkeypatch.setenv(BIN_ENV, str(missing))
    with pytest.raises(SetupError, match=str(missing)):
        discover(SERVE_URL, tmp_path / "ds", log=lambda message: None)


def test_discover_rejects_directory_bin(
    empty_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "inngest-dir"
    directory.mkdir()
    monkeypatch.setenv(BIN_ENV, str(directory))
    with pytest.raises(SetupError, match=BIN_ENV):
        discover(SERVE_URL, tmp_path / "ds", log=lambda message: None)


def test_discover_reports_a_binary_that_exits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = executable(tmp_path / "fake-inngest", "#!/bin/sh\necho 'boom: no such flag'\nexit 1\n")
    monkeypatch.delenv(URL_ENV, raising=False)
    monkeypatch.setenv(BIN_ENV, str(fake))
    started = time.monotonic()
    with pytest.raises(SetupError) as excinfo:
        discover(SERVE_URL, tmp_path / "ds", log=lambda message: None)
    assert time.monotonic() - started < 5
    message = str(excinfo.value)
    assert "exited" in message
    assert "boom: no such flag" in message
    log = (tmp_path / "ds" / "devserver.log").read_text()
    assert "boom" in log


FLAKY_BINARY = """#!{python}
import http.server, json, sys
from pathlib import Path
tries = Path(sys.argv[0]).with_suffix(".tries")
count = int(tries.read_text()) if tries.exists() else 0
tries.write_text(str(count + 1))
port = int(sys.argv[sys.argv.index("--port") + 1])
if count == 0:  # the first start finds its port taken, as when another program got there first
    print(f"Error: listen tcp 127.0.0.1:{{port}}: bind: address already in use", flush=True)
    sys.exit(1)
class Dev(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({{"version": "fake-1", "startOpts": {{}}}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Dev).serve_forever()
"""


def test_discover_tries_new_ports_when_one_was_taken_before_binding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = executable(tmp_path / "flaky-inngest", FLAKY_BINARY.format(python=sys.executable))
    monkeypatch.delenv(URL_ENV, raising=False)
    monkeypatch.setenv(BIN_ENV, str(fake))
    said: list[str] = []
    server = discover(SERVE_URL, tmp_path / "ds", log=said.append)
    try:
        assert server.version == "fake-1"
        assert (tmp_path / "flaky-inngest.tries").read_text() == "2"
        assert any("trying new ports" in line for line in said)
    finally:
        server.stop()


# --- an owned server's command line ---------------------------------------------------------
def test_owned_server_flags(tmp_path: Path) -> None:
    ports = _Ports.allocate()
    server = DevServer(
        "http://127.0.0.1:1",
        "v",
        "test",
        launcher=["/bin/true"],
        serve_url=SERVE_URL,
        workdir=tmp_path,
        ports=ports,
    )
    assert server.owned is True
    flags = server.flags()
    assert flags[0] == "dev"
    assert "--no-discovery" in flags
    assert "--no-poll" in flags
    assert flags[flags.index("-u") + 1] == SERVE_URL
    assert flags[flags.index("--retry-interval") + 1] == "1"
    for flag, port in [
        ("--port", ports.http),
        ("--connect-gateway-port", ports.connect_gateway),
        ("--connect-gateway-grpc-port", ports.connect_gateway_grpc),
        ("--connect-executor-grpc-port", ports.connect_executor_grpc),
        ("--debug-api-port", ports.debug_api),
    ]:
        assert flags[flags.index(flag) + 1] == str(port)
    assert "--persist" not in flags
    assert "--sqlite-dir" not in flags
    assert server.describe()["command"] == ["/bin/true", *flags]
    assert server.describe()["owned"] is True

    server.options = DevServerOptions(persist=True)
    persisted = server.flags()
    assert "--persist" in persisted
    assert persisted[persisted.index("--sqlite-dir") + 1] == str(tmp_path / "sqlite")
    assert persisted[: len(flags)] == flags


def test_options_become_flags(tmp_path: Path) -> None:
    default_backoff = DevServerOptions(retry_interval_s=None, tick_ms=10, queue_workers=4)
    flags = default_backoff.flags(tmp_path)
    assert "--retry-interval" not in flags
    assert flags == ["--tick", "10", "--queue-workers", "4"]
    assert DevServerOptions().flags(tmp_path) == ["--retry-interval", "1"]


def test_only_an_owned_server_can_restart() -> None:
    with pytest.raises(RuntimeError, match="only a dev server the suite started"):
        DevServer("http://127.0.0.1:1", "x", "external").restart(retry_interval_s=None)


def test_ports_are_distinct_when_sampling_is_random() -> None:
    ports = _Ports.allocate()
    values = [
        ports.http,
        ports.connect_gateway,
        ports.connect_gateway_grpc,
        ports.connect_executor_grpc,
        ports.debug_api,
    ]
    assert all(20000 <= p < 32768 for p in values)
    assert ports.flags()[1::2] == [str(p) for p in values]


def test_ports_never_repeat(monkeypatch: pytest.MonkeyPatch) -> None:
    # Deterministic stand-in for an unlucky random draw: always try candidates in order.
    monkeypatch.setattr(random, "sample", lambda population, k: list(population)[:k])
    ports = _Ports.allocate()
    values = list(ports.__dict__.values())
    assert len(set(values)) == len(values), values


def test_npx_s_installed_binary_is_found_in_its_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.servers.devserver import PINNED_CLI_VERSION, npx_installed_binary

    monkeypatch.setenv("NPM_CONFIG_CACHE", str(tmp_path))
    assert npx_installed_binary() is None
    package = tmp_path / "_npx" / "abc123" / "node_modules" / "inngest-cli"
    (package / "bin").mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"version": "0.0.1"}))
    binary = executable(package / "bin" / "inngest", "#!/bin/sh\nexit 0\n")
    assert npx_installed_binary() is None  # another version: not the pinned one
    (package / "package.json").write_text(json.dumps({"version": PINNED_CLI_VERSION}))
    assert npx_installed_binary() == str(binary)
