"""A local OpenAI-compatible chat-completions endpoint, and how functions find their model.

The AI items call a model with the real ``openai`` client. By default that model is
:class:`FakeChatModel`, served by the probe on a free port: nothing leaves the machine. It
behaves like a model where it matters to durability:

* its answers are **non-deterministic** (a random choice, or a random reference in free text),
  so a function that calls it twice can tell the two answers apart;
* it **counts its calls** (and keeps what each call asked and answered), so a probe can prove a
  memoized step did not call the model again;
* it supports **tool calls** (when the request offers ``tools``, it calls each offered tool once,
  one per turn, then answers) and **streaming** (``stream: true`` answers as server-sent
  chunks, one word per chunk, ``token_delay_s`` apart).

How it answers, so that a prompt works the same against it and a real model:

* a user message containing ``Answer with one of: a, b, c`` gets exactly one of the options;
* any other prompt gets a short sentence with a random reference (``ref 3f9a2c1d``).

Functions find their model with :func:`model_endpoint`. ``OPENAI_BASE_URL`` (with
``OPENAI_API_KEY``, and optionally ``OPENAI_MODEL``) points them at a real OpenAI-compatible
provider instead; without ``OPENAI_BASE_URL`` they only ever use the fake, whose URL the probe
puts in ``DURABILITY_FAKE_MODEL_URL`` (inherited by app child processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import fastapi
from fastapi.responses import JSONResponse, StreamingResponse

import serve
from harness.host.ports import free_port
from harness.host.validate import EnvCheck, needs_variable, url_variable

BASE_URL_ENV = "OPENAI_BASE_URL"
API_KEY_ENV = "OPENAI_API_KEY"
MODEL_ENV = "OPENAI_MODEL"
FAKE_URL_ENV = "DURABILITY_FAKE_MODEL_URL"
FAKE_MODEL_NAME = "durability-fake-model"
FAKE_API_KEY = "fake-key-for-local-use"
DEFAULT_PROVIDER_MODEL = "gpt-4o-mini"
ENV_CHECKS: tuple[EnvCheck, ...] = (
    url_variable(BASE_URL_ENV),
    needs_variable(
        BASE_URL_ENV, API_KEY_ENV, "a real provider needs both (any key for one without keys)"
    ),
)

_CHOICE = re.compile(r"Answer with one of:\s*([^\n.]+)", re.IGNORECASE)


@dataclass(frozen=True)
class ModelEndpoint:
    """Where functions send chat completions, and whether it is the local fake."""

    base_url: str
    api_key: str
    model: str
    fake: bool


def model_endpoint() -> ModelEndpoint:
    """The model functions should call: a real provider only when ``OPENAI_BASE_URL`` is set."""
    provider = os.environ.get(BASE_URL_ENV)
    if provider:
        return ModelEndpoint(
            base_url=provider,
            api_key=os.environ.get(API_KEY_ENV, ""),
            model=os.environ.get(MODEL_ENV) or DEFAULT_PROVIDER_MODEL,
            fake=False,
        )
    fake = os.environ.get(FAKE_URL_ENV)
    if fake:
        return ModelEndpoint(base_url=fake, api_key=FAKE_API_KEY, model=FAKE_MODEL_NAME, fake=True)
    raise RuntimeError(
        f"no model endpoint: the probe starts a local fake model ({FAKE_URL_ENV}); set "
        f"{BASE_URL_ENV} and {API_KEY_ENV} to use a real provider instead"
    )


@dataclass
class ModelCall:
    """One request the fake model answered."""

    at: float  # wall-clock time the request arrived
    stream: bool
    messages: int
    tools_offered: list[str]
    answer: str | None  # the text answer, or None when it answered with a tool call
    tool_calls: list[str]  # names of the tools it asked for
    authorized: bool  # whether the request carried an API key
    first_token_at: float | None = None  # streaming: when the first chunk was sent
    chunk_times: list[float] = field(default_factory=list)


class FakeChatModel:
    """An OpenAI-compatible ``/v1/chat/completions`` server on a free local port."""

    def __init__(self, *, token_delay_s: float = 0.05, seed: int | None = None) -> None:
        self.token_delay_s = token_delay_s
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._calls: list[ModelCall] = []
        self._server: serve.InProcessServer | None = None
        self.port = 0

    # --- what it saw -----------------------------------------------------------------------------
    @property
    def calls(self) -> list[ModelCall]:
        with self._lock:
            return list(self._calls)

    @property
    def call_count(self) -> int:
        with self._lock:
            return len(self._calls)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._server = serve.InProcessServer(self.app(), self.port)
        self._server.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server:
            server.stop()

    # --- answering -------------------------------------------------------------------------------
    def answer_for(self, body: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
        """The text answer or the tool calls for one request (no side effects)."""
        messages: list[dict[str, Any]] = list(body.get("messages") or [])
        tools = [t for t in body.get("tools") or [] if t.get("type") == "function"]
        called = {
            call["function"]["name"]
            for m in messages
            if m.get("role") == "assistant"
            for call in m.get("tool_calls") or []
        }
        pending = [t["function"] for t in tools if t["function"]["name"] not in called]
        if pending:
            # One tool per turn, in the order offered; every pending tool in one turn (in that
            # order) when the request allows parallel tool calls, as OpenAI's models do.
            asked = pending if body.get("parallel_tool_calls") is True else pending[:1]
            return None, [
                {
                    "id": f"call_{uuid.uuid4().hex[:12]}",
                    "type": "function",
                    "function": {
                        "name": tool["name"],
                        "arguments": json.dumps(self._arguments(tool.get("parameters") or {})),
                    },
                }
                for tool in asked
            ]
        prompt = _last_user_text(messages)
        choice = _CHOICE.search(prompt)
        if choice:
            options = [o.strip() for o in choice.group(1).split(",") if o.strip()]
            if options:
                return self._random.choice(options), []
        ref = f"{self._random.getrandbits(32):08x}"
        results = [m for m in messages if m.get("role") == "tool"]
        if results:
            return f"Done after {len(results)} tool result(s), ref {ref}", []
        return f"Here is a draft answer, ref {ref}", []

    def _arguments(self, schema: dict[str, Any]) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        for name, spec in (schema.get("properties") or {}).items():
            if spec.get("enum"):
                arguments[name] = self._random.choice(spec["enum"])
            elif spec.get("type") == "integer":
                arguments[name] = self._random.randint(1, 100)
            elif spec.get("type") == "number":
                arguments[name] = round(self._random.uniform(0, 100), 2)
            elif spec.get("type") == "boolean":
                arguments[name] = self._random.random() < 0.5
            else:
                arguments[name] = f"{name}-{self._random.getrandbits(16):04x}"
        return arguments

    def app(self) -> fastapi.FastAPI:
        app = fastapi.FastAPI(title="fake OpenAI-compatible model")

        @app.get("/v1/models")
        async def models() -> dict[str, Any]:
            return {"object": "list", "data": [{"id": FAKE_MODEL_NAME, "object": "model"}]}

        @app.post("/v1/chat/completions", response_model=None)
        async def chat_completions(request: fastapi.Request) -> JSONResponse | StreamingResponse:
            try:
                body = await request.json()
            except ValueError:
                return _error(400, "the request body is not JSON")
            if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                return _error(400, "'messages' is required")
            answer, tool_calls = self.answer_for(body)
            call = ModelCall(
                at=time.time(),
                stream=bool(body.get("stream")),
                messages=len(body["messages"]),
                tools_offered=[t["function"]["name"] for t in body.get("tools") or []],
                answer=answer,
                tool_calls=[c["function"]["name"] for c in tool_calls],
                authorized=bool(request.headers.get("authorization")),
            )
            with self._lock:
                self._calls.append(call)
            model = str(body.get("model") or FAKE_MODEL_NAME)
            if call.stream:
                return StreamingResponse(
                    self._chunks(call, model, answer, tool_calls), media_type="text/event-stream"
                )
            return JSONResponse(_completion(model, answer, tool_calls))

        return app

    async def _chunks(
        self, call: ModelCall, model: str, answer: str | None, tool_calls: list[dict[str, Any]]
    ) -> AsyncIterator[str]:
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:16]}"
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            payload = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(payload)}\n\n"

        yield chunk({"role": "assistant", "content": ""})
        if tool_calls:
            deltas = [{**c, "index": n} for n, c in enumerate(tool_calls)]
            yield chunk({"tool_calls": deltas})
            yield chunk({}, "tool_calls")
        else:
            words = (answer or "").split(" ")
            for n, word in enumerate(words):
                now = time.time()
                if call.first_token_at is None:
                    call.first_token_at = now
                call.chunk_times.append(now)
                yield chunk({"content": word if n == 0 else f" {word}"})
                await asyncio.sleep(self.token_delay_s)
            yield chunk({}, "stop")
        yield "data: [DONE]\n\n"


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):  # content parts
                return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _completion(model: str, answer: str | None, tool_calls: list[dict[str, Any]]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": answer}
    if tool_calls:
        message["tool_calls"] = tool_calls
    words = len((answer or "").split())
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:16]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if tool_calls else "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": words, "total_tokens": 10 + words},
    }


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "invalid_request_error"}}, status_code=status
    )


@dataclass
class ModelUnderTest:
    """What a probe's functions call: the endpoint, and the fake behind it when there is one."""

    endpoint: ModelEndpoint
    fake: FakeChatModel | None


@contextlib.contextmanager
def serve_model(*, token_delay_s: float = 0.05) -> Iterator[ModelUnderTest]:
    """The model for one probe: the real provider named by ``OPENAI_BASE_URL``, or a fresh
    :class:`FakeChatModel` on a free port (its URL exported for the app) until the block ends."""
    if os.environ.get(BASE_URL_ENV):
        yield ModelUnderTest(model_endpoint(), None)
        return
    fake = FakeChatModel(token_delay_s=token_delay_s)
    fake.start()
    previous = os.environ.get(FAKE_URL_ENV)
    os.environ[FAKE_URL_ENV] = fake.base_url
    try:
        yield ModelUnderTest(model_endpoint(), fake)
    finally:
        if previous is None:
            os.environ.pop(FAKE_URL_ENV, None)
        else:
            os.environ[FAKE_URL_ENV] = previous
        fake.stop()
