"""harness.faults.proxy against a local HTTP server: pass-through, slow, reset, blackhole."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from harness.faults.proxy import FaultProxy, Mode
from harness.host.ports import free_port


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[tuple[FaultProxy, str]]:
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    proxy = FaultProxy(free_port(), upstream.server_address[1])
    proxy.start()
    yield proxy, f"http://127.0.0.1:{proxy.listen_port}/"
    proxy.stop()
    upstream.shutdown()


def test_normal_passes_bytes_through(proxy: tuple[FaultProxy, str]) -> None:
    _, url = proxy
    assert httpx.get(url, timeout=5).text == "hello"


def test_slow_delays_each_chunk(proxy: tuple[FaultProxy, str]) -> None:
    fault, url = proxy
    fault.set_mode(Mode.SLOW, delay_ms=300)
    began = time.monotonic()
    assert httpx.get(url, timeout=5).text == "hello"
    assert time.monotonic() - began >= 0.5  # the request and the answer waited once each


def test_reset_refuses_and_normal_heals(proxy: tuple[FaultProxy, str]) -> None:
    fault, url = proxy
    fault.set_mode(Mode.RESET)
    with pytest.raises(httpx.TransportError):
        httpx.get(url, timeout=5)
    fault.set_mode(Mode.NORMAL)
    assert httpx.get(url, timeout=5).text == "hello"


def test_blackhole_answers_nothing_until_it_ends(proxy: tuple[FaultProxy, str]) -> None:
    fault, url = proxy
    fault.set_mode(Mode.BLACKHOLE)
    with pytest.raises(httpx.TimeoutException):
        httpx.get(url, timeout=0.5)
    fault.set_mode(Mode.NORMAL)
    assert httpx.get(url, timeout=5).text == "hello"
