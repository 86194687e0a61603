"""A TCP proxy between the Inngest server and the app that misbehaves on command.

The server calls the app through it (the app is synced under the proxy's URL). Modes:

* ``normal``: bytes pass through.
* ``slow``: every chunk, either way, waits ``delay_ms`` first (a slow app or network).
* ``reset``: open connections are reset and new ones are reset on accept (the app's host
  refusing or dropping connections).
* ``blackhole``: connections are accepted and nothing is forwarded or answered; when the mode
  ends they are reset (a partition the server only learns about from its own timeouts).

It runs an asyncio loop on a thread of its own; :meth:`set_mode` may be called from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from dataclasses import dataclass, field
from enum import StrEnum


class Mode(StrEnum):
    NORMAL = "normal"
    SLOW = "slow"
    RESET = "reset"
    BLACKHOLE = "blackhole"


@dataclass(eq=False)  # identity: links live in a set
class _Link:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (linger 0), not a FIN: the peer sees a reset connection."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    def __init__(self, listen_port: int, upstream_port: int, host: str = "127.0.0.1") -> None:
        self.listen_port = listen_port
        self.upstream_port = upstream_port
        self.host = host
        self.mode = Mode.NORMAL
        self.delay_s = 0.0
        self.connections = 0  # accepted, for the campaign's figures
        self._links: set[_Link] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy")
        self._thread.daemon = True
        self._server: asyncio.Server | None = None
        self._resumed = asyncio.Event()

    # --- control, from any thread ------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        future.result(timeout=10)

    def set_mode(self, mode: Mode, *, delay_ms: int = 0) -> None:
        future = asyncio.run_coroutine_threadsafe(self._apply(mode, delay_ms), self._loop)
        future.result(timeout=10)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    # --- the loop's side ---------------------------------------------------------------------
    async def _listen(self) -> None:
        self._resumed.set()
        self._server = await asyncio.start_server(self._accept, self.host, self.listen_port)

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            self._drop(link)

    async def _apply(self, mode: Mode, delay_ms: int) -> None:
        was = self.mode
        self.mode, self.delay_s = mode, delay_ms / 1000
        if mode is Mode.RESET or (was is Mode.BLACKHOLE and mode is not Mode.BLACKHOLE):
            for link in list(self._links):
                self._drop(link)
        if mode is Mode.BLACKHOLE:
            self._resumed.clear()
        else:
            self._resumed.set()

    def _drop(self, link: _Link) -> None:
        for task in link.tasks:
            task.cancel()
        _reset(link.client)
        if link.upstream is not None:
            _reset(link.upstream)
        self._links.discard(link)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        link = _Link(writer)
        if self.mode is Mode.RESET:
            _reset(writer)
            return
        self._links.add(link)
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.upstream_port)
        except OSError:
            self._drop(link)  # the app is down: the server sees a reset, as it would
            return
        link.upstream = up_writer
        link.tasks = [
            asyncio.ensure_future(self._pump(reader, up_writer)),
            asyncio.ensure_future(self._pump(up_reader, writer)),
        ]
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*link.tasks, return_exceptions=True)
        if link in self._links:
            self._links.discard(link)
            for w in (writer, up_writer):
                with contextlib.suppress(Exception):
                    w.close()

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(65536):
                await self._resumed.wait()  # a blackhole holds every byte
                if self.mode is Mode.SLOW and self.delay_s:
                    await asyncio.sleep(self.delay_s)
                sink.write(chunk)
                await sink.drain()
            if sink.can_write_eof():
                sink.write_eof()
        except (ConnectionError, OSError):
            pass
