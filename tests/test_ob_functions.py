"""OB function logic under the SDK's mocked executor (no server)."""

from __future__ import annotations

import logging
from pathlib import Path
from types import ModuleType

import inngest
import pytest
from inngest.experimental import mocked
from opentelemetry.trace import StatusCode

import serve
from conftest import ROOT
from harness.probing.ledger import effect_key, side_effects
from harness.probing.webhook import WebhookReceiver


@pytest.fixture(scope="module")
def ob() -> ModuleType:
    return serve.load_script(ROOT / "09_ob_observability.py")


@pytest.fixture
def client() -> mocked.Inngest:
    return mocked.Inngest(app_id="test", is_production=False)


def event(name: str, **data: object) -> inngest.Event:
    return inngest.Event(name=name, data={"tag": "t", **data})


def test_ship_parcel_returns_every_step_result(ob, client) -> None:
    result = mocked.trigger(ob.ship_parcel, event("ob01/parcel.booked", parcel_id="P1"), client)
    assert result.output == {
        "label": "LBL-P1", "pickup": "PU-P1", "window": "09:00-12:00",
        "notice": "notified about P1",
    }  # fmt: skip


def test_send_invoice_fails_without_retry_for_a_rejecting_mailbox(ob, client) -> None:
    ok = mocked.trigger(ob.send_invoice, event("ob02/invoice.due", invoice_id="I1"), client)
    assert ok.output == "sent I1"
    bad = mocked.trigger(
        ob.send_invoice, event("ob02/invoice.due", invoice_id="I2", fail=True), client
    )
    assert bad.status is mocked.Status.FAILED


def test_reconcile_invoices_retries_the_currency_step(ob, client, ledger: Path) -> None:
    invoices = [{"id": "a", "amount_eur": 10.0}, {"id": "b", "amount_eur": 20.0}]
    result = mocked.trigger(
        ob.reconcile_invoices, event("ob03/reconciliation.due", invoices=invoices), client
    )
    assert result.status is mocked.Status.COMPLETED
    assert result.output == {"total_usd": 33.0, "invoices": 2.0}
    runs = side_effects.values(effect_key("t", "ran:convert-currency"))
    assert len(runs) == 3 and all(r["end"] >= r["start"] for r in runs)
    assert side_effects.count(effect_key("t", "ran:fetch-invoices")) == 1


def test_checkout_is_traced_by_the_middleware(ob, client) -> None:
    ob.span_exporter.clear()
    result = mocked.trigger(
        ob.checkout, event("ob04/checkout.started", order_id="O1", card_declines=1), client
    )
    assert result.output["charge"] == "charge-O1"
    spans = ob.span_exporter.get_finished_spans()
    charges = [s.status.status_code for s in spans if s.name == "step.run charge-card"]
    assert charges == [StatusCode.ERROR, StatusCode.OK]
    assert [s.name for s in spans].count(ob.checkout.id) == 1


def test_refund_always_fails(ob, client) -> None:
    result = mocked.trigger(ob.refund, event("ob04/refund.requested"), client)
    assert result.status is mocked.Status.FAILED


def failure_event(run_id: str = "R1") -> inngest.Event:
    return inngest.Event(
        name="inngest/function.failed",
        data={
            "function_id": "app-renew",
            "run_id": run_id,
            "error": {"message": "card expired", "name": "Error"},
            "event": {"name": "ob05/subscription.renewal_due", "data": {}},
        },
    )


def test_failure_alerts_post_the_run_and_the_error(ob, client, monkeypatch) -> None:
    with WebhookReceiver() as hook:
        monkeypatch.setenv(ob.ALERT_WEBHOOK_ENV, hook.url)
        mocked.trigger(ob.failure_alerts, failure_event("R9"), client)
        handler = inngest.Function(
            ob.renew_subscription._opts, ob.renew_subscription._triggers, ob.alert_on_failure
        )
        mocked.trigger(handler, failure_event("R9"), client)
        deliveries = hook.wait(2, timeout=5)
    assert [d.body for d in deliveries] == [
        {"source": "function.failed", "function_id": "app-renew", "run_id": "R9",
         "error": "card expired"},
        {"source": "on_failure", "function_id": "app-renew", "run_id": "R9",
         "error": "card expired"},
    ]  # fmt: skip


def test_without_a_webhook_the_failure_is_only_logged(ob, client, monkeypatch) -> None:
    monkeypatch.delenv(ob.ALERT_WEBHOOK_ENV, raising=False)
    result = mocked.trigger(ob.failure_alerts, failure_event(), client)
    assert result.status is mocked.Status.COMPLETED


def test_renewal_fails_for_an_expired_card(ob, client) -> None:
    ok = mocked.trigger(
        ob.renew_subscription, event("ob05/subscription.renewal_due", subscription_id="S1"), client
    )
    assert ok.output == "renewed S1"
    expired = mocked.trigger(
        ob.renew_subscription,
        event("ob05/subscription.renewal_due", subscription_id="S2", card_valid=False),
        client,
    )
    assert expired.status is mocked.Status.FAILED


def test_sync_contacts_logs_with_run_and_step_context(ob, client, caplog) -> None:
    ob.app_logger.setLevel(logging.INFO)
    handler_filter = ob.RunContextFilter()
    caplog.handler.addFilter(handler_filter)
    with caplog.at_level(logging.INFO, logger="ob06.contacts"):
        result = mocked.trigger(ob.sync_contacts, event("ob06/contacts.changed"), client)
    caplog.handler.removeFilter(handler_filter)
    assert result.output == 2
    plain = [r for r in caplog.records if "plain logging" in r.getMessage()]
    assert len(plain) >= 3  # once per request: the body re-runs
    assert {r.inngest_function_id for r in plain} == {ob.sync_contacts.id}  # type: ignore[attr-defined]
