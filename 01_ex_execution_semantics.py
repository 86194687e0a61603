"""EX — Execution semantics: does Inngest make progress durably, once, and faithfully?

Items EX-01 … EX-07. Each item below is: the Inngest function(s) it runs, the probe that drives
them against a real dev server and records what happened, and the rubric that turns that
evidence into stars. Run ``python 01_ex_execution_semantics.py --help`` for options.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import inngest
from pydantic import BaseModel

from common import (
    SELF_HOSTED_NEEDS,
    Category,
    Evidence,
    Msg,
    Probe,
    ProbeTimeout,
    Rating,
    Run,
    RunNotFound,
    SelfHostedUnavailable,
    Suite,
    echo,
    inngest_client,
    side_effects,
    t,
)

suite = Suite(__file__, Category.EX)


# ═══ EX-01 Progress guarantee ══════════════════════════════════════════════════════════════════
# An order pipeline of three steps. The probe SIGKILLs the app process while the second step is
# running, starts it again, and counts how often each step really executed.


class OrderPlaced(BaseModel):
    order_id: str
    first_call_latency_s: float = 0.0


@inngest_client.create_function(
    fn_id="ex01-order-pipeline",
    trigger=inngest.TriggerEvent(event="ex01/order.placed"),
    # While the app is down every attempt fails with "Unable to reach SDK URL". On the default
    # backoff (15 s, 30 s, …) three retries outlast a restart; the suite's dev server retries
    # every second, so the retries must cover the seconds a restart takes on a busy machine.
    retries=10,
)
async def order_pipeline(ctx: inngest.Context) -> dict[str, str]:
    order = OrderPlaced.model_validate(ctx.event.data)
    order_id = order.order_id

    async def reserve_inventory() -> str:
        side_effects.executed(ctx.event, "reserve-inventory")
        return f"reservation-{order_id}"

    async def charge_card() -> str:
        if side_effects.executed(ctx.event, "charge-card") == 1:
            # A slow payment provider on the first call: the probe kills the app right here.
            await asyncio.sleep(order.first_call_latency_s)
        return f"charge-{order_id}"

    async def send_receipt() -> str:
        side_effects.executed(ctx.event, "send-receipt")
        return f"receipt-{order_id}"

    reservation = await ctx.step.run("reserve-inventory", reserve_inventory)
    charge = await ctx.step.run("charge-card", charge_card)
    receipt = await ctx.step.run("send-receipt", send_receipt)
    return {"reservation": reservation, "charge": charge, "receipt": receipt}


@suite.item("EX-01", functions=[order_pipeline])
def progress_guarantee(probe: Probe) -> None:
    order_id = f"order-{probe.tag}"
    with probe.app.run_as_process() as app:
        run_id = probe.run_of(
            probe.send("ex01/order.placed", {"order_id": order_id, "first_call_latency_s": 60})
        )
        probe.say("waiting for the charge step to start")
        if not probe.wait_for_effect("charge-card", timeout=30):
            raise RuntimeError("the charge step never started; cannot crash the app inside it")
        app.kill()
        killed_at = time.monotonic()
        probe.say("app SIGKILLed mid-step; starting it again")
        app.start()
        run = probe.wait(run_id, timeout=30 + probe.devserver.retry_allowance(1))
    interval = probe.devserver.retry_interval_s
    recovered_s = probe.measure(
        "crash-to-completion",
        round(time.monotonic() - killed_at, 2),
        "s",
        t(
            "from SIGKILL to the run's final status; the dev server retried every {interval} s",
            interval=interval,
        )
        if interval
        else t(
            "from SIGKILL to the run's final status; the dev server retried on its default backoff"
        ),
    )

    expected = {
        "reservation": f"reservation-{order_id}",
        "charge": f"charge-{order_id}",
        "receipt": f"receipt-{order_id}",
    }
    probe.check(
        "completes-after-crash",
        t("the run completes after the app process is SIGKILLed mid-step"),
        run.status == "COMPLETED" and run.output == expected,
        observed={"status": run.status, "output": run.output, "recovered_s": recovered_s},
        expected=f"COMPLETED with {expected}",
        run_ids=[run_id],
    )
    probe.check(
        "completed-step-not-rerun",
        t("a step that had completed before the crash is not run again"),
        probe.effects("reserve-inventory") == 1,
        observed={"reserve-inventory executions": probe.effects("reserve-inventory")},
        expected="1 execution",
        run_ids=[run_id],
    )
    probe.check(
        "interrupted-step-retried",
        t("the step that was running when the app died runs again"),
        probe.effects("charge-card") == 2,
        observed={"charge-card executions": probe.effects("charge-card")},
        expected="2 executions (at-least-once for the interrupted step)",
        run_ids=[run_id],
    )
    probe.check(
        "later-steps-once",
        t("steps after the crash point run exactly once"),
        probe.effects("send-receipt") == 1,
        observed={"send-receipt executions": probe.effects("send-receipt")},
        expected="1 execution",
        run_ids=[run_id],
    )


@progress_guarantee.rubric
def _(ev: Evidence) -> Rating:
    if not ev.passed("completes-after-crash"):
        return Rating(
            stars=1,
            reason=t("the run did not finish after an app crash: no progress guarantee"),
            drivers=["completes-after-crash"],
        )
    if not ev.passed("completed-step-not-rerun"):
        return Rating(
            stars=2,
            reason=t("the run finished, but completed work was repeated after the crash"),
            drivers=["completed-step-not-rerun"],
        )
    if not (ev.passed("interrupted-step-retried") and ev.passed("later-steps-once")):
        return Rating(
            stars=3,
            reason=t(
                "progress was kept, but the interrupted or later steps ran an unexpected "
                "number of times"
            ),
            drivers=["interrupted-step-retried", "later-steps-once"],
        )
    return Rating(
        stars=5,
        reason=t(
            "after a SIGKILL mid-step the run resumed from its last completed step: "
            "completed steps were replayed from state, only the interrupted step ran again"
        ),
        drivers=["completes-after-crash", "completed-step-not-rerun", "interrupted-step-retried"],
    )


# ═══ EX-02 Side-effect guarantee ═══════════════════════════════════════════════════════════════
# A payment flow whose middle step writes, then fails twice before succeeding. What runs once,
# and what runs again?


class PaymentRequested(BaseModel):
    payment_id: str


@inngest_client.create_function(
    fn_id="ex02-payment-flow",
    trigger=inngest.TriggerEvent(event="ex02/payment.requested"),
    retries=4,
)
async def payment_flow(ctx: inngest.Context) -> dict[str, str]:
    payment_id = PaymentRequested.model_validate(ctx.event.data).payment_id

    async def charge() -> str:
        side_effects.executed(ctx.event, "charge")
        return f"ch-{payment_id}"

    async def write_ledger() -> str:
        # Downstream APIs can deduplicate retries with a key that is stable across attempts.
        idempotency_key = f"{ctx.run_id}:write-ledger"
        writes = side_effects.executed(ctx.event, "write-ledger", idempotency_key)
        if writes < 3:
            raise RuntimeError("ledger service timed out after accepting the write")
        return idempotency_key

    async def notify() -> None:
        side_effects.executed(ctx.event, "notify")

    charge_id = await ctx.step.run("charge", charge)
    ledger_key = await ctx.step.run("write-ledger", write_ledger)
    await ctx.step.run("notify", notify)
    return {"charge": charge_id, "ledger_key": ledger_key}


@suite.item("EX-02", functions=[payment_flow])
def side_effect_guarantee(probe: Probe) -> None:
    run = probe.trigger(
        "ex02/payment.requested",
        {"payment_id": probe.tag},
        timeout=30 + probe.devserver.retry_allowance(2),
    )
    trace = probe.api.final_trace(run.id)
    attempts = [s.status for step in trace.steps("write-ledger") for s in step.children]
    keys = probe.effect_values("write-ledger")

    probe.check(
        "completes-after-step-retries",
        t("the run completes once the failing step succeeds"),
        run.status == "COMPLETED",
        observed=run.status,
        run_ids=[run.id],
    )
    probe.check(
        "memoized-effect-once",
        t("an earlier step's side effect is not repeated by later retries"),
        probe.effects("charge") == 1,
        observed={"charge executions": probe.effects("charge")},
        expected="1",
        run_ids=[run.id],
    )
    probe.check(
        "retries-visible",
        t("the dev server's trace shows each attempt of the failing step"),
        attempts == ["FAILED", "FAILED", "COMPLETED"],
        observed={"write-ledger attempts": attempts},
        run_ids=[run.id],
        informational=True,  # what the trace shows; the stars rest on the effects counted
    )
    probe.check(
        "stable-idempotency-key",
        t("run ID + step ID give a key that is the same on every attempt"),
        len(keys) == 3 and len(set(keys)) == 1,
        observed={"keys seen per attempt": keys},
        run_ids=[run.id],
    )
    probe.check(
        "failed-attempt-effect-not-repeated",
        t("a write made by an attempt that then failed is not repeated (exactly-once effects)"),
        probe.effects("write-ledger") == 1,
        observed={"write-ledger executions": probe.effects("write-ledger")},
        expected="1 (exactly-once); more means at-least-once within a step",
        run_ids=[run.id],
    )


@side_effect_guarantee.rubric
def _(ev: Evidence) -> Rating:
    if not ev.passed("completes-after-step-retries") or not ev.passed("memoized-effect-once"):
        return Rating(
            stars=1,
            reason=t("completed steps' side effects repeat, or the run does not recover"),
            drivers=["completes-after-step-retries", "memoized-effect-once"],
        )
    if not ev.passed("stable-idempotency-key"):
        return Rating(
            stars=3,
            reason=t(
                "completed steps run once, but nothing stable identifies a retried step's "
                "effect for deduplication"
            ),
            drivers=["stable-idempotency-key"],
        )
    if ev.passed("failed-attempt-effect-not-repeated"):
        return Rating(
            stars=5,
            reason=t("effects are exactly-once even inside a failing step"),
            drivers=["failed-attempt-effect-not-repeated"],
        )
    return Rating(
        stars=4,
        advice=t(
            "make each step's external write idempotent: pass a key built from the run ID and "
            "step ID (stable across attempts) to the API you call"
        ),
        reason=t(
            "completed steps never repeat; a failing step is at-least-once (its write ran "
            "once per attempt), and run ID + step ID give a stable key to deduplicate it downstream"
        ),
        drivers=[
            "memoized-effect-once",
            "failed-attempt-effect-not-repeated",
            "stable-idempotency-key",
        ],
    )


# ═══ EX-03 Idempotency / deduplication ═════════════════════════════════════════════════════════
# Two mechanisms: a producer-chosen event ID, and a function-level idempotency key expression.


class OrderEvent(BaseModel):
    order_id: str


@inngest_client.create_function(
    fn_id="ex03-fulfil-order",
    trigger=inngest.TriggerEvent(event="ex03/order.paid"),
)
async def fulfil_order(ctx: inngest.Context) -> str:
    order_id = OrderEvent.model_validate(ctx.event.data).order_id

    async def ship() -> str:
        side_effects.executed(ctx.event, f"ship:{order_id}")
        return f"shipment-{order_id}"

    return await ctx.step.run("ship", ship)


@inngest_client.create_function(
    fn_id="ex03-fulfil-once-per-order",
    trigger=inngest.TriggerEvent(event="ex03/order.confirmed"),
    idempotency="event.data.order_id",  # one run per order ID (for 24 h, per the docs)
)
async def fulfil_once_per_order(ctx: inngest.Context) -> str:
    order_id = OrderEvent.model_validate(ctx.event.data).order_id

    async def ship() -> str:
        side_effects.executed(ctx.event, f"ship:{order_id}")
        return f"shipment-{order_id}"

    return await ctx.step.run("ship", ship)


DUPLICATE_WATCH_S = 6.0  # how long the runs of a duplicate send are watched for a second run


def _runs_watched(probe: Probe, event_ids: list[str]) -> tuple[list[Run], float]:
    """Every run ``event_ids`` started, polled for DUPLICATE_WATCH_S seconds (a duplicate can
    appear late), each with its latest status; and how many seconds were watched."""
    started = time.monotonic()
    deadline = started + probe.bound(DUPLICATE_WATCH_S)
    seen: dict[str, Run] = {}
    while True:
        seen.update({run.id: run for run in probe.api.runs_for_events(event_ids)})
        if time.monotonic() >= deadline:
            return list(seen.values()), round(time.monotonic() - started, 1)
        time.sleep(0.5)


@suite.item("EX-03", functions=[fulfil_order, fulfil_once_per_order])
def idempotency(probe: Probe) -> None:
    # 1. The same event (same producer-chosen ID) sent twice.
    order = f"a-{probe.tag}"
    event_id = f"order-paid-{order}"
    first = probe.send("ex03/order.paid", {"order_id": order}, event_id=event_id)
    second = probe.send("ex03/order.paid", {"order_id": order}, event_id=event_id)
    probe.wait(probe.run_of(first, second))  # either send may be the one that wins
    runs, watched_s = _runs_watched(probe, [first, second])
    probe.check(
        "same-event-id-one-run",
        t(
            "two sends with the same event ID start one run (watched {s:.0f} s for a second)",
            s=DUPLICATE_WATCH_S,
        ),
        probe.effects(f"ship:{order}") == 1 and len(runs) == 1,
        observed={
            "event ids returned": [first, second],
            "runs": [r.id for r in runs],
            "ship executions": probe.effects(f"ship:{order}"),
            "watched s": watched_s,
        },
        expected="1 run, 1 shipment",
        run_ids=[r.id for r in runs],
    )

    # 2. Different events carrying the same idempotency key (the order ID).
    order = f"b-{probe.tag}"
    first = probe.send("ex03/order.confirmed", {"order_id": order, "attempt": 1})
    second = probe.send("ex03/order.confirmed", {"order_id": order, "attempt": 2})
    probe.wait(probe.run_of(first, second))
    runs, watched_s = _runs_watched(probe, [first, second])
    probe.check(
        "same-key-one-run",
        t(
            "two different events with the same idempotency key start one run (watched {s:.0f} "
            "s for a second)",
            s=DUPLICATE_WATCH_S,
        ),
        probe.effects(f"ship:{order}") == 1 and len(runs) == 1,
        observed={
            "runs": [r.id for r in runs],
            "statuses": [r.status for r in runs],
            "ship executions": probe.effects(f"ship:{order}"),
            "watched s": watched_s,
        },
        expected="1 run, 1 shipment",
        run_ids=[r.id for r in runs],
    )

    # 3. Different keys must not be deduplicated against each other.
    orders = [f"c-{probe.tag}", f"d-{probe.tag}"]
    run_ids = [probe.run_of(probe.send("ex03/order.confirmed", {"order_id": o})) for o in orders]
    statuses = [probe.wait(r).status for r in run_ids]
    probe.check(
        "different-keys-both-run",
        t("events with different idempotency keys each start a run"),
        statuses == ["COMPLETED", "COMPLETED"]
        and all(probe.effects(f"ship:{o}") == 1 for o in orders),
        observed={"statuses": statuses},
        run_ids=run_ids,
    )


@idempotency.rubric
def _(ev: Evidence) -> Rating:
    event_level = ev.passed("same-event-id-one-run")
    key_level = ev.passed("same-key-one-run") and ev.passed("different-keys-both-run")
    drivers = ["same-event-id-one-run", "same-key-one-run", "different-keys-both-run"]
    if event_level and key_level:
        return Rating(
            stars=5,
            reason=t(
                "duplicates are dropped both by event ID and by a function's idempotency key, "
                "and distinct keys are not merged"
            ),
            drivers=drivers,
        )
    if key_level:
        return Rating(
            stars=4,
            reason=t(
                "the function-level idempotency key deduplicates; a repeated event ID did not"
            ),
            drivers=drivers,
        )
    if event_level:
        return Rating(
            stars=3,
            reason=t(
                "a repeated event ID is deduplicated; the function idempotency key is not reliable"
            ),
            drivers=drivers,
        )
    return Rating(stars=1, reason=t("neither mechanism prevented a duplicate run"), drivers=drivers)


# ═══ EX-04 State persistence ═══════════════════════════════════════════════════════════════════
# A draft is created, the function sleeps, then publishes the same draft. Where does the draft's
# state live: in the app process, or durably in Inngest?


class DraftRequested(BaseModel):
    review_s: float


@inngest_client.create_function(
    fn_id="ex04-publish-draft",
    trigger=inngest.TriggerEvent(event="ex04/draft.requested"),
)
async def publish_draft(ctx: inngest.Context) -> dict[str, Any]:
    async def create_draft() -> dict[str, Any]:
        draft = {"draft_id": uuid.uuid4().hex, "created_by_pid": os.getpid()}
        side_effects.executed(ctx.event, "create-draft", draft)
        return draft

    async def publish() -> dict[str, Any]:
        side_effects.executed(ctx.event, "publish")
        return {"published": draft["draft_id"], "published_by_pid": os.getpid()}

    draft = await ctx.step.run("create-draft", create_draft)
    review = timedelta(seconds=DraftRequested.model_validate(ctx.event.data).review_s)
    await ctx.step.sleep("review-window", review)
    published = await ctx.step.run("publish", publish)
    return {**draft, **published}


def _draft_kept(probe: Probe, output: Any) -> bool:
    """The published draft is the one created before, and it was created exactly once."""
    created = probe.effect_values("create-draft")
    return (
        isinstance(output, dict)
        and len(created) == 1
        and output.get("published") == created[0]["draft_id"] == output.get("draft_id")
    )


def _survives_devserver_restart(probe: Probe, persist: bool) -> dict[str, Any]:
    """Start a run, restart the dev server while it sleeps, report what became of the run."""
    probe.devserver.restart(persist=persist, wipe=True)
    probe.app.sync(probe.api)
    probe.say(f"restarting the dev server ({'with' if persist else 'without'} --persist)")
    return _survives_server_restart(probe, lambda: probe.devserver.restart(persist=persist))


RESTART_WATCH_S = 25.0  # the run's 6 s sleep ends well within this after a restart


def _survives_server_restart(probe: Probe, restart: Callable[[], None]) -> dict[str, Any]:
    """Start a run, call ``restart`` while it sleeps, report what became of the run."""
    run_id = probe.run_of(probe.send("ex04/draft.requested", {"review_s": 6}))
    if not probe.wait_for_step(run_id, "review-window", timeout=20):
        raise RuntimeError("the run never reached its sleep; cannot restart the server in it")
    restart()
    probe.app.sync(probe.api)
    try:
        run = probe.wait(run_id, timeout=RESTART_WATCH_S)
    except RunNotFound as exc:
        return {
            "status": "LOST (the server no longer knows the run)",
            "error": str(exc),
            "run": run_id,
        }
    except ProbeTimeout as exc:
        return {
            "status": f"STUCK (listed, but not finished {RESTART_WATCH_S:.0f} s after the restart)",
            "error": str(exc),
            "run": run_id,
        }
    return {"status": run.status, "draft_kept": _draft_kept(probe, run.output), "run": run_id}


@suite.item(
    "EX-04",
    functions=[publish_draft],
    timeout=240,
    needs=SELF_HOSTED_NEEDS,
)
def state_persistence(probe: Probe) -> None:
    # Across requests: every step and the sleep are separate HTTP requests to the app.
    run = probe.trigger("ex04/draft.requested", {"review_s": 1})
    probe.check(
        "across-requests",
        t("a step's output is handed to a later request of the same run"),
        run.status == "COMPLETED" and _draft_kept(probe, run.output),
        observed=run.output,
        run_ids=[run.id],
    )

    # Across an app crash during a sleep: no process holds the state while the run waits.
    probe.new_scenario()
    with probe.app.run_as_process() as app:
        run_id = probe.run_of(probe.send("ex04/draft.requested", {"review_s": 4}))
        if not probe.wait_for_step(run_id, "review-window", timeout=20):
            raise RuntimeError("the run never reached its sleep; cannot crash the app during it")
        first_pid = app.pid
        app.kill()
        app.start()
        run = probe.wait(run_id, timeout=40)
    output = run.output if isinstance(run.output, dict) else {}
    probe.check(
        "across-app-restart",
        t("the state survives the app process being killed during a sleep"),
        run.status == "COMPLETED"
        and _draft_kept(probe, output)
        and output.get("created_by_pid") == first_pid != output.get("published_by_pid"),
        observed=output,
        run_ids=[run_id],
    )

    # Across a restart of the dev server itself (only when the suite owns it).
    if not probe.devserver.owned or probe.devserver.kind != "dev":
        reason = (
            t("the dev server is external ($INNGEST_DEV_SERVER_URL); the suite cannot restart it")
            if not probe.devserver.owned
            else t("this run is against the self-hosted server, not the dev server")
        )
        probe.not_run(
            "devserver-restart-persist",
            t("in-flight run survives a dev server restart with --persist"),
            reason,
        )
        probe.not_run(
            "devserver-restart-memory",
            t("in-flight run after a dev server restart without --persist"),
            reason,
        )
    else:
        try:
            for persist in (True, False):
                probe.new_scenario()
                outcome = _survives_devserver_restart(probe, persist)
                completed = outcome["status"] == "COMPLETED" and outcome.get("draft_kept") is True
                if persist:
                    probe.check(
                        "devserver-restart-persist",
                        t("an in-flight run completes after a dev server restart with --persist"),
                        completed,
                        observed=outcome,
                        run_ids=[outcome["run"]],
                    )
                else:
                    probe.check(
                        "devserver-restart-memory",
                        t(
                            "an in-flight run completes after a dev server restart without "
                            "--persist"
                        ),
                        completed,
                        observed=outcome,
                        run_ids=[outcome["run"]],
                        # Without --persist the dev server keeps nothing by design: shown for
                        # the reader, rated only with --persist.
                        informational=True,
                    )
        finally:
            probe.devserver.restart(persist=False, wipe=True)  # back to the suite's default
            probe.app.sync(probe.api)

    # Across a restart of the server users deploy: `inngest start` on PostgreSQL + Redis.
    description = t(
        "an in-flight run completes after a restart of the self-hosted server "
        "(inngest start on PostgreSQL + Redis)"
    )
    try:
        with probe.self_hosted() as server:
            probe.new_scenario()
            probe.say("restarting the self-hosted server under a sleeping run")
            outcome = _survives_server_restart(probe, server.restart)
            probe.check(
                "self-hosted-restart",
                description,
                outcome["status"] == "COMPLETED" and outcome.get("draft_kept") is True,
                observed={**outcome, "server": server.backend()},
                run_ids=[outcome["run"]],
            )
    except SelfHostedUnavailable as exc:
        probe.not_run("self-hosted-restart", description, exc.reason())


@state_persistence.rubric
def _(ev: Evidence) -> Rating:
    if not ev.passed("across-requests"):
        return Rating(
            stars=1,
            reason=t("step outputs are not carried between requests"),
            drivers=["across-requests"],
        )
    if not ev.passed("across-app-restart"):
        return Rating(
            stars=3,
            reason=t("state lives with the app process: a crash loses it"),
            drivers=["across-app-restart"],
        )
    # The server users deploy decides when it was observed; the dev server is beside it.
    dev_lost = ev.failed("devserver-restart-persist")
    if ev.passed("self-hosted-restart"):
        return Rating(
            stars=5,
            reason=t(
                "run state is held by Inngest, not the app: it survived an app SIGKILL and a "
                "restart of the self-hosted server (PostgreSQL + Redis) during a sleep"
            )
            if not dev_lost
            else t(
                "run state is held by Inngest, not the app: it survived an app SIGKILL and a "
                "restart of the self-hosted server (PostgreSQL + Redis); the dev server, even "
                "with --persist, did not finish the in-flight run within {s:.0f} s of its restart",
                s=RESTART_WATCH_S,
            ),
            drivers=["across-app-restart", "self-hosted-restart", "devserver-restart-persist"],
            advice=t(
                "treat the dev server as disposable: runs in flight do not survive its restart"
            )
            if dev_lost
            else None,
        )
    if ev.failed("self-hosted-restart"):
        return Rating(
            stars=3,
            reason=t(
                "run state survives app crashes, but an in-flight run did not finish within "
                "{s:.0f} s of a restart of the self-hosted server",
                s=RESTART_WATCH_S,
            ),
            drivers=["across-app-restart", "self-hosted-restart"],
        )
    if ev.passed("devserver-restart-persist"):
        return Rating(
            stars=5,
            reason=t(
                "run state is held by Inngest, not the app: it survived an app SIGKILL and, "
                "with persistence on, a restart of the dev server itself"
            ),
            drivers=["across-app-restart", "devserver-restart-persist"],
        )
    if not ev.failed("devserver-restart-persist"):
        return Rating(
            stars=4,
            reason=t(
                "run state survives app crashes; a dev server restart could not be observed here"
            ),
            drivers=["across-app-restart", "devserver-restart-persist"],
        )
    return Rating(
        stars=4,
        reason=t(
            "run state survives app crashes; an in-flight run did not finish within {s:.0f} s "
            "of a dev server restart, even with --persist",
            s=RESTART_WATCH_S,
        ),
        drivers=["across-app-restart", "devserver-restart-persist"],
    )


# ═══ EX-05 Determinism constraints ═════════════════════════════════════════════════════════════
# What must be deterministic? Code between steps re-runs on every request; only step IDs must be
# stable. The first function is non-deterministic in the allowed way; the second breaks the rule.


@inngest_client.create_function(
    fn_id="ex05-token-issuer",
    trigger=inngest.TriggerEvent(event="ex05/token.requested"),
)
async def token_issuer(ctx: inngest.Context) -> dict[str, str]:
    # Outside any step: runs again on every request and differs each time. Harmless, because
    # nothing durable depends on it.
    request_nonce = uuid.uuid4().hex
    side_effects.executed(ctx.event, "body", request_nonce)

    async def issue_token() -> str:
        side_effects.executed(ctx.event, "issue-token")
        return uuid.uuid4().hex  # non-deterministic, but memoized: every replay sees this value

    token = await ctx.step.run("issue-token", issue_token)
    echoed = await ctx.step.run("store-token", echo, token)
    return {"token": token, "stored": echoed}


@inngest_client.create_function(
    fn_id="ex05-unstable-step-id",
    trigger=inngest.TriggerEvent(event="ex05/unstable.requested"),
    retries=0,
)
async def unstable_step_id(ctx: inngest.Context) -> str:
    async def fetch() -> str:
        side_effects.executed(ctx.event, "fetch")
        return "data"

    # NOT allowed: a step ID that changes between requests, so its memoized result is never found.
    data = await ctx.step.run(f"fetch-{uuid.uuid4().hex[:6]}", fetch)
    return await ctx.step.run("finish", echo, data)


# The dev server fails a run once it has taken its step limit (consts.DefaultMaxStepLimit, 1000
# in v1.43.0; executor/validate.go checkStepLimit). At the default tick that takes minutes; at a
# 10 ms tick the run reaches it well within the bound, which is kept because a run that never
# ends is a finding too.
UNSTABLE_TICK_MS = 10
UNSTABLE_WATCH_S = 120.0
CAUSE_WORDS = ("determinis", "step id", "unexpected step", "mismatch")


@suite.item("EX-05", functions=[token_issuer, unstable_step_id], timeout=200)
def determinism_constraints(probe: Probe) -> None:
    run = probe.trigger("ex05/token.requested")
    nonces = probe.effect_values("body")
    output = run.output if isinstance(run.output, dict) else {}
    probe.check(
        "body-reruns-nondeterministically",
        t("code outside steps re-runs on every request, with different values each time"),
        len(nonces) >= 3 and len(set(nonces)) == len(nonces),
        observed={"body executions": len(nonces), "distinct values": len(set(nonces))},
        run_ids=[run.id],
    )
    probe.check(
        "allowed-nondeterminism-harmless",
        t("the run completes and a random step result is the same in every later request"),
        run.status == "COMPLETED"
        and output.get("token") == output.get("stored")
        and probe.effects("issue-token") == 1,
        observed={
            "status": run.status,
            "output": output,
            "issue-token executions": probe.effects("issue-token"),
        },
        run_ids=[run.id],
    )

    if not probe.devserver.owned:
        reason = t(
            "the dev server is external ($INNGEST_DEV_SERVER_URL); the suite cannot lower its "
            "--tick to watch the run to its end within the bound"
        )
        for key, description in _violation_checks():
            probe.not_run(key, description, reason)
        return
    with probe.devserver_options(tick_ms=UNSTABLE_TICK_MS):
        _watch_unstable_run(probe)


def _violation_checks() -> list[tuple[str, Msg]]:
    return [
        (
            "violation-run-ends",
            t(
                "a run whose step IDs change between requests ends by itself (watched up to "
                "{seconds:.0f} s at --tick {tick} ms)",
                seconds=UNSTABLE_WATCH_S,
                tick=UNSTABLE_TICK_MS,
            ),
        ),
        (
            "violation-error-clear",
            t("the run fails with an error that says why it was stopped"),
        ),
        (
            "violation-contained",
            t("the run stops after a few executions of the step (at most 3)"),
        ),
        (
            "violation-reported",
            t("the SDK or dev server names the violation (non-determinism / step ID)"),
        ),
    ]


def _watch_unstable_run(probe: Probe) -> None:
    """The violation, watched to its end or the bound: what the platform does about it."""
    probe.new_scenario()
    mark = probe.log_mark()
    started = time.monotonic()
    run_id = probe.run_of(probe.send("ex05/unstable.requested"))
    probe.say(f"watching a run with unstable step IDs (up to {UNSTABLE_WATCH_S:.0f}s)")
    run = probe.wait_or_last(run_id, timeout=UNSTABLE_WATCH_S)
    watched_s = round(time.monotonic() - started, 1)
    if not run.final:
        probe.api.cancel(run_id)  # it would go on; stop it
    executions = probe.effects("fetch")
    lines = probe.logs_since(mark)
    named = [line for line in lines if any(w in line.lower() for w in CAUSE_WORDS)]
    warnings = [line for line in lines if "warn" in line.lower()]
    error = run.error or ""
    outcome = {
        "final status": run.status if run.final else f"{run.status} (cancelled by the probe)",
        "error": error or None,
        "fetch executions": executions,
        "seconds watched": watched_s,
        "tick ms": UNSTABLE_TICK_MS,
    }
    probe.measure(
        "unstable-step-executions",
        executions,
        "executions",
        t(
            "times the step with an unstable ID ran (side effects counted by the app), from the "
            "event until the run ended or {seconds:.0f} s passed; --tick {tick} ms",
            seconds=UNSTABLE_WATCH_S,
            tick=UNSTABLE_TICK_MS,
        ),
    )
    probe.measure(
        "unstable-run-seconds",
        watched_s,
        "s",
        t("from sending the event until the run ended (or the watch gave up)"),
    )
    described = dict(_violation_checks())
    probe.check(
        "violation-run-ends",
        described["violation-run-ends"],
        run.final,
        observed=outcome,
        expected="a final status",
        run_ids=[run_id],
    )
    probe.check(
        "violation-error-clear",
        described["violation-error-clear"],
        run.status == "FAILED" and any(w in error.lower() for w in ("limit", *CAUSE_WORDS)),
        observed=outcome,
        expected="FAILED, with an error naming the limit or the cause",
        run_ids=[run_id],
    )
    probe.check(
        "violation-contained",
        described["violation-contained"],
        run.final and executions <= 3,
        observed=outcome,
        expected="the run ends on its own (e.g. fails) after a few executions",
        run_ids=[run_id],
    )
    probe.check(
        "violation-reported",
        described["violation-reported"],
        bool(named) or any(w in error.lower() for w in CAUSE_WORDS),
        observed={
            "error": error or None,
            "matching log lines": named[:3],
            "warning lines": warnings[:3],
            "warning line count": len(warnings),
            "log lines read": len(lines),
        },
        run_ids=[run_id],
    )


@determinism_constraints.rubric
def _(ev: Evidence) -> Rating:
    basics = ["body-reruns-nondeterministically", "allowed-nondeterminism-harmless"]
    if not ev.passed("allowed-nondeterminism-harmless"):
        return Rating(
            stars=1, reason=t("non-determinism outside steps breaks runs"), drivers=basics
        )
    if not ev.passed("body-reruns-nondeterministically"):
        return Rating(
            stars=2, reason=t("the re-execution model did not behave as documented"), drivers=basics
        )
    drivers = [key for key, _ in _violation_checks()]
    contained, reported = ev.passed("violation-contained"), ev.passed("violation-reported")
    if contained and reported:
        return Rating(
            stars=5,
            reason=t("only step IDs must be stable; breaking that is caught and named"),
            drivers=drivers,
        )
    if contained:
        return Rating(
            stars=4,
            reason=t(
                "only step IDs must be stable; breaking that stops the run, without naming "
                "the cause"
            ),
            drivers=drivers,
        )
    advice = t(
        "derive step IDs only from data that is the same on every request (constants, event "
        "data, earlier step results), never from time, randomness or process state"
    )
    if not ev.passed("violation-run-ends") and not ev.failed("violation-run-ends"):
        return Rating(
            stars=3,
            reason=t(
                "constraints are light (only step IDs must be stable); what a run that breaks "
                "them does was not observed here"
            ),
            drivers=drivers,
            advice=advice,
        )
    params = {
        "executions": round(ev.value("unstable-step-executions")),
        "seconds": round(ev.value("unstable-run-seconds")),
        "tick": UNSTABLE_TICK_MS,
    }
    if not ev.passed("violation-run-ends"):
        return Rating(
            stars=2,
            reason=t(
                "breaking the one constraint (stable step IDs) re-executes the step on every "
                "request without end or warning: {executions} executions, still running after "
                "{seconds} s at --tick {tick} ms",
                **params,
            ),
            drivers=drivers,
            advice=advice,
        )
    if not ev.passed("violation-error-clear"):
        return Rating(
            stars=2,
            reason=t(
                "breaking the one constraint (stable step IDs) re-executes the step "
                "{executions} times, side effects included, and the run ends without an error "
                "that says why",
                executions=params["executions"],
            ),
            drivers=drivers,
            advice=advice,
        )
    if reported:
        reason = t(
            "constraints are light (only step IDs must be stable), but breaking them "
            "re-executes the step {executions} times, side effects included, before the run "
            "fails at the step limit; the cause is named",
            executions=params["executions"],
        )
    else:
        reason = t(
            "constraints are light (only step IDs must be stable), but breaking them "
            "re-executes the step {executions} times, side effects included, until the run "
            "fails at the step limit, with no warning that names the unstable step ID",
            executions=params["executions"],
        )
    return Rating(stars=3, reason=reason, drivers=drivers, advice=advice)


# ═══ EX-06 Determinism violation handling ══════════════════════════════════════════════════════
# A deploy changes the code of a function while a run of it is sleeping: one step is renamed,
# two are swapped. Same function ID, so the in-flight run continues on the new code.


class SignedUp(BaseModel):
    trial_s: float


@inngest_client.create_function(
    fn_id="ex06-onboarding", trigger=inngest.TriggerEvent(event="ex06/user.signed_up")
)
async def onboarding_v1(ctx: inngest.Context) -> dict[str, str]:
    async def fetch_profile() -> str:
        side_effects.executed(ctx.event, "v1:fetch-profile")
        return "profile-v1"

    profile = await ctx.step.run("fetch-profile", fetch_profile)
    plan = await ctx.step.run("choose-plan", echo, "plan-v1")
    team = await ctx.step.run("create-team", echo, "team-v1")
    trial = timedelta(seconds=SignedUp.model_validate(ctx.event.data).trial_s)
    await ctx.step.sleep("trial-period", trial)
    return {"profile": profile, "plan": plan, "team": team}


@inngest_client.create_function(
    fn_id="ex06-onboarding", trigger=inngest.TriggerEvent(event="ex06/user.signed_up")
)
async def onboarding_v2(ctx: inngest.Context) -> dict[str, str]:
    async def load_profile() -> str:
        side_effects.executed(ctx.event, "v2:load-profile")
        return "profile-v2"

    profile = await ctx.step.run("load-profile", load_profile)  # renamed from "fetch-profile"
    team = await ctx.step.run("create-team", echo, "team-v2")  # now before "choose-plan"
    plan = await ctx.step.run("choose-plan", echo, "plan-v2")
    trial = timedelta(seconds=SignedUp.model_validate(ctx.event.data).trial_s)
    await ctx.step.sleep("trial-period", trial)
    return {"profile": profile, "plan": plan, "team": team}


RUN_FINISH_WATCH_S = 60.0  # the v1 run sleeps 5 s; after this long unfinished is stuck


@suite.item("EX-06", functions=[onboarding_v1])
def violation_handling(probe: Probe) -> None:
    v2_code = [onboarding_v2 if fn is onboarding_v1 else fn for fn in probe.app.functions]
    with probe.app.run_as_process() as app:
        run_id = probe.run_of(probe.send("ex06/user.signed_up", {"trial_s": 5}))
        if not probe.wait_for_step(run_id, "trial-period", timeout=20):
            raise RuntimeError("v1 never reached its sleep; cannot deploy v2 during it")
        app.kill()
        mark = probe.log_mark()
        app.start(v2_code)  # the "deploy": same function ID, changed steps
        probe.app.sync(probe.api)
        # A run the deploy leaves stuck is a finding (the rubric's low branch), not a probe error.
        run = probe.wait_or_last(run_id, timeout=RUN_FINISH_WATCH_S)
    warnings = [
        line
        for line in probe.logs_since(mark)
        if (line.startswith("app:") and (" WARNING " in line or " ERROR " in line))
        or (run_id in line and ('"level":"WARN' in line or '"level":"ERROR' in line))
    ]
    output = run.output if isinstance(run.output, dict) else {}

    probe.check(
        "swapped-steps-keep-values",
        t("steps that only moved return their own memoized values"),
        output.get("plan") == "plan-v1" and output.get("team") == "team-v1",
        observed={"plan": output.get("plan"), "team": output.get("team")},
        expected="plan-v1 and team-v1 (memoized by ID, not by position)",
        run_ids=[run_id],
    )
    probe.check(
        "run-finishes",
        t(
            "the in-flight run completes on the new code within {s:.0f} s, with a result for "
            "every step",
            s=RUN_FINISH_WATCH_S,
        ),
        run.status == "COMPLETED"
        and output.get("profile") in ("profile-v1", "profile-v2")
        and output.get("plan") in ("plan-v1", "plan-v2")
        and output.get("team") in ("team-v1", "team-v2"),
        observed={"status": run.status, "output": run.output, "error": run.error},
        expected="COMPLETED with a profile, a plan and a team",
        run_ids=[run_id],
    )
    probe.check(
        "renamed-step-silently-rerun",
        t("the renamed step runs as new work, with no error"),
        run.status == "COMPLETED" and probe.effects("v2:load-profile") == 1,
        observed={
            "v2 load-profile executions": probe.effects("v2:load-profile"),
            "output profile": output.get("profile"),
        },
        run_ids=[run_id],
    )
    probe.check(
        "change-reported",
        t("the SDK or dev server warns that the run's steps no longer match"),
        bool(warnings),
        observed={"warnings/errors logged": warnings[:3]},
        run_ids=[run_id],
    )
    probe.check(
        "in-flight-run-pinned",
        t("the in-flight run keeps running the code it started with"),
        probe.effects("v2:load-profile") == 0 and output.get("profile") == "profile-v1",
        observed={"output profile": output.get("profile")},
        run_ids=[run_id],
    )


@violation_handling.rubric
def _(ev: Evidence) -> Rating:
    # A run that never completed has no step results to compare: that is the finding.
    if not ev.passed("run-finishes"):
        return Rating(
            stars=2,
            reason=t(
                "after a code change the in-flight run did not complete within {s:.0f} s "
                "(stuck or failed)",
                s=RUN_FINISH_WATCH_S,
            ),
            drivers=["run-finishes"],
        )
    if not ev.passed("swapped-steps-keep-values"):
        return Rating(
            stars=1,
            reason=t("a code change made steps receive other steps' results"),
            drivers=["swapped-steps-keep-values"],
        )
    if ev.passed("in-flight-run-pinned"):
        return Rating(
            stars=5,
            reason=t("in-flight runs stay on the code they started with"),
            drivers=["in-flight-run-pinned"],
        )
    if ev.passed("change-reported"):
        return Rating(
            stars=4,
            reason=t("no corruption, and the mismatch is reported"),
            drivers=["swapped-steps-keep-values", "change-reported"],
        )
    return Rating(
        stars=3,
        advice=t(
            "treat step IDs as a stored contract: never rename or remove a step while runs of "
            "its function may be in flight; ship incompatible changes under a new function ID"
        ),
        reason=t(
            "no corruption (results are keyed by step ID), but the change is not detected: "
            "the renamed step silently ran again on the new code"
        )
        if ev.passed("renamed-step-silently-rerun")
        else t(
            "no corruption (results are keyed by step ID), but the change is not detected, and "
            "the renamed step did not run exactly once as new work"
        ),
        drivers=["swapped-steps-keep-values", "renamed-step-silently-rerun", "change-reported"],
    )


# ═══ EX-07 Replay accuracy ═════════════════════════════════════════════════════════════════════
# Each step returns a tricky value; the function body compares what later requests get back
# (from Inngest's memoized state) with the original. Values JSON cannot carry get a run each, to
# see whether they fail loudly or change silently.


class InvoiceLine(BaseModel):
    sku: str
    quantity: int
    unit_price: Decimal


class Invoice(BaseModel):
    number: str
    issued_at: datetime
    lines: list[InvoiceLine]
    note: str | None = None


def sample_invoice() -> Invoice:
    return Invoice(
        number="INV-2026-0001",
        issued_at=datetime(2026, 11, 24, 9, 30, 15, 123456, tzinfo=UTC),
        lines=[InvoiceLine(sku="ラーメン-🍜", quantity=3, unit_price=Decimal("12.34"))],
    )


# What everyday step results look like.
CORE_CASES: dict[str, Any] = {
    "nested": {"a": [1, {"b": [True, False, None, []]}], "c": {"d": {"e": {}}}},
    "floats": [0.1 + 0.2, 1e-300, 1.7976931348623157e308, math.pi, 5e-324, 2.5],
    "unicode": ["日本語のテキスト", "👩‍👩‍👧‍👦", "مرحبا", "e\u0301", 'tab\tquote"backslash\\'],
    "none": None,
    "large-list": list(range(20_000)),
}
# Valid JSON that Python's json module round-trips exactly, at the edges of number handling.
EDGE_CASES: dict[str, Any] = {
    "negative-zero": -0.0,
    "int64-extremes": [-(2**63), 2**63 - 1],
    "beyond-double-precision": [2**53 + 1, 2**64 + 1],
}
ROUND_TRIP_CASES = {**CORE_CASES, **EDGE_CASES}
# What each check says, in words (its key keeps the case's name).
CASE_CHECKS: dict[str, Msg] = {
    "nested": t("nested objects and lists come back from memoized state identical"),
    "floats": t(
        "floats (0.1 + 0.2, the smallest and largest doubles, pi) come back from memoized state "
        "identical"
    ),
    "unicode": t(
        "Unicode text (Japanese, an emoji sequence, Arabic, a combining mark, escapes) comes "
        "back from memoized state identical"
    ),
    "none": t("None comes back from memoized state identical"),
    "large-list": t("a list of 20,000 integers comes back from memoized state identical"),
    "negative-zero": t("-0.0 comes back from memoized state identical"),
    "int64-extremes": t(
        "the int64 extremes (-2^63 and 2^63 - 1) come back from memoized state identical"
    ),
    "beyond-double-precision": t(
        "integers beyond double precision (2^53 + 1, 2^64 + 1) come back from memoized state "
        "identical"
    ),
    "pydantic-model": t(
        "a Pydantic model returned with output_type comes back from memoized state identical"
    ),
}


@inngest_client.create_function(
    fn_id="ex07-round-trip", trigger=inngest.TriggerEvent(event="ex07/round-trip.requested")
)
async def round_trip(ctx: inngest.Context) -> dict[str, dict[str, Any]]:
    replayed: dict[str, Any] = {}
    for name, value in ROUND_TRIP_CASES.items():
        replayed[name] = await ctx.step.run(name, echo, value)
    invoice = await ctx.step.run("pydantic-model", echo, sample_invoice(), output_type=Invoice)
    # Only reached in a request where every value above came back from memoized state.
    report = {name: _compare(replayed[name], value) for name, value in ROUND_TRIP_CASES.items()}
    report["pydantic-model"] = {
        "identical": isinstance(invoice, Invoice) and invoice == sample_invoice(),
        "differences": [] if invoice == sample_invoice() else [repr(invoice)[:200]],
    }
    return report


def _compare(replayed: Any, original: Any) -> dict[str, Any]:
    """Whether ``replayed`` is identical to ``original``, and where it is not."""
    differences = list(_differences(replayed, original, "$"))
    return {"identical": not differences, "differences": differences[:5]}


def _differences(a: Any, b: Any, path: str) -> Iterator[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            yield f"{path}: keys {sorted(map(str, a))} != {sorted(map(str, b))}"
            return
        for key in a:
            yield from _differences(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _differences(x, y, f"{path}[{index}]")
    elif not _identical(a, b):
        yield f"{path}: got {a!r} ({type(a).__name__}), sent {b!r} ({type(b).__name__})"


def _identical(a: Any, b: Any) -> bool:
    """Equal with the same types (1 is not 1.0, -0.0 is not 0.0, NaN is NaN)."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_identical(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_identical(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


# Python values that JSON has no exact form for, and that no output_type describes.
NON_JSON_CASES: dict[str, Any] = {
    "tuple": (1, 2),
    "int-keys": {1: "one"},
    "nan": math.nan,
    "datetime": datetime(2026, 1, 1, tzinfo=UTC),
}


class NonJsonCase(BaseModel):
    case: str


@inngest_client.create_function(
    fn_id="ex07-non-json", trigger=inngest.TriggerEvent(event="ex07/non-json.requested"), retries=0
)
async def non_json(ctx: inngest.Context) -> str:
    original = NON_JSON_CASES[NonJsonCase.model_validate(ctx.event.data).case]
    replayed = await ctx.step.run("value", echo, original)
    return "identical" if _identical(replayed, original) else f"changed to {replayed!r}"


@suite.item("EX-07", functions=[round_trip, non_json])
def replay_accuracy(probe: Probe) -> None:
    run = probe.trigger("ex07/round-trip.requested")
    report = run.output if run.status == "COMPLETED" and isinstance(run.output, dict) else {}
    for name in [*ROUND_TRIP_CASES, "pydantic-model"]:
        case = report.get(name) or {"identical": False, "run": run.status, "output": run.output}
        probe.check(
            f"round-trip:{name}",
            CASE_CHECKS[name],
            case["identical"] is True,
            observed=case.get("differences") or case,
            run_ids=[run.id],
        )

    outcomes: dict[str, str] = {}
    run_ids = []
    for name in NON_JSON_CASES:
        run = probe.trigger("ex07/non-json.requested", {"case": name})
        run_ids.append(run.id)
        # "identical", "changed to …", or a loud failure with the run's error
        outcomes[name] = str(run.output) if run.status == "COMPLETED" else f"FAILED: {run.error}"
    silent = [name for name, outcome in outcomes.items() if outcome.startswith("changed")]
    probe.check(
        "non-json-fails-loudly",
        t("a value JSON cannot carry round-trips or fails with an error, never changes silently"),
        not silent,
        observed=outcomes,
        expected="'identical' or a failed run for each value",
        run_ids=run_ids,
    )


@replay_accuracy.rubric
def _(ev: Evidence) -> Rating:
    core = [f"round-trip:{n}" for n in CORE_CASES]
    edge = [f"round-trip:{n}" for n in EDGE_CASES]
    broken_core = [k for k in core if not ev.passed(k)]
    if broken_core:
        return Rating(
            stars=1 if len(broken_core) > 2 else 2,
            reason=t("everyday values did not round-trip: {checks}", checks=", ".join(broken_core)),
            drivers=broken_core,
        )
    if not ev.passed("round-trip:pydantic-model"):
        return Rating(
            stars=3,
            reason=t("JSON values round-trip; a Pydantic model with output_type did not"),
            drivers=["round-trip:pydantic-model"],
        )
    broken_edge = [k for k in edge if not ev.passed(k)]
    if broken_edge:
        return Rating(
            stars=3,
            advice=t(
                "return integers beyond 2^53 (IDs, amounts in minor units) as strings or as a "
                "Pydantic model with output_type, and do not rely on -0.0 surviving a step"
            ),
            reason=t(
                "everyday values and Pydantic models round-trip exactly, but edge numbers change "
                "silently in memoized state: {checks}",
                checks=", ".join(broken_edge),
            ),
            drivers=broken_edge,
        )
    if not ev.passed("non-json-fails-loudly"):
        return Rating(
            stars=4,
            reason=t(
                "every JSON value and Pydantic model round-trips exactly; some non-JSON "
                "values are changed silently instead of failing"
            ),
            drivers=["non-json-fails-loudly"],
        )
    return Rating(
        stars=5,
        reason=t("every value round-trips exactly, and values JSON cannot carry fail loudly"),
        drivers=[*core, *edge, "round-trip:pydantic-model", "non-json-fails-loudly"],
    )


if __name__ == "__main__":
    suite.main()
