"""The local fake model, driven by the real openai client: answers, counting, tools, streaming."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import openai
import pytest

from harness.probing import fake_model
from harness.probing.fake_model import (
    BASE_URL_ENV,
    FAKE_URL_ENV,
    FakeChatModel,
    model_endpoint,
    serve_model,
)

TOOLS: list[dict[str, object]] = [
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "parameters": {
                "type": "object",
                "properties": {"order_id": {"type": "string"}, "count": {"type": "integer"}},
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "refund_policy",
            "parameters": {
                "type": "object",
                "properties": {"category": {"type": "string", "enum": ["food", "clothing"]}},
            },
        },
    },
]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeChatModel]:
    model = FakeChatModel(token_delay_s=0.01, seed=7)
    model.start()
    yield model
    model.stop()


@pytest.fixture
def client(fake: FakeChatModel) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake.base_url, api_key="test", max_retries=0)


def ask(client: openai.OpenAI, prompt: str, **extra: object) -> str:
    completion = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": prompt}], **extra
    )
    return completion.choices[0].message.content or ""


def test_free_text_answers_differ_and_every_call_is_counted(fake, client) -> None:
    before = fake.call_count
    answers = {ask(client, "Write a haiku") for _ in range(5)}
    assert len(answers) == 5  # a random reference in each
    assert fake.call_count == before + 5
    assert all(call.authorized for call in fake.calls[-5:])


def test_a_choice_prompt_gets_one_of_its_options_at_random(client) -> None:
    prompt = "Refund? Answer with one of: approve, reject, escalate."
    answers = [ask(client, prompt) for _ in range(30)]
    assert set(answers) <= {"approve", "reject", "escalate"}
    assert len(set(answers)) > 1


def test_tools_are_called_one_per_turn_then_it_answers(fake, client) -> None:
    messages: list[dict[str, object]] = [{"role": "user", "content": "Help with my order"}]
    called = []
    for _ in range(3):
        reply = client.chat.completions.create(
            model="m",
            messages=messages,  # type: ignore[arg-type]
            tools=TOOLS,  # type: ignore[arg-type]
        )
        message = reply.choices[0].message
        if not message.tool_calls:
            assert reply.choices[0].finish_reason == "stop"
            assert "2 tool result(s)" in (message.content or "")
            break
        (call,) = message.tool_calls
        arguments = json.loads(call.function.arguments)  # type: ignore[union-attr]
        called.append((call.function.name, arguments))  # type: ignore[union-attr]
        messages.append(message.model_dump(exclude_none=True))
        messages.append({"role": "tool", "tool_call_id": call.id, "content": "{}"})
    assert [name for name, _ in called] == ["lookup_order", "refund_policy"]
    assert isinstance(called[0][1]["order_id"], str) and isinstance(called[0][1]["count"], int)
    assert called[1][1]["category"] in ("food", "clothing")
    assert fake.calls[-1].tools_offered == ["lookup_order", "refund_policy"]


def test_parallel_tool_calls_ask_for_every_pending_tool_in_one_turn(fake, client) -> None:
    reply = client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "Help with my order"}],
        tools=TOOLS,  # type: ignore[arg-type]
        parallel_tool_calls=True,
    )
    calls = reply.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["lookup_order", "refund_policy"]  # type: ignore[union-attr]
    assert len({c.id for c in calls}) == 2


def test_streaming_sends_the_answer_word_by_word(fake, client) -> None:
    stream = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "Explain"}], stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    call = fake.calls[-1]
    assert call.stream and text == call.answer
    assert call.first_token_at is not None and len(call.chunk_times) == len(text.split(" "))


def test_a_request_without_messages_is_a_400(fake) -> None:
    response = httpx.post(f"{fake.base_url}/chat/completions", json={"model": "m"})
    assert response.status_code == 400
    assert "messages" in response.json()["error"]["message"]


def test_endpoint_is_the_fake_unless_a_provider_url_is_set(monkeypatch) -> None:
    monkeypatch.delenv(BASE_URL_ENV, raising=False)
    monkeypatch.delenv(FAKE_URL_ENV, raising=False)
    with pytest.raises(RuntimeError, match=BASE_URL_ENV):
        model_endpoint()
    monkeypatch.setenv(FAKE_URL_ENV, "http://127.0.0.1:9/v1")
    assert model_endpoint().fake and model_endpoint().base_url == "http://127.0.0.1:9/v1"
    monkeypatch.setenv(BASE_URL_ENV, "https://provider.test/v1")
    monkeypatch.setenv(fake_model.API_KEY_ENV, "sk-test")
    endpoint = model_endpoint()
    assert not endpoint.fake and endpoint.api_key == "sk-test"
    assert endpoint.model == fake_model.DEFAULT_PROVIDER_MODEL


def test_serve_model_starts_a_fake_and_cleans_up(monkeypatch) -> None:
    monkeypatch.delenv(BASE_URL_ENV, raising=False)
    monkeypatch.delenv(FAKE_URL_ENV, raising=False)
    with serve_model() as model:
        assert model.fake is not None and model.endpoint.fake
        assert model.endpoint.base_url == model.fake.base_url
        assert httpx.get(f"{model.fake.base_url}/models").status_code == 200
    assert FAKE_URL_ENV not in __import__("os").environ
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{model.fake.base_url}/models", timeout=2)


def test_serve_model_uses_the_provider_when_one_is_named(monkeypatch) -> None:
    monkeypatch.setenv(BASE_URL_ENV, "https://provider.test/v1")
    with serve_model() as model:
        assert model.fake is None and not model.endpoint.fake
