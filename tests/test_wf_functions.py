"""WF function logic under the SDK's mocked executor (inngest.experimental.mocked).

No server is involved: steps are memoized in memory as Python objects, sleeps end at once,
parallel steps run one after another and invoked functions are stubbed. These tests pin down
what each function does on its own, so what the dev server adds (or changes) stands out. The
flow-control options themselves are the dev server's job; here only their declarations are
checked, as the SDK will send them at sync.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import inngest
import pytest
from inngest.experimental import mocked

import serve
from conftest import ROOT
from harness.probing.ledger import effect_key, side_effects


@pytest.fixture(scope="module")
def wf() -> ModuleType:
    return serve.load_script(ROOT / "03_wf_workflow_primitives.py")


@pytest.fixture
def client() -> mocked.Inngest:
    return mocked.Inngest(
        app_id="test", is_production=False, serializer=inngest.PydanticSerializer()
    )


def event(event_name: str, /, **data: object) -> inngest.Event:
    return inngest.Event(name=event_name, data={"tag": "t", **data})


def values(name: str) -> list[Any]:
    return side_effects.values(effect_key("t", name))


# --- WF-01 --------------------------------------------------------------------------------------
def test_prepare_shipment_runs_each_step_once_with_its_arguments(wf, client, ledger: Path) -> None:
    result = mocked.trigger(wf.prepare_shipment, event("wf01/x", order_id="o1", parcels=3), client)
    assert result.status is mocked.Status.COMPLETED
    assert result.output == {
        "quote_type": "CarrierQuote",
        "quote": {"order_id": "o1", "parcels": 3, "carrier": "yamato", "price_yen": 980},
        "pickup": "pickup-o1",
        "labels": ["o1/label-0", "o1/label-1", "o1/label-2"],
    }
    assert values("quote-carrier") == [["o1", 3]]
    assert values("print-label") == [0, 1, 2]  # one step ID, three iterations, once each
    # Called straight from the coroutine, a sync handler runs on the event loop's thread.
    assert values("reserve-pickup") == [{"on_event_loop": True}]


def test_a_model_without_output_type_survives_in_memory(wf, client) -> None:
    """In memory the model is kept as it is; what fails against the dev server is the trip
    through JSON, not the function."""
    result = mocked.trigger(
        wf.quote_without_output_type, event("wf01/x", order_id="o1", parcels=1), client
    )
    assert result.status is mocked.Status.COMPLETED
    assert result.output == "CarrierQuote"


def test_the_sync_function_runs_its_handler_off_the_event_loop(wf, client, ledger: Path) -> None:
    result = mocked.trigger(
        wf.prepare_shipment_sync, event("wf01/x", order_id="o2", parcels=2), client
    )
    assert result.status is mocked.Status.COMPLETED
    assert result.output["quote_type"] == "CarrierQuote"
    assert values("sync-quote-carrier") == [{"on_event_loop": False}]


# --- WF-02 --------------------------------------------------------------------------------------
def test_price_quote_prices_and_reports_what_it_received(wf, client) -> None:
    result = mocked.trigger(wf.price_quote, event("wf02/x", sku="tea-set", quantity=3), client)
    assert result.status is mocked.Status.COMPLETED
    assert result.output == {  # serialized through the function's output_type
        "sku": "tea-set",
        "quantity": 3,
        "total_yen": 3750,
        "received_keys": ["quantity", "sku", "tag"],
    }


def test_price_quote_rejects_a_quantity_without_retrying(wf, client) -> None:
    result = mocked.trigger(wf.price_quote, event("wf02/x", sku="s", quantity=0), client)
    assert result.status is mocked.Status.FAILED
    assert isinstance(result.error, inngest.NonRetriableError)
    assert "quantity must be positive" in str(result.error)


def test_checkout_composes_what_its_children_return(wf, client) -> None:
    quote = {"sku": "tea-set", "quantity": 3, "total_yen": 3750, "received_keys": ["sku"]}
    result = mocked.trigger(
        wf.checkout,
        event("wf02/x", sku="tea-set", quantity=3, invoke_timeout_s=2, stock_hold_s=8),
        client,
        step_stubs={
            "price-quote": quote,
            "price-invalid-quantity": quote,  # the mock cannot make an invoked child fail
            "stock-check": mocked.Timeout,
            "fx-rate": {"currency": "JPY", "rate": 151.25},
        },
    )
    assert result.status is mocked.Status.COMPLETED
    output = result.output
    assert output["quote_type"] == "PriceQuote"  # the child's output_type applied to the stub
    assert output["quote"] == quote
    assert output["child_failure"] is None
    assert output["stock_outcome"] == "returned None"
    assert output["fx"] == {"currency": "JPY", "rate": 151.25}
    assert output["stock_wait_s"] >= 0


def test_invoke_targets_are_the_declared_functions(wf) -> None:
    assert wf.price_quote.id == "durability-suite-wf02-price-quote"
    assert wf.fx_rate.id == f"{wf.PARTNER_APP_ID}-wf02-fx-rate"  # another app's function
    assert wf.fx_rate not in wf.suite.functions()  # served by the second app, not the main one


# --- WF-03 --------------------------------------------------------------------------------------
def test_render_report_fans_in_in_order(wf, client, ledger: Path) -> None:
    result = mocked.trigger(wf.render_report, event("wf03/x", pages=5, work_s=0), client)
    assert result.status is mocked.Status.COMPLETED
    assert result.output == [0, 1, 4, 9, 16]
    pages = values("render:5")
    assert sorted(p["label"] for p in pages) == [f"page-{i}" for i in range(5)]
    assert all(p["start"] <= p["end"] for p in pages)


@pytest.mark.parametrize("mode", ["wait", "race"])
def test_two_branches_run_both_steps_of_each_branch(wf, client, ledger: Path, mode: str) -> None:
    result = mocked.trigger(wf.two_branches, event("wf03/x", mode=mode, fast_s=0, slow_s=0), client)
    assert result.status is mocked.Status.COMPLETED
    assert result.output == ["stored fast-data", "stored slow-data"]
    labels = sorted(v["label"] for v in values(f"branch:{mode}"))
    assert labels == ["fast.fetch", "fast.store", "slow.fetch", "slow.store"]


# --- WF-04 --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "output", "executed"),
    [
        (
            {"case": "e", "lines": 2, "express": True, "polls_needed": 4},
            {"route": "express", "total": 201, "polls": 4},
            {"e:express": 1, "e:standard": 0, "e:line": 2, "e:poll": 4},
        ),
        (
            {"case": "s", "lines": 2},
            {"route": "standard", "total": 201, "polls": 0},
            {"s:express": 0, "s:standard": 1, "s:line": 2, "s:poll": 0},
        ),
        (
            {"case": "h", "lines": 10, "hold_after": 3},
            {"route": "standard", "total": 303, "held_after": 3},
            {"h:line": 3},
        ),
    ],
)
def test_price_order_lines_control_flow(
    wf, client, ledger: Path, data: dict[str, Any], output: dict[str, Any], executed: dict
) -> None:
    result = mocked.trigger(wf.price_order_lines, event("wf04/x", **data), client)
    assert result.status is mocked.Status.COMPLETED
    assert result.output == output
    assert {name: len(values(name)) for name in executed} == executed


def test_price_order_lines_long_loop(wf, client, ledger: Path) -> None:
    lines = wf.LONG_LOOP_STEPS
    result = mocked.trigger(wf.price_order_lines, event("wf04/x", case="l", lines=lines), client)
    assert result.output["total"] == sum(100 + i for i in range(lines))
    assert values("l:line") == list(range(lines))


# --- WF-05 --------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["sleep", "until"])
def test_send_reminder_reports_its_times(wf, client, mode: str) -> None:
    result = mocked.trigger(wf.send_reminder, event("wf05/x", mode=mode, delay_s=3), client)
    assert result.status is mocked.Status.COMPLETED
    out = result.output
    assert out["wake_at"] == pytest.approx(out["scheduled_at"] + 3)
    assert out["woke_at"] >= out["scheduled_at"]  # the mock does not really sleep


def test_heartbeat_records_each_firing(wf, client, ledger: Path) -> None:
    timer = inngest.Event(
        name="inngest/scheduled.timer",
        data={"cron": "* * * * *", "scheduledAt": "2027-01-15T08:01:00Z"},
    )
    result = mocked.trigger(wf.heartbeat, timer, client)
    assert result.status is mocked.Status.COMPLETED
    (firing,) = side_effects.values(wf.CRON_FIRED)
    assert firing == {
        "fired_at": result.output,
        "scheduled_at": "2027-01-15T08:01:00Z",
        "run": "test",
    }
    assert wf.heartbeat._triggers[0].cron == "* * * * *"


# --- WF-06 --------------------------------------------------------------------------------------
def test_inventory_sync_records_its_work_span(wf, client, ledger: Path) -> None:
    data = {"seq": 4, "key": "a", "work_s": 0}
    result = mocked.trigger(wf.sync_inventory_limited, event("wf06/x", **data), client)
    assert result.status is mocked.Status.COMPLETED
    (span,) = values("wf06-sync-inventory-limited")
    assert span["label"] == "a#4" and span["key"] == "a" and span["start"] <= span["end"]


def test_import_rows_sees_every_event_of_its_batch(wf, client, ledger: Path) -> None:
    batch = [event("wf06/row.uploaded", seq=i) for i in range(5)]
    result = mocked.trigger(wf.import_rows, batch, client)
    assert result.output == 5
    assert [b["seqs"] for b in values("import")] == [[0, 1, 2, 3, 4]]


@pytest.mark.parametrize(
    ("fn", "data", "effects"),
    [
        ("send_sms", {"seq": 1}, {"sms": 1}),
        ("refresh_dashboard", {"seq": 7}, {"refresh": 1}),
        ("reindex_search", {"seq": 4}, {"reindex": 1}),
        ("render_invoice", {"name": "n", "plan": "free", "priority": 0, "work_s": 0},
         {"wf06-render-invoice:started": 1, "wf06-render-invoice": 1}),
        ("nightly_export", {"name": "n", "work_s": 0}, {"export-started": 1, "export": 1}),
        ("rebuild_cache", {"name": "n", "work_s": 0},
         {"rebuild-started": 1, "rebuild": 1, "publish": 1}),
    ],
)  # fmt: skip
def test_flow_controlled_functions_do_their_work_once(
    wf, client, ledger: Path, fn: str, data: dict[str, Any], effects: dict[str, int]
) -> None:
    result = mocked.trigger(getattr(wf, fn), event("wf06/x", **data), client)
    assert result.status is mocked.Status.COMPLETED
    assert {name: len(values(name)) for name in effects} == effects


def test_flow_control_is_declared_as_measured(wf) -> None:
    def opts(fn: inngest.Function[Any]) -> Any:
        return fn._opts

    assert opts(wf.sync_inventory).concurrency is None  # the control
    assert opts(wf.sync_inventory_limited).concurrency[0].limit == wf.CONCURRENCY_LIMIT
    assert opts(wf.sync_inventory_per_customer).concurrency[0].key == "event.data.key"
    assert opts(wf.send_sms).throttle.burst == 1  # the SDK's default, as documented
    assert opts(wf.refresh_dashboard).rate_limit.limit == 3
    assert opts(wf.import_rows).batch_events.max_size == 5
    assert opts(wf.render_invoice).priority.run == wf.PRIORITY_BY_PLAN
    assert opts(wf.render_invoice_by_field).priority.run == "event.data.priority"
    assert opts(wf.render_invoice_by_int_field).priority.run == "int(event.data.priority)"
    assert opts(wf.nightly_export).singleton.mode == "skip"
    assert opts(wf.rebuild_cache).singleton.mode == "cancel"


@pytest.mark.parametrize(
    ("firing", "lateness"),
    [
        ({"fired_at": 1_800_000_061.25, "scheduled_at": "2027-01-15T08:01:00Z"}, 1.25),
        # more than a minute late is not taken mod 60
        ({"fired_at": 1_800_000_131.0, "scheduled_at": "2027-01-15T08:01:00Z"}, 71.0),
        ({"fired_at": 1_800_000_061.25, "scheduled_at": None}, None),  # missing stays missing
    ],
)
def test_cron_lateness_is_measured_from_the_scheduled_minute(
    wf: ModuleType, firing: dict[str, Any], lateness: float | None
) -> None:
    assert wf.cron_lateness(firing) == lateness
