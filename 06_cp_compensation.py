"""CP — Compensation & recovery: undoing work, resuming it, and handling what failed for good.

Items CP-01 … CP-04. Each item below is: the Inngest function(s) it runs, the probe that drives
them against a real dev server and records what happened, and the rubric that turns that
evidence into stars. Manual operations (cancel, rerun) go through the dev server's REST API and
the GraphQL API its UI uses. Run ``python 06_cp_compensation.py --help`` for options.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import inngest
from pydantic import BaseModel

from common import (
    Category,
    Evidence,
    Probe,
    Rating,
    Suite,
    effect_key,
    inngest_client,
    runops,
    side_effects,
    t,
)

suite = Suite(__file__, Category.CP)

# The dev server's source at the version the results were produced with (see README).
INNGEST_SOURCE = "https://github.com/inngest/inngest/blob/v1.43.0/"
SECOND = timedelta(seconds=1)


def fix_deployed(tag: str) -> bool:
    """Whether the probe has "deployed the fix" for a failure it provoked (a ledger entry)."""
    return side_effects.count(effect_key(tag, "fix-deployed")) > 0


def _step_attempts(probe: Probe, run_id: str, step: str) -> list[str]:
    spans = probe.api.final_trace(run_id).steps(step)
    if not spans:
        return []
    return [a.status for a in spans[0].children] or [spans[0].status]


# ═══ CP-01 Compensation / saga ═════════════════════════════════════════════════════════════════
# A trip booking reserves a flight, a hotel and a car. The car is sold out, so the booking
# undoes what it did, newest first. Each undo is its own step: memoized and retried on its own.
# The hotel's release fails once, to show a failing compensation is retried and then not
# repeated.


class SoldOut(Exception):
    """A provider has nothing left: retrying will not help."""


class ProviderTimeout(Exception):
    """A provider did not answer in time: another attempt may succeed."""


class TripBooking(BaseModel):
    trip_id: str
    sold_out: list[str]  # resources the providers cannot supply
    flaky_release: str  # the resource whose first release attempt times out


async def reserve(ctx: inngest.Context, trip: TripBooking, resource: str) -> str:
    side_effects.executed(ctx.event, f"{resource}:reserve-attempt")
    if resource in trip.sold_out:
        raise SoldOut(f"no {resource} available for trip {trip.trip_id}")
    side_effects.executed(ctx.event, f"{resource}:reserved")
    side_effects.executed(ctx.event, "timeline", f"reserve {resource}")
    return f"{resource}-{trip.trip_id}"


async def release(ctx: inngest.Context, trip: TripBooking, resource: str, reservation: str) -> str:
    attempt = side_effects.executed(ctx.event, f"{resource}:release-attempt")
    if resource == trip.flaky_release and attempt == 1:
        raise ProviderTimeout(f"{resource} provider timed out while releasing {reservation}")
    # Release by reservation ID, so that a repeated release would be harmless downstream.
    side_effects.executed(ctx.event, f"{resource}:released", reservation)
    side_effects.executed(ctx.event, "timeline", f"release {resource}")
    return f"released {reservation}"


@inngest_client.create_function(
    fn_id="cp01-book-trip",
    trigger=inngest.TriggerEvent(event="cp01/trip.requested"),
    retries=1,
)
async def book_trip(ctx: inngest.Context) -> dict[str, str]:
    trip = TripBooking.model_validate(ctx.event.data)
    done: list[tuple[str, str]] = []  # (resource, reservation), in the order they were made
    try:
        for resource in ("flight", "hotel", "car"):
            reservation = await ctx.step.run(f"reserve-{resource}", reserve, ctx, trip, resource)
            done.append((resource, reservation))
    except inngest.StepError as failure:
        # A step failed for good (retries spent). Undo what was done, newest first; each undo
        # is a step, so it is retried if it fails and never repeated once it succeeded.
        for resource, reservation in reversed(done):
            await ctx.step.run(f"release-{resource}", release, ctx, trip, resource, reservation)
        raise inngest.NonRetriableError(
            f"trip {trip.trip_id} rolled back: {failure.message}"
        ) from failure
    return dict(done)


@suite.item("CP-01", functions=[book_trip], timeout=30)
def saga(probe: Probe) -> None:
    trip = {"trip_id": "T-100", "sold_out": ["car"], "flaky_release": "hotel"}
    run = probe.trigger(
        "cp01/trip.requested", trip, timeout=30 + probe.devserver.retry_allowance(2)
    )
    time.sleep(1.0)  # a compensation wrongly repeated by a later request would show up by now
    timeline = probe.effect_values("timeline")
    releases = [entry for entry in timeline if entry.startswith("release ")]
    hotel_attempts = _step_attempts(probe, run.id, "release-hotel")
    flight_attempts = _step_attempts(probe, run.id, "release-flight")
    state = {
        resource: {
            "reserved": probe.effects(f"{resource}:reserved"),
            "released": probe.effects(f"{resource}:released"),
        }
        for resource in ("flight", "hotel", "car")
    }

    probe.check(
        "booking-fails-with-rollback",
        t("the booking ends as failed, with the reason it was rolled back"),
        run.status == "FAILED" and "rolled back" in (run.error or ""),
        observed={"status": run.status, "error": run.error},
        expected="FAILED: trip T-100 rolled back: no car available …",
        run_ids=[run.id],
    )
    probe.check(
        "final-state-consistent",
        t("every reservation made was released exactly once; nothing is left reserved"),
        all(s["reserved"] == s["released"] for s in state.values())
        and state["flight"]["reserved"] == state["hotel"]["reserved"] == 1,
        observed=state,
        expected="flight 1/1, hotel 1/1, car 0/0 (reserved/released)",
        run_ids=[run.id],
    )
    probe.check(
        "compensations-reverse-order",
        t("compensations run in reverse order of the work they undo"),
        releases == ["release hotel", "release flight"],
        observed={"timeline": timeline},
        expected="release hotel, then release flight",
        run_ids=[run.id],
    )
    probe.check(
        "failed-compensation-retried",
        t("a compensation that fails once is retried as its own step"),
        hotel_attempts == ["FAILED", "COMPLETED"] and probe.effects("hotel:release-attempt") == 2,
        observed={"release-hotel attempts (trace)": hotel_attempts,
                  "release-hotel calls": probe.effects("hotel:release-attempt")},
        expected="FAILED, then COMPLETED",
        run_ids=[run.id],
    )  # fmt: skip
    probe.check(
        "compensation-not-repeated",
        t("a compensation that succeeded is not run again by later requests of the run"),
        probe.effects("hotel:released") == 1
        and probe.effects("flight:released") == 1
        and flight_attempts == ["COMPLETED"],
        observed={"hotel released": probe.effects("hotel:released"),
                  "flight released": probe.effects("flight:released"),
                  "release-flight attempts (trace)": flight_attempts},
        expected="1 and 1",
        run_ids=[run.id],
    )  # fmt: skip
    step_api = sorted(name for name, _ in inspect.getmembers(inngest.Step) if name[0] != "_")
    probe.check(
        "native-saga-api",
        t("the SDK offers compensation (saga) as a feature of its own"),
        any(word in name for name in step_api for word in ("compensat", "saga", "rollback")),
        observed={"step methods": step_api},
        expected="a compensation/saga/rollback API",
    )


@saga.rubric
def _(ev: Evidence) -> Rating:
    if not ev.passed("final-state-consistent"):
        return Rating(
            stars=1,
            reason=t("a failed booking left resources reserved (or released them twice)"),
            drivers=["final-state-consistent"],
        )
    durable = ["failed-compensation-retried", "compensation-not-repeated"]
    if not all(ev.passed(k) for k in durable):
        return Rating(
            stars=2,
            reason=t("resources were released, but compensations were not retried or repeated"),
            drivers=durable,
        )
    if not ev.passed("compensations-reverse-order"):
        return Rating(
            stars=3,
            reason=t("compensations are durable, but did not run in reverse order"),
            drivers=["compensations-reverse-order"],
        )
    if not ev.passed("booking-fails-with-rollback"):
        # Undone, but the caller cannot tell: the run does not fail with why it was undone.
        return Rating(
            stars=3,
            reason=t(
                "compensations are durable and ordered, but the run did not end as failed with "
                "the reason it was rolled back"
            ),
            drivers=["booking-fails-with-rollback"],
        )
    if ev.passed("native-saga-api"):
        return Rating(
            stars=5,
            reason=t("a built-in saga API and durable, ordered, retried compensations"),
            drivers=["native-saga-api", *durable],
        )
    return Rating(
        stars=4,
        reason=t(
            "no saga API, but try/except with one step per compensation is durable: "
            "compensations ran newest first, a failing one was retried, none was repeated, and "
            "nothing stayed reserved"
        ),
        drivers=[
            "booking-fails-with-rollback",
            "final-state-consistent",
            *durable,
            "compensations-reverse-order",
            "native-saga-api",
        ],
        advice=t(
            "Write each compensation as its own step, keyed by the reservation it undoes so a "
            "repeat is harmless; catch inngest.StepError around the forward steps and end with "
            "NonRetriableError after undoing."
        ),
    )


# ═══ CP-02 Partial resume ══════════════════════════════════════════════════════════════════════
# A five-step order fulfilment whose third step fails. Once it fails only once (a retry), once
# for good; the run that failed for good is then rerun after the fix, from the start and from the
# failed step.


class ShipmentRejected(Exception):
    """The carrier rejected the shipment request."""


class Fulfilment(BaseModel):
    order_id: str
    tag: str
    carrier_down: str  # "once": the carrier fails one call; "until-fixed": until the fix lands


FULFILMENT_STEPS = (
    "validate-order",
    "reserve-stock",
    "create-shipment",
    "notify-customer",
    "close-order",
)


@inngest_client.create_function(
    fn_id="cp02-fulfil-order",
    trigger=inngest.TriggerEvent(event="cp02/order.paid"),
    retries=1,
)
async def fulfil_order(ctx: inngest.Context) -> dict[str, str]:
    order = Fulfilment.model_validate(ctx.event.data)

    async def validate() -> str:
        token = uuid.uuid4().hex[:12]  # differs on every execution: shows what is reused
        side_effects.executed(ctx.event, "validate-order", token)
        return token

    async def reserve_stock() -> str:
        side_effects.executed(ctx.event, "reserve-stock")
        return f"stock-{order.order_id}"

    async def create_shipment() -> str:
        calls = side_effects.executed(ctx.event, "create-shipment")
        broken = calls == 1 if order.carrier_down == "once" else not fix_deployed(order.tag)
        if broken:
            raise ShipmentRejected("carrier API rejected the label request")
        return f"shipment-{order.order_id}"

    async def notify_customer() -> str:
        side_effects.executed(ctx.event, "notify-customer")
        return "mail sent"

    async def close_order() -> str:
        side_effects.executed(ctx.event, "close-order")
        return "closed"

    results = {}
    for step_id, handler in zip(
        FULFILMENT_STEPS,
        (validate, reserve_stock, create_shipment, notify_customer, close_order),
        strict=True,
    ):
        results[step_id] = await ctx.step.run(step_id, handler)
    return results


def _counts(probe: Probe) -> dict[str, int]:
    return {step: probe.effects(step) for step in FULFILMENT_STEPS}


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {step: after[step] - before[step] for step in after}


# How the probe reruns a run (harness/probing/runops.py): the UI's own API, not a public one.
RERUN_THROUGH = (
    "GraphQL mutation rerun(runID, fromStep) of the API the dev server's UI uses; REST v1 has no "
    "rerun, and REST v2's beta POST /api/v2/runs/{id}/rerun was not used here"
)


@suite.item("CP-02", functions=[fulfil_order], timeout=45)
def partial_resume(probe: Probe) -> None:
    retry_wait = 30 + probe.devserver.retry_allowance(1)
    # 1. A transient failure at step 3: the automatic retry.
    run = probe.trigger(
        "cp02/order.paid", {"order_id": "O-1", "carrier_down": "once"}, timeout=retry_wait
    )
    counts = _counts(probe)
    probe.check(
        "retry-resumes-at-failed-step",
        t("a run failing at step 3 of 5 is retried from step 3: steps 1-2 do not run again"),
        run.status == "COMPLETED"
        and counts == dict(zip(FULFILMENT_STEPS, (1, 1, 2, 1, 1), strict=True)),
        observed={"status": run.status, "executions per step": counts},
        expected="COMPLETED; 1, 1, 2, 1, 1",
        run_ids=[run.id],
    )

    # 2. A failure for good, then the fix, then reruns.
    probe.new_scenario()
    failed = probe.trigger(
        "cp02/order.paid", {"order_id": "O-2", "carrier_down": "until-fixed"}, timeout=retry_wait
    )
    if failed.status != "FAILED":
        raise RuntimeError(f"the run meant to fail for good ended {failed.status}")
    original_token = probe.effect_values("validate-order")[0]
    shipment = probe.api.final_trace(failed.id).steps("create-shipment")
    if not shipment or not shipment[0].step_id:
        raise RuntimeError("the failed run's trace has no create-shipment step to rerun from")
    side_effects.record(probe.key("fix-deployed"))

    before = _counts(probe)
    from_step = probe.wait(runops.rerun(probe.api, failed.id, from_step_id=shipment[0].step_id))
    after = _counts(probe)
    output = from_step.output if isinstance(from_step.output, dict) else {}
    probe.check(
        "rerun-from-step-reuses-earlier-steps",
        t("a failed run rerun from its failed step reuses the results of the steps before it"),
        from_step.status == "COMPLETED"
        and _delta(after, before) == dict(zip(FULFILMENT_STEPS, (0, 0, 1, 1, 1), strict=True))
        and output.get("validate-order") == original_token,
        observed={"status": from_step.status, "executions in the rerun": _delta(after, before),
                  "validate-order result": output.get("validate-order"),
                  "original validate-order result": original_token,
                  "through": RERUN_THROUGH},
        expected="COMPLETED; 0, 0, 1, 1, 1; the original validate-order result",
        run_ids=[failed.id, from_step.id],
    )  # fmt: skip

    before = _counts(probe)
    full = probe.wait(runops.rerun(probe.api, failed.id))
    after = _counts(probe)
    output = full.output if isinstance(full.output, dict) else {}
    probe.check(
        "full-rerun-starts-over",
        t("a rerun from the start runs every step again with the same event: nothing is reused"),
        full.status == "COMPLETED"
        and _delta(after, before) == dict.fromkeys(FULFILMENT_STEPS, 1)
        and output.get("validate-order") != original_token
        and full.raw.get("event_id") == failed.raw.get("event_id"),
        observed={"status": full.status, "executions in the rerun": _delta(after, before),
                  "same event": full.raw.get("event_id") == failed.raw.get("event_id"),
                  "through": RERUN_THROUGH},
        expected="COMPLETED; 1 execution of every step; same event ID",
        run_ids=[failed.id, full.id],
    )  # fmt: skip
    probe.document(
        "rerun-from-step-docs",
        t("a run can be rerun from a chosen step; the steps before it keep their earlier output"),
        "https://www.inngest.com/docs/platform-and-operations/rerun-a-run",
    )


@partial_resume.rubric
def _(ev: Evidence) -> Rating:
    if not ev.passed("retry-resumes-at-failed-step"):
        return Rating(
            stars=1,
            reason=t("a retry repeated steps that had completed"),
            drivers=["retry-resumes-at-failed-step"],
        )
    if not ev.passed("rerun-from-step-reuses-earlier-steps"):
        return Rating(
            stars=3,
            reason=t(
                "retries resume at the failed step, but a run that failed for good can only be "
                "restarted from scratch"
            ),
            drivers=["rerun-from-step-reuses-earlier-steps", "full-rerun-starts-over"],
            advice=t("Make steps idempotent before rerunning failed runs: a rerun repeats them."),
        )
    return Rating(
        stars=5,
        reason=t(
            "retries resume at the failed step, and after a fix a failed run can be rerun from "
            "that step with the earlier steps' results reused (a plain rerun starts over); both "
            "reruns were made through the GraphQL API the dev server's UI uses"
        )
        if ev.passed("full-rerun-starts-over")
        else t(
            "retries resume at the failed step, and after a fix a failed run can be rerun from "
            "that step with the earlier steps' results reused; a plain rerun did not run every "
            "step again as expected; the reruns were made through the GraphQL API the dev "
            "server's UI uses"
        ),
        drivers=[
            "retry-resumes-at-failed-step",
            "rerun-from-step-reuses-earlier-steps",
            "full-rerun-starts-over",
        ],
        advice=t(
            "Rerun failed runs from the failed step; a plain rerun repeats every step's side "
            "effects."
        ),
    )


# ═══ CP-03 Manual intervention ═════════════════════════════════════════════════════════════════
# The operations an operator has on a dev server: cancel a running and a sleeping run through
# REST, cancel through the UI's GraphQL API, cancel runs with an event that matches only one of
# them, bulk-cancel through REST, and rerun a failed run.


class RefundBatch(BaseModel):
    batch_id: str
    refunds: int


@inngest_client.create_function(
    fn_id="cp03-refund-batch",
    trigger=inngest.TriggerEvent(event="cp03/refunds.approved"),
)
async def refund_batch(ctx: inngest.Context) -> int:
    batch = RefundBatch.model_validate(ctx.event.data)

    async def refund(number: int) -> int:
        side_effects.executed(ctx.event, "refund", number)
        await asyncio.sleep(0.7)  # the payment provider's latency
        return number

    for number in range(batch.refunds):
        await ctx.step.run(f"refund-{number}", refund, number)
    return batch.refunds


class Reminder(BaseModel):
    reminder: str


@inngest_client.create_function(
    fn_id="cp03-send-reminder",
    trigger=inngest.TriggerEvent(event="cp03/reminder.scheduled"),
)
async def send_reminder(ctx: inngest.Context) -> str:
    reminder = Reminder.model_validate(ctx.event.data)
    await ctx.step.sleep("remind-later", 60 * SECOND)

    async def send() -> str:
        side_effects.executed(ctx.event, f"sent:{reminder.reminder}")
        return "sent"

    return await ctx.step.run("send", send)


class Order(BaseModel):
    order_id: str


@inngest_client.create_function(
    fn_id="cp03-ship-order",
    trigger=inngest.TriggerEvent(event="cp03/order.placed"),
    # A cancellation event stops only the run of the order it names.
    cancel=[
        inngest.Cancel(
            event="cp03/order.cancelled", if_exp="event.data.order_id == async.data.order_id"
        )
    ],
)
async def ship_order(ctx: inngest.Context) -> str:
    order = Order.model_validate(ctx.event.data)
    await ctx.step.sleep("wait-for-packing", 5 * SECOND)

    async def ship() -> str:
        side_effects.executed(ctx.event, f"shipped:{order.order_id}")
        return f"shipped {order.order_id}"

    return await ctx.step.run("ship", ship)


class InvoiceImport(BaseModel):
    invoice_id: str
    tag: str


class MalformedInvoice(Exception):
    """The invoice file could not be parsed (a bug, fixed by a later deploy)."""


@inngest_client.create_function(
    fn_id="cp03-import-invoice",
    trigger=inngest.TriggerEvent(event="cp03/invoice.uploaded"),
    retries=0,
)
async def import_invoice(ctx: inngest.Context) -> str:
    invoice = InvoiceImport.model_validate(ctx.event.data)

    async def parse() -> str:
        side_effects.executed(ctx.event, "parse-invoice")
        if not fix_deployed(invoice.tag):
            raise MalformedInvoice(f"cannot parse invoice {invoice.invoice_id}")
        return f"invoice {invoice.invoice_id} imported"

    return await ctx.step.run("parse", parse)


REFUNDS = 8
CANCEL_AT_REFUND = 3


@suite.item(
    "CP-03",
    functions=[refund_batch, send_reminder, ship_order, import_invoice],
    timeout=50,
)
def manual_intervention(probe: Probe) -> None:
    started = datetime.now(UTC)
    batch = probe.run_of(
        probe.send("cp03/refunds.approved", {"batch_id": "B-1", "refunds": REFUNDS})
    )
    reminders = {
        name: probe.run_of(probe.send("cp03/reminder.scheduled", {"reminder": name}))
        for name in ("via-rest", "via-graphql", "via-bulk")
    }
    orders = {
        order: probe.run_of(probe.send("cp03/order.placed", {"order_id": order}))
        for order in ("A", "B")
    }
    invoice = probe.run_of(probe.send("cp03/invoice.uploaded", {"invoice_id": "INV-9"}))

    # Cancel the refund batch while its third refund is running.
    if not probe.wait_for_effect("refund", CANCEL_AT_REFUND, timeout=20):
        raise RuntimeError("the refund batch never reached its third refund")
    probe.api.cancel(batch)
    refunds_at_cancel = probe.effects("refund")

    for run_id in [*reminders.values(), *orders.values()]:
        step = "remind-later" if run_id in reminders.values() else "wait-for-packing"
        if not probe.wait_for_step(run_id, step, timeout=15):
            raise RuntimeError(f"run {run_id} never started to sleep; nothing to cancel")
    probe.api.cancel(reminders["via-rest"])
    graphql_status = runops.cancel_via_graphql(probe.api, reminders["via-graphql"])
    bulk = runops.bulk_cancel(
        probe.api,
        app_id=inngest_client.app_id,
        function_id=send_reminder.id,
        started_after=started - timedelta(seconds=5),
        started_before=datetime.now(UTC),
        if_exp="event.data.reminder == 'via-bulk'",
    )
    probe.send("cp03/order.cancelled", {"order_id": "A"})

    batch_run = probe.wait(batch, timeout=15)
    time.sleep(2)  # a refund wrongly started after the cancellation would show up by now
    probe.check(
        "rest-cancel-running",
        t("DELETE /v1/runs/:id cancels a running run: the step under way finishes, no "
          "later step starts"),
        batch_run.status == "CANCELLED" and probe.effects("refund") == refunds_at_cancel,
        observed={"status": batch_run.status, "refunds started before the cancel":
                  refunds_at_cancel, "refunds started in all": probe.effects("refund"),
                  "of": REFUNDS},
        expected=f"CANCELLED; {refunds_at_cancel} refunds, none after",
        run_ids=[batch],
    )  # fmt: skip
    rest = probe.wait(reminders["via-rest"], timeout=15)
    probe.check(
        "rest-cancel-sleeping",
        t("DELETE /v1/runs/:id cancels a sleeping run"),
        rest.status == "CANCELLED",
        observed={"status": rest.status},
        run_ids=[rest.id],
    )
    graphql = probe.wait(reminders["via-graphql"], timeout=15)
    probe.check(
        "graphql-cancel",
        t("the UI's GraphQL cancelRun mutation cancels a sleeping run"),
        graphql.status == "CANCELLED",
        observed={"status": graphql.status, "mutation answered": graphql_status},
        run_ids=[graphql.id],
    )

    # Bulk cancellation: give it a few seconds, then clean up whatever it left running.
    bulk_status = probe.api.get_run(reminders["via-bulk"]).status
    deadline = time.monotonic() + probe.bound(5)
    while bulk_status != "CANCELLED" and time.monotonic() < deadline:
        time.sleep(0.5)
        bulk_status = probe.api.get_run(reminders["via-bulk"]).status
    probe.check(
        "bulk-cancel",
        t("POST /v1/cancellations cancels the runs its expression matches"),
        bulk.ok and bulk_status == "CANCELLED",
        observed={"HTTP status": bulk.status_code, "answer": bulk.body or "(empty)",
                  "run status 5 s later": bulk_status},
        expected="HTTP 2xx and the run CANCELLED",
        run_ids=[reminders["via-bulk"]],
    )  # fmt: skip
    if bulk_status != "CANCELLED":
        probe.api.cancel(reminders["via-bulk"])

    cancelled, kept = probe.wait(orders["A"], timeout=20), probe.wait(orders["B"], timeout=20)
    probe.check(
        "event-cancel-matching-only",
        t("a cancellation event stops only the run its if-expression matches"),
        cancelled.status == "CANCELLED"
        and kept.status == "COMPLETED"
        and probe.effects("shipped:A") == 0
        and probe.effects("shipped:B") == 1,
        observed={"A": cancelled.status, "B": kept.status,
                  "shipped": {"A": probe.effects("shipped:A"), "B": probe.effects("shipped:B")}},
        expected="A CANCELLED and never shipped; B COMPLETED and shipped",
        run_ids=[orders["A"], orders["B"]],
    )  # fmt: skip

    failed = probe.wait(invoice, timeout=15)
    side_effects.record(probe.key("fix-deployed"))
    rerun = probe.wait(runops.rerun(probe.api, invoice), timeout=20)
    probe.check(
        "rerun-failed-run",
        t("a failed run can be rerun after a fix (the UI's GraphQL rerun mutation)"),
        failed.status == "FAILED" and rerun.status == "COMPLETED",
        observed={"original": failed.status, "rerun": rerun.status, "output": rerun.output},
        expected="FAILED, then a COMPLETED rerun",
        run_ids=[invoice, rerun.id],
    )
    # REST v1 has no rerun route (rest-routes); the REST v2 API, marked beta, has one.
    answer, v2_run_id = runops.rerun_via_rest_v2(probe.api, invoice)
    v2_rerun = probe.wait_or_last(v2_run_id, timeout=20) if v2_run_id else None
    probe.check(
        "rest-rerun",
        t("the REST v2 API (beta) reruns a failed run: POST /api/v2/runs/:id/rerun"),
        v2_rerun is not None and v2_rerun.status == "COMPLETED",
        observed={
            "POST /api/v2/runs/{id}/rerun": f"HTTP {answer.status_code}",
            "body": answer.body,
            "new run": v2_rerun.status if v2_rerun else None,
        },
        expected="HTTP 200 and a new run that COMPLETED",
        run_ids=[invoice, *([v2_run_id] if v2_run_id else [])],
    )
    probe.document(
        "rest-routes",
        t(
            "the dev server's REST v1 routes offer get and cancel for single runs and bulk "
            "cancellation, no rerun or replay"
        ),
        INNGEST_SOURCE + "pkg/api/apiv1/apiv1.go",
    )
    probe.document(
        "rest-v2-rerun",
        t(
            "the REST v2 API has POST /api/v2/runs/:id/rerun, tagged Beta: a new run from "
            "the original run's event, optionally from a given step (fromStep)"
        ),
        INNGEST_SOURCE + "proto/api/v2/service.proto",
    )
    probe.document(
        "cloud-replay",
        t("Inngest Cloud replays many failed or cancelled runs at once from its dashboard"),
        "https://www.inngest.com/docs/platform/replay",
    )
    probe.document(
        "cloud-bulk-cancel",
        t("bulk cancellation is offered by Inngest Cloud's REST API and dashboard"),
        "https://www.inngest.com/docs/guides/cancel-running-functions",
    )


@manual_intervention.rubric
def _(ev: Evidence) -> Rating:
    cancels = ["rest-cancel-running", "rest-cancel-sleeping", "graphql-cancel"]
    if not any(ev.passed(k) for k in cancels):
        return Rating(stars=1, reason=t("no way to cancel a run worked"), drivers=cancels)
    steering = ["event-cancel-matching-only", "rerun-failed-run"]
    if not any(ev.passed(k) for k in steering):
        return Rating(
            stars=2,
            reason=t("runs can be cancelled, but neither targeted cancellation nor rerun work"),
            drivers=steering,
        )
    if not (all(ev.passed(k) for k in cancels) and all(ev.passed(k) for k in steering)):
        return Rating(
            stars=3,
            reason=t("some manual operations work, others did not"),
            drivers=[k for k in [*cancels, *steering] if not ev.passed(k)],
        )
    if ev.passed("bulk-cancel"):
        return Rating(
            stars=5,
            reason=t("cancel (REST, GraphQL, event, bulk) and rerun all work"),
            drivers=[*cancels, *steering, "bulk-cancel"],
        )
    # The GraphQL rerun (the UI's) is what the stars rest on; REST v2's beta rerun is named.
    return Rating(
        stars=4,
        reason=t(
            "single runs can be cancelled (REST, GraphQL, a matching event) and a failed run "
            "rerun (GraphQL, as the UI does, and the beta REST v2 API), but bulk cancellation "
            "did not work on the dev server"
        )
        if ev.passed("rest-rerun")
        else t(
            "single runs can be cancelled (REST, GraphQL, a matching event) and a failed run "
            "rerun (GraphQL, as the UI does; the beta REST v2 rerun did not work here), but "
            "bulk cancellation did not work on the dev server"
        ),
        drivers=[*cancels, *steering, "bulk-cancel", "rest-rerun"],
        advice=t(
            "Script operations against the GraphQL API the UI uses, or Inngest Cloud's REST "
            "API; on a dev server, cancel runs one by one or with a cancellation event."
        ),
    )


# ═══ CP-04 Dead letter ═════════════════════════════════════════════════════════════════════════
# A subscription charge that keeps failing. An on_failure handler and a function listening to
# inngest/function.failed both receive the failure; afterwards the failed run is found, inspected
# and, once the card is updated, rerun.


class CardDeclined(Exception):
    """The card issuer declined the charge."""


class SubscriptionCharge(BaseModel):
    subscription_id: str
    tag: str


class FailureError(BaseModel):
    name: str | None = None
    message: str | None = None
    stack: str | None = None


class FunctionFailed(BaseModel):
    """The data of an ``inngest/function.failed`` event."""

    function_id: str
    run_id: str
    event: dict[str, Any]  # the failed run's own triggering event
    error: FailureError


def record_failure(ctx: inngest.Context, name: str) -> None:
    """Store what a failure handler received, under the failed run's own ledger keys."""
    failure = FunctionFailed.model_validate(ctx.event.data)
    original = inngest.Event.model_validate(failure.event)
    side_effects.executed(original, name, failure.model_dump(exclude={"event"})
                          | {"event_data": original.data})  # fmt: skip


async def alert_billing_team(ctx: inngest.Context) -> None:
    """on_failure: runs once the charge has failed for good (retries spent)."""
    record_failure(ctx, "on-failure")


@inngest_client.create_function(
    fn_id="cp04-charge-subscription",
    trigger=inngest.TriggerEvent(event="cp04/subscription.renewed"),
    retries=1,
    on_failure=alert_billing_team,
)
async def charge_subscription(ctx: inngest.Context) -> str:
    charge = SubscriptionCharge.model_validate(ctx.event.data)

    async def charge_card() -> str:
        side_effects.executed(ctx.event, "charge")
        if not fix_deployed(charge.tag):  # until the customer updates their card
            raise CardDeclined(f"card declined for subscription {charge.subscription_id}")
        return f"charged {charge.subscription_id}"

    return await ctx.step.run("charge-card", charge_card)


@inngest_client.create_function(
    fn_id="cp04-failure-feed",
    trigger=inngest.TriggerEvent(
        event="inngest/function.failed",
        expression="event.data.function_id == 'durability-suite-cp04-charge-subscription'",
    ),
)
async def failure_feed(ctx: inngest.Context) -> None:
    """One place for every failure of the functions it filters on (here: one)."""
    record_failure(ctx, "failure-feed")


def _received(probe: Probe, name: str) -> dict[str, Any]:
    values = probe.effect_values(name)
    return values[0] if values else {}


def _describes_failure(received: dict[str, Any], run_id: str) -> bool:
    error = received.get("error") or {}
    return (
        received.get("run_id") == run_id
        and (received.get("event_data") or {}).get("subscription_id") == "S-42"
        and error.get("name") == "CardDeclined"
        and "card declined" in (error.get("message") or "")
    )


@suite.item("CP-04", functions=[charge_subscription, failure_feed], timeout=35)
def dead_letter(probe: Probe) -> None:
    since = datetime.now(UTC) - timedelta(seconds=5)
    run = probe.trigger(
        "cp04/subscription.renewed",
        {"subscription_id": "S-42"},
        timeout=30 + probe.devserver.retry_allowance(1),
    )
    if run.status != "FAILED":
        raise RuntimeError(f"the charge meant to fail ended {run.status}")
    probe.wait_for_effect("on-failure", timeout=15)
    probe.wait_for_effect("failure-feed", timeout=15)

    on_failure = _received(probe, "on-failure")
    probe.check(
        "on-failure-receives-event-and-error",
        t("the on_failure handler receives the original event and the error"),
        _describes_failure(on_failure, run.id),
        observed=on_failure or "nothing received",
        expected="run_id, the original event's data, error CardDeclined: card declined …",
        run_ids=[run.id],
    )
    feed = _received(probe, "failure-feed")
    probe.check(
        "function-failed-event",
        t("a function triggered by inngest/function.failed receives the failure too"),
        _describes_failure(feed, run.id),
        observed=feed or "nothing received",
        run_ids=[run.id],
    )
    listed = runops.list_runs(probe.api, since=since, statuses=["FAILED"])
    probe.check(
        "failed-runs-listed",
        t("failed runs can be listed afterwards by status"),
        any(r.id == run.id for r in listed),
        observed={"failed runs listed": [(r.function_slug, r.id) for r in listed][:10]},
        expected=f"{run.id} among them",
        run_ids=[run.id],
    )
    error = runops.run_error(probe.api, run.id)
    rest = run.output if isinstance(run.output, dict) else {}
    probe.check(
        "failure-inspectable",
        t("a failed run's error name, message and stack can be read through the API"),
        error is not None
        and error.name == "CardDeclined"
        and bool(error.message)
        and "CardDeclined" in (error.stack or "")
        and {"name", "message", "stack"} <= rest.keys(),
        observed={"GraphQL": error.__dict__ if error else None,
                  "REST output fields": sorted(rest)},
        expected="name CardDeclined, its message and a stack, in both",
        run_ids=[run.id],
    )  # fmt: skip

    side_effects.record(probe.key("fix-deployed"))  # the customer updated their card
    redriven = probe.wait(runops.rerun(probe.api, run.id), timeout=20)
    probe.check(
        "dead-letter-redrive",
        t("a failed run is rerun from the API once its cause is fixed"),
        redriven.status == "COMPLETED",
        observed={"rerun": redriven.status, "output": redriven.output},
        run_ids=[run.id, redriven.id],
    )
    probe.not_run(
        "bulk-redrive",
        t("many failed runs are replayed at once"),
        t("the dev server has no bulk replay; Inngest Cloud's Replay does it (documented)"),
    )
    probe.document(
        "cloud-replay",
        t("Inngest Cloud replays many failed or cancelled runs at once from its dashboard"),
        "https://www.inngest.com/docs/platform/replay",
    )
    probe.document(
        "function-failed-payload",
        t("inngest/function.failed carries the error, the original event, function and run ID"),
        "https://www.inngest.com/docs/reference/system-events/inngest-function-failed",
    )


@dead_letter.rubric
def _(ev: Evidence) -> Rating:
    found = ["failed-runs-listed", "failure-inspectable"]
    handlers = ["on-failure-receives-event-and-error", "function-failed-event"]
    if not any(ev.passed(k) for k in found):
        return Rating(
            stars=1,
            reason=t("failed runs can neither be listed nor inspected"),
            drivers=found,
        )
    if not any(ev.passed(k) for k in handlers):
        return Rating(
            stars=2,
            reason=t("failed runs can be found, but no failure handler received them"),
            drivers=handlers,
        )
    if not all(ev.passed(k) for k in [*found, *handlers]):
        return Rating(
            stars=3,
            reason=t("failures reach a handler, but not every way of handling them worked"),
            drivers=[k for k in [*found, *handlers] if not ev.passed(k)],
        )
    if not ev.passed("dead-letter-redrive"):
        return Rating(
            stars=3,
            reason=t("failures are kept and handled, but a failed run could not be rerun"),
            drivers=["dead-letter-redrive"],
        )
    if ev.passed("bulk-redrive"):
        return Rating(
            stars=5,
            reason=t("failures are handled, kept, inspectable, and redriven singly or in bulk"),
            drivers=[*found, *handlers, "dead-letter-redrive", "bulk-redrive"],
        )
    return Rating(
        stars=4,
        reason=t(
            "no dead-letter queue as such, but every failure reaches on_failure and "
            "inngest/function.failed with its event and error, failed runs stay listable and "
            "inspectable, and one can be rerun; bulk replay is not on the dev server"
        ),
        drivers=[*found, *handlers, "dead-letter-redrive", "bulk-redrive"],
        advice=t(
            "Handle inngest/function.failed in one function to alert and record failures; "
            "after a fix, rerun failed runs (Replay in bulk on Inngest Cloud)."
        ),
    )


if __name__ == "__main__":
    suite.main()
