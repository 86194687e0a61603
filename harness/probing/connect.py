"""Serving functions through Inngest's ``connect`` model, as a worker process.

In the serve model the server calls the app's HTTP endpoint. In the connect model the app opens
an outbound WebSocket to the server's connect gateway and receives its work over it; nothing
listens on the app's side. :class:`ConnectWorker` runs ``python -m harness.probing.connect`` for a
script's functions as a child process under its own app ID, so one invocation can compare both
models side by side; the SDK's ``inngest.connect`` needs ``protobuf``, ``websockets`` and
``psutil`` (pinned in pyproject.toml).

Functions served here must not also be served over HTTP: a function ID belongs to one app.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import inngest

import serve
from harness.host.processes import stop_group
from harness.servers.api import DevServerAPI

CONNECT_APP_ID = f"{serve.APP_ID}-connect"


class ConnectWorker:
    """``python -m harness.probing.connect`` for some of a script's functions."""

    def __init__(
        self,
        script: Path,
        functions: list[inngest.Function[Any]],
        module_names: list[str],
        server_url: str,
        log_path: Path,
        keys: serve.ProductionKeys | None = None,
    ) -> None:
        self.script = script
        self.functions = functions
        self.names = module_names
        self.server_url = server_url
        self.log_path = log_path
        self.keys = keys
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, api: DevServerAPI, *, timeout: float = 40.0) -> None:
        """Start the worker; return once the server lists its functions and routes to its
        connection (RuntimeError if not).

        Functions are listed a moment before the gateway counts the connection as READY; a run
        started in between fails with "Could not find a healthy connection" (seen on 1.43.0).
        """
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in (serve.SIGNING_KEY_ENV, serve.EVENT_KEY_ENV)
        }
        if self.keys:
            env[serve.SIGNING_KEY_ENV] = self.keys.signing_key
            env[serve.EVENT_KEY_ENV] = self.keys.event_key
        command = [
            sys.executable, "-m", "harness.probing.connect", "--script", str(self.script),
            "--functions", ",".join(self.names), "--server-url", self.server_url,
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=env, cwd=serve.ROOT, start_new_session=True,
            )  # fmt: skip
        expected = {fn.get_id() for fn in self.functions}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"the connect worker exited with code {self._process.returncode}:\n"
                    f"{self.log_tail()}"
                )
            if expected <= api.function_slugs() and self._ready(api):
                return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(
            f"the server did not list the connect worker's functions within {timeout:.0f}s:\n"
            f"{self.log_tail()}"
        )

    def _ready(self, api: DevServerAPI) -> bool:
        """Whether the server lists this worker's connection as READY."""
        assert self._process is not None
        data = api.graphql(_READY_CONNECTIONS, _READY_FILTER)
        edges = (data.get("workerConnections") or {}).get("edges") or []
        return any(e["node"]["instanceId"] == instance_id(self._process.pid) for e in edges)

    def stop(self, *, grace: float = 15.0) -> None:
        """SIGTERM (the SDK drains in-flight work and closes), then SIGKILL after ``grace``."""
        process, self._process = self._process, None
        stop_group(process, grace=grace)

    def log_tail(self, lines: int = 15) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def instance_id(pid: int) -> str:
    """The connect instance ID of the worker process ``pid`` (how its connection is found)."""
    return f"suite-{pid}"


_READY_CONNECTIONS = """
query ReadyConnections(
  $filter: ConnectV1WorkerConnectionsFilter!, $orderBy: [ConnectV1WorkerConnectionsOrderBy!]!
) {
  workerConnections(first: 100, filter: $filter, orderBy: $orderBy) {
    edges { node { instanceId status } }
  }
}"""
_READY_FILTER = {
    "filter": {"status": ["READY"]},
    "orderBy": [{"field": "CONNECTED_AT", "direction": "DESC"}],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.probing.connect",
        description="Serve a script's functions over an outbound connect connection.",
    )
    parser.add_argument("--script", type=Path, required=True)
    parser.add_argument("--functions", required=True, help="comma-separated attribute names")
    parser.add_argument("--server-url", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from inngest.connect import connect  # needs the connect extras; imported where used

    module = serve.load_script(args.script.resolve())
    functions = serve.functions_of(module, args.functions.split(","))
    client = serve.make_client(
        args.server_url, serve.ProductionKeys.from_env(), app_id=CONNECT_APP_ID
    )
    connection = connect([(client, functions)], instance_id=instance_id(os.getpid()))
    asyncio.run(connection.start())
    return 0


if __name__ == "__main__":
    sys.exit(main())
