"""patterns.agent_loop under the mocked executor, with a scripted model instead of a real one."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any, cast

import inngest
from inngest.experimental import mocked

from patterns.agent_loop import AgentGaveUp, Message, run_agent

client = mocked.Inngest(app_id="agent-test", is_production=False)


def asks_for(name: str, call_id: str, **arguments: Any) -> Message:
    call = {"id": call_id, "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)}}  # fmt: skip
    return {"role": "assistant", "content": None, "tool_calls": [call]}


def agent(replies: list[Message], tool_failures: int = 0, max_turns: int = 4) -> Any:
    """A function whose model answers ``replies`` in turn; the order tool fails
    ``tool_failures`` times before it answers. Returns (function, calls made)."""
    calls: dict[str, int] = {"model": 0, "tool": 0}

    async def call_model(messages: list[Message]) -> Message:
        calls["model"] += 1
        turn = sum(m["role"] == "assistant" for m in messages)
        return replies[min(turn, len(replies) - 1)]

    async def lookup_order(arguments: dict[str, Any]) -> dict[str, str]:
        calls["tool"] += 1
        if calls["tool"] <= tool_failures:
            raise ConnectionError("order service unavailable")
        return {"order_id": arguments["order_id"], "status": "shipped"}

    @client.create_function(
        fn_id=f"agent-{len(replies)}-{tool_failures}-{max_turns}",
        trigger=inngest.TriggerEvent(event="t/ask"),
        retries=1,
    )
    async def support(ctx: inngest.Context) -> dict[str, Any]:
        messages: list[Message] = [{"role": "user", "content": "Where is order 7?"}]
        done = await run_agent(
            ctx, call_model, {"lookup_order": lookup_order}, messages, max_turns=max_turns
        )
        return {"answer": done.answer, "turns": done.turns, "tools": done.tools_used}

    return support, calls


def test_each_model_and_tool_call_is_a_step_made_once() -> None:
    fn, calls = agent(
        [asks_for("lookup_order", "c1", order_id="7"), {"role": "assistant", "content": "Shipped."}]
    )
    result = mocked.trigger(fn, inngest.Event(name="t/ask"), client)
    assert result.output == {"answer": "Shipped.", "turns": 2, "tools": ["lookup_order"]}
    assert calls == {"model": 2, "tool": 1}  # memoized: no call repeats on re-entry


def test_memoized_turns_are_not_called_again() -> None:
    fn, calls = agent(
        [asks_for("lookup_order", "c1", order_id="7"), {"role": "assistant", "content": "Shipped."}]
    )
    stubs = {
        "model-turn-0": asks_for("lookup_order", "c1", order_id="7"),
        "tool-lookup_order-c1": {"order_id": "7", "status": "shipped"},
    }
    result = mocked.trigger(fn, inngest.Event(name="t/ask"), client, step_stubs=stubs)
    assert result.output["answer"] == "Shipped."
    assert calls == {"model": 1, "tool": 0}  # as after a crash: only the last turn runs


class ServerLikeSteps:
    """``ctx.step`` as the dev server behaves once a step has failed on every retry: the
    function gets ``inngest.StepError`` (the mocked executor ends the run instead)."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    async def run(self, step_id: str, handler: Any, *args: Any) -> Any:
        self.ids.append(step_id)
        try:
            return await handler(*args)
        except Exception as exc:
            raise inngest.StepError(str(exc), type(exc).__name__, None) from exc


def test_a_tool_failing_every_retry_goes_back_to_the_model() -> None:
    steps = ServerLikeSteps()
    ctx = cast(inngest.Context, SimpleNamespace(step=steps))

    async def call_model(messages: list[Message]) -> Message:
        if any(m["role"] == "tool" for m in messages):
            return {"role": "assistant", "content": "The order service is down."}
        return asks_for("lookup_order", "c1", order_id="7")

    async def lookup_order(arguments: dict[str, Any]) -> Any:
        raise ConnectionError("order service unavailable")

    messages: list[Message] = [{"role": "user", "content": "Where is order 7?"}]
    done = asyncio.run(
        run_agent(ctx, call_model, {"lookup_order": lookup_order}, messages, max_turns=3)
    )
    assert done.answer == "The order service is down." and done.turns == 2
    assert steps.ids == ["model-turn-0", "tool-lookup_order-c1", "model-turn-1"]
    tool_message = next(m for m in messages if m["role"] == "tool")
    assert "order service unavailable" in json.loads(tool_message["content"])["error"]


def test_an_unknown_tool_is_reported_to_the_model() -> None:
    fn, calls = agent(
        [asks_for("delete_everything", "c1"), {"role": "assistant", "content": "No."}]
    )
    result = mocked.trigger(fn, inngest.Event(name="t/ask"), client)
    assert result.output["answer"] == "No." and calls["tool"] == 0


def test_a_model_that_never_answers_gives_up_for_good() -> None:
    fn, _ = agent([asks_for("lookup_order", "c1", order_id="7")], max_turns=2)
    result = mocked.trigger(fn, inngest.Event(name="t/ask"), client)
    assert isinstance(result.error, AgentGaveUp)
    assert "2 model turns" in str(result.error)
