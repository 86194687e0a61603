"""CP function logic under the SDK's mocked executor (inngest.experimental.mocked).

No server is involved. The mocked executor fails a run when a step keeps failing instead of
handing the function a StepError, so a step that failed for good is stubbed with a memoized
error, which is what the dev server hands back.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import ModuleType, SimpleNamespace

import inngest
import pytest
from inngest.experimental import mocked

import serve
from conftest import ROOT
from harness.probing.ledger import effect_key, side_effects


@pytest.fixture(scope="module")
def cp() -> ModuleType:
    return serve.load_script(ROOT / "06_cp_compensation.py")


@pytest.fixture
def client() -> mocked.Inngest:
    return mocked.Inngest(
        app_id="test", is_production=False, serializer=inngest.PydanticSerializer()
    )


def event(name: str, **data: object) -> inngest.Event:
    return inngest.Event(name=name, data={"tag": "t", **data})


def executions(name: str) -> int:
    return side_effects.count(effect_key("t", name))


def values(name: str) -> list[object]:
    return side_effects.values(effect_key("t", name))


SOLD_OUT = {"error": {"name": "SoldOut", "message": "no car available", "stack": None}}


# --- CP-01 -------------------------------------------------------------------------------------
def test_trip_is_rolled_back_newest_first_when_the_car_fails(cp, client, ledger: Path) -> None:
    trip = event("cp01/x", trip_id="T", sold_out=["car"], flaky_release="hotel")
    result = mocked.trigger(cp.book_trip, trip, client, step_stubs={"reserve-car": SOLD_OUT})
    assert result.status is mocked.Status.FAILED
    assert isinstance(result.error, inngest.NonRetriableError)
    assert "trip T rolled back: no car available" in str(result.error)
    assert values("timeline") == [
        "reserve flight",
        "reserve hotel",
        "release hotel",
        "release flight",
    ]
    assert executions("hotel:release-attempt") == 2  # failed once, retried
    assert (executions("hotel:released"), executions("flight:released")) == (1, 1)
    assert values("hotel:released") == ["hotel-T"]  # released by reservation ID


def test_trip_with_everything_available_is_booked(cp, client, ledger: Path) -> None:
    trip = event("cp01/x", trip_id="U", sold_out=[], flaky_release="hotel")
    result = mocked.trigger(cp.book_trip, trip, client)
    assert result.output == {"flight": "flight-U", "hotel": "hotel-U", "car": "car-U"}
    assert executions("hotel:release-attempt") == 0


# --- CP-02 -------------------------------------------------------------------------------------
def test_fulfilment_retries_only_the_failed_step(cp, client, ledger: Path) -> None:
    result = mocked.trigger(
        cp.fulfil_order, event("cp02/x", order_id="O", carrier_down="once"), client
    )
    assert result.status is mocked.Status.COMPLETED
    assert [executions(s) for s in cp.FULFILMENT_STEPS] == [1, 1, 2, 1, 1]
    assert result.output["create-shipment"] == "shipment-O"
    assert result.output["validate-order"] == values("validate-order")[0]


def test_fulfilment_fails_until_the_fix_is_deployed(cp, client, ledger: Path) -> None:
    order = event("cp02/x", order_id="P", carrier_down="until-fixed")
    failed = mocked.trigger(cp.fulfil_order, order, client)
    assert isinstance(failed.error, cp.ShipmentRejected)
    assert executions("notify-customer") == 0
    side_effects.record(effect_key("t", "fix-deployed"))
    assert mocked.trigger(cp.fulfil_order, order, client).status is mocked.Status.COMPLETED


# --- CP-03 -------------------------------------------------------------------------------------
def test_refund_batch_refunds_each_in_its_own_step(cp, client, ledger: Path) -> None:
    result = mocked.trigger(cp.refund_batch, event("cp03/x", batch_id="B", refunds=2), client)
    assert result.output == 2
    assert values("refund") == [0, 1]


def test_reminder_and_shipment_run_after_their_sleeps(cp, client, ledger: Path) -> None:
    reminder = mocked.trigger(cp.send_reminder, event("cp03/x", reminder="r"), client)
    shipped = mocked.trigger(cp.ship_order, event("cp03/x", order_id="A"), client)
    assert (reminder.output, shipped.output) == ("sent", "shipped A")
    (cancel,) = cp.ship_order._opts.cancel
    assert cancel.event == "cp03/order.cancelled"
    assert cancel.if_exp == "event.data.order_id == async.data.order_id"


def test_invoice_import_fails_until_fixed(cp, client, ledger: Path) -> None:
    invoice = event("cp03/x", invoice_id="I")
    assert isinstance(mocked.trigger(cp.import_invoice, invoice, client).error, cp.MalformedInvoice)
    side_effects.record(effect_key("t", "fix-deployed"))
    assert mocked.trigger(cp.import_invoice, invoice, client).output == "invoice I imported"


# --- CP-04 -------------------------------------------------------------------------------------
def failed_event(function_id: str = "durability-suite-cp04-charge-subscription") -> inngest.Event:
    return inngest.Event(
        name="inngest/function.failed",
        data={
            "function_id": function_id,
            "run_id": "01RUN",
            "event": {"name": "cp04/subscription.renewed",
                      "data": {"tag": "t", "subscription_id": "S-42"}},
            "error": {"name": "CardDeclined", "message": "card declined for S-42",
                      "stack": "Traceback …"},
        },
    )  # fmt: skip


def test_charge_fails_until_the_card_is_updated(cp, client, ledger: Path) -> None:
    charge = event("cp04/x", subscription_id="S-42")
    failed = mocked.trigger(cp.charge_subscription, charge, client)
    assert isinstance(failed.error, cp.CardDeclined)
    assert executions("charge") == 2  # retries=1
    assert (
        cp.charge_subscription.on_failure_fn_id
        == "durability-suite-cp04-charge-subscription-failure"
    )
    side_effects.record(effect_key("t", "fix-deployed"))
    assert mocked.trigger(cp.charge_subscription, charge, client).output == "charged S-42"


def test_failure_feed_records_what_failed_under_the_original_events_keys(
    cp, client, ledger: Path
) -> None:
    result = mocked.trigger(cp.failure_feed, failed_event(), client)
    assert result.status is mocked.Status.COMPLETED
    (received,) = values("failure-feed")
    assert received["run_id"] == "01RUN"
    assert received["event_data"]["subscription_id"] == "S-42"
    assert received["error"]["name"] == "CardDeclined"
    assert cp._describes_failure(received, "01RUN")
    assert not cp._describes_failure(received, "01OTHER")


def test_on_failure_handler_records_the_same(cp, ledger: Path) -> None:
    asyncio.run(cp.alert_billing_team(SimpleNamespace(event=failed_event())))
    (received,) = values("on-failure")
    assert cp._describes_failure(received, "01RUN")


def test_failure_feed_listens_only_to_the_charge(cp) -> None:
    (trigger,) = cp.failure_feed._triggers
    assert trigger.event == "inngest/function.failed"
    assert cp.charge_subscription.id in (trigger.expression or "")
