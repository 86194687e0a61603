"""AI function logic with the SDK's mocked executor and the local fake model (no dev server).

The functions call the fake through the real openai client, exactly as in the probes; what the
dev server adds (JSON state, retries across requests, realtime) is left to the probes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import inngest
import pytest
from inngest.experimental import mocked
from inngest.experimental.mocked.errors import UnstubbedStepError

import serve
from conftest import ROOT
from harness.probing.fake_model import BASE_URL_ENV, FakeChatModel, ModelUnderTest, serve_model
from harness.probing.ledger import effect_key, side_effects


@pytest.fixture(scope="module")
def ai() -> ModuleType:
    return serve.load_script(ROOT / "11_ai_agent_integration.py")


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeChatModel]:
    monkeypatch.delenv(BASE_URL_ENV, raising=False)  # never a real provider in tests
    with serve_model(token_delay_s=0.0) as served:
        assert isinstance(served, ModelUnderTest) and served.fake is not None
        yield served.fake


@pytest.fixture
def client() -> mocked.Inngest:
    return mocked.Inngest(
        app_id="test", is_production=False, serializer=inngest.PydanticSerializer()
    )


def event(name: str, **data: object) -> inngest.Event:
    return inngest.Event(name=name, data={"tag": "t", **data})


def count(name: str) -> int:
    return side_effects.count(effect_key("t", name))


def values(name: str) -> list[object]:
    return side_effects.values(effect_key("t", name))


def test_the_drafted_answer_is_posted_after_two_timeouts(ai, model, client, ledger: Path) -> None:
    result = mocked.trigger(
        ai.answer_ticket, event("x", ticket_id="T1", question="Where is it?"), client
    )
    assert result.status is mocked.Status.COMPLETED
    answer = result.output["answer"]
    assert answer == model.calls[-1].answer and model.call_count == 1
    assert values("post-answer") == [answer] * 3  # every retry posted the one answer
    assert count("model-call") == 1


def test_infer_needs_a_stub_in_the_mocked_executor(ai, model, client, ledger: Path) -> None:
    ticket = event("x", ticket_id="T1", question="Where is it?")
    with pytest.raises(UnstubbedStepError):
        mocked.trigger(ai.answer_ticket_with_infer, ticket, client)
    completion = {
        "id": "c1", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "stubbed answer"}}],
    }  # fmt: skip
    result = mocked.trigger(
        ai.answer_ticket_with_infer, ticket, client, step_stubs={"draft-answer": completion}
    )
    assert result.output["answer"] == "stubbed answer"
    assert model.call_count == 0  # step.ai.infer never calls from the app


def test_the_branch_follows_the_one_memoized_decision(ai, model, client, ledger: Path) -> None:
    result = mocked.trigger(ai.triage_refund, event("x", request_id="R1", reason="broken"), client)
    assert result.status is mocked.Status.COMPLETED
    decision = result.output["decision"]
    assert decision in ai.DECISIONS and model.call_count == 1
    seen = values("body-saw:R1")
    assert len(seen) >= 3 and set(seen) == {decision}
    assert values("branch:R1") == [decision]


@pytest.mark.parametrize(
    ("answer", "decision"),
    [("approve", "approve"), (" Reject.", "reject"), ("ESCALATE!", "escalate"),
     ("I would approve it", "escalate"), ("", "escalate")],
)  # fmt: skip
def test_unexpected_model_answers_go_to_a_human(ai, answer: str, decision: str) -> None:
    assert ai.parse_decision(answer) == decision


@pytest.mark.parametrize(
    ("review", "outcome"),
    [
        ({"approved": True}, "sent"),
        ({"approved": False, "note": "too long"}, "discarded: too long"),
        (None, "escalated: no review in time"),
    ],
)
def test_each_review_path(ai, model, client, ledger: Path, review, outcome: str) -> None:
    stub = (
        mocked.Timeout
        if review is None
        else inngest.Event(name="ai03/draft.reviewed", data={"draft_id": "D1", **review})
    )
    result = mocked.trigger(
        ai.reply_with_approval,
        event("x", draft_id="D1"),
        client,
        step_stubs={"await-review": stub},
    )
    assert result.output == {"draft": model.calls[-1].answer, "outcome": outcome}
    assert count("model-call:D1") == 1


def test_the_agent_calls_each_tool_as_a_step_then_answers(ai, model, client, ledger: Path) -> None:
    result = mocked.trigger(ai.support_agent, event("x", question="Order 1042?"), client)
    assert result.status is mocked.Status.COMPLETED
    assert result.output["tools_used"] == ["lookup_order", "refund_policy"]
    assert result.output["turns"] == 3 and model.call_count == 3 == count("model-call")
    assert model.calls[0].tools_offered == ["lookup_order", "refund_policy"]
    assert count("tool:lookup_order") == count("tool:refund_policy") == 1


def test_a_flaky_tool_is_retried_without_calling_the_model_again(
    ai, model, client, ledger: Path
) -> None:
    question = event("x", question="Order 1042?", lookup_outage_attempts=2)
    result = mocked.trigger(ai.support_agent, question, client)
    assert result.status is mocked.Status.COMPLETED
    assert count("tool:lookup_order") == 3
    assert model.call_count == 3  # one per turn, none for the retries


def test_both_tools_in_one_turn_the_completed_one_is_not_rerun_while_the_other_retries(
    ai, model, client, ledger: Path
) -> None:
    """AI-06's scenario: lookup_order completes, then refund_policy (same turn) fails twice."""
    question = event("x", question="Order 1042?", policy_outage_attempts=2, all_tools_at_once=True)
    result = mocked.trigger(ai.support_agent, question, client)
    assert result.status is mocked.Status.COMPLETED
    assert ai._first_tool_turn(result.output) == ["lookup_order", "refund_policy"]
    assert model.calls[0].tool_calls == ["lookup_order", "refund_policy"]
    assert count("tool:lookup_order") == 1 and count("tool:refund_policy") == 3
    assert model.call_count == 2  # one tool turn, one answer; none for the retries


def test_one_tool_per_turn_is_not_taken_for_one_turn(ai) -> None:
    assert ai._first_tool_turn({"turns": 3, "tools_used": ["lookup_order", "refund_policy"]}) == []


def test_mocked_executor_fails_the_run_where_the_dev_server_raises_step_error(
    ai, model, client, ledger: Path
) -> None:
    """On the dev server a step that fails for good reaches the function as StepError, which
    the agent turns into a message to the model (AI-06). The mocked executor ends the run."""
    question = event("x", question="Can I return it?", policy_service_down=True)
    result = mocked.trigger(ai.support_agent, question, client)
    assert result.status is mocked.Status.FAILED
    assert "policy service unavailable" in str(result.error)


def test_completion_text_reads_an_openai_response(ai) -> None:
    response = {
        "id": "c", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "hi"}}],
    }  # fmt: skip
    assert ai.completion_text(response) == "hi"
