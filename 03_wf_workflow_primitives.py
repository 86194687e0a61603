"""WF — Workflow primitives: steps, child workflows, fan-out, control flow, timers, flow control.

Items WF-01 … WF-06. Each item below is: the Inngest function(s) it runs, the probe that drives
them against a real dev server and records what happened, and the rubric that turns that
evidence into stars. Run ``python 03_wf_workflow_primitives.py --help`` for options.

Flow control (WF-03, WF-06) is judged from when work *really* ran: each function records the
wall-clock start and end of its work in the side-effect ledger, and the probe computes overlap,
spacing and counts from those timestamps (harness/probing/timeline.py). Simulated work awaits
``asyncio.sleep``: a blocking call inside an ``async`` step would stall the app's event loop and
serialise every run the app serves, faking an overlap of one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import inngest
from pydantic import BaseModel

from common import (
    Category,
    Evidence,
    Msg,
    Probe,
    Rating,
    Suite,
    echo,
    inngest_client,
    make_client,
    other_app,
    side_effects,
    t,
    timeline,
)
from harness.probing.codemetrics import check_types, mypy_available
from harness.rating.evidence import MissingEvidenceError

suite = Suite(__file__, Category.WF)


async def wall_clock() -> float:
    """Now, as a step result (``await ctx.step.run("t", wall_clock)`` makes it durable)."""
    return time.time()


def on_event_loop() -> bool:
    """Whether the calling code runs on an asyncio event loop's thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


# ═══ WF-01 Step definition ═════════════════════════════════════════════════════════════════════
# A shipment is prepared in steps: an async handler called with arguments that returns a Pydantic
# model, a plain (sync) handler, and one step ID used once per parcel in a loop. The same flow as
# a sync function (ContextSync) shows where the SDK runs blocking code.


class ShipmentRequested(BaseModel):
    order_id: str
    parcels: int


class CarrierQuote(BaseModel):
    order_id: str
    parcels: int
    carrier: str
    price_yen: int


@inngest_client.create_function(
    fn_id="wf01-prepare-shipment",
    trigger=inngest.TriggerEvent(event="wf01/shipment.requested"),
)
async def prepare_shipment(ctx: inngest.Context) -> dict[str, Any]:
    request = ShipmentRequested.model_validate(ctx.event.data)

    async def quote_carrier(order_id: str, parcels: int) -> CarrierQuote:
        side_effects.executed(ctx.event, "quote-carrier", [order_id, parcels])
        return CarrierQuote(order_id=order_id, parcels=parcels, carrier="yamato", price_yen=980)

    def reserve_pickup(order_id: str) -> str:
        # A plain function works as a handler; it runs on the event loop, so it must not block.
        side_effects.executed(ctx.event, "reserve-pickup", {"on_event_loop": on_event_loop()})
        return f"pickup-{order_id}"

    async def print_label(parcel: int) -> str:
        side_effects.executed(ctx.event, "print-label", parcel)
        return f"{request.order_id}/label-{parcel}"

    quote = await ctx.step.run(
        "quote-carrier", quote_carrier, request.order_id, request.parcels, output_type=CarrierQuote
    )
    # The SDK's types ask for an async handler; a sync one works at runtime.
    pickup: str = await ctx.step.run("reserve-pickup", reserve_pickup, request.order_id)  # type: ignore[arg-type]
    labels = []
    for parcel in range(request.parcels):
        # One step ID per loop iteration: the SDK numbers the repeats ("print-label:1", ...).
        labels.append(await ctx.step.run("print-label", print_label, parcel))
    return {
        "quote_type": type(quote).__name__,
        "quote": quote.model_dump(mode="json"),
        "pickup": pickup,
        "labels": labels,
    }


@inngest_client.create_function(
    fn_id="wf01-quote-without-output-type",
    trigger=inngest.TriggerEvent(event="wf01/quote-untyped.requested"),
    retries=0,
)
async def quote_without_output_type(ctx: inngest.Context) -> str:
    request = ShipmentRequested.model_validate(ctx.event.data)

    async def quote_carrier() -> CarrierQuote:
        return CarrierQuote(
            order_id=request.order_id, parcels=request.parcels, carrier="yamato", price_yen=980
        )

    # NOT recommended: a model returned without output_type. What does the caller get back?
    quote = await ctx.step.run("quote-carrier", quote_carrier)
    return type(quote).__name__


def _untyped_step_module() -> tuple[str, int]:
    """quote_without_output_type's own source as a module mypy --strict can check, with a
    reveal_type of the step's result; (source, line of that reveal_type)."""
    function = inspect.getsource(quote_without_output_type._handler)
    models = "\n\n".join(inspect.getsource(m) for m in (ShipmentRequested, CarrierQuote))
    header = (
        "from __future__ import annotations\n\nimport inngest\nfrom pydantic import BaseModel\n"
        "\ninngest_client = inngest.Inngest(app_id='wf01', is_production=False,"
        " serializer=inngest.PydanticSerializer())\n\n"
    )
    call = 'quote = await ctx.step.run("quote-carrier", quote_carrier)'
    if call not in function:
        raise RuntimeError("quote_without_output_type no longer makes the untyped step call")
    source = header + models + "\n\n" + function.replace(call, f"{call}\n    reveal_type(quote)")
    line = next(n for n, text in enumerate(source.splitlines(), 1) if "reveal_type(quote)" in text)
    return source, line


@inngest_client.create_function(
    fn_id="wf01-prepare-shipment-sync",
    trigger=inngest.TriggerEvent(event="wf01/shipment-sync.requested"),
)
def prepare_shipment_sync(ctx: inngest.ContextSync) -> dict[str, Any]:
    request = ShipmentRequested.model_validate(ctx.event.data)

    def quote_carrier(order_id: str, parcels: int) -> CarrierQuote:
        # In a sync function the SDK calls handlers on a worker thread: blocking here is fine.
        side_effects.executed(ctx.event, "sync-quote-carrier", {"on_event_loop": on_event_loop()})
        return CarrierQuote(order_id=order_id, parcels=parcels, carrier="sagawa", price_yen=1100)

    quote = ctx.step.run(
        "quote-carrier", quote_carrier, request.order_id, request.parcels, output_type=CarrierQuote
    )
    return {"quote_type": type(quote).__name__, "quote": quote.model_dump(mode="json")}


@suite.item(
    "WF-01",
    functions=[prepare_shipment, quote_without_output_type, prepare_shipment_sync],
    timeout=90,
)
def step_definition(probe: Probe) -> None:
    order_id = f"order-{probe.tag}"
    parcels = 3
    shipment = {"order_id": order_id, "parcels": parcels}
    run_ids = [
        probe.run_of(probe.send(name, shipment))
        for name in (
            "wf01/shipment.requested",
            "wf01/quote-untyped.requested",
            "wf01/shipment-sync.requested",
        )
    ]
    run, untyped_run, sync_run = (probe.wait(run_id) for run_id in run_ids)
    output = run.output if run.status == "COMPLETED" and isinstance(run.output, dict) else {}
    expected_quote = CarrierQuote(
        order_id=order_id, parcels=parcels, carrier="yamato", price_yen=980
    ).model_dump(mode="json")

    probe.check(
        "async-handler-with-arguments",
        t("an async step handler receives the arguments given to step.run and runs once"),
        output.get("quote") == expected_quote
        and probe.effect_values("quote-carrier")[:1] == [[order_id, parcels]],
        observed={
            "status": run.status,
            "error": run.error,
            "quote": output.get("quote"),
            "handler arguments": probe.effect_values("quote-carrier")[:1],
        },
        expected=str(expected_quote),
        run_ids=[run.id],
    )
    probe.check(
        "typed-model-output",
        t("with output_type, a Pydantic model returned by a step comes back as that model"),
        output.get("quote_type") == "CarrierQuote",
        observed={"type after replay": output.get("quote_type")},
        expected="CarrierQuote",
        run_ids=[run.id],
    )
    untyped = {
        "status": untyped_run.status,
        "output": untyped_run.output,
        "error": untyped_run.error,
    }
    probe.check(
        "model-without-output-type-round-trips",
        t("without output_type, a step returning a Pydantic model gives the model back"),
        untyped_run.output == "CarrierQuote",
        observed=untyped,
        expected="CarrierQuote (the type checker accepts the code)",
        run_ids=[untyped_run.id],
    )
    probe.check(
        "model-without-output-type-never-silent",
        t(
            "without output_type, a step returning a Pydantic model comes back as the model or "
            "fails loudly, never silently as another type"
        ),
        untyped_run.output == "CarrierQuote" or untyped_run.status == "FAILED",
        observed=untyped,
        expected="CarrierQuote, or a failed run naming the problem",
        run_ids=[untyped_run.id],
    )
    # Would a type checker have caught that step before it ran? mypy on the function's source.
    accepted = t(
        "mypy --strict accepts the function whose step returns a Pydantic model without "
        "output_type, and types the step's result as that model"
    )
    if not mypy_available():
        probe.not_run(
            "untyped-model-step-passes-mypy",
            accepted,
            t("mypy is not installed (it comes with the dev extra: pip install -e .[dev])"),
        )
    else:
        probe.say("type-checking the untyped step with mypy --strict")
        source, line = _untyped_step_module()
        with tempfile.TemporaryDirectory(prefix="wf01-mypy-") as tmp:
            typed = check_types(source, Path(tmp), timeout=probe.bound(90))
        revealed = typed.revealed.get(line, "")
        probe.check(
            "untyped-model-step-passes-mypy",
            accepted,
            not typed.errors and revealed.endswith(".CarrierQuote"),
            observed={"mypy errors": typed.errors, "revealed type of the step's result": revealed},
            expected="no errors; the result typed as CarrierQuote",
        )

    labels = output.get("labels")
    trace = probe.api.final_trace(run.id) if run.final else None
    label_spans = [s.name for s in trace.steps("print-label")] if trace else []
    probe.check(
        "repeated-step-id",
        t("one step ID used in a loop runs once per iteration, each with its own result"),
        labels == [f"{order_id}/label-{p}" for p in range(parcels)]
        and sorted(probe.effect_values("print-label")) == list(range(parcels))
        and len(label_spans) == parcels,
        observed={
            "labels": labels,
            "print-label executions (parcel)": probe.effect_values("print-label"),
            "trace steps named print-label": len(label_spans),
        },
        expected=f"{parcels} distinct labels, {parcels} executions, {parcels} trace steps",
        run_ids=[run.id],
    )
    probe.check(
        "sync-handler",
        t("a plain (sync) function works as a step handler in an async function"),
        output.get("pickup") == f"pickup-{order_id}" and probe.effects("reserve-pickup") == 1,
        observed={"pickup": output.get("pickup"), "executions": probe.effects("reserve-pickup")},
        run_ids=[run.id],
    )
    pickup = probe.effect_values("reserve-pickup")
    probe.check(
        "sync-handler-off-event-loop",
        t("a sync step handler in an async function runs off the event loop (blocking is safe)"),
        bool(pickup) and pickup[0]["on_event_loop"] is False,
        observed={"ran on the event loop thread": pickup[0]["on_event_loop"] if pickup else None},
        expected="False: a blocking call there would stall every run the app serves",
        run_ids=[run.id],
    )
    sync_output = sync_run.output if isinstance(sync_run.output, dict) else {}
    sync_effects = probe.effect_values("sync-quote-carrier")
    probe.check(
        "sync-function",
        t("a sync function (ContextSync) runs its steps on a worker thread and completes"),
        sync_run.status == "COMPLETED"
        and sync_output.get("quote_type") == "CarrierQuote"
        and len(sync_effects) == 1
        and sync_effects[0]["on_event_loop"] is False,
        observed={
            "status": sync_run.status,
            "quote_type": sync_output.get("quote_type"),
            "handler executions": len(sync_effects),
            "handler ran on the event loop": sync_effects[0]["on_event_loop"]
            if sync_effects
            else None,
        },
        run_ids=[sync_run.id],
    )


@step_definition.rubric
def _(ev: Evidence) -> Rating:
    if not ev.passed("async-handler-with-arguments"):
        return Rating(
            stars=1,
            reason=t("step.run did not run a handler with its arguments exactly once"),
            drivers=["async-handler-with-arguments"],
        )
    if not ev.passed("typed-model-output"):
        return Rating(
            stars=3,
            reason=t(
                "steps run, but a Pydantic result does not come back typed, even with output_type"
            ),
            drivers=["typed-model-output"],
        )
    if not ev.passed("repeated-step-id"):
        return Rating(
            stars=3,
            reason=t("a step ID repeated in a loop does not give one execution per iteration"),
            drivers=["repeated-step-id"],
        )
    if not (ev.passed("sync-handler") and ev.passed("sync-function")):
        return Rating(
            stars=4,
            reason=t(
                "async steps work in every form tried; sync handlers or sync functions did not"
            ),
            drivers=["sync-handler", "sync-function"],
        )
    if not ev.passed("model-without-output-type-never-silent"):
        # Worse than a step that fails loudly (the pitfalls below): wrong data flows on.
        return Rating(
            stars=3,
            reason=t(
                "steps work in every form tried, but a model returned without output_type "
                "silently came back as another type"
            ),
            drivers=["model-without-output-type-never-silent"],
            advice=t("Pass output_type whenever a step returns a model"),
        )
    # Pitfalls: code that looks right and breaks at run time. A model step without output_type
    # counts unless mypy flagged it (then the type checker catches it before it runs).
    untyped_pitfall = ev.failed("model-without-output-type-round-trips") and not ev.failed(
        "untyped-model-step-passes-mypy"
    )
    loop_pitfall = ev.failed("sync-handler-off-event-loop")
    works = [
        "async-handler-with-arguments",
        "typed-model-output",
        "repeated-step-id",
        "sync-handler",
        "sync-function",
    ]
    untyped_keys = ["model-without-output-type-round-trips", "untyped-model-step-passes-mypy"]
    # Whether mypy's acceptance was observed here (it is not when mypy is not installed).
    mypy_accepts = ev.passed("untyped-model-step-passes-mypy")
    if untyped_pitfall and loop_pitfall:
        return Rating(
            stars=4,
            reason=t(
                "step.run takes handlers with arguments, returns typed models with output_type "
                "and numbers a step ID repeated in a loop; but a step returning a model without "
                "output_type fails at run time although mypy --strict accepts it, and a sync "
                "handler in an async function runs on the event loop, so a blocking call in it "
                "stalls every run the app serves"
            )
            if mypy_accepts
            else t(
                "step.run takes handlers with arguments, returns typed models with output_type "
                "and numbers a step ID repeated in a loop; but a step returning a model without "
                "output_type fails at run time, and a sync handler in an async function runs on "
                "the event loop, so a blocking call in it stalls every run the app serves"
            ),
            drivers=[*works, *untyped_keys, "sync-handler-off-event-loop"],
            advice=t(
                "Pass output_type whenever a step returns a model: without it the step fails at "
                "run time, although the type checker accepts the code. Keep sync step handlers "
                "inside async functions non-blocking: they run on the event loop"
            )
            if mypy_accepts
            else t(
                "Pass output_type whenever a step returns a model: without it the step fails at "
                "run time. Keep sync step handlers inside async functions non-blocking: they run "
                "on the event loop"
            ),
        )
    if untyped_pitfall:
        return Rating(
            stars=4,
            reason=t(
                "step.run takes async or sync handlers with arguments, returns typed models with "
                "output_type and numbers a step ID repeated in a loop; but a step returning a "
                "model without output_type fails at run time although mypy --strict accepts it"
            )
            if mypy_accepts
            else t(
                "step.run takes async or sync handlers with arguments, returns typed models with "
                "output_type and numbers a step ID repeated in a loop; but a step returning a "
                "model without output_type fails at run time"
            ),
            drivers=[*works, *untyped_keys],
            advice=t(
                "Pass output_type whenever a step returns a model: without it the step fails at "
                "run time, although the type checker accepts the code"
            )
            if mypy_accepts
            else t(
                "Pass output_type whenever a step returns a model: without it the step fails at "
                "run time"
            ),
        )
    if loop_pitfall:
        return Rating(
            stars=4,
            reason=t(
                "step.run takes handlers with arguments, returns typed models with output_type "
                "and numbers a step ID repeated in a loop; but a sync handler in an async "
                "function runs on the event loop, so a blocking call in it stalls every run the "
                "app serves"
            ),
            drivers=[*works, "sync-handler-off-event-loop"],
            advice=t(
                "Keep sync step handlers inside async functions non-blocking: they run on the "
                "event loop, so a blocking call stalls every run the app serves"
            ),
        )
    caught = ev.failed("untyped-model-step-passes-mypy")
    return Rating(
        stars=5,
        reason=t(
            "step.run takes async or sync handlers with arguments, returns typed models with "
            "output_type, and numbers a step ID repeated in a loop; sync functions run on worker "
            "threads"
        ),
        drivers=[*works, *untyped_keys, "sync-handler-off-event-loop"],
        advice=t(
            "Pass output_type whenever a step returns a model: mypy flags the step without it, "
            "which fails at run time"
        )
        if caught and ev.failed("model-without-output-type-round-trips")
        else None,
    )


# ═══ WF-02 Child workflows ═════════════════════════════════════════════════════════════════════
# A checkout invokes a pricing function and waits for its typed result, invokes it again with a
# quantity it rejects, waits on a slow stock check with a timeout, and asks a function of another
# app (a partner's exchange-rate service) for a rate by ID.

PARTNER_APP_ID = "durability-suite-partner"
# Declares the partner app's functions; the harness serves them as a second app (other_app).
partner_client = make_client(app_id=PARTNER_APP_ID)


class QuoteRequested(BaseModel):
    tag: str
    sku: str
    quantity: int


class PriceQuote(BaseModel):
    sku: str
    quantity: int
    total_yen: int
    received_keys: list[str]  # what the child found in event.data, to compare with what was sent


@inngest_client.create_function(
    fn_id="wf02-price-quote",
    trigger=inngest.TriggerEvent(event="wf02/price-quote.requested"),
    retries=0,
    output_type=PriceQuote,
)
async def price_quote(ctx: inngest.Context) -> PriceQuote:
    request = QuoteRequested.model_validate(ctx.event.data)
    if request.quantity <= 0:
        raise inngest.NonRetriableError(f"quantity must be positive, got {request.quantity}")
    unit_price = await ctx.step.run("unit-price", echo, 1250)
    return PriceQuote(
        sku=request.sku,
        quantity=request.quantity,
        total_yen=unit_price * request.quantity,
        received_keys=sorted(ctx.event.data),
    )


class StockCheck(BaseModel):
    hold_s: float


@inngest_client.create_function(
    fn_id="wf02-stock-check",
    trigger=inngest.TriggerEvent(event="wf02/stock-check.requested"),
)
async def stock_check(ctx: inngest.Context) -> str:
    # A warehouse that answers late: longer than the caller is willing to wait.
    await ctx.step.sleep(
        "warehouse-latency", timedelta(seconds=StockCheck.model_validate(ctx.event.data).hold_s)
    )
    return "in stock"


@partner_client.create_function(
    fn_id="wf02-fx-rate", trigger=inngest.TriggerEvent(event="wf02/fx-rate.requested")
)
async def fx_rate(ctx: inngest.Context) -> dict[str, Any]:
    currency = str(ctx.event.data["currency"])
    rate = await ctx.step.run("lookup-rate", echo, {"JPY": 151.25}.get(currency, 1.0))
    return {"currency": currency, "rate": rate}


class CheckoutRequested(BaseModel):
    sku: str
    quantity: int
    invoke_timeout_s: float
    stock_hold_s: float


@inngest_client.create_function(
    fn_id="wf02-checkout", trigger=inngest.TriggerEvent(event="wf02/checkout.requested"), retries=0
)
async def checkout(ctx: inngest.Context) -> dict[str, Any]:
    order = CheckoutRequested.model_validate(ctx.event.data)
    tag = str(ctx.event.data["tag"])

    quote = await ctx.step.invoke(
        "price-quote",
        function=price_quote,
        data=QuoteRequested(tag=tag, sku=order.sku, quantity=order.quantity).model_dump(),
    )

    try:
        await ctx.step.invoke(
            "price-invalid-quantity",
            function=price_quote,
            data=QuoteRequested(tag=tag, sku=order.sku, quantity=0).model_dump(),
        )
        child_failure: dict[str, str] | None = None
    except inngest.StepError as err:  # the child's error, raised in the parent
        child_failure = {"type": type(err).__name__, "message": str(err)}

    waited_from = await ctx.step.run("stock-wait-start", wall_clock)
    try:
        stock = await ctx.step.invoke(
            "stock-check",
            function=stock_check,
            data={"hold_s": order.stock_hold_s},
            timeout=timedelta(seconds=order.invoke_timeout_s),
        )
        stock_outcome = f"returned {stock!r}"
    except inngest.StepError as err:
        stock_outcome = f"{type(err).__name__}: {err}"
    waited_until = await ctx.step.run("stock-wait-end", wall_clock)

    rate = await ctx.step.invoke_by_id(
        "fx-rate", app_id=PARTNER_APP_ID, function_id="wf02-fx-rate", data={"currency": "JPY"}
    )
    return {
        "quote_type": type(quote).__name__,
        "quote": quote.model_dump(mode="json"),
        "child_failure": child_failure,
        "stock_outcome": stock_outcome,
        "stock_wait_s": round(waited_until - waited_from, 3),
        "fx": rate,
    }


@suite.item("WF-02", functions=[checkout, price_quote, stock_check], timeout=90)
def child_workflows(probe: Probe) -> None:
    invoke_timeout_s, stock_hold_s = 2.0, 8.0
    # Served in production mode (signed) against a self-hosted server, as the main app is.
    with other_app(PARTNER_APP_ID, [fx_rate], probe.api, keys=probe.devserver.app_keys()):
        run = probe.trigger(
            "wf02/checkout.requested",
            {
                "sku": "tea-set",
                "quantity": 3,
                "invoke_timeout_s": invoke_timeout_s,
                "stock_hold_s": stock_hold_s,
            },
            timeout=40,
        )
    output = run.output if run.status == "COMPLETED" and isinstance(run.output, dict) else {}
    quote = output.get("quote") or {}

    probe.check(
        "invoke-returns-result",
        t("step.invoke returns the child function's result to the parent"),
        quote.get("total_yen") == 3 * 1250 and quote.get("sku") == "tea-set",
        observed={"status": run.status, "quote": quote, "error": run.error},
        expected="total_yen 3750 for 3 x tea-set",
        run_ids=[run.id],
    )
    probe.check(
        "invoke-typed-result",
        t("the child's output_type makes the invoked result a typed model in the parent"),
        output.get("quote_type") == "PriceQuote",
        observed={"type in the parent": output.get("quote_type")},
        expected="PriceQuote",
        run_ids=[run.id],
    )
    failure = output.get("child_failure") or {}
    probe.check(
        "child-failure-catchable",
        t("a failing child raises an error in the parent that the parent can catch"),
        run.status == "COMPLETED" and "quantity must be positive" in failure.get("message", ""),
        observed={"caught": output.get("child_failure"), "parent status": run.status},
        expected="StepError carrying the child's message; the parent goes on",
        run_ids=[run.id],
    )
    waited = output.get("stock_wait_s")
    if isinstance(waited, int | float):
        probe.measure(
            "invoke-timeout-wait",
            waited,
            "s",
            t(
                "time the parent waited on a child that needed {hold:g} s, with an invoke "
                "timeout of {timeout:g} s (one run)",
                hold=stock_hold_s,
                timeout=invoke_timeout_s,
            ),
        )
    probe.check(
        "invoke-timeout-enforced",
        t("an invoke timeout ends the wait for a slow child with an error the parent can catch"),
        isinstance(waited, int | float)
        and invoke_timeout_s <= waited < invoke_timeout_s + 3
        and "StepError" in str(output.get("stock_outcome")),
        observed={"outcome": output.get("stock_outcome"), "waited_s": waited},
        expected=f"a StepError after about {invoke_timeout_s:g} s (the child needs "
        f"{stock_hold_s:g} s)",
        run_ids=[run.id],
    )
    probe.check(
        "cross-app-invoke",
        t("step.invoke_by_id calls a function of another app and returns its result"),
        output.get("fx") == {"currency": "JPY", "rate": 151.25},
        observed={"fx": output.get("fx")},
        expected="{'currency': 'JPY', 'rate': 151.25}",
        run_ids=[run.id],
    )
    sent_keys = sorted(QuoteRequested.model_fields)
    probe.check(
        "child-event-data-as-sent",
        t("the child's event.data holds exactly the data the parent sent"),
        quote.get("received_keys") == sent_keys,
        observed={"keys the child received": quote.get("received_keys")},
        expected=str(sent_keys),
        run_ids=[run.id],
    )


@child_workflows.rubric
def _(ev: Evidence) -> Rating:
    if not ev.passed("invoke-returns-result"):
        return Rating(
            stars=1,
            reason=t("step.invoke did not hand the child's result to the parent"),
            drivers=["invoke-returns-result"],
        )
    if not ev.passed("child-failure-catchable"):
        return Rating(
            stars=2,
            reason=t("a failing child cannot be handled by the parent"),
            drivers=["child-failure-catchable"],
        )
    if not ev.passed("invoke-timeout-enforced"):
        return Rating(
            stars=3,
            reason=t(
                "child results and failures reach the parent, but the invoke timeout did "
                "not bound the wait"
            ),
            drivers=["invoke-timeout-enforced"],
        )
    if not (ev.passed("invoke-typed-result") and ev.passed("cross-app-invoke")):
        return Rating(
            stars=4,
            reason=t(
                "results, failures and timeouts work; typed results or invoking another app did not"
            ),
            drivers=["invoke-typed-result", "cross-app-invoke"],
        )
    core = [
        "invoke-returns-result",
        "invoke-typed-result",
        "child-failure-catchable",
        "invoke-timeout-enforced",
        "cross-app-invoke",
    ]
    if ev.failed("child-event-data-as-sent"):
        return Rating(
            stars=4,
            reason=t(
                "invoke returns typed results, surfaces child failures as catchable errors, "
                "honours its timeout and reaches other apps; but the child's event.data carries "
                "an extra key the parent never sent"
            ),
            drivers=[*core, "child-event-data-as-sent"],
            advice=t(
                "Validate invoked functions' event.data with models that ignore unknown keys "
                "(Pydantic's default): Inngest adds its own _inngest key to it"
            ),
        )
    return Rating(
        stars=5,
        reason=t(
            "invoke returns typed results, surfaces child failures as catchable errors, honours "
            "its timeout and reaches functions of other apps"
        ),
        drivers=core,
    )


# ═══ WF-03 Parallel execution / fan-out ════════════════════════════════════════════════════════
# A report renders its pages in parallel and assembles them in order. Each page's work records
# when it really started and ended; the probe computes how many ran at once. A second function
# runs two branches of two steps each, in both parallel modes the SDK offers.


class RenderRequested(BaseModel):
    pages: int
    work_s: float


@inngest_client.create_function(
    fn_id="wf03-render-report", trigger=inngest.TriggerEvent(event="wf03/report.requested")
)
async def render_report(ctx: inngest.Context) -> list[int]:
    job = RenderRequested.model_validate(ctx.event.data)

    async def render_page(page: int) -> int:
        started = time.time()
        await asyncio.sleep(job.work_s)  # I/O-bound work: the app's event loop stays free
        side_effects.executed(
            ctx.event,
            f"render:{job.pages}",
            {"label": f"page-{page}", "start": started, "end": time.time()},
        )
        return page * page

    pages: tuple[Callable[[], Awaitable[int]], ...] = tuple(
        functools.partial(ctx.step.run, f"page-{page}", render_page, page)
        for page in range(job.pages)
    )
    return list(await ctx.group.parallel(pages))  # fan-in: results in the order given


class BranchesRequested(BaseModel):
    mode: str  # "wait" or "race": inngest.ParallelMode
    fast_s: float
    slow_s: float


@inngest_client.create_function(
    fn_id="wf03-two-branches", trigger=inngest.TriggerEvent(event="wf03/branches.requested")
)
async def two_branches(ctx: inngest.Context) -> list[str]:
    job = BranchesRequested.model_validate(ctx.event.data)

    def branch(name: str, fetch_s: float) -> Callable[[], Awaitable[str]]:
        async def fetch() -> str:
            started = time.time()
            await asyncio.sleep(fetch_s)
            side_effects.executed(
                ctx.event,
                f"branch:{job.mode}",
                {"label": f"{name}.fetch", "start": started, "end": time.time()},
            )
            return f"{name}-data"

        async def store(data: str) -> str:
            now = time.time()
            side_effects.executed(
                ctx.event,
                f"branch:{job.mode}",
                {"label": f"{name}.store", "start": now, "end": now},
            )
            return f"stored {data}"

        async def run_branch() -> str:  # two steps in sequence within one parallel branch
            data = await ctx.step.run(f"{name}-fetch", fetch)
            return await ctx.step.run(f"{name}-store", store, data)

        return run_branch

    return list(
        await ctx.group.parallel(
            (branch("fast", job.fast_s), branch("slow", job.slow_s)),
            parallel_mode=inngest.ParallelMode(job.mode),
        )
    )


FAN_OUT_WIDTHS = (1, 10, 50)
PAGE_WORK_S = 1.0


@suite.item("WF-03", functions=[render_report, two_branches], timeout=120)
def parallel_fan_out(probe: Probe) -> None:
    for width in FAN_OUT_WIDTHS:
        sent = time.time()
        run = probe.trigger(
            "wf03/report.requested", {"pages": width, "work_s": PAGE_WORK_S}, timeout=60
        )
        pages = timeline.intervals(probe.effect_values(f"render:{width}"))
        overlap = timeline.max_overlap(pages)
        wall = run.duration_s
        probe.measure(
            f"fan-out-{width}-overlap",
            overlap,
            "steps at once",
            t(
                "most page steps running at the same instant in the app, {width} parallel steps "
                "of {work:g} s (one run)",
                width=width,
                work=PAGE_WORK_S,
            ),
        )
        if wall is not None:
            probe.measure(
                f"fan-out-{width}-wall",
                round(wall, 3),
                "s",
                t(
                    "run start to end as the dev server reports it, {width} parallel steps of "
                    "{work:g} s (one run)",
                    width=width,
                    work=PAGE_WORK_S,
                ),
            )
        probe.check(
            f"fan-in-{width}",
            t(
                "a fan-out to {width}: every parallel step runs once and the results come back "
                "in order",
                width=width,
            ),
            run.status == "COMPLETED"
            and run.output == [page * page for page in range(width)]
            and sorted(p.label for p in pages) == sorted(f"page-{p}" for p in range(width)),
            observed={"status": run.status, "results": run.output, "executions": len(pages)},
            expected=f"COMPLETED, results [0, 1, 4, ...] for {width} pages, {width} executions",
            run_ids=[run.id],
        )
        if width > 1:
            probe.check(
                f"overlap-{width}",
                t(
                    "{width} parallel steps really run at the same time (at least {need} at once)",
                    width=width,
                    need=width * 8 // 10,
                ),
                overlap >= width * 8 // 10,
                observed={
                    "max at once": overlap,
                    "app wall time s": round(timeline.wall_time(pages), 3),
                    "run wall time s": wall,
                    "timeline ms [page, start, end]": timeline.compact(pages, sent),
                },
                expected=f"{width} at once; 1 would mean the steps ran one after another",
                run_ids=[run.id],
            )

    # Parallel modes: in "race" a branch's second step should not wait for the other branch.
    probe.new_scenario()
    sent = time.time()
    run_ids = {
        mode: probe.run_of(
            probe.send("wf03/branches.requested", {"mode": mode, "fast_s": 0.3, "slow_s": 2.5})
        )
        for mode in ("wait", "race")
    }
    for mode, run_id in run_ids.items():
        run = probe.wait(run_id, timeout=30)
        spans = {s.label: s for s in timeline.intervals(probe.effect_values(f"branch:{mode}"))}
        fast_store, slow_fetch = spans.get("fast.store"), spans.get("slow.fetch")
        independent = (
            fast_store is not None and slow_fetch is not None and fast_store.start < slow_fetch.end
        )
        observed = {
            "status": run.status,
            "output": run.output,
            "timeline ms [step, start, end]": timeline.compact(spans.values(), sent),
        }
        if mode == "race":
            probe.check(
                "race-mode-branches-independent",
                t(
                    "in race mode, a branch's next step starts as soon as its own previous step "
                    "ends"
                ),
                run.status == "COMPLETED" and independent,
                observed=observed,
                expected="fast.store starts before slow.fetch ends",
                run_ids=[run.id],
            )
        else:
            probe.check(
                "wait-mode-waits-for-all",
                t(
                    "in wait mode (the default), next steps start once every parallel step has "
                    "ended"
                ),
                run.status == "COMPLETED" and fast_store is not None and not independent,
                observed=observed,
                expected="fast.store starts after slow.fetch ends",
                run_ids=[run.id],
            )


@parallel_fan_out.rubric
def _(ev: Evidence) -> Rating:
    fan_in = [f"fan-in-{w}" for w in FAN_OUT_WIDTHS]
    overlaps = [f"overlap-{w}" for w in FAN_OUT_WIDTHS if w > 1]
    broken = [k for k in fan_in if not ev.passed(k)]
    if broken:
        return Rating(
            stars=1,
            reason=t(
                "parallel steps did not all run once with their results in order: {checks}",
                checks=", ".join(broken),
            ),
            drivers=broken,
        )
    if not any(ev.passed(k) for k in overlaps):
        return Rating(
            stars=2,
            reason=t("the parallel API works, but the steps ran one after another"),
            drivers=overlaps,
        )
    serial = [k for k in overlaps if not ev.passed(k)]
    if serial:
        return Rating(
            stars=3,
            reason=t(
                "steps overlap at small widths, not at every width tried: {checks}",
                checks=", ".join(serial),
            ),
            drivers=serial,
        )
    modes = ["race-mode-branches-independent", "wait-mode-waits-for-all"]
    if not all(ev.passed(k) for k in modes):
        return Rating(
            stars=4,
            reason=t(
                "fan-out and fan-in work at full width; the parallel modes did not behave "
                "as documented"
            ),
            drivers=modes,
        )
    return Rating(
        stars=5,
        reason=t(
            "up to 50 parallel steps really ran at the same time, each once, with results in "
            "order; race mode lets branches of several steps proceed independently"
        ),
        drivers=[*fan_in, *overlaps, *modes],
    )


# ═══ WF-04 Conditionals and loops ══════════════════════════════════════════════════════════════
# Order lines are priced one step per line, in a plain Python loop; the route depends on the
# order; an order flagged as held stops early; an export is polled until it reports done. No
# workflow DSL: the control flow is ordinary Python around steps.


class LinesSubmitted(BaseModel):
    case: str  # names this order's side effects in the ledger
    lines: int
    express: bool = False
    hold_after: int | None = None  # stop (return early) once this many lines are priced
    polls_needed: int = 0


@inngest_client.create_function(
    fn_id="wf04-price-order-lines",
    trigger=inngest.TriggerEvent(event="wf04/lines.submitted"),
)
async def price_order_lines(ctx: inngest.Context) -> dict[str, Any]:
    order = LinesSubmitted.model_validate(ctx.event.data)

    def effect(name: str, value: Any = None) -> None:
        side_effects.executed(ctx.event, f"{order.case}:{name}", value)

    async def choose_route(route: str) -> str:
        effect(route)
        return route

    async def price_line(line: int) -> int:
        effect("line", line)
        return 100 + line

    async def export_status(poll: int) -> str:
        effect("poll", poll)
        return "done" if poll + 1 >= order.polls_needed else "running"

    if order.express:
        route = await ctx.step.run("express-route", choose_route, "express")
    else:
        route = await ctx.step.run("standard-route", choose_route, "standard")

    total = 0
    for line in range(order.lines):
        total += await ctx.step.run(f"line-{line}", price_line, line)
        if order.hold_after is not None and line + 1 >= order.hold_after:
            return {"route": route, "total": total, "held_after": line + 1}  # early return

    polls = 0
    if order.polls_needed:
        # A loop whose length only the step results decide.
        while await ctx.step.run(f"poll-{polls}", export_status, polls) != "done":
            polls += 1
        polls += 1
    return {"route": route, "total": total, "polls": polls}


LONG_LOOP_STEPS = 120


@suite.item("WF-04", functions=[price_order_lines], timeout=120)
def conditionals_and_loops(probe: Probe) -> None:
    cases: dict[str, dict[str, Any]] = {
        "express": {"lines": 2, "express": True, "polls_needed": 4},
        "standard": {"lines": 2, "express": False},
        "held": {"lines": 10, "hold_after": 3},
        "long": {"lines": LONG_LOOP_STEPS},
    }
    run_ids = {
        case: probe.run_of(probe.send("wf04/lines.submitted", {"case": case, **data}))
        for case, data in cases.items()
    }
    runs = {case: probe.wait(run_id, timeout=90) for case, run_id in run_ids.items()}

    def output(case: str) -> dict[str, Any]:
        run = runs[case]
        return run.output if run.status == "COMPLETED" and isinstance(run.output, dict) else {}

    routes = {
        case: [r for r in ("express", "standard") if probe.effects(f"{case}:{r}")]
        for case in ("express", "standard")
    }
    probe.check(
        "branch-taken",
        t("an if/else around steps runs only the branch the data selects"),
        routes == {"express": ["express"], "standard": ["standard"]}
        and output("express").get("route") == "express"
        and output("standard").get("route") == "standard",
        observed={"routes executed": routes},
        expected="{'express': ['express'], 'standard': ['standard']}",
        run_ids=[runs["express"].id, runs["standard"].id],
    )

    long_run = runs["long"]
    priced = probe.effect_values("long:line")
    probe.check(
        "loop-100-plus-steps",
        t("a loop of {steps} steps runs to completion, each step once", steps=LONG_LOOP_STEPS),
        long_run.status == "COMPLETED"
        and output("long").get("total") == sum(100 + i for i in range(LONG_LOOP_STEPS))
        and sorted(priced) == list(range(LONG_LOOP_STEPS)),
        observed={
            "status": long_run.status,
            "total": output("long").get("total"),
            "line executions": len(priced),
            "distinct lines": len(set(priced)),
            "error": long_run.error,
        },
        expected=f"COMPLETED, {LONG_LOOP_STEPS} executions of {LONG_LOOP_STEPS} distinct lines",
        run_ids=[long_run.id],
    )
    if long_run.duration_s is not None:
        probe.measure(
            "loop-wall-time",
            round(long_run.duration_s, 2),
            "s",
            t("run start to end for {steps} sequential steps (one run)", steps=LONG_LOOP_STEPS),
        )
        probe.measure(
            "loop-per-step",
            round(long_run.duration_s / LONG_LOOP_STEPS * 1000),
            "ms",
            t(
                "mean time per step over a {steps}-step loop: each step is its own request "
                "that replays the steps before it (one run)",
                steps=LONG_LOOP_STEPS,
            ),
        )

    held = runs["held"]
    probe.check(
        "early-return",
        t("returning early from the function leaves the later steps unrun"),
        held.status == "COMPLETED"
        and output("held").get("held_after") == 3
        and sorted(probe.effect_values("held:line")) == [0, 1, 2],
        observed={"output": held.output, "lines priced": probe.effect_values("held:line")},
        expected="held_after 3; lines 0-2 priced, 3-9 never",
        run_ids=[held.id],
    )
    probe.check(
        "result-driven-loop",
        t("a while loop whose end depends on step results stops when they say so"),
        output("express").get("polls") == 4 and probe.effect_values("express:poll") == [0, 1, 2, 3],
        observed={
            "polls": output("express").get("polls"),
            "poll executions": probe.effect_values("express:poll"),
        },
        expected="4 polls, each executed once",
        run_ids=[runs["express"].id],
    )


LOOP_STEP_BUDGET_MS = 1000  # beyond this a loop of many steps is too slow to call ordinary code


@conditionals_and_loops.rubric
def _(ev: Evidence) -> Rating:
    basics = ["branch-taken", "early-return"]
    broken = [k for k in basics if not ev.passed(k)]
    if broken:
        return Rating(
            stars=2,
            reason=t(
                "plain Python control flow around steps misbehaved: {checks}",
                checks=", ".join(broken),
            ),
            drivers=broken,
        )
    if not ev.passed("loop-100-plus-steps"):
        return Rating(
            stars=3,
            reason=t(
                "branches and early returns work; a loop of over a hundred steps did not "
                "complete correctly"
            ),
            drivers=["loop-100-plus-steps"],
        )
    if not ev.passed("result-driven-loop"):
        return Rating(
            stars=4,
            reason=t(
                "branches, early returns and long loops work; a loop driven by step results "
                "did not stop as it should"
            ),
            drivers=["result-driven-loop"],
        )
    try:
        per_step = ev.value("loop-per-step")
    except MissingEvidenceError:  # unknown is not fast: no top rating on a missing timing
        return Rating(
            stars=4,
            reason=t(
                "control flow is plain Python and correct, but the loop's time per step was not "
                "measured (the run reported no start or end time)"
            ),
            drivers=["loop-100-plus-steps"],
        )
    if per_step > LOOP_STEP_BUDGET_MS:
        return Rating(
            stars=4,
            reason=t(
                "control flow is plain Python and correct, but each loop step took {ms:.0f} ms",
                ms=per_step,
            ),
            drivers=["loop-100-plus-steps"],
            advice=t("Batch small pieces of work into fewer steps where a loop runs many times"),
        )
    return Rating(
        stars=5,
        reason=t(
            "ordinary Python if/else, for and while loops and early returns work around steps; "
            "a loop of over a hundred steps completed with each step run once"
        ),
        drivers=[*basics, "loop-100-plus-steps", "result-driven-loop"],
    )


# ═══ WF-05 Sleep and timers ════════════════════════════════════════════════════════════════════
# A reminder waits a duration (step.sleep) or until a moment (step.sleep_until); the step after
# the wait records when it really ran. A heartbeat runs on a cron schedule, every minute.


class ReminderScheduled(BaseModel):
    mode: str  # "sleep" (a duration) or "until" (a moment)
    delay_s: float


@inngest_client.create_function(
    fn_id="wf05-send-reminder", trigger=inngest.TriggerEvent(event="wf05/reminder.scheduled")
)
async def send_reminder(ctx: inngest.Context) -> dict[str, float]:
    reminder = ReminderScheduled.model_validate(ctx.event.data)
    # The wake-up moment is computed once, in a step, so every replay sees the same one.
    scheduled_at = await ctx.step.run("schedule", wall_clock)
    wake_at = scheduled_at + reminder.delay_s
    if reminder.mode == "until":
        await ctx.step.sleep_until("wait-until", datetime.fromtimestamp(wake_at, UTC))
    else:
        await ctx.step.sleep("wait", timedelta(seconds=reminder.delay_s))
    woke_at = await ctx.step.run("send", wall_clock)
    return {"scheduled_at": scheduled_at, "wake_at": wake_at, "woke_at": woke_at}


CRON_FIRED = "wf05:heartbeat"  # ledger key (cron runs carry no probe tag)


@inngest_client.create_function(
    fn_id="wf05-heartbeat", trigger=inngest.TriggerCron(cron="* * * * *"), retries=0
)
async def heartbeat(ctx: inngest.Context) -> float:
    fired_at = time.time()
    # The server's cron event names the minute it stands for (RFC 3339, whole seconds).
    scheduled = ctx.event.data.get("scheduledAt")
    side_effects.record(
        CRON_FIRED, {"fired_at": fired_at, "scheduled_at": scheduled, "run": ctx.run_id}
    )
    return fired_at


def cron_lateness(firing: dict[str, Any]) -> float | None:
    """Seconds from the minute a cron run was scheduled for to its handler running; None when
    the event did not say which minute it was for (missing is missing, not on time)."""
    scheduled = firing.get("scheduled_at")
    if not isinstance(scheduled, str):
        return None
    at = datetime.fromisoformat(scheduled.replace("Z", "+00:00")).timestamp()
    return round(float(firing["fired_at"]) - at, 3)


SLEEP_DELAYS_S = (2.0, 3.0, 4.0)
CRON_WAIT_S = 75.0  # a "* * * * *" schedule fires within 60 s of being registered
CRON_LATE_S = 5.0  # a firing later than this after its minute is late


@suite.item("WF-05", functions=[send_reminder, heartbeat], timeout=150)
def sleep_and_timers(probe: Probe) -> None:
    run_ids = {
        (mode, delay): probe.run_of(
            probe.send("wf05/reminder.scheduled", {"mode": mode, "delay_s": delay})
        )
        for mode in ("sleep", "until")
        for delay in SLEEP_DELAYS_S
    }
    runs = {case: probe.wait(run_id, timeout=30) for case, run_id in run_ids.items()}
    for mode in ("sleep", "until"):
        errors: list[float] = []
        samples: list[dict[str, Any]] = []
        for delay in SLEEP_DELAYS_S:
            run = runs[(mode, delay)]
            out = run.output if run.status == "COMPLETED" and isinstance(run.output, dict) else {}
            if not out:
                samples.append({"requested_s": delay, "status": run.status, "error": run.error})
                continue
            # sleep: from the end of the step before the wait to the start of the step after it;
            # sleep_until: from the requested moment to the start of the step after it.
            slept = out["woke_at"] - out["scheduled_at"]
            error = slept - delay if mode == "sleep" else out["woke_at"] - out["wake_at"]
            errors.append(error)
            samples.append(
                {"requested_s": delay, "slept_s": round(slept, 3), "error_s": round(error, 3)}
            )
        spread = timeline.spread(errors)
        if errors:
            probe.measure(
                f"{mode}-error-median",
                round(float(spread["median"]), 3),
                "s",
                t(
                    "median of woke-up minus requested time over {n} runs ({low:g}-{high:g} s "
                    "waits); min {min:g} s, max {max:g} s",
                    n=len(errors),
                    low=min(SLEEP_DELAYS_S),
                    high=max(SLEEP_DELAYS_S),
                    min=spread["min"],
                    max=spread["max"],
                ),
            )
        completed = len(errors) == len(SLEEP_DELAYS_S)
        key, description = (
            (
                "sleep-wakes-on-time",
                t("step.sleep resumes the run no earlier than asked and within 2 s of it"),
            )
            if mode == "sleep"
            else (
                "sleep-until-wakes-on-time",
                t(
                    "step.sleep_until resumes the run no earlier "
                    "than the moment asked and within 2 s of it"
                ),
            )
        )
        probe.check(
            key,
            description,
            completed and all(-0.05 <= e <= 2.0 for e in errors),
            observed=samples,
            expected="every error between 0 and 2 s (never early)",
            run_ids=[runs[(mode, d)].id for d in SLEEP_DELAYS_S],
        )
        probe.check(
            f"{mode}-never-early",
            t(
                "no run woke up before the requested time ({call})",
                call="step.sleep" if mode == "sleep" else "step.sleep_until",
            ),
            completed and all(e >= -0.05 for e in errors),
            observed=samples,
            run_ids=[runs[(mode, d)].id for d in SLEEP_DELAYS_S],
        )

    # The cron function was registered when the app synced at start-up, so by now it has
    # usually fired already; otherwise wait (bounded) for its first minute to come.
    registered = probe.app.synced_at or time.time()
    probe.say("waiting for the every-minute cron to fire")
    deadline = registered + CRON_WAIT_S
    while not probe.ledger.count(CRON_FIRED) and time.time() < deadline:
        time.sleep(min(1.0, probe.bound(max(0.01, deadline - time.time()))))
    recorded = probe.ledger.values(CRON_FIRED)
    firings = [f["fired_at"] for f in recorded]
    lateness = [cron_lateness(f) for f in recorded]
    late = [x for x in lateness if x is not None]
    observed = {
        "registered": datetime.fromtimestamp(registered, UTC).isoformat(timespec="milliseconds"),
        "firings": [
            datetime.fromtimestamp(f, UTC).isoformat(timespec="milliseconds") for f in firings
        ],
        "scheduled for": [f.get("scheduled_at") for f in recorded],
        "seconds after the scheduled minute": lateness,
        "first firing after registration s": round(firings[0] - registered, 3) if firings else None,
    }
    cron_runs = [str(f["run"]) for f in probe.ledger.values(CRON_FIRED)]
    probe.check(
        "cron-fires",
        t(
            "a function with the schedule * * * * * fires within {s:.0f} s of being registered",
            s=CRON_WAIT_S,
        ),
        bool(firings) and firings[0] - registered <= CRON_WAIT_S,
        observed=observed,
        run_ids=cron_runs,
    )
    if late:
        probe.measure(
            "cron-lateness-max",
            max(late),
            "s",
            t(
                "latest firing after the minute its cron event was scheduled for "
                "(data.scheduledAt); firings watched: {n}",
                n=len(late),
            ),
        )
    probe.check(
        "cron-on-schedule",
        t("every cron firing comes within {s:.0f} s after its scheduled minute", s=CRON_LATE_S),
        bool(late) and len(late) == len(lateness) and all(0 <= x <= CRON_LATE_S for x in late),
        observed=observed,
        run_ids=cron_runs,
    )


@sleep_and_timers.rubric
def _(ev: Evidence) -> Rating:
    sleeps = ["sleep-wakes-on-time", "sleep-until-wakes-on-time"]
    early = [k for k in ("sleep-never-early", "until-never-early") if not ev.passed(k)]
    if early:
        return Rating(
            stars=1 if len(early) == 2 else 2,
            reason=t(
                "sleeping runs did not all complete, or woke before the requested time: {checks}",
                checks=", ".join(early),
            ),
            drivers=early,
        )
    inaccurate = [k for k in sleeps if not ev.passed(k)]
    if inaccurate:
        return Rating(
            stars=3,
            reason=t(
                "durable sleeps resume, but later than 2 s after the requested time: {checks}",
                checks=", ".join(inaccurate),
            ),
            drivers=inaccurate,
        )
    if not ev.passed("cron-fires"):
        return Rating(
            stars=3,
            reason=t("durable sleeps are accurate, but the cron-triggered function did not fire"),
            drivers=["cron-fires"],
        )
    if not ev.passed("cron-on-schedule"):
        return Rating(
            stars=4,
            reason=t("durable sleeps are accurate; cron firings came late after their minute"),
            drivers=["cron-on-schedule"],
        )
    medians = []
    for key in ("sleep-error-median", "until-error-median"):
        with contextlib.suppress(KeyError):
            medians.append(ev.value(key))
    return Rating(
        stars=5,
        reason=t(
            "step.sleep and step.sleep_until resume within 2 s of the requested time (median "
            "error at most {ms:.0f} ms), never early, and a cron schedule fires on its minute",
            ms=max(medians, default=0.0) * 1000,
        ),
        drivers=[*sleeps, "cron-fires", "cron-on-schedule"],
    )


# ═══ WF-06 Queue and rate control ══════════════════════════════════════════════════════════════
# One function per flow-control option, each doing simulated I/O (asyncio.sleep) and recording
# when its work really started and ended. The probe sends bursts of events and measures what
# the dev server let through, when, and how many at once.


async def simulated_io(ctx: inngest.Context, effect: str, label: str, seconds: float) -> None:
    """Work that waits on I/O for ``seconds``, recorded with its real start and end."""
    started = time.time()
    await asyncio.sleep(seconds)  # never time.sleep here: it would block every run in the app
    side_effects.executed(
        ctx.event,
        effect,
        {"label": label, "start": started, "end": time.time(), "key": ctx.event.data.get("key")},
    )


class SupplierSync(BaseModel):
    seq: int
    key: str  # the customer: the concurrency key where there is one
    work_s: float


def _inventory_sync(fn_id: str, concurrency: list[inngest.Concurrency] | None) -> Any:
    @inngest_client.create_function(
        fn_id=fn_id, trigger=inngest.TriggerEvent(event=f"wf06/{fn_id}"), concurrency=concurrency
    )
    async def sync_inventory(ctx: inngest.Context) -> None:
        job = SupplierSync.model_validate(ctx.event.data)

        async def call_supplier() -> None:
            await simulated_io(ctx, fn_id, f"{job.key}#{job.seq}", job.work_s)

        await ctx.step.run("call-supplier", call_supplier)

    return sync_inventory


CONCURRENCY_LIMIT = 2
sync_inventory = _inventory_sync("wf06-sync-inventory", None)  # the control: no limit
sync_inventory_limited = _inventory_sync(
    "wf06-sync-inventory-limited", [inngest.Concurrency(limit=CONCURRENCY_LIMIT)]
)
sync_inventory_per_customer = _inventory_sync(
    "wf06-sync-inventory-per-customer", [inngest.Concurrency(limit=1, key="event.data.key")]
)


class Numbered(BaseModel):
    seq: int  # the event's place in its burst


THROTTLE = inngest.Throttle(limit=1, period=timedelta(seconds=2))  # burst: the SDK default


@inngest_client.create_function(
    fn_id="wf06-send-sms",
    trigger=inngest.TriggerEvent(event="wf06/sms.requested"),
    throttle=THROTTLE,
)
async def send_sms(ctx: inngest.Context) -> None:
    seq = Numbered.model_validate(ctx.event.data).seq

    async def call_sms_gateway() -> None:
        await simulated_io(ctx, "sms", f"sms#{seq}", 0.2)

    await ctx.step.run("call-sms-gateway", call_sms_gateway)


RATE_LIMIT = inngest.RateLimit(limit=3, period=timedelta(seconds=6))


@inngest_client.create_function(
    fn_id="wf06-refresh-dashboard",
    trigger=inngest.TriggerEvent(event="wf06/dashboard.changed"),
    rate_limit=RATE_LIMIT,
)
async def refresh_dashboard(ctx: inngest.Context) -> int:
    seq = Numbered.model_validate(ctx.event.data).seq
    side_effects.executed(ctx.event, "refresh", seq)
    return seq


DEBOUNCE = inngest.Debounce(period=timedelta(seconds=2))


@inngest_client.create_function(
    fn_id="wf06-reindex-search",
    trigger=inngest.TriggerEvent(event="wf06/document.edited"),
    debounce=DEBOUNCE,
)
async def reindex_search(ctx: inngest.Context) -> int:
    # The event the run got: with debounce, the last of the burst.
    seq = Numbered.model_validate(ctx.event.data).seq
    side_effects.executed(ctx.event, "reindex", {"seq": seq, "start": time.time()})
    return seq


BATCH = inngest.Batch(max_size=5, timeout=timedelta(seconds=3))


@inngest_client.create_function(
    fn_id="wf06-import-rows",
    trigger=inngest.TriggerEvent(event="wf06/row.uploaded"),
    batch_events=BATCH,
)
async def import_rows(ctx: inngest.Context) -> int:
    seqs = [Numbered.model_validate(event.data).seq for event in ctx.events]
    side_effects.executed(ctx.event, "import", {"seqs": seqs, "start": time.time()})
    return len(seqs)


class InvoiceRender(BaseModel):
    name: str
    plan: str  # "enterprise" invoices go first
    priority: int  # the same wish as a number of seconds, for Priority(run="event.data.priority")
    work_s: float


def _invoice_renderer(fn_id: str, priority: str) -> Any:
    @inngest_client.create_function(
        fn_id=fn_id,
        trigger=inngest.TriggerEvent(event=f"wf06/{fn_id}"),
        concurrency=[inngest.Concurrency(limit=1)],  # one at a time, so a backlog forms
        priority=inngest.Priority(run=priority),
    )
    async def render_invoice(ctx: inngest.Context) -> None:
        job = InvoiceRender.model_validate(ctx.event.data)

        async def render() -> None:
            side_effects.executed(ctx.event, f"{fn_id}:started", job.name)
            await simulated_io(ctx, fn_id, job.name, job.work_s)

        await ctx.step.run("render", render)

    return render_invoice


# The docs give both expression forms as examples: a condition with integer literals, and a
# number read from the event ("where event.data.priority is an int").
PRIORITY_BY_PLAN = "event.data.plan == 'enterprise' ? 600 : 0"
PRIORITY_BY_FIELD = "event.data.priority"
PRIORITY_BY_INT_FIELD = "int(event.data.priority)"  # the same number, converted explicitly
render_invoice = _invoice_renderer("wf06-render-invoice", PRIORITY_BY_PLAN)
render_invoice_by_field = _invoice_renderer("wf06-render-invoice-by-field", PRIORITY_BY_FIELD)
render_invoice_by_int_field = _invoice_renderer(
    "wf06-render-invoice-by-int-field", PRIORITY_BY_INT_FIELD
)


class ExportRequested(BaseModel):
    name: str
    work_s: float


@inngest_client.create_function(
    fn_id="wf06-nightly-export",
    trigger=inngest.TriggerEvent(event="wf06/export.requested"),
    singleton=inngest.Singleton(mode="skip"),  # a second export while one runs is dropped
)
async def nightly_export(ctx: inngest.Context) -> str:
    job = ExportRequested.model_validate(ctx.event.data)

    async def export() -> None:
        side_effects.executed(ctx.event, "export-started", job.name)
        await simulated_io(ctx, "export", job.name, job.work_s)

    await ctx.step.run("export", export)
    return job.name


@inngest_client.create_function(
    fn_id="wf06-rebuild-cache",
    trigger=inngest.TriggerEvent(event="wf06/cache.stale"),
    singleton=inngest.Singleton(mode="cancel"),  # a newer rebuild replaces the running one
)
async def rebuild_cache(ctx: inngest.Context) -> str:
    job = ExportRequested.model_validate(ctx.event.data)

    async def rebuild() -> None:
        side_effects.executed(ctx.event, "rebuild-started", job.name)
        await simulated_io(ctx, "rebuild", job.name, job.work_s)

    async def publish() -> None:
        side_effects.executed(ctx.event, "publish", job.name)

    await ctx.step.run("rebuild", rebuild)
    await ctx.step.run("publish", publish)
    return job.name


WF06_FUNCTIONS = [
    sync_inventory,
    sync_inventory_limited,
    sync_inventory_per_customer,
    send_sms,
    refresh_dashboard,
    reindex_search,
    import_rows,
    render_invoice,
    render_invoice_by_field,
    render_invoice_by_int_field,
    nightly_export,
    rebuild_cache,
]


def _measure_concurrency(probe: Probe) -> None:
    work_s, per_function = 1.5, 6
    customers = ["a", "a", "a", "b", "b", "b"]
    functions = [sync_inventory, sync_inventory_limited, sync_inventory_per_customer]
    bursts = {
        fn.id: probe.send_burst(
            f"wf06/{fn.local_id}",
            [{"seq": i, "key": customers[i], "work_s": work_s} for i in range(per_function)],
        )
        for fn in functions
    }
    spans: dict[str, list[timeline.Interval]] = {}
    runs: dict[str, list[str]] = {}
    for fn in functions:
        found = probe.function_runs(fn, since=bursts[fn.id].origin, count=per_function, timeout=40)
        runs[fn.id] = [r.id for r in found]
        spans[fn.id] = timeline.intervals(probe.effect_values(fn.local_id), key="key")

    def observed(fn: Any) -> dict[str, Any]:
        return {
            "max at once": timeline.max_overlap(spans[fn.id]),
            "max at once per key": timeline.max_overlap_by_key(spans[fn.id]),
            "executions": len(spans[fn.id]),
            "timeline ms [customer#seq, start, end, key]": timeline.compact(
                spans[fn.id], bursts[fn.id].origin
            ),
        }

    free = timeline.max_overlap(spans[sync_inventory.id])
    limited = timeline.max_overlap(spans[sync_inventory_limited.id])
    per_key = timeline.max_overlap_by_key(spans[sync_inventory_per_customer.id])
    keyed_total = timeline.max_overlap(spans[sync_inventory_per_customer.id])
    note = t(
        "most steps running at once without a limit, {n} runs of {work:g} s sent in one burst",
        n=per_function,
        work=work_s,
    )
    probe.measure("concurrency-unlimited-max", free, "steps at once", note)
    probe.measure(
        "concurrency-limited-max",
        limited,
        "steps at once",
        t(
            "most steps running at once with Concurrency(limit={limit}), {n} runs of {work:g} s "
            "sent in one burst",
            limit=CONCURRENCY_LIMIT,
            n=per_function,
            work=work_s,
        ),
    )
    probe.check(
        "concurrency-overlap-observable",
        t(
            "without a limit, runs sent together really overlap (the measurement can see "
            "concurrency)"
        ),
        free >= per_function - 1 and len(spans[sync_inventory.id]) == per_function,
        observed=observed(sync_inventory),
        expected=f"{per_function} at once",
        run_ids=runs[sync_inventory.id],
    )
    probe.check(
        "concurrency-limit-held",
        t(
            "Concurrency(limit={limit}) never lets more than {limit} steps run at once",
            limit=CONCURRENCY_LIMIT,
        ),
        limited <= CONCURRENCY_LIMIT and len(spans[sync_inventory_limited.id]) == per_function,
        observed=observed(sync_inventory_limited),
        expected=f"at most {CONCURRENCY_LIMIT} at once, all {per_function} runs done",
        run_ids=runs[sync_inventory_limited.id],
    )
    probe.check(
        "concurrency-limit-used",
        t(
            "Concurrency(limit={limit}) lets {limit} steps run at once when work is waiting",
            limit=CONCURRENCY_LIMIT,
        ),
        limited == CONCURRENCY_LIMIT,
        observed={"max at once": limited},
        expected=str(CONCURRENCY_LIMIT),
        run_ids=runs[sync_inventory_limited.id],
    )
    probe.check(
        "concurrency-key-isolated",
        t("a keyed limit of 1 serialises each key's runs while different keys run side by side"),
        all(v <= 1 for v in per_key.values()) and keyed_total == len(per_key) == 2,
        observed=observed(sync_inventory_per_customer),
        expected="1 at once per customer, 2 at once overall",
        run_ids=runs[sync_inventory_per_customer.id],
    )


def _measure_throttle(probe: Probe) -> None:
    events = 4
    burst = probe.send_burst("wf06/sms.requested", [{"seq": i} for i in range(events)])
    runs = probe.function_runs(send_sms, since=burst.origin, count=events, timeout=40)
    spans = timeline.intervals(probe.effect_values("sms"))
    starts = [s.start for s in spans]
    period = THROTTLE.period.total_seconds() if isinstance(THROTTLE.period, timedelta) else 0.0
    emission = period / THROTTLE.limit  # the documented spacing: period / limit
    gaps = timeline.gaps(starts)
    burst_allowance = THROTTLE.burst or 1
    immediate = sum(1 for s in starts if s - burst.origin < emission * 0.5)
    spaced = gaps[max(immediate - 1, 0) :]  # the gaps after the starts that came at once
    observed = {
        "start ms after burst": timeline.offsets(starts, burst.origin),
        "gaps s": [round(g, 3) for g in gaps],
        "starts in any 2 s window (max)": timeline.max_in_window(starts, period),
        "statuses": [r.status for r in runs],
    }
    probe.measure(
        "throttle-gap-median",
        round(float(timeline.spread(gaps).get("median", 0.0)), 3),
        "s",
        t(
            "median gap between run starts under Throttle(limit={limit}, period={period:g} s), "
            "{n} events sent in one burst",
            limit=THROTTLE.limit,
            period=period,
            n=events,
        ),
    )
    probe.check(
        "throttle-keeps-every-event",
        t("throttling delays runs but loses none: every event of the burst runs"),
        len(runs) == events
        and all(r.status == "COMPLETED" for r in runs)
        and sorted(s.label for s in spans) == sorted(f"sms#{i}" for i in range(events)),
        observed=observed,
        expected=f"{events} completed runs",
        run_ids=[r.id for r in runs],
    )
    probe.check(
        "throttle-spreads-starts",
        t(
            "after those that start at once, throttled runs start about period/limit ({s:g} s) "
            "apart",
            s=emission,
        ),
        len(spaced) >= 2 and all(g >= emission * 0.8 for g in spaced),
        observed=observed,
        expected=f"gaps of about {emission:g} s",
        run_ids=[r.id for r in runs],
    )
    probe.check(
        "throttle-burst-as-documented",
        t(
            "no more runs start at once than the burst allows (burst {burst})",
            burst=burst_allowance,
        ),
        immediate <= burst_allowance,
        observed={"started within half a period of the burst": immediate, **observed},
        expected=f"at most {burst_allowance} (the docs: burst 1 smooths starts over the period)",
        run_ids=[r.id for r in runs],
    )


def _measure_rate_limit(probe: Probe) -> None:
    period = RATE_LIMIT.period.total_seconds() if isinstance(RATE_LIMIT.period, timedelta) else 0.0
    instant, paced, spacing = 6, 12, 0.5
    burst = probe.send_burst("wf06/dashboard.changed", [{"seq": i} for i in range(instant)])
    stream = probe.send_burst(
        "wf06/dashboard.changed",
        [{"seq": instant + i} for i in range(paced)],
        spacing_s=spacing,
    )
    sent_at = dict(enumerate([*burst.sent_at, *stream.sent_at]))
    runs = probe.function_runs(
        refresh_dashboard, since=burst.origin, count=1, timeout=30, settle=3.0
    )
    admitted = [int(r.output) for r in runs if isinstance(r.output, int)]
    executed = probe.effect_values("refresh")
    admitted_times = [sent_at[seq] for seq in admitted if seq in sent_at]
    in_window = timeline.max_in_window(admitted_times, period)
    from_burst = sum(1 for seq in admitted if seq < instant)
    observed = {
        "events sent": instant + paced,
        "runs": len(runs),
        "admitted seqs (0-5 at once, 6-17 paced 0.5 s apart)": sorted(admitted),
        "admitted send ms after burst": timeline.offsets(admitted_times, burst.origin),
        "max admitted in any 6 s window": in_window,
        "executions": sorted(executed),
    }
    probe.measure(
        "rate-limit-runs",
        len(runs),
        "runs",
        t(
            "runs started by {n} events ({instant} at once, then {paced} every {spacing:g} s) "
            "under RateLimit(limit={limit}, period={period:g} s)",
            n=instant + paced,
            instant=instant,
            paced=paced,
            spacing=spacing,
            limit=RATE_LIMIT.limit,
            period=period,
        ),
    )
    probe.measure(
        "rate-limit-instant-burst-admitted",
        from_burst,
        "runs",
        t("runs started by the {n} events sent at one instant", n=instant),
    )
    probe.check(
        "rate-limit-drops-excess",
        t("events beyond the rate limit start no run, now or later"),
        0 < len(runs) < instant + paced and sorted(executed) == sorted(admitted),
        observed=observed,
        expected="fewer runs than events; dropped events never run",
        run_ids=[r.id for r in runs],
    )
    probe.check(
        "rate-limit-within-limit",
        t(
            "no {period:g} s window admits more than {limit} runs",
            period=period,
            limit=RATE_LIMIT.limit,
        ),
        0 < in_window <= RATE_LIMIT.limit,
        observed=observed,
        expected=f"at most {RATE_LIMIT.limit}",
        run_ids=[r.id for r in runs],
    )


def _measure_debounce(probe: Probe) -> None:
    period = DEBOUNCE.period.total_seconds() if isinstance(DEBOUNCE.period, timedelta) else 0.0
    events, spacing = 5, 0.4
    burst = probe.send_burst(
        "wf06/document.edited", [{"seq": i} for i in range(events)], spacing_s=spacing
    )
    runs = probe.function_runs(reindex_search, since=burst.origin, count=1, timeout=30, settle=3.0)
    executed = probe.effect_values("reindex")
    delay = executed[0]["start"] - burst.last if executed else None
    observed = {
        "events": events,
        "runs": len(runs),
        "seq each run got": [e["seq"] for e in executed],
        "run start ms after the first event": [
            timeline.ms(e["start"], burst.origin) for e in executed
        ],
        "last event ms after the first": timeline.ms(burst.last, burst.origin),
    }
    if delay is not None:
        probe.measure(
            "debounce-delay",
            round(delay, 3),
            "s",
            t(
                "from the last event to the debounced run's start, Debounce(period={period:g} s), "
                "{n} events {spacing:g} s apart (one run)",
                period=period,
                n=events,
                spacing=spacing,
            ),
        )
    probe.check(
        "debounce-one-run",
        t("a burst of events within the debounce period starts one run"),
        len(runs) == 1 and len(executed) == 1,
        observed=observed,
        expected="1 run",
        run_ids=[r.id for r in runs],
    )
    probe.check(
        "debounce-last-event",
        t("the debounced run gets the last event of the burst"),
        [e["seq"] for e in executed] == [events - 1],
        observed=observed,
        expected=f"seq {events - 1}",
        run_ids=[r.id for r in runs],
    )
    probe.check(
        "debounce-delay",
        t("the debounced run starts about one period ({s:g} s) after the last event", s=period),
        delay is not None and period * 0.8 <= delay <= period + 3,
        observed={"delay s": round(delay, 3) if delay is not None else None, **observed},
        expected=f"{period:g} s to {period + 3:g} s",
        run_ids=[r.id for r in runs],
    )


def _measure_batching(probe: Probe) -> None:
    timeout = BATCH.timeout.total_seconds() if isinstance(BATCH.timeout, timedelta) else 0.0
    events = 12
    full, rest = divmod(events, BATCH.max_size)
    burst = probe.send_burst("wf06/row.uploaded", [{"seq": i} for i in range(events)])
    runs = probe.function_runs(
        import_rows, since=burst.origin, count=full + 1, timeout=30, settle=2.0
    )
    batches = sorted(probe.effect_values("import"), key=lambda b: b["start"])
    sizes = [len(b["seqs"]) for b in batches]
    every = sorted(seq for b in batches for seq in b["seqs"])
    partial = [b for b in batches if len(b["seqs"]) < BATCH.max_size]
    flush_s = partial[0]["start"] - burst.origin if partial else None
    observed = {
        "batch sizes": sizes,
        "batches [start ms after burst, seqs]": [
            [timeline.ms(b["start"], burst.origin), b["seqs"]] for b in batches
        ],
        "runs": len(runs),
    }
    if flush_s is not None:
        probe.measure(
            "batch-timeout-flush",
            round(flush_s, 3),
            "s",
            t(
                "from the burst to the start of the partial batch, Batch(max_size={size}, "
                "timeout={timeout:g} s), {n} events in one burst",
                size=BATCH.max_size,
                timeout=timeout,
                n=events,
            ),
        )
    probe.check(
        "batch-max-size",
        t("a burst is split into batches of at most max_size ({size}) events", size=BATCH.max_size),
        sorted(sizes, reverse=True) == [BATCH.max_size] * full + ([rest] if rest else []),
        observed=observed,
        expected=str([BATCH.max_size] * full + ([rest] if rest else [])),
        run_ids=[r.id for r in runs],
    )
    probe.check(
        "batch-every-event-once",
        t("every event of the burst is in exactly one batch"),
        every == list(range(events)),
        observed={"events in batches": every},
        expected=f"0..{events - 1}, once each",
        run_ids=[r.id for r in runs],
    )
    probe.check(
        "batch-timeout-flush",
        t("a partial batch runs once the batch timeout ({s:g} s) passes", s=timeout),
        flush_s is not None and timeout * 0.8 <= flush_s <= timeout + 3,
        observed={"partial batch started s after burst": flush_s, **observed},
        expected=f"{timeout:g} s to {timeout + 3:g} s",
        run_ids=[r.id for r in runs],
    )


def _measure_priority(probe: Probe) -> None:
    functions = {
        "priority-overtakes-backlog": (render_invoice, PRIORITY_BY_PLAN),
        "priority-from-event-field": (render_invoice_by_field, PRIORITY_BY_FIELD),
        "priority-from-int-of-event-field": (render_invoice_by_int_field, PRIORITY_BY_INT_FIELD),
    }

    def invoices(names: list[str], plan: str, work_s: float) -> list[dict[str, Any]]:
        priority = 600 if plan == "enterprise" else 0
        return [{"name": n, "plan": plan, "priority": priority, "work_s": work_s} for n in names]

    origins = {}
    for fn, _ in functions.values():
        origins[fn.id] = probe.send_burst(
            f"wf06/{fn.local_id}", invoices(["blocker"], "free", 1.5)
        ).origin
    for fn, _ in functions.values():
        if not probe.wait_for_effect(f"{fn.local_id}:started", timeout=20):
            raise RuntimeError(f"{fn.id}: the first invoice never started; no backlog can form")
    for fn, _ in functions.values():
        probe.send_burst(
            f"wf06/{fn.local_id}", invoices([f"free-{i}" for i in range(1, 5)], "free", 0.5)
        )
    time.sleep(0.2)  # the enterprise invoice comes last, behind the whole backlog
    for fn, _ in functions.values():
        probe.send_burst(f"wf06/{fn.local_id}", invoices(["enterprise"], "enterprise", 0.5))
    for key, (fn, expression) in functions.items():
        runs = probe.function_runs(fn, since=origins[fn.id], count=6, timeout=40)
        order = probe.effect_values(f"{fn.local_id}:started")
        spans = timeline.intervals(probe.effect_values(fn.local_id))
        probe.check(
            key,
            t(
                "Priority(run={expression}) starts an enterprise invoice sent after a backlog "
                "before the backlog",
                expression=expression,
            ),
            order[:2] == ["blocker", "enterprise"] and len(order) == 6,
            observed={
                "start order": order,
                "timeline ms [name, start, end]": timeline.compact(spans, origins[fn.id]),
            },
            expected="blocker, enterprise, then the free ones",
            run_ids=[r.id for r in runs],
        )


def _measure_singletons(probe: Probe) -> None:
    # Skip: a second and third export while the first runs are dropped; a later one runs.
    first = probe.send_burst("wf06/export.requested", [{"name": "first", "work_s": 2.5}])
    if not probe.wait_for_effect("export-started", timeout=20):
        raise RuntimeError("the first export never started; cannot test singleton skip")
    during = probe.send_burst(
        "wf06/export.requested", [{"name": n, "work_s": 0.2} for n in ("second", "third")]
    )
    probe.function_runs(nightly_export, since=first.origin, count=1, timeout=20)
    later = probe.send_burst("wf06/export.requested", [{"name": "later", "work_s": 0.2}])
    runs = probe.function_runs(nightly_export, since=first.origin, count=2, timeout=20, settle=1.0)
    during_runs = probe.api.runs_for_events(during.event_ids)
    outputs = sorted(str(r.output) for r in runs if r.status == "COMPLETED")
    probe.check(
        "singleton-skip",
        t("in skip mode, events that arrive while a run is active start no run; later ones do"),
        outputs == ["first", "later"]
        and all(r.status == "SKIPPED" for r in during_runs)
        and sorted(probe.effect_values("export-started")) == ["first", "later"],
        observed={
            "completed runs": outputs,
            "statuses of runs for the events sent during the first": [
                r.status for r in during_runs
            ],
            "exports started": probe.effect_values("export-started"),
            "later event ms after first": timeline.ms(later.origin, first.origin),
        },
        expected="first and later ran; second and third started nothing",
        run_ids=[r.id for r in runs],
    )

    # Cancel: a newer rebuild cancels the running one, which never publishes.
    old = probe.send_burst("wf06/cache.stale", [{"name": "old", "work_s": 2.0}])
    old_run = probe.run_of(*old.event_ids)
    if not probe.wait_for_effect("rebuild-started", timeout=20):
        raise RuntimeError("the first rebuild never started; cannot test singleton cancel")
    new = probe.send_burst("wf06/cache.stale", [{"name": "new", "work_s": 0.2}])
    new_run = probe.run_of(*new.event_ids)
    old_final, new_final = probe.wait(old_run, timeout=20), probe.wait(new_run, timeout=20)
    probe.check(
        "singleton-cancel",
        t("in cancel mode, a new event cancels the active run and runs in its place"),
        old_final.status == "CANCELLED"
        and new_final.status == "COMPLETED"
        and probe.effect_values("publish") == ["new"],
        observed={
            "old run": old_final.status,
            "new run": new_final.status,
            "published": probe.effect_values("publish"),
            "rebuilds started": probe.effect_values("rebuild-started"),
        },
        expected="old CANCELLED (never published), new COMPLETED",
        run_ids=[old_run, new_run],
    )


@suite.item("WF-06", functions=WF06_FUNCTIONS, timeout=180)
def queue_and_rate_control(probe: Probe) -> None:
    for measure in (
        _measure_concurrency,
        _measure_throttle,
        _measure_rate_limit,
        _measure_debounce,
        _measure_batching,
        _measure_priority,
        _measure_singletons,
    ):
        probe.new_scenario()
        measure(probe)


# Each option's documented job; an option "behaves as documented" when all its checks pass.
FLOW_CONTROL_OPTIONS: dict[str, list[str]] = {
    "concurrency": ["concurrency-limit-held", "concurrency-key-isolated"],
    "throttle": ["throttle-keeps-every-event", "throttle-spreads-starts"],
    "rate-limit": ["rate-limit-drops-excess", "rate-limit-within-limit"],
    "debounce": ["debounce-one-run", "debounce-last-event", "debounce-delay"],
    "batching": ["batch-max-size", "batch-every-event-once", "batch-timeout-flush"],
    "priority": ["priority-overtakes-backlog"],
    "singleton": ["singleton-skip", "singleton-cancel"],
}
# Details beyond an option's main job: a miss costs a star only when everything else holds.
FLOW_CONTROL_DETAILS = [
    "concurrency-limit-used",
    "throttle-burst-as-documented",
    "priority-from-event-field",
    "priority-from-int-of-event-field",
]


def _flow_control_advice(details: list[str]) -> Msg:
    # int(...) is advised only where the probe saw it work.
    priority = (
        "priority-from-event-field" in details and "priority-from-int-of-event-field" not in details
    )
    throttle = "throttle-burst-as-documented" in details
    if priority and throttle:
        return t(
            "Make Priority.run expressions return an integer explicitly (int(event.data.x), or a "
            "condition with integer literals): a number read straight from event data is "
            "silently ignored. Expect a throttle to start burst + 1 runs at once before it "
            "spaces them out"
        )
    if priority:
        return t(
            "Make Priority.run expressions return an integer explicitly (int(event.data.x), or a "
            "condition with integer literals): a number read straight from event data is "
            "silently ignored"
        )
    if throttle:
        return t("Expect a throttle to start burst + 1 runs at once before it spaces them out")
    return t("Measure the flow-control details listed before relying on them")


@queue_and_rate_control.rubric
def _(ev: Evidence) -> Rating:
    if not ev.passed("concurrency-overlap-observable"):
        return Rating(
            stars=2,
            reason=t(
                "runs of a function without limits did not overlap: the queue ran them one "
                "at a time"
            ),
            drivers=["concurrency-overlap-observable"],
        )
    if not ev.passed("concurrency-limit-held"):
        return Rating(
            stars=2,
            reason=t("a concurrency limit was exceeded"),
            drivers=["concurrency-limit-held"],
        )
    failed = [k for checks in FLOW_CONTROL_OPTIONS.values() for k in checks if not ev.passed(k)]
    broken = [o for o, checks in FLOW_CONTROL_OPTIONS.items() if any(k in failed for k in checks)]
    if broken:
        return Rating(
            stars=4 if len(broken) == 1 else 3 if len(broken) <= 3 else 2,
            reason=t(
                "{ok} of {total} flow-control options did what their documentation says; "
                "failed: {checks}",
                ok=len(FLOW_CONTROL_OPTIONS) - len(broken),
                total=len(FLOW_CONTROL_OPTIONS),
                checks=", ".join(failed),
            ),
            drivers=failed,
            advice=t(
                "Test the flow-control options you rely on against your own traffic "
                "pattern before depending on the documented behaviour"
            ),
        )
    details = [k for k in FLOW_CONTROL_DETAILS if not ev.passed(k)]
    all_checks = [k for checks in FLOW_CONTROL_OPTIONS.values() for k in checks]
    if details:
        return Rating(
            stars=4,
            reason=t(
                "all {total} flow-control options did their job, measured; details differ from "
                "the documentation: {checks}",
                total=len(FLOW_CONTROL_OPTIONS),
                checks=", ".join(details),
            ),
            drivers=[*details, *all_checks],
            advice=_flow_control_advice(details),
        )
    return Rating(
        stars=5,
        reason=t(
            "all {total} flow-control options (concurrency with keys, throttle, rate limit, "
            "debounce, batching, priority, singleton) behaved as documented, measured from when "
            "work really ran",
            total=len(FLOW_CONTROL_OPTIONS),
        ),
        drivers=all_checks,
    )


if __name__ == "__main__":
    suite.main()
