"""A Temporal worker in a child process, so a probe can SIGKILL it mid-activity.

``python -m harness.temporal.worker --address HOST:PORT --task-queue Q`` serves
:data:`harness.temporal.workflows.WORKFLOWS` and ``ACTIVITIES`` until it is terminated; it prints
``ready`` once it polls. The side-effect ledger is taken from the environment
(``DURABILITY_LEDGER``), as Inngest app processes take it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from harness.errors import SetupError
from harness.host.processes import stop_group

ROOT = Path(__file__).resolve().parent.parent
READY = "ready"


class WorkerProcess:
    """One worker process at a time on ``task_queue``; start again after a kill."""

    def __init__(self, address: str, task_queue: str, log_path: Path) -> None:
        self.address = address
        self.task_queue = task_queue
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, *, timeout: float = 30.0) -> None:
        """Start a worker process and wait until it polls the task queue."""
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        command = [
            sys.executable, "-m", "harness.temporal.worker",
            "--address", self.address, "--task-queue", self.task_queue,
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise SetupError(f"the Temporal worker process exited at start-up:\n{self.tail()}")
            if READY in self.log_path.read_text(errors="replace")[offset:].splitlines():
                return
            time.sleep(0.05)
        self.kill()
        raise SetupError(f"the Temporal worker process was not ready within {timeout:.0f}s")

    def kill(self) -> None:
        """SIGKILL: no shutdown, the activity in flight dies with the process."""
        process, self._process = self._process, None
        if process and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop(self, *, grace: float = 10.0) -> None:
        process, self._process = self._process, None
        stop_group(process, grace=grace)

    def tail(self, lines: int = 15) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


async def serve(address: str, task_queue: str) -> None:
    from temporalio.client import Client
    from temporalio.worker import Worker

    from harness.temporal.workflows import ACTIVITIES, WORKFLOWS

    client = await Client.connect(address)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS, activities=ACTIVITIES):
        print(READY, flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.temporal.worker")
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.address, args.task_queue))
    return 0


if __name__ == "__main__":
    sys.exit(main())
