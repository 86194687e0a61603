"""RT function logic under the SDK's mocked executor (inngest.experimental.mocked).

No server is involved. The mocked executor retries every error up to ``retries`` times at once
(it honours neither NonRetriableError nor RetryAfterError's delay) and treats step stubs as
memoized results; these tests pin down what the functions do, not Inngest's retry policy.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import ModuleType

import inngest
import pytest
from inngest.experimental import mocked

import serve
from conftest import ROOT
from harness.probing.ledger import effect_key, side_effects
from patterns.circuit_breaker import CircuitOpen


@pytest.fixture(scope="module")
def rt() -> ModuleType:
    return serve.load_script(ROOT / "02_rt_retry_timeout.py")


@pytest.fixture
def client() -> mocked.Inngest:
    return mocked.Inngest(
        app_id="test", is_production=False, serializer=inngest.PydanticSerializer()
    )


def event(name: str, **data: object) -> inngest.Event:
    return inngest.Event(name=name, data={"tag": "t", **data})


def executions(name: str) -> int:
    return side_effects.count(effect_key("t", name))


# --- RT-01 -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fn_name", "retries"),
    [("import_feed_no_retries", 0), ("import_feed_two_retries", 2),
     ("import_feed_three_retries", 3)],
)  # fmt: skip
def test_feed_import_calls_the_supplier_once_per_attempt(
    rt, client, ledger: Path, fn_name: str, retries: int
) -> None:
    fn = getattr(rt, fn_name)
    assert fn._opts.retries == retries  # the only difference between the three
    result = mocked.trigger(fn, event("rt01/x", feed="f", failures=99), client)
    assert result.status is mocked.Status.FAILED
    assert isinstance(result.error, rt.SupplierUnavailable)
    assert executions("f:fetch") == retries + 1


def test_feed_import_succeeds_once_the_supplier_answers(rt, client, ledger: Path) -> None:
    result = mocked.trigger(
        rt.import_feed_three_retries, event("rt01/x", feed="g", failures=2), client
    )
    assert result.status is mocked.Status.COMPLETED
    assert result.output == "g: 120 products"
    assert executions("g:fetch") == 3


def test_bad_order_raises_non_retriable(rt, client, ledger: Path) -> None:
    bad = mocked.trigger(rt.validate_order, event("rt01/x", sku="A", quantity=0), client)
    assert isinstance(bad.error, inngest.NonRetriableError)
    good = mocked.trigger(rt.validate_order, event("rt01/x", sku="A", quantity=2), client)
    assert good.output == 2


def test_crm_sync_asks_to_come_back_later_once(rt, client, ledger: Path) -> None:
    result = mocked.trigger(
        rt.sync_crm_contact, event("rt01/x", contact_id="C", retry_after_s=5), client
    )
    assert result.output == "contact C synced"
    assert executions("crm:call") == 2


def test_step_failure_and_body_failure_repeat_different_code(rt, client, ledger: Path) -> None:
    step = mocked.trigger(
        rt.settle_invoice_step_fails, event("rt01/x", invoice_id="I", failures=2), client
    )
    body = mocked.trigger(
        rt.settle_invoice_body_fails, event("rt01/x", invoice_id="J", failures=2), client
    )
    assert (step.output, body.output) == ("invoice I: charged", "invoice J: settled")
    assert (executions("step-case:load"), executions("step-case:charge")) == (1, 3)
    assert (executions("body-case:load"), executions("body-case:check")) == (1, 3)


# --- RT-02 -------------------------------------------------------------------------------------
def test_timeouts_are_declared_where_the_probe_expects_them(rt) -> None:
    assert rt.render_report._opts.timeouts.start.total_seconds() == 3
    assert rt.render_report._opts.concurrency[0].limit == 1
    assert rt.export_ledger._opts.timeouts.finish.total_seconds() == 4
    assert rt.call_stuck_dependency_bounded._opts.timeouts.finish.total_seconds() == 5
    assert rt.call_stuck_dependency_unbounded._opts.timeouts is None


def test_report_and_export_without_timeouts_in_play(rt, client, ledger: Path) -> None:
    report = mocked.trigger(rt.render_report, event("rt02/x", report="r", render_s=0), client)
    export = mocked.trigger(rt.export_ledger, event("rt02/x"), client)  # the sleep is skipped
    assert (report.output, export.output) == ("r.pdf", "export-batch-1: uploaded")


def test_approval_expires_or_arrives(rt, client) -> None:
    expired = mocked.trigger(
        rt.await_approval, event("rt02/x"), client, step_stubs={"manager-approval": mocked.Timeout}
    )
    approved = mocked.trigger(
        rt.await_approval,
        event("rt02/x"),
        client,
        step_stubs={"manager-approval": inngest.Event(name="rt02/expense.approved")},
    )
    assert (expired.output, approved.output) == ("expired", "approved")


def test_checkout_handles_an_invoke_that_timed_out(rt, client) -> None:
    timed_out = {"error": {"name": "Error", "message": "Timed out waiting", "stack": None}}
    failed = mocked.trigger(
        rt.checkout, event("rt02/x"), client, step_stubs={"take-payment": timed_out}
    )
    paid = mocked.trigger(rt.checkout, event("rt02/x"), client, step_stubs={"take-payment": "paid"})
    assert failed.output == {"payment": "timed out", "error": "Timed out waiting"}
    assert paid.output == {"payment": "paid"}


def test_quote_deadline_cuts_a_slow_call_and_the_retry_succeeds(
    rt, client, ledger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rt, "QUOTE_DEADLINE_S", 0.05)
    started = time.monotonic()
    result = mocked.trigger(
        rt.fetch_fx_quote, event("rt02/x", currency="EUR", first_call_latency_s=5), client
    )
    assert time.monotonic() - started < 2  # the 5 s call was cut short
    assert result.output == pytest.approx(1.0842)
    assert executions("quote:call") == 2


def test_stuck_dependency_answers_once_released(rt, client, ledger: Path) -> None:
    side_effects.record(effect_key("t", "release"))
    result = mocked.trigger(rt.call_stuck_dependency_unbounded, event("rt02/x", case="c"), client)
    assert result.output == "late answer"
    assert [executions(k) for k in ("c:call-started", "c:call-returned", "c:after")] == [1, 1, 1]


# --- RT-03 -------------------------------------------------------------------------------------
def test_guarded_charges_stop_calling_a_failing_gateway(rt, client, ledger: Path) -> None:
    outage = [
        mocked.trigger(rt.charge_with_breaker, event("rt03/x", order_id=f"o{n}"), client)
        for n in range(3)
    ]
    assert executions("gateway:call") == rt.BREAKER_THRESHOLD  # the first run's 3 attempts
    assert isinstance(outage[0].error, rt.GatewayDown)
    assert all(isinstance(r.error, CircuitOpen) for r in outage[1:])
    plain = mocked.trigger(rt.charge_without_breaker, event("rt03/x", order_id="p"), client)
    assert isinstance(plain.error, rt.GatewayDown)
    assert executions("gateway:call") == rt.BREAKER_THRESHOLD + 3


def test_guarded_charge_goes_through_when_the_gateway_is_up(rt, client, ledger: Path) -> None:
    side_effects.record(effect_key("t", "gateway-recovered"))
    result = mocked.trigger(rt.charge_with_breaker, event("rt03/x", order_id="ok"), client)
    assert result.output == "receipt-ok"
    assert rt.gateway_breaker("t").state() == "closed"


# --- RT-04 -------------------------------------------------------------------------------------
def test_both_reindexes_do_every_chunk_once(rt, client, ledger: Path) -> None:
    job = {"chunks": 3, "chunk_s": 0}
    one = mocked.trigger(rt.reindex_in_one_step, event("rt04/x", **job), client)
    chunked = mocked.trigger(rt.reindex_in_chunks, event("rt04/x", **job), client)
    assert (one.output, chunked.output) == (3, 3)
    assert side_effects.values(effect_key("t", "one-step:chunk")) == [0, 1, 2]
    assert side_effects.values(effect_key("t", "chunked:chunk")) == [0, 1, 2]
