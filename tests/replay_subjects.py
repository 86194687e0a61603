"""A checkout function and changed versions of it, for the replay tests (tests/test_replay.py).

``checkout_v1`` is the code the fixture ``fixtures/replay-checkout-v1.json`` was recorded from
(a real run on a dev server). Every other function has the same function ID: new code deployed
under the same function, compatible or not.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import inngest
from pydantic import BaseModel

from common import echo, inngest_client

FN_ID = "replay-checkout"
TRIGGER = inngest.TriggerEvent(event="replay/checkout.requested")


class CheckoutRequested(BaseModel):
    order_id: str
    items: int


class Quote(BaseModel):
    amount: int
    currency: str


async def _reserve(order_id: str, items: int) -> dict[str, object]:
    return {"reservation": f"res-{order_id}", "items": items}


async def _quote(items: int) -> Quote:
    return Quote(amount=10 * items, currency="EUR")


async def _reject_coupon() -> None:
    raise ValueError("coupon expired")


async def _charge(amount: int, currency: str) -> str:
    return f"charged {amount} {currency}"


def checkout() -> Callable[[Callable[..., Any]], inngest.Function[Any]]:
    """The decorator every version uses: same function ID, no retries (failures are final)."""
    return inngest_client.create_function(fn_id=FN_ID, trigger=TRIGGER, retries=0)


@checkout()
async def checkout_v1(ctx: inngest.Context) -> dict[str, object]:
    order = CheckoutRequested.model_validate(ctx.event.data)
    reservation = await ctx.step.run("reserve-stock", _reserve, order.order_id, order.items)
    quote = await ctx.step.run("quote", _quote, order.items, output_type=Quote)
    try:
        await ctx.step.run("apply-coupon", _reject_coupon)
        coupon = "applied"
    except inngest.StepError as err:
        coupon = f"rejected: {err.message}"
    receipt = await ctx.step.run("charge", _charge, quote.amount, quote.currency)
    for channel in ("email", "sms"):
        await ctx.step.run("notify", echo, channel)  # a reused step ID: "notify", "notify:1"
    await ctx.step.sleep("cool-off", timedelta(seconds=1))
    review = await ctx.step.wait_for_event(
        "await-review", event="replay/review.done", timeout=timedelta(seconds=1)
    )
    return {
        "reservation": reservation["reservation"],
        "coupon": coupon,
        "receipt": receipt,
        "reviewed": review is not None,
    }


# --- compatible changes ---------------------------------------------------------------------------
async def _charge_with_logging(amount: int, currency: str) -> str:
    # A changed step handler: never called by a replay, so its output can't conflict.
    return f"charged {amount} {currency} (v2 provider)"


@checkout()
async def checkout_compatible(ctx: inngest.Context) -> dict[str, object]:
    order = CheckoutRequested.model_validate(ctx.event.data)
    reservation = await ctx.step.run("reserve-stock", _reserve, order.order_id, order.items)
    quote = await ctx.step.run("quote", _quote, order.items, output_type=Quote)
    try:
        await ctx.step.run("apply-coupon", _reject_coupon)
        coupon = "applied"
    except inngest.StepError as err:
        coupon = f"rejected: {err.message}"
    receipt = await ctx.step.run("charge", _charge_with_logging, quote.amount, quote.currency)
    for channel in ("email", "sms"):
        await ctx.step.run("notify", echo, channel)
    await ctx.step.sleep("cool-off", timedelta(seconds=30))  # a longer sleep is not a new step
    review = await ctx.step.wait_for_event(
        "await-review", event="replay/review.done", timeout=timedelta(hours=1)
    )
    return {
        "reservation": reservation["reservation"],
        "coupon": coupon,
        "receipt": receipt,
        "reviewed": review is not None,
        "version": 2,  # a new field in the result
    }


# --- breaking changes -----------------------------------------------------------------------------
@checkout()
async def checkout_renamed(ctx: inngest.Context) -> str:
    order = CheckoutRequested.model_validate(ctx.event.data)
    await ctx.step.run("reserve-stock", _reserve, order.order_id, order.items)
    quote = await ctx.step.run("price-quote", _quote, order.items, output_type=Quote)  # renamed
    return await ctx.step.run("charge", _charge, quote.amount, quote.currency)


@checkout()
async def checkout_reordered(ctx: inngest.Context) -> dict[str, object]:
    order = CheckoutRequested.model_validate(ctx.event.data)
    quote = await ctx.step.run("quote", _quote, order.items, output_type=Quote)  # now first
    reservation = await ctx.step.run("reserve-stock", _reserve, order.order_id, order.items)
    with contextlib.suppress(inngest.StepError):
        await ctx.step.run("apply-coupon", _reject_coupon)
    receipt = await ctx.step.run("charge", _charge, quote.amount, quote.currency)
    for channel in ("email", "sms"):
        await ctx.step.run("notify", echo, channel)
    await ctx.step.sleep("cool-off", timedelta(seconds=1))
    await ctx.step.wait_for_event(
        "await-review", event="replay/review.done", timeout=timedelta(seconds=1)
    )
    return {"reservation": reservation["reservation"], "receipt": receipt}


@checkout()
async def checkout_removed(ctx: inngest.Context) -> dict[str, object]:
    order = CheckoutRequested.model_validate(ctx.event.data)
    reservation = await ctx.step.run("reserve-stock", _reserve, order.order_id, order.items)
    quote = await ctx.step.run("quote", _quote, order.items, output_type=Quote)
    with contextlib.suppress(inngest.StepError):
        await ctx.step.run("apply-coupon", _reject_coupon)
    receipt = await ctx.step.run("charge", _charge, quote.amount, quote.currency)
    await ctx.step.run("notify", echo, "email")  # the SMS notification was dropped
    await ctx.step.sleep("cool-off", timedelta(seconds=1))
    await ctx.step.wait_for_event(
        "await-review", event="replay/review.done", timeout=timedelta(seconds=1)
    )
    return {"reservation": reservation["reservation"], "receipt": receipt}


@checkout()
async def checkout_added(ctx: inngest.Context) -> str:
    order = CheckoutRequested.model_validate(ctx.event.data)
    await ctx.step.run("reserve-stock", _reserve, order.order_id, order.items)
    quote = await ctx.step.run("quote", _quote, order.items, output_type=Quote)
    await ctx.step.run("fraud-check", echo, "ok")  # new, between two recorded steps
    return await ctx.step.run("charge", _charge, quote.amount, quote.currency)


class QuoteInCents(BaseModel):
    amount_cents: int
    currency: str


@checkout()
async def checkout_new_quote_shape(ctx: inngest.Context) -> str:
    order = CheckoutRequested.model_validate(ctx.event.data)
    await ctx.step.run("reserve-stock", _reserve, order.order_id, order.items)

    async def quote_in_cents() -> QuoteInCents:
        return QuoteInCents(amount_cents=1000 * order.items, currency="EUR")

    # Same step ID, new output shape: recorded runs hold {"amount", "currency"}.
    quote = await ctx.step.run("quote", quote_in_cents, output_type=QuoteInCents)
    return await ctx.step.run("charge", _charge, quote.amount_cents // 100, quote.currency)


@checkout()
async def checkout_reads_new_field(ctx: inngest.Context) -> str:
    order = CheckoutRequested.model_validate(ctx.event.data)
    reservation = await ctx.step.run("reserve-stock", _reserve, order.order_id, order.items)
    warehouse = reservation["warehouse"]  # a field the recorded output does not have
    return await ctx.step.run("charge", echo, warehouse)


@checkout()
async def checkout_sleep_became_step(ctx: inngest.Context) -> None:
    order = CheckoutRequested.model_validate(ctx.event.data)
    await ctx.step.run("reserve-stock", _reserve, order.order_id, order.items)
    await ctx.step.sleep("quote", timedelta(seconds=1))  # the ID "quote" is now a sleep


class CheckoutRequestedV2(BaseModel):
    order_id: str
    items: int
    customer_id: str  # a new required field: recorded events do not carry it


@checkout()
async def checkout_new_event_schema(ctx: inngest.Context) -> str:
    order = CheckoutRequestedV2.model_validate(ctx.event.data)
    return await ctx.step.run("reserve-stock", echo, order.customer_id)
