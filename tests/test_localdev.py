"""Scratch apps, the polling dev server's flags, sync verdicts, and the realtime subscriber."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import fastapi
import pytest
from fastapi.responses import PlainTextResponse, StreamingResponse

import serve
from harness.errors import ProbeTimeout
from harness.probing.realtime import Subscriber
from harness.servers.devserver import _Ports, free_port
from harness.servers.localdev import PollingDevServer, ScratchApp, SyncVerdict

TINY_APP = """\
from fastapi import FastAPI

app = FastAPI()


@app.get("/api/inngest")
def ok() -> dict[str, str]:
    return {"version": "{version}"}
"""


def test_scratch_app_serves_its_source_and_restarts_with_new_source(tmp_path: Path) -> None:
    import httpx

    app = ScratchApp(tmp_path, free_port(), "http://127.0.0.1:1")
    try:
        assert app.start(TINY_APP.replace("{version}", "one"), timeout=30) > 0
        assert httpx.get(app.url).json() == {"version": "one"}
        app.start(TINY_APP.replace("{version}", "two"), timeout=30)
        assert httpx.get(app.url).json() == {"version": "two"}
    finally:
        app.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(app.url, timeout=2)


def test_scratch_app_that_cannot_start_says_why(tmp_path: Path) -> None:
    app = ScratchApp(tmp_path, free_port(), "http://127.0.0.1:1")
    with pytest.raises(RuntimeError, match="exited at start-up") as error:
        app.start("raise SystemExit('broken on purpose')\n", timeout=30)
    assert "broken on purpose" in str(error.value)


def test_polling_dev_server_polls_instead_of_no_poll(tmp_path: Path) -> None:
    server = PollingDevServer(
        "http://127.0.0.1:1",
        "unknown",
        "test",
        launcher=["inngest"],
        serve_url="http://127.0.0.1:2/api/inngest",
        workdir=tmp_path,
        ports=_Ports.allocate(),
        poll_interval_s=1,
    )
    flags = server.flags()
    assert "--no-poll" not in flags
    assert flags[flags.index("--poll-interval") + 1] == "1"
    assert flags[flags.index("-u") + 1] == "http://127.0.0.1:2/api/inngest"


def test_sync_verdict_lists_every_message_once() -> None:
    verdict = SyncVerdict(200, "generic", "the cron is invalid", {}, ["WARN cron"], None)
    assert verdict.messages == ["the cron is invalid", "generic", "WARN cron"]
    assert SyncVerdict(None, "", None, {}, serve_error="SDK refused").messages == ["SDK refused"]


# --- realtime: a stand-in for the dev server's SSE endpoint ---------------------------------------
def sse_app(messages: list[dict[str, object]]) -> fastapi.FastAPI:
    app = fastapi.FastAPI()

    @app.get("/v1/realtime/sse", response_model=None)
    async def sse(token: str) -> StreamingResponse | PlainTextResponse:
        if token != "good":
            return PlainTextResponse("Not authenticated", status_code=401)

        async def events() -> AsyncIterator[str]:
            yield ":\n\n"  # keep-alive
            for message in messages:
                await asyncio.sleep(0.05)
                yield f"data: {json.dumps(message)}\n\n"
            await asyncio.sleep(30)  # stays open, like the dev server's stream

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


@pytest.fixture
def sse_server() -> Iterator[str]:
    messages = [
        {"kind": "data", "channel": "c", "topic": "tokens", "data": {"index": n, "done": n == 2}}
        for n in range(3)
    ]
    port = free_port()
    server = serve.InProcessServer(sse_app(messages), port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_subscriber_timestamps_messages_and_stops_when_told(sse_server: str) -> None:
    def done(received: list) -> bool:
        return any(m.data.get("done") for m in received)

    subscriber = Subscriber(sse_server, "good", until=done)
    started = time.time()
    subscriber.start(timeout=10)
    assert subscriber.wait_for(done, timeout=10)
    subscriber.stop()
    received = subscriber.received
    assert [m.data["index"] for m in received] == [0, 1, 2]
    assert all(m.topic == "tokens" and m.channel == "c" and m.at >= started for m in received)
    assert subscriber.error is None


def test_subscriber_rejected_by_the_server_says_why(sse_server: str) -> None:
    subscriber = Subscriber(sse_server, "bad")
    with pytest.raises(ProbeTimeout, match="HTTP 401"):
        subscriber.start(timeout=5)


def test_a_scratch_app_for_a_production_server_is_configured_by_environment(
    tmp_path: Path,
) -> None:
    from harness.servers.localdev import ScratchApp
    from serve import ProductionKeys

    dev = ScratchApp(tmp_path, 1, "http://127.0.0.1:9").environment()
    assert dev["INNGEST_DEV"] == "http://127.0.0.1:9"
    keys = ProductionKeys(signing_key="ab" * 32, event_key="ek")
    production = ScratchApp(tmp_path, 1, "http://127.0.0.1:9", keys).environment()
    assert "INNGEST_DEV" not in production
    assert production["INNGEST_BASE_URL"] == "http://127.0.0.1:9"
    assert production["INNGEST_SIGNING_KEY"] == "ab" * 32
    assert production["INNGEST_EVENT_KEY"] == "ek"
