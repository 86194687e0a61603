"""A short-lived self-hosted Inngest server (``inngest start``) to look at, next to the dev server.

Same binary as the dev server, started in its self-hosting mode with a throwaway signing key
and event key, SQLite in a temporary directory and free ports, and stopped when the block ends.
Used to observe what a self-hosted deployment exposes (its metrics endpoint, say).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from .devserver import free_port
from .errors import SetupError


@dataclass(frozen=True)
class SelfHosted:
    url: str
    event_key: str
    signing_key: str
    command: list[str]


@contextlib.contextmanager
def self_hosted_server(
    launcher: list[str],
    workdir: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Iterator[SelfHosted]:
    """Run ``<launcher> start`` until the block ends; SetupError if it does not come up."""
    ports: list[int] = []
    for _ in range(4):
        ports.append(free_port(exclude=frozenset(ports)))
    http, gateway, gateway_grpc, executor_grpc = ports
    signing_key = secrets.token_hex(32)
    event_key = "suite-self-hosted-key"
    workdir.mkdir(parents=True, exist_ok=True)
    command = [
        *launcher, "start", "--host", "127.0.0.1", "--port", str(http),
        "--connect-gateway-port", str(gateway),
        "--connect-gateway-grpc-port", str(gateway_grpc),
        "--connect-executor-grpc-port", str(executor_grpc),
        "--signing-key", signing_key, "--event-key", event_key,
        "--sqlite-dir", str(workdir / "sqlite"), "--no-ui",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{http}"
    with (workdir / "self-hosted.log").open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise SetupError(f"`inngest start` exited with code {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=1.0).status_code < 500:
                    break
            if time.monotonic() > deadline:
                raise SetupError(f"`inngest start` did not answer within {timeout:g}s")
            time.sleep(0.2)
        shown = [("<signing key>" if part == signing_key else part) for part in command]
        yield SelfHosted(url, event_key, signing_key, shown)
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
