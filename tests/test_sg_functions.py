"""SG function logic under the SDK's mocked executor (inngest.experimental.mocked).

No server: steps run in memory, waits are answered by stubs. What the dev server adds (routing,
correlation, timeouts) is what 04_sg_signals_events.py measures.
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
def sg() -> ModuleType:
    return serve.load_script(ROOT / "04_sg_signals_events.py")


@pytest.fixture
def client() -> mocked.Inngest:
    return mocked.Inngest(
        app_id="test", is_production=False, serializer=inngest.PydanticSerializer()
    )


def event(name: str, **data: object) -> inngest.Event:
    return inngest.Event(name=name, data={"tag": "t", **data})


def executions(name: str) -> int:
    return side_effects.count(effect_key("t", name))


def test_router_sends_both_follow_ups_in_one_step(sg, client) -> None:
    result = mocked.trigger(sg.route_order, event("sg01/order.received", order_id="o1"), client)
    assert result.status is mocked.Status.COMPLETED
    assert len(result.output) == 2  # one event ID per follow-up (zeros from the mocked client)


@pytest.mark.parametrize(
    ("fn_name", "effect", "output"),
    [
        ("issue_invoice", "invoice:o1", "invoice-o1"),
        ("book_shipment", "shipment:o1", "shipment-o1"),
    ],
)
def test_follow_up_functions_do_their_work_once(sg, client, ledger: Path, fn_name, effect, output):
    result = mocked.trigger(getattr(sg, fn_name), event("sg01/x", order_id="o1"), client)
    assert result.output == output
    assert executions(effect) == 1


def hold(**data: object) -> inngest.Event:
    return event("sg01/hold.placed", order_id="o1", wait_s=5, **data)


def test_held_order_resumes_with_its_release(sg, client, ledger: Path) -> None:
    release = inngest.Event(name="sg01/release.signalled", data={"order_id": "o1", "note": "go"})
    result = mocked.trigger(sg.await_release, hold(), client, step_stubs={"await-release": release})
    assert result.output == {"order_id": "o1", "release": "go"}
    # The step before the wait records when it began and when it returned (the scan's clock).
    assert executions("holding:o1") == 1 and executions("held:o1") == 1


def test_held_order_without_release_times_out(sg, client, ledger: Path) -> None:
    result = mocked.trigger(
        sg.await_release, hold(), client, step_stubs={"await-release": mocked.Timeout}
    )
    assert result.output == {"order_id": "o1", "release": None}


def approval(**data: object) -> inngest.Event:
    return event("sg02/approval.requested", request_id="r1", timeout_s=5, **data)


def test_approval_resumes_with_the_decision(sg, client, ledger: Path) -> None:
    decision = inngest.Event(
        name="sg02/approval.decided", data={"request_id": "r1", "decision": "approved"}
    )
    result = mocked.trigger(
        sg.await_approval, approval(), client, step_stubs={"await-decision": decision}
    )
    assert result.output == {"request_id": "r1", "outcome": "approved"}
    # The body runs again on every request; the step inside it ran once.
    assert executions("notifying:r1") == 1
    assert executions("request:r1") >= 3


def test_approval_without_decision_times_out(sg, client, ledger: Path) -> None:
    result = mocked.trigger(
        sg.await_approval, approval(), client, step_stubs={"await-decision": mocked.Timeout}
    )
    assert result.output == {"request_id": "r1", "outcome": "timed out"}


def test_approval_wait_matches_on_the_request_id(sg) -> None:
    import inspect

    source = inspect.getsource(sg.await_approval._handler)
    assert 'if_exp="async.data.request_id == event.data.request_id"' in source


def test_trigger_configuration(sg) -> None:
    assert [t.event for t in sg.revoke_sessions._triggers] == [
        "sg03/user.deleted",
        "sg03/user.suspended",
    ]
    (large,) = sg.review_large_order._triggers
    assert large.expression == "event.data.amount >= 1000"
    (audit,) = sg.audit_log._triggers
    assert audit.event == "sg03/audit.*"


def test_fulfilment_publishes_each_stage(sg, client, ledger: Path) -> None:
    result = mocked.trigger(
        sg.fulfil_order,
        event("sg04/fulfilment.requested", order_id="o1", handover_s=1),
        client,
    )
    assert result.output == {"order_id": "o1", "stage": "shipped"}
    assert sg.status_board().read("o1") == "shipped"
    assert [executions(f"stage:{s}") for s in sg.STAGES] == [1, 1, 1]


def test_status_board_never_goes_back(sg, ledger: Path) -> None:
    board = sg.status_board()
    board.publish("o2", 2, "packed", "run")
    board.publish("o2", 1, "picked", "run")  # a late retry of an earlier stage
    assert board.read("o2") == "packed"
    assert board.read("unknown") is None


def test_the_sdk_has_no_query_api(sg) -> None:
    assert sg._query_surface() == []  # the SG-04 check flips if a future SDK adds one
