"""Subscribing to Inngest realtime channels the way a browser does, to measure streaming.

A function publishes with the SDK (``inngest.experimental.realtime.publish``); a client gets a
subscription token for a channel and its topics (``get_subscription_token``), then reads the
dev server's server-sent-event stream ``GET /v1/realtime/sse?token=…``. :class:`Subscriber`
does that on a background thread and timestamps every message on arrival, so a probe can tell
when the first token reached a subscriber (checked against dev server 1.43: each SSE ``data:``
line is one JSON message with ``kind``, ``channel``, ``topic``, ``data`` and ``created_at``).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from harness.errors import ProbeTimeout


@dataclass(frozen=True)
class Received:
    at: float  # wall-clock time the subscriber read the message
    channel: str
    topic: str
    kind: str
    data: Any


class Subscriber:
    """An SSE subscription to one channel's topics, read on a background thread.

    The thread stops reading once ``until(received)`` is true, when nothing (not even the dev
    server's keep-alive) arrives for ``idle_timeout`` seconds, or on :meth:`stop`.
    """

    def __init__(
        self,
        dev_server_url: str,
        token: str,
        *,
        until: Callable[[list[Received]], bool] | None = None,
        idle_timeout: float = 60.0,
    ) -> None:
        self._url = f"{dev_server_url.rstrip('/')}/v1/realtime/sse"
        self._token = token
        self._until = until
        self._idle_timeout = idle_timeout
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._response: httpx.Response | None = None
        self._error: str | None = None
        self._thread = threading.Thread(target=self._read, name="realtime-sse", daemon=True)

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    @property
    def error(self) -> str | None:
        return self._error

    def start(self, timeout: float = 10.0) -> None:
        """Connect; returns once the dev server accepted the subscription."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._connected.wait(0.05):
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                why = self._error or f"no answer within {timeout:g}s"
                raise ProbeTimeout(f"no realtime subscription: {why}")

    def stop(self) -> None:
        self._stop.set()
        response = self._response
        if response is not None:
            with contextlib.suppress(Exception):  # unblocks a read in progress
                response.close()
        self._thread.join(timeout=5)

    def wait_for(self, condition: Callable[[list[Received]], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition(self.received):
                return True
            if not self._thread.is_alive():
                break
            time.sleep(0.02)
        return condition(self.received)

    def _read(self) -> None:
        timeout = httpx.Timeout(10.0, read=self._idle_timeout)
        try:
            with (
                httpx.Client(timeout=timeout) as http,
                http.stream("GET", self._url, params={"token": self._token}) as response,
            ):
                self._response = response
                if response.status_code != 200:
                    response.read()
                    self._error = f"HTTP {response.status_code}: {response.text[:200]}"
                    return
                self._connected.set()
                for line in response.iter_lines():
                    self._take(line)
                    if self._stop.is_set() or (self._until and self._until(self.received)):
                        return
        except Exception as exc:  # a closed or broken stream ends the subscription
            if not self._stop.is_set():
                self._error = f"{type(exc).__name__}: {exc}"
        finally:
            self._response = None

    def _take(self, line: str) -> None:
        if not line.startswith("data:"):
            return  # keep-alive comments (":") and blank separators
        arrived = time.time()
        with contextlib.suppress(ValueError):
            message = json.loads(line[len("data:") :].strip())
            if isinstance(message, dict):
                with self._lock:
                    self._received.append(
                        Received(
                            at=arrived,
                            channel=str(message.get("channel", "")),
                            topic=str(message.get("topic", "")),
                            kind=str(message.get("kind", "")),
                            data=message.get("data"),
                        )
                    )
