"""Stopping the child processes the suite starts (servers, workers), each in its own group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess


def stop_group(
    process: subprocess.Popen[bytes] | None, *, grace: float, sig: int = signal.SIGTERM
) -> None:
    """Signal ``process``'s process group (``sig``), wait ``grace`` seconds, then SIGKILL it.

    The process must have been started with ``start_new_session=True``, so that the group holds
    whatever it spawned (npx's child, a server's helpers). A process already gone is left alone.
    """
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=grace)
