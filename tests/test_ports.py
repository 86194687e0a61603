"""Free ports: outside the ephemeral range, really bindable, and never handed to two suite
processes at once (a whole run starts a dozen scripts choosing ports at the same moment)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from harness.host import ports
from harness.host.ports import LOCKS_ENV, ephemeral_range, free_port, port_is_free

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def private_locks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Reservations of these tests in a folder of their own, so other suite runs do not count."""
    folder = tmp_path / "locks"
    monkeypatch.setenv(LOCKS_ENV, str(folder))
    return folder


def test_a_free_port_is_outside_the_ephemeral_range_and_bindable() -> None:
    low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    assert ephemeral_range() == range(low, high + 1)
    for _ in range(5):
        port = free_port()
        assert not low <= port <= high
        assert 20000 <= port < 32768
        assert port_is_free(port)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))  # really bindable


def test_port_is_free_false_while_listening() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert port_is_free(port) is False
    assert port_is_free(port) is True


def test_one_process_never_hands_out_a_port_twice() -> None:
    chosen = [free_port() for _ in range(50)]
    assert len(set(chosen)) == 50
    assert set(chosen) <= ports.reserved()


# Each child picks ports from a range of only 40, so that without reservations collisions are
# all but certain, and prints what it got once every child has chosen (the barrier file).
CHILD = """
import os, sys, time
from pathlib import Path
from harness.host import ports
ports.LOW, ports.HIGH = 20000, 20039
got = []
for _ in range(4):
    got.append(ports.free_port(attempts=40))
Path(sys.argv[1], str(os.getpid())).write_text("")
deadline = time.monotonic() + 20
while len(os.listdir(sys.argv[1])) < int(sys.argv[2]) and time.monotonic() < deadline:
    time.sleep(0.05)
print(" ".join(map(str, got)))
"""


def test_processes_choosing_at_once_never_get_the_same_port(tmp_path: Path) -> None:
    children = 8
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    started = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(barrier), str(children)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for _ in range(children)
    ]
    outputs = [process.communicate(timeout=60) for process in started]
    assert all(process.returncode == 0 for process in started), outputs
    every_port = [int(p) for out, _ in outputs for p in out.split()]
    assert len(every_port) == children * 4
    assert len(set(every_port)) == len(every_port), "two processes were given the same port"


def test_a_reservation_ends_with_its_process(tmp_path: Path) -> None:
    code = "from harness.host import ports; print(ports.free_port())"
    port = int(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
        ).stdout
    )
    assert ports._reserve(port), "a dead process's reservation must not block the port"
