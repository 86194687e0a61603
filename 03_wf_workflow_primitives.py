"""WF — Workflow primitives: steps, child workflows, fan-out, control flow, timers, flow control.

Items WF-01 … WF-06. Each item below is: the Inngest function(s) it runs, the probe that drives
them against a real dev server and records what happened, and the rubric that turns that
evidence into stars. Run ``python 03_wf_workflow_primitives.py --help`` for options.

Flow control (WF-03, WF-06) is judged from when work *really* ran: each function records the
wall-clock start and end of its work in the side-effect ledger, and the probe computes overlap,
spacing and counts from those timestamps (harness/timeline.py). Simulated work awaits
``asyncio.sleep``: a blocking call inside an ``async`` step would stall the app's event loop and
serialise every run the app serves, faking an overlap of one.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
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
    echo,
    inngest_client,
    make_client,
    other_app,
    side_effects,
    t,
    timeline,
)

suite = Suite(__file__, Category.WF)


def wall_clock() -> float:
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
    pickup = await ctx.step.run("reserve-pickup", reserve_pickup, request.order_id)  # type: ignore[arg-type]
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
    probe.check(
        "model-without-output-type",
        t(
            "without output_type, a step returning a Pydantic model comes back as the model or "
            "fails loudly, never as another type"
        ),
        untyped_run.output == "CarrierQuote" or untyped_run.status == "FAILED",
        observed={
            "status": untyped_run.status,
            "output": untyped_run.output,
            "error": untyped_run.error,
        },
        expected="CarrierQuote, or a failed run naming the problem",
        run_ids=[untyped_run.id],
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
    untyped_pitfall = ev.failed("model-without-output-type")
    loop_pitfall = ev.failed("sync-handler-off-event-loop")
    pitfalls = [
        key
        for key, failed in (
            ("model-without-output-type", untyped_pitfall),
            ("sync-handler-off-event-loop", loop_pitfall),
        )
        if failed
    ]
    if untyped_pitfall and loop_pitfall:
        advice = t(
            "Pass output_type whenever a step returns a model (without it the replayed value is a "
            "plain dict, although the type checker says otherwise), and keep sync step handlers "
            "inside async functions non-blocking: they run on the event loop"
        )
    elif untyped_pitfall:
        advice = t(
            "Pass output_type whenever a step returns a model: without it the replayed value is a "
            "plain dict, although the type checker says otherwise"
        )
    elif loop_pitfall:
        advice = t(
            "Keep sync step handlers inside async functions non-blocking: they run on the event "
            "loop, so a blocking call stalls every run the app serves"
        )
    else:
        advice = None
    return Rating(
        stars=5,
        reason=t(
            "step.run takes async or sync handlers with arguments, returns typed models with "
            "output_type, and numbers a step ID repeated in a loop; sync functions run on worker "
            "threads"
        ),
        drivers=[
            "async-handler-with-arguments",
            "typed-model-output",
            "repeated-step-id",
            "sync-function",
            *pitfalls,
        ],
        advice=advice,
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
    with other_app(PARTNER_APP_ID, [fx_rate], probe.api):
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
                "{width} parallel steps each run once and their results come back in order",
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


if __name__ == "__main__":
    suite.main()
