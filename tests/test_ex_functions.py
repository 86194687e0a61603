"""EX function logic under the SDK's mocked executor (inngest.experimental.mocked).

No server is involved: steps are memoized in memory as Python objects. These tests pin down what
each function does on its own, so that what the dev server adds (or changes) stands out.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import inngest
import pytest
from inngest.experimental import mocked

import serve
from conftest import ROOT
from harness.probing.ledger import effect_key, side_effects


@pytest.fixture(scope="module")
def ex() -> ModuleType:
    return serve.load_script(ROOT / "01_ex_execution_semantics.py")


@pytest.fixture
def client() -> mocked.Inngest:
    return mocked.Inngest(
        app_id="test", is_production=False, serializer=inngest.PydanticSerializer()
    )


def event(name: str, **data: object) -> inngest.Event:
    return inngest.Event(name=name, data={"tag": "t", **data})


def executions(name: str) -> int:
    return side_effects.count(effect_key("t", name))


def test_order_pipeline_runs_each_step_once(ex, client, ledger: Path) -> None:
    result = mocked.trigger(
        ex.order_pipeline,
        event("ex01/order.placed", order_id="o1", first_call_latency_s=0),
        client,
    )
    assert result.status is mocked.Status.COMPLETED
    assert result.output == {
        "reservation": "reservation-o1",
        "charge": "charge-o1",
        "receipt": "receipt-o1",
    }
    assert [executions(s) for s in ("reserve-inventory", "charge-card", "send-receipt")] == [
        1,
        1,
        1,
    ]


def test_payment_flow_retries_only_the_failing_step(ex, client, ledger: Path) -> None:
    result = mocked.trigger(
        ex.payment_flow, event("ex02/payment.requested", payment_id="p1"), client
    )
    assert result.status is mocked.Status.COMPLETED
    assert executions("charge") == 1
    assert executions("write-ledger") == 3  # fails twice, then succeeds
    keys = side_effects.values(effect_key("t", "write-ledger"))
    assert len(set(keys)) == 1  # the idempotency key is the same on every attempt
    assert result.output == {"charge": "ch-p1", "ledger_key": keys[0]}


def test_payment_flow_fails_when_retries_run_out(ex, client, ledger: Path) -> None:
    # Two retries are needed; with none allowed the step error ends the run.
    no_retries = inngest.Function(
        ex.payment_flow._opts.model_copy(update={"retries": 1}),
        ex.payment_flow._triggers,
        ex.payment_flow._handler,
    )
    result = mocked.trigger(no_retries, event("ex02/payment.requested", payment_id="p2"), client)
    assert result.status is mocked.Status.FAILED
    assert executions("notify") == 0


@pytest.mark.parametrize("fn_name", ["fulfil_order", "fulfil_once_per_order"])
def test_fulfilment_ships_the_order(ex, client, ledger: Path, fn_name: str) -> None:
    result = mocked.trigger(getattr(ex, fn_name), event("ex03/x", order_id="o9"), client)
    assert result.output == "shipment-o9"
    assert executions("ship:o9") == 1


def test_idempotency_key_expression_is_declared(ex) -> None:
    assert ex.fulfil_once_per_order._opts.idempotency == "event.data.order_id"
    assert ex.fulfil_order._opts.idempotency is None


def test_publish_draft_hands_the_draft_to_publish(ex, client, ledger: Path) -> None:
    result = mocked.trigger(ex.publish_draft, event("ex04/draft.requested", review_s=1), client)
    assert result.status is mocked.Status.COMPLETED
    (draft,) = side_effects.values(effect_key("t", "create-draft"))
    assert result.output["published"] == result.output["draft_id"] == draft["draft_id"]


def test_token_issuer_memoizes_the_random_token(ex, client, ledger: Path) -> None:
    result = mocked.trigger(ex.token_issuer, event("ex05/token.requested"), client)
    assert result.output["token"] == result.output["stored"]
    assert executions("issue-token") == 1
    nonces = side_effects.values(effect_key("t", "body"))
    assert len(nonces) >= 3 and len(set(nonces)) == len(nonces)  # body re-ran per request


def test_onboarding_versions_differ_only_in_steps(ex, client, ledger: Path) -> None:
    assert ex.onboarding_v1.id == ex.onboarding_v2.id  # same function ID: a deploy, not a new fn
    v1 = mocked.trigger(ex.onboarding_v1, event("ex06/user.signed_up", trial_s=1), client)
    v2 = mocked.trigger(ex.onboarding_v2, event("ex06/user.signed_up", trial_s=1), client)
    assert v1.output == {"profile": "profile-v1", "plan": "plan-v1", "team": "team-v1"}
    assert v2.output == {"profile": "profile-v2", "plan": "plan-v2", "team": "team-v2"}


def test_round_trip_is_identical_without_json_in_between(ex, client) -> None:
    """In memory every case round-trips, so the differences seen with the dev server come
    from the trip through Inngest's JSON state, not from the function or the comparison."""
    result = mocked.trigger(ex.round_trip, event("ex07/round-trip.requested"), client)
    assert result.status is mocked.Status.COMPLETED
    assert {name: case["identical"] for name, case in result.output.items()} == {
        name: True for name in [*ex.ROUND_TRIP_CASES, "pydantic-model"]
    }


def test_comparison_tells_types_apart(ex) -> None:
    assert ex._compare(1, 1)["identical"]
    assert not ex._compare(0, -0.0)["identical"]
    assert not ex._compare(1.0, 1)["identical"]
    assert not ex._compare([2**53], [2**53 + 1])["identical"]
    assert ex._compare({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]})["identical"]
    assert ex._compare([1, 2], (1, 2))["identical"] is False
    assert "$.a[1]" in ex._compare({"a": [1, 3]}, {"a": [1, 2]})["differences"][0]
