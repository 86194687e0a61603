"""Free TCP ports for the suite's listeners, reserved across processes until this one exits.

Choosing a port (bind, then close) and binding it later leaves a gap in which another process
can take it: in a whole run, twelve scripts choosing at once made two of them pick the same
port. So every port handed out here is *reserved*: an exclusive ``flock`` on a file named
after the port, in a folder all suite processes share, held until this process exits (the
kernel drops the lock with the process, even after SIGKILL). Other suite processes skip a
reserved port. A program outside the suite can still bind a port in the gap; servers that
start on a new port handle that by choosing again (``DevServer.start``).

Ports come from below the kernel's ephemeral range: a port ``bind(0)`` returns is ephemeral,
and once released the kernel may hand it to an outgoing connection, so a server restarting on
it later fails with "address already in use".
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import socket
from pathlib import Path

from harness.errors import SetupError
from harness.host.validate import EnvCheck, directory_variable

LOCKS_ENV = "INNGEST_SUITE_PORT_LOCKS"
ENV_CHECKS: tuple[EnvCheck, ...] = (directory_variable(LOCKS_ENV),)
# A fixed folder, not the temp folder: a probe may give a child its own TMPDIR, and every
# suite process on the machine must see the same reservations.
DEFAULT_LOCKS = Path("/tmp/inngest-suite-ports")
LOW, HIGH = 20000, 32767

_held: dict[int, int] = {}  # port -> file descriptor holding its lock


def _locks_dir() -> Path:
    folder = Path(os.environ.get(LOCKS_ENV) or DEFAULT_LOCKS)
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # shared by every account that runs the suite
        folder.chmod(0o1777)
    return folder


def ephemeral_range() -> range:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return range(int(low), int(high) + 1)
    except (OSError, ValueError):
        return range(32768, 61000)


def port_is_free(port: int) -> bool:
    """Nothing listens on ``port`` of 127.0.0.1 (reservations aside)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As servers do (Go's net package included): lingering TIME_WAIT sockets from our own
        # polling must not make a port that nothing listens on look busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _reserve(port: int) -> bool:
    """Take ``port``'s lock for the rest of this process; False if another process holds it."""
    if port in _held:
        return False  # already handed out by this process
    path = _locks_dir() / f"{port}.lock"
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    os.set_inheritable(fd, False)  # a child must not keep the reservation after we exit
    _held[port] = fd
    return True


def free_port(attempts: int = 200, *, exclude: frozenset[int] = frozenset()) -> int:
    """A port nothing listens on and no other suite process has reserved; reserved for this
    process from now on. SetupError if none is found in ``attempts`` tries."""
    ephemeral = ephemeral_range()
    candidates = [p for p in range(LOW, HIGH + 1) if p not in ephemeral and p not in exclude]
    for port in random.sample(candidates, min(attempts, len(candidates))):
        if port in _held or not port_is_free(port):
            continue
        if _reserve(port) and port_is_free(port):  # still free now that it is ours
            return port
    raise SetupError(f"no free TCP port found between {LOW} and {HIGH}")


def reserved() -> set[int]:
    """The ports this process holds (for tests and diagnostics)."""
    return set(_held)
