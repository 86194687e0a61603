"""SG — Signals & events: how runs are started, woken and read from outside.

Items SG-01 … SG-04. Each item below is: the Inngest function(s) it runs, the probe that drives
them against a real dev server and records what happened, and the rubric that turns that
evidence into stars. Run ``python 04_sg_signals_events.py --help`` for options.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import itertools
import json
import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import inngest
from pydantic import BaseModel

from common import (
    Category,
    Evidence,
    PatternRating,
    Probe,
    Rating,
    Suite,
    inngest_client,
    pattern_module,
    record_history,
    runs_started_by,
    side_effects,
    t,
)
from patterns.published_state import StatusBoard

suite = Suite(__file__, Category.SG)


def _producer(probe: Probe) -> inngest.Inngest:
    """A client as a producer service has it: it only sends events, to the server the probe
    runs against. A self-hosted server accepts events only with its event key, as production
    does; the dev server takes any."""
    keys = probe.devserver.app_keys()
    return inngest.Inngest(
        app_id="sg-producer",
        is_production=keys is not None,
        event_key=keys.event_key if keys else None,
        event_api_base_url=probe.devserver.url,
    )


class Started(BaseModel):
    """A run an event started, once it has finished."""

    function: str
    status: str
    run_id: str


def _started(probe: Probe, event_id: str, *, count: int = 0, timeout: float = 20) -> list[Started]:
    """Every run the event started (waiting until there are ``count``), each once it finished.

    Statuses come from each run's own record: the event's run list can lag behind it."""
    deadline = time.monotonic() + probe.bound(timeout)
    started = runs_started_by(probe.api, event_id)
    while len(started) < count and time.monotonic() < deadline:
        time.sleep(0.2)
        started = runs_started_by(probe.api, event_id)
    return [
        Started(function=slug, status=probe.wait(run_id, timeout=timeout).status, run_id=run_id)
        for slug, run_id in sorted(started)
    ]


def _functions(runs: list[Started]) -> list[str]:
    """What the runs say about routing: "function: status", sorted."""
    return sorted(f"{run.function}: {run.status}" for run in runs)


# ═══ SG-01 External signals ════════════════════════════════════════════════════════════════════
# Signalling a run that is already running. The Python SDK has no signal API: a run waits with
# step.wait_for_event for an event whose data matches its own (SG-02's primitive), and a producer
# outside the app sends that event. Held orders wait for their release: does each release reach
# its own waiting run and only that one? Is a release sent while the run is still in the step
# before its wait delivered, and how long after that step is a release still lost? Does the
# sender learn when a release reached no run? Beside that, events from outside and from inside
# functions start runs (the event side of signalling; SG-03 covers routing).


class OrderReceived(BaseModel):
    tag: str
    order_id: str


@inngest_client.create_function(
    fn_id="sg01-route-order", trigger=inngest.TriggerEvent(event="sg01/order.received")
)
async def route_order(ctx: inngest.Context) -> list[str]:
    order = OrderReceived.model_validate(ctx.event.data)
    follow_ups = [
        inngest.Event(name=name, data=order.model_dump())
        for name in ("sg01/invoice.requested", "sg01/shipment.requested")
    ]
    # One durable step sends both; its result (the event IDs) is memoized with the run.
    return await ctx.step.send_event("request-documents", follow_ups)


@inngest_client.create_function(
    fn_id="sg01-issue-invoice", trigger=inngest.TriggerEvent(event="sg01/invoice.requested")
)
async def issue_invoice(ctx: inngest.Context) -> str:
    order = OrderReceived.model_validate(ctx.event.data)

    async def issue() -> str:
        side_effects.executed(ctx.event, f"invoice:{order.order_id}")
        return f"invoice-{order.order_id}"

    return await ctx.step.run("issue-invoice", issue)


@inngest_client.create_function(
    fn_id="sg01-book-shipment", trigger=inngest.TriggerEvent(event="sg01/shipment.requested")
)
async def book_shipment(ctx: inngest.Context) -> str:
    order = OrderReceived.model_validate(ctx.event.data)

    async def book() -> str:
        side_effects.executed(ctx.event, f"shipment:{order.order_id}")
        return f"shipment-{order.order_id}"

    return await ctx.step.run("book-shipment", book)


class HoldPlaced(BaseModel):
    tag: str
    order_id: str
    wait_s: float
    hold_s: float = 0.0  # how long the step before the wait takes


@inngest_client.create_function(
    fn_id="sg01-await-release", trigger=inngest.TriggerEvent(event="sg01/hold.placed")
)
async def await_release(ctx: inngest.Context) -> dict[str, str | None]:
    hold = HoldPlaced.model_validate(ctx.event.data)

    async def place_hold() -> str:
        side_effects.executed(ctx.event, f"holding:{hold.order_id}", time.time())
        await asyncio.sleep(hold.hold_s)
        # When the step returns: the wait below begins right after (as the app sees it).
        side_effects.executed(ctx.event, f"held:{hold.order_id}", time.time())
        return hold.order_id

    await ctx.step.run("place-hold", place_hold)
    release = await ctx.step.wait_for_event(
        "await-release",
        event="sg01/release.signalled",
        if_exp="async.data.order_id == event.data.order_id",
        timeout=timedelta(seconds=hold.wait_s),
    )
    note = release.data.get("note") if release else None
    return {"order_id": hold.order_id, "release": str(note) if note is not None else None}


ORDERS = 3
WAITING = ("alpha", "beta", "gamma")  # held orders signalled once they wait
EARLY_HOLD_S = 2.0  # the step before the wait, during which the early release is sent
# The race-window scan: releases sent this long before (negative) or after the step before the
# wait returns (ms), in runs whose step takes SCAN_HOLD_S. Where does "lost" turn "delivered"?
OFFSETS_MS = (-400, -200, -100, -50, -25, 0, 25, 50, 100)
SCAN_HOLD_S = 0.5
LOST_WAIT_S = 5.0  # the wait's timeout where a lost release is expected


def _release(probe: Probe, order_id: str, note: str) -> inngest.Event:
    return inngest.Event(
        name="sg01/release.signalled",
        data={"tag": probe.tag, "order_id": order_id, "note": note},
    )


def _hold(probe: Probe, order_id: str, wait_s: float, hold_s: float = 0.0) -> str:
    data = {"order_id": order_id, "wait_s": wait_s, "hold_s": hold_s}
    return probe.run_of(probe.send("sg01/hold.placed", data))


def _release_around_step_end(probe: Probe, order_id: str, offset_ms: float) -> float:
    """Send order_id's release ``offset_ms`` from when its run's step before the wait will
    return (it started the step, which takes SCAN_HOLD_S); the wall-clock time it was sent."""
    key = f"holding:{order_id}"
    deadline = time.monotonic() + 20
    while not probe.effect_values(key):
        if time.monotonic() > deadline:
            raise RuntimeError(f"run for {order_id} never began its step before the wait")
        time.sleep(0.005)
    step_ends = float(probe.effect_values(key)[0]) + SCAN_HOLD_S
    time.sleep(max(0.0, step_ends + offset_ms / 1000 - time.time()))
    probe.api.send(
        "sg01/release.signalled", {"tag": probe.tag, "order_id": order_id, "note": "scan"}
    )
    return time.time()


def _scan_race_window(probe: Probe) -> list[dict[str, Any]]:
    """One held order per offset in OFFSETS_MS, each released about that long from the moment
    its step before the wait returned; for each: when it was really sent relative to that
    moment (as the step recorded it), and whether the run got it."""
    orders = {offset: f"scan-{offset}-{probe.tag}" for offset in OFFSETS_MS}
    runs: dict[int, str] = {}
    sent_at: dict[int, float] = {}

    def release(offset: int) -> None:
        # Each on its own thread from the start, so none waits for another's run to appear.
        data = {"order_id": orders[offset], "wait_s": LOST_WAIT_S, "hold_s": SCAN_HOLD_S}
        event_id = probe.send("sg01/hold.placed", data)
        sent_at[offset] = _release_around_step_end(probe, orders[offset], offset)
        runs[offset] = probe.run_of(event_id)

    threads = [threading.Thread(target=release, args=(o,), daemon=True) for o in OFFSETS_MS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(probe.bound(30))
    if len(runs) != len(OFFSETS_MS):
        raise RuntimeError("not every release of the race-window scan was sent")
    results = []
    for offset in OFFSETS_MS:
        run = probe.wait_or_last(runs[offset], timeout=LOST_WAIT_S + 20)
        output = run.output if isinstance(run.output, dict) else {}
        held = probe.effect_values(f"held:{orders[offset]}")
        results.append(
            {
                "aimed ms": offset,
                "sent ms after the step returned": round((sent_at[offset] - held[0]) * 1000, 1)
                if held
                else None,
                "delivered": output.get("release") == "scan",
                "status": run.status,
                "run": run.id,
            }
        )
    return results


@suite.item(
    "SG-01", functions=[route_order, issue_invoice, book_shipment, await_release], timeout=100
)
def external_signals(probe: Probe) -> None:
    orders = [f"{probe.tag}-{n}" for n in range(ORDERS)]
    sent_at = datetime.now(UTC)
    order_event_ids = _producer(probe).send_sync(
        [
            inngest.Event(name="sg01/order.received", data={"tag": probe.tag, "order_id": o})
            for o in orders
        ]
    )
    routers = {
        event_id: probe.wait(probe.run_of(event_id), timeout=30) for event_id in order_event_ids
    }
    start_latencies = [
        (run.started_at - sent_at).total_seconds() for run in routers.values() if run.started_at
    ]
    probe.check(
        "batch-send-starts-one-run-each",
        t("one send of several events from outside returns an ID per event and starts a run each"),
        len(order_event_ids) == ORDERS
        and len(set(order_event_ids)) == ORDERS
        and all(run.status == "COMPLETED" for run in routers.values()),
        observed={
            "event ids": order_event_ids,
            "router runs": {e: r.status for e, r in routers.items()},
        },
        expected=f"{ORDERS} IDs, {ORDERS} completed runs",
        run_ids=[r.id for r in routers.values()],
    )
    if start_latencies:
        probe.measure(
            "send-to-run-start",
            round(statistics.median(start_latencies), 3),
            "s",
            t(
                "median over {n} runs from the producer's send to the run's start (REST "
                "run_started_at), max {max:.3f} s",
                n=len(start_latencies),
                max=max(start_latencies),
            ),
        )

    returned = {e: r.output for e, r in routers.items()}
    probe.check(
        "send-event-returns-ids",
        t("step.send_event with two events returns two event IDs"),
        all(isinstance(ids, list) and len(ids) == 2 for ids in returned.values()),
        observed=returned,
        run_ids=[r.id for r in routers.values()],
    )

    # Follow every returned ID to the run it started.
    expected_fn = [issue_invoice.id, book_shipment.id]
    followed: dict[str, Any] = {}
    child_runs: list[str] = []
    for order, (_event, ids) in zip(orders, returned.items(), strict=True):
        for event_id, fn_id, effect in zip(
            ids or [], expected_fn, (f"invoice:{order}", f"shipment:{order}"), strict=False
        ):
            runs = _started(probe, event_id, count=1)
            child_runs += [r.run_id for r in runs]
            followed[event_id] = {
                "runs": _functions(runs),
                "effect executions": probe.effects(effect),
                "expected": f"{fn_id}: COMPLETED",
            }
    probe.check(
        "returned-ids-lead-to-runs",
        t("each returned event ID leads to exactly one completed run of the function it targets"),
        len(followed) == 2 * ORDERS
        and all(
            f["runs"] == [f["expected"]] and f["effect executions"] == 1 for f in followed.values()
        ),
        observed=followed,
        run_ids=child_runs,
    )

    _signal_running_runs(probe)

    has_signals = hasattr(inngest.Step, "wait_for_signal")
    probe.check(
        "python-sdk-wait-for-signal",
        t("the Python SDK can address one run directly (step.wait_for_signal)"),
        has_signals,
        observed={
            "inngest.Step.wait_for_signal": has_signals,
            "sdk": f"inngest {importlib.metadata.version('inngest')}",
        },
    )
    probe.document(
        "signals-in-other-sdks",
        t(
            "step.waitForSignal resumes one specific run through a transactional API; the "
            "docs recommend waitForEvent for most waits"
        ),
        "https://www.inngest.com/docs/durable-execution/primitives/step-waitforevent",
    )


def _signal_running_runs(probe: Probe) -> None:
    """Release held orders while their runs wait, before they wait, and just after the step
    before the wait: the checks that say whether a running run can be signalled."""
    producer = _producer(probe)
    orders = {name: f"{name}-{probe.tag}" for name in WAITING}
    runs = {name: _hold(probe, orders[name], 60) for name in WAITING}
    early_order = f"early-{probe.tag}"
    early = _hold(probe, early_order, 4, hold_s=EARLY_HOLD_S)
    for name in WAITING:
        if not probe.wait_for_step(runs[name], "await-release", timeout=20):
            raise RuntimeError(f"held order {name} never began waiting; cannot signal it")

    # The early release: sent while its run is still in the step before the wait.
    if not probe.wait_for_effect(f"holding:{early_order}", timeout=20):
        raise RuntimeError("the early order never began its hold; cannot race its wait")
    lost_candidate = producer.send_sync(_release(probe, early_order, "early"))[0]

    # Two of the three waiting runs released in one send; the third must keep waiting.
    sent_at = time.monotonic()
    delivered_ids = producer.send_sync(
        [_release(probe, orders[name], f"note-{name}") for name in ("alpha", "beta")]
    )
    alpha = probe.wait(runs["alpha"], timeout=30)
    beta = probe.wait(runs["beta"], timeout=30)
    released_s = [time.monotonic() - sent_at]
    gamma_meanwhile = probe.api.get_run(runs["gamma"]).status
    sent_at = time.monotonic()
    producer.send_sync(_release(probe, orders["gamma"], "note-gamma"))
    gamma = probe.wait(runs["gamma"], timeout=30)
    released_s.append(time.monotonic() - sent_at)
    outputs = {run.id: run.output for run in (alpha, beta, gamma)}
    probe.check(
        "signal-resumes-waiting-run",
        t(
            "a signal (an event matching a run's own data) sent from outside resumes the "
            "waiting run with its payload"
        ),
        all((outputs[runs[name]] or {}).get("release") == f"note-{name}" for name in WAITING),
        observed=outputs,
        expected="each run's release note is its own",
        run_ids=list(runs.values()),
    )
    probe.check(
        "signal-reaches-only-its-run",
        t("a signal resumes only the run it is addressed to: another waiting run keeps waiting"),
        gamma_meanwhile == "RUNNING",
        observed={"gamma while alpha and beta were released": gamma_meanwhile},
        expected="RUNNING",
        run_ids=[runs["gamma"]],
    )
    probe.measure(
        "signal-to-resume",
        round(statistics.median(released_s), 3),
        "s",
        t(
            "median over {n} sends from a producer's send to the released runs finishing "
            "(REST status polled every 0.25 s), max {max:.3f} s",
            n=len(released_s),
            max=max(released_s),
        ),
    )

    scan = _scan_race_window(probe)
    early_run = probe.wait_or_last(early, timeout=EARLY_HOLD_S + 20)
    early_output = early_run.output if isinstance(early_run.output, dict) else {}
    probe.check(
        "signal-before-wait-delivered",
        t("a signal sent while the run is still in the step before its wait is delivered"),
        early_output.get("release") == "early",
        observed={"status": early_run.status, "output": early_run.output},
        expected="release 'early'; None means the signal was lost (the wait timed out)",
        run_ids=[early],
    )
    timed = [row for row in scan if row["sent ms after the step returned"] is not None]
    after = [row for row in timed if row["sent ms after the step returned"] >= 0]
    probe.check(
        "signal-after-step-delivered",
        t(
            "a signal sent after the step before the wait returned is delivered, however soon "
            "after (the race-window scan's releases sent at or after that moment)"
        ),
        bool(after) and all(row["delivered"] for row in after),
        observed=scan,
        expected="delivered whenever sent at 0 ms or later",
        run_ids=[row["run"] for row in scan],
    )
    lost = [row["sent ms after the step returned"] for row in timed if not row["delivered"]]
    delivered = [row["sent ms after the step returned"] for row in timed if row["delivered"]]
    if lost:
        probe.measure(
            "latest-lost-signal",
            max(lost),
            "ms",
            t(
                "the latest a lost signal was sent, relative to the step before the wait "
                "returning (negative: before it returned), over {n} runs of the race-window "
                "scan (one per offset, 1 sample each); the earliest delivered was sent at "
                "{earliest} ms",
                n=len(timed),
                earliest=min(delivered),
            )
            if delivered
            else t(
                "the latest a lost signal was sent, relative to the step before the wait "
                "returning (negative: before it returned), over {n} runs of the race-window "
                "scan (one per offset, 1 sample each); none was delivered",
                n=len(timed),
            ),
            samples=[row["sent ms after the step returned"] for row in timed],
        )

    # Can the sender tell a release that reached no run from one that did?
    told = {
        "delivered release": [r.id for r in probe.api.runs_for_event(delivered_ids[0])],
        "lost release": [r.id for r in probe.api.runs_for_event(lost_candidate)],
    }
    probe.check(
        "sender-told-undelivered",
        t(
            "the sender can tell from the API that its signal reached no run (GET "
            "/v1/events/<id>/runs differs between a delivered and a lost signal)"
        ),
        bool(told["delivered release"]) != bool(told["lost release"]),
        observed={**told, "early release delivered": early_output.get("release") == "early"},
        expected="the resumed run listed for the delivered release, none for the lost one",
        run_ids=[runs["alpha"], early],
    )


@external_signals.rubric
def _(ev: Evidence) -> Rating:
    # Rated on signalling a run that is running; events starting runs only gate it.
    if not ev.passed("batch-send-starts-one-run-each"):
        return Rating(
            stars=1,
            reason=t("events sent from outside did not each start a run"),
            drivers=["batch-send-starts-one-run-each"],
        )
    if not ev.passed("signal-resumes-waiting-run"):
        return Rating(
            stars=1,
            reason=t("a signal sent from outside did not resume the waiting run it was meant for"),
            drivers=["signal-resumes-waiting-run"],
        )
    if not ev.passed("signal-reaches-only-its-run"):
        return Rating(
            stars=2,
            reason=t("a signal resumed a waiting run it was not addressed to"),
            drivers=["signal-resumes-waiting-run", "signal-reaches-only-its-run"],
        )
    if not (ev.passed("send-event-returns-ids") and ev.passed("returned-ids-lead-to-runs")):
        return Rating(
            stars=3,
            reason=t(
                "waiting runs can be signalled, but events sent from a function cannot be "
                "traced to the runs they start"
            ),
            drivers=["send-event-returns-ids", "returned-ids-lead-to-runs"],
        )
    delivery = [
        "signal-resumes-waiting-run",
        "signal-reaches-only-its-run",
        "signal-before-wait-delivered",
        "signal-after-step-delivered",
        "sender-told-undelivered",
    ]
    no_signal_api = t(
        "to signal one particular run from Python, wait for an event whose if_exp matches a "
        "key of that run (SG-02): the Python SDK has no wait_for_signal"
    )
    store_first = t(
        "a run can miss a signal that comes before its wait: have the sender also store the "
        "signal (a table, a key-value store) and let the run read it in a step before waiting, "
        "or send it only once the run's trace shows the wait"
    )
    if not (ev.passed("signal-before-wait-delivered") and ev.passed("signal-after-step-delivered")):
        if ev.passed("sender-told-undelivered"):
            return Rating(
                stars=4,
                reason=t(
                    "a signal reaches the waiting run it is addressed to, but one sent before "
                    "the wait began was lost; the API shows the sender it reached no run, so "
                    "it can send again"
                ),
                drivers=delivery,
                advice=store_first,
            )
        return Rating(
            stars=3,
            reason=t(
                "a signal reaches the waiting run it is addressed to and only that one, but a "
                "signal sent before the wait began (while the run was in the step before it, "
                "or just after that step returned) was lost: the run timed out, and neither "
                "the send nor the API told the sender"
            )
            if ev.failed("signal-after-step-delivered")
            else t(
                "a signal reaches the waiting run it is addressed to and only that one, but one "
                "sent while the run was still in the step before its wait was lost: the run "
                "timed out, and neither the send nor the API told the sender (sent at or after "
                "the end of that step, signals arrived)"
            ),
            drivers=delivery,
            advice=store_first,
        )
    if ev.passed("python-sdk-wait-for-signal"):
        return Rating(
            stars=5,
            reason=t(
                "a signal reaches the run it is addressed to, whenever it is sent, and runs "
                "can also be signalled directly"
            ),
            drivers=[*delivery, "python-sdk-wait-for-signal"],
        )
    return Rating(
        stars=5,
        reason=t(
            "a signal (an event matching a run's data) reaches the run it is addressed to and "
            "only that one, even when sent before the run began waiting"
        ),
        drivers=delivery,
        advice=no_signal_api,
    )


# ═══ SG-02 Wait for event ══════════════════════════════════════════════════════════════════════
# Approval requests wait for a decision event matched on their request ID. Several wait at once;
# one gets no decision and times out; one gets its decision while it is still notifying, before
# its wait has begun. Every request to the app is counted, to see what waiting costs.


class ApprovalRequested(BaseModel):
    tag: str
    request_id: str
    timeout_s: float
    notify_s: float = 0.0  # how long notifying the approver takes before the wait begins


class ApprovalDecided(BaseModel):
    request_id: str
    decision: str


@inngest_client.create_function(
    fn_id="sg02-await-approval", trigger=inngest.TriggerEvent(event="sg02/approval.requested")
)
async def await_approval(ctx: inngest.Context) -> dict[str, str]:
    request = ApprovalRequested.model_validate(ctx.event.data)
    # Outside any step: runs once per request Inngest makes to the app (counted as evidence).
    side_effects.executed(ctx.event, f"request:{request.request_id}")

    async def notify_approver() -> str:
        side_effects.executed(ctx.event, f"notifying:{request.request_id}")
        await asyncio.sleep(request.notify_s)  # a slow mail provider
        return f"notified approver of {request.request_id}"

    await ctx.step.run("notify-approver", notify_approver)
    decided = await ctx.step.wait_for_event(
        "await-decision",
        event="sg02/approval.decided",
        # `async` is the incoming event; `event` is the one that started this run.
        if_exp="async.data.request_id == event.data.request_id",
        timeout=timedelta(seconds=request.timeout_s),
    )
    if decided is None:
        return {"request_id": request.request_id, "outcome": "timed out"}
    decision = ApprovalDecided.model_validate(decided.data)
    return {"request_id": request.request_id, "outcome": decision.decision}


QUIET_WINDOW_S = 3.0  # how long the probe watches runs wait before any decision is sent
SHORT_TIMEOUT_S = 5.0


@suite.item("SG-02", functions=[await_approval], timeout=50)
def wait_for_event(probe: Probe) -> None:
    def request(request_id: str, timeout_s: float, notify_s: float = 0.0) -> str:
        data = {"request_id": request_id, "timeout_s": timeout_s, "notify_s": notify_s}
        return probe.run_of(probe.send("sg02/approval.requested", data))

    runs = {
        "alpha": request("alpha", 60),
        "beta": request("beta", 60),
        "gamma": request("gamma", SHORT_TIMEOUT_S),  # no decision will come
        "early": request("early", 4, notify_s=3),  # its decision comes before the wait
    }
    # A decision sent while "early" is still notifying: its wait has not begun yet.
    if not probe.wait_for_effect("notifying:early", timeout=20):
        raise RuntimeError("the 'early' request never started notifying; cannot race its wait")
    probe.api.send("sg02/approval.decided", {"request_id": "early", "decision": "approved"})

    for name in ("alpha", "beta", "gamma"):
        if not probe.wait_for_step(runs[name], "await-decision", timeout=20):
            raise RuntimeError(f"run {name} never began waiting; cannot test the wait")
    gamma_waiting_at = time.monotonic()

    # While three runs wait: an event for no one, then silence. Count requests to the app.
    before = {name: probe.effects(f"request:{name}") for name in ("alpha", "beta")}
    probe.api.send("sg02/approval.decided", {"request_id": "nobody", "decision": "approved"})
    time.sleep(QUIET_WINDOW_S)
    during = {name: probe.effects(f"request:{name}") - before[name] for name in before}
    statuses = {name: probe.api.get_run(runs[name]).status for name in ("alpha", "beta")}
    probe.check(
        "no-requests-while-waiting",
        t("a waiting run makes no requests to the app (no polling)"),
        all(count == 0 for count in during.values()),
        observed={"requests during the quiet window": during, "window_s": QUIET_WINDOW_S},
        expected="0 requests per run",
        run_ids=[runs["alpha"], runs["beta"]],
    )
    probe.check(
        "unmatched-event-ignored",
        t("an event whose data matches no waiting run resumes none of them"),
        all(status == "RUNNING" for status in statuses.values()),
        observed=statuses,
        run_ids=[runs["alpha"], runs["beta"]],
    )

    # Decisions in the opposite order of the requests.
    decided_at = time.monotonic()
    probe.api.send("sg02/approval.decided", {"request_id": "beta", "decision": "approved"})
    probe.api.send("sg02/approval.decided", {"request_id": "alpha", "decision": "rejected"})
    alpha, beta = probe.wait(runs["alpha"], timeout=30), probe.wait(runs["beta"], timeout=30)
    resumed_s = time.monotonic() - decided_at
    probe.measure(
        "decision-to-completion",
        round(resumed_s, 3),
        "s",
        t("from sending two decisions to both runs finishing (1 sample of 2 runs)"),
    )
    probe.check(
        "correlated-resume",
        t("each waiting run resumes with the decision carrying its own request ID"),
        alpha.output == {"request_id": "alpha", "outcome": "rejected"}
        and beta.output == {"request_id": "beta", "outcome": "approved"},
        observed={"alpha": alpha.output, "beta": beta.output},
        run_ids=[alpha.id, beta.id],
    )

    gamma = probe.wait(runs["gamma"], timeout=SHORT_TIMEOUT_S + 20)
    waited_s = time.monotonic() - gamma_waiting_at
    probe.measure(
        "timeout-observed",
        round(waited_s, 2),
        "s",
        t(
            "from the trace first showing the wait to the run's end, for a {timeout:g} s "
            "timeout (1 sample, polled every 0.25 s)",
            timeout=SHORT_TIMEOUT_S,
        ),
    )
    probe.check(
        "timeout-returns-none",
        t("a wait that gets no matching event returns None at its timeout"),
        gamma.status == "COMPLETED"
        and gamma.output == {"request_id": "gamma", "outcome": "timed out"}
        and waited_s < SHORT_TIMEOUT_S + 10,
        observed={"output": gamma.output, "waited_s": round(waited_s, 2)},
        run_ids=[gamma.id],
    )

    early = probe.wait(runs["early"], timeout=30)
    probe.check(
        "early-event-seen",
        t("a matching event sent before the wait began still resumes the run"),
        early.output == {"request_id": "early", "outcome": "approved"},
        observed={"output": early.output},
        expected="outcome 'approved' (seen); 'timed out' means the event was lost",
        run_ids=[early.id],
    )


@wait_for_event.rubric
def _(ev: Evidence) -> Rating:
    if not ev.passed("correlated-resume"):
        return Rating(
            stars=1,
            reason=t("waiting runs were not resumed by the events meant for them"),
            drivers=["correlated-resume"],
        )
    if not ev.passed("timeout-returns-none"):
        return Rating(
            stars=2,
            reason=t("a wait without a matching event did not end at its timeout"),
            drivers=["timeout-returns-none"],
        )
    if not (ev.passed("unmatched-event-ignored") and ev.passed("no-requests-while-waiting")):
        return Rating(
            stars=3,
            reason=t("waits resume correctly, but unrelated events wake runs or waiting polls"),
            drivers=["unmatched-event-ignored", "no-requests-while-waiting"],
        )
    drivers = [
        "correlated-resume",
        "timeout-returns-none",
        "unmatched-event-ignored",
        "no-requests-while-waiting",
        "early-event-seen",
    ]
    if ev.passed("early-event-seen"):
        return Rating(
            stars=5,
            reason=t(
                "waits match on run data, time out with None, cost nothing while waiting, and "
                "do not miss an event that arrives just before they begin"
            ),
            drivers=drivers,
        )
    return Rating(
        stars=4,
        reason=t(
            "waits match on run data, time out with None and cost nothing while waiting; but "
            "an event sent just before the wait began was lost (the run timed out)"
        ),
        drivers=drivers,
        advice=t(
            "send the signal only once the run is known to be waiting, or also store the "
            "decision and read it in a step before waiting, so a decision that comes early is "
            "not lost"
        ),
    )


# ═══ SG-03 Event triggers ══════════════════════════════════════════════════════════════════════
# Routing by event: one event to two functions, two event names to one function, a trigger
# expression that filters, and a wildcard event name.


class UserEvent(BaseModel):
    tag: str
    user_id: str


class OrderPlaced(BaseModel):
    tag: str
    amount: int


@inngest_client.create_function(
    fn_id="sg03-send-welcome", trigger=inngest.TriggerEvent(event="sg03/user.created")
)
async def send_welcome(ctx: inngest.Context) -> str:
    return f"welcome {UserEvent.model_validate(ctx.event.data).user_id}"


@inngest_client.create_function(
    fn_id="sg03-sync-crm", trigger=inngest.TriggerEvent(event="sg03/user.created")
)
async def sync_crm(ctx: inngest.Context) -> str:
    return f"crm contact {UserEvent.model_validate(ctx.event.data).user_id}"


@inngest_client.create_function(
    fn_id="sg03-revoke-sessions",
    trigger=[
        inngest.TriggerEvent(event="sg03/user.deleted"),
        inngest.TriggerEvent(event="sg03/user.suspended"),
    ],
)
async def revoke_sessions(ctx: inngest.Context) -> str:
    return f"sessions revoked after {ctx.event.name}"


@inngest_client.create_function(
    fn_id="sg03-review-large-order",
    trigger=inngest.TriggerEvent(event="sg03/order.placed", expression="event.data.amount >= 1000"),
)
async def review_large_order(ctx: inngest.Context) -> int:
    return OrderPlaced.model_validate(ctx.event.data).amount


@inngest_client.create_function(
    fn_id="sg03-audit-log", trigger=inngest.TriggerEvent(event="sg03/audit.*")
)
async def audit_log(ctx: inngest.Context) -> str:
    return f"audited {ctx.event.name}"


ROUTING_SETTLE_S = 4.0  # how long an event gets to start a run before we count it as absent


@suite.item(
    "SG-03",
    functions=[send_welcome, sync_crm, revoke_sessions, review_large_order, audit_log],
    timeout=40,
)
def event_triggers(probe: Probe) -> None:
    sent = {
        "user.created": probe.send("sg03/user.created", {"user_id": "u1"}),
        "user.deleted": probe.send("sg03/user.deleted", {"user_id": "u1"}),
        "user.suspended": probe.send("sg03/user.suspended", {"user_id": "u2"}),
        "order 1500": probe.send("sg03/order.placed", {"amount": 1500}),
        "order 20": probe.send("sg03/order.placed", {"amount": 20}),
        "audit.login": probe.send("sg03/audit.login", {}),
        "audit.export": probe.send("sg03/audit.export", {}),
        "auditing.other": probe.send("sg03/auditing.other", {}),  # not under "audit."
    }
    probe.say(f"letting events start their runs ({ROUTING_SETTLE_S:.0f}s)")
    time.sleep(ROUTING_SETTLE_S)
    runs = {name: _started(probe, event_id) for name, event_id in sent.items()}
    started = {name: _functions(started_runs) for name, started_runs in runs.items()}
    run_ids = [run.run_id for started_runs in runs.values() for run in started_runs]

    def ran(name: str, *functions: inngest.Function[Any]) -> bool:
        return started[name] == sorted(f"{fn.id}: COMPLETED" for fn in functions)

    probe.check(
        "one-event-many-functions",
        t("one event starts every function that listens to it"),
        ran("user.created", send_welcome, sync_crm),
        observed={"user.created": started["user.created"]},
        run_ids=run_ids,
    )
    probe.check(
        "many-triggers-one-function",
        t("a function with two event triggers runs for each of them"),
        ran("user.deleted", revoke_sessions) and ran("user.suspended", revoke_sessions),
        observed={k: started[k] for k in ("user.deleted", "user.suspended")},
        run_ids=run_ids,
    )
    probe.check(
        "trigger-expression-filters",
        t("a trigger expression starts runs only for the events it accepts"),
        ran("order 1500", review_large_order) and ran("order 20"),
        observed={k: started[k] for k in ("order 1500", "order 20")},
        expected="one run for amount 1500, none for amount 20",
        run_ids=run_ids,
    )
    probe.check(
        "wildcard-event-name",
        t("a wildcard event name matches every event under its prefix, and only those"),
        ran("audit.login", audit_log) and ran("audit.export", audit_log) and ran("auditing.other"),
        observed={k: started[k] for k in ("audit.login", "audit.export", "auditing.other")},
        run_ids=run_ids,
    )


@event_triggers.rubric
def _(ev: Evidence) -> Rating:
    if not ev.passed("one-event-many-functions"):
        return Rating(
            stars=1,
            reason=t("one event did not reach every function that listens to it"),
            drivers=["one-event-many-functions"],
        )
    if not (ev.passed("many-triggers-one-function") and ev.passed("trigger-expression-filters")):
        return Rating(
            stars=3,
            reason=t("fan-out works, but several triggers or trigger expressions do not"),
            drivers=["many-triggers-one-function", "trigger-expression-filters"],
        )
    drivers = [
        "one-event-many-functions",
        "many-triggers-one-function",
        "trigger-expression-filters",
        "wildcard-event-name",
    ]
    if not ev.passed("wildcard-event-name"):
        return Rating(
            stars=4,
            reason=t("fan-out, several triggers and expressions work; wildcard names do not"),
            drivers=drivers,
        )
    return Rating(
        stars=5,
        reason=t(
            "one event fans out to every listener; a function takes several triggers; "
            "expressions filter and wildcard names route by prefix"
        ),
        drivers=drivers,
    )


# ═══ SG-04 Query ═══════════════════════════════════════════════════════════════════════════════
# A caller wants a running fulfilment's current stage. Inngest has no query handler: a run has no
# live process to ask. What it offers (run status, step outputs in the trace) is read while the
# run goes through its stages, and compared with the usual pattern (patterns/published_state.py):
# the run publishes its state (here to a status board table) from inside its steps, where readers
# look it up.


def status_board() -> StatusBoard:
    # Beside the side-effect ledger: a file both the probe and the app process can reach.
    return StatusBoard(side_effects.path.with_name("status-board.sqlite"))


class FulfilmentRequested(BaseModel):
    tag: str
    order_id: str
    handover_s: float


STAGES = ("picked", "packed", "shipped")


@inngest_client.create_function(
    fn_id="sg04-fulfil-order", trigger=inngest.TriggerEvent(event="sg04/fulfilment.requested")
)
async def fulfil_order(ctx: inngest.Context) -> dict[str, str]:
    request = FulfilmentRequested.model_validate(ctx.event.data)
    board = status_board()
    for number, stage in enumerate(STAGES, start=1):

        async def reach_stage(number: int = number, stage: str = stage) -> str:
            board.publish(request.order_id, number, stage, ctx.run_id)  # the pattern
            side_effects.executed(ctx.event, f"stage:{stage}", time.time())
            return stage

        await ctx.step.run(f"stage-{stage}", reach_stage)
        if stage != STAGES[-1]:
            await ctx.step.sleep(f"handover-after-{stage}", timedelta(seconds=request.handover_s))
    return {"order_id": request.order_id, "stage": STAGES[-1]}


def _query_surface() -> list[str]:
    """Anything in the SDK's public surface that would let a run answer a query."""
    names: list[str] = []
    for owner in (inngest, inngest.Inngest, inngest.Context, inngest.Step):
        names += [f"{getattr(owner, '__name__', owner)}.{n}" for n in dir(owner) if "query" in n]
    return names


POLL_S = 0.1


def _poll_side_by_side(
    readers: list[Callable[[], None]], until: threading.Event, timeout: float
) -> None:
    """Call each reader every POLL_S on its own thread until ``until`` is set or ``timeout``;
    the first error a reader raises is raised here."""
    errors: list[BaseException] = []
    deadline = time.monotonic() + timeout

    def loop(read: Callable[[], None]) -> None:
        while not until.is_set() and time.monotonic() < deadline:
            try:
                read()
            except Exception as exc:  # handed to the probe's thread below
                errors.append(exc)
                until.set()
            time.sleep(POLL_S)

    threads = [threading.Thread(target=loop, args=(r,), daemon=True) for r in readers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 10)
    if errors:
        raise errors[0]


@suite.item("SG-04", functions=[fulfil_order], timeout=40)
def query(probe: Probe) -> None:
    board = status_board()
    order_id = f"order-{probe.tag}"
    run_id = probe.run_of(
        probe.send("sg04/fulfilment.requested", {"order_id": order_id, "handover_s": 1})
    )
    # Three readers poll side by side while the run goes through its stages, each noting when
    # it first sees a stage: the status board, the trace's step outputs, the REST run record.
    seen: dict[str, dict[str, float]] = {"board": {}, "trace": {}, "rest-output": {}}
    rest_statuses: set[str] = set()
    finished = threading.Event()

    def read_board() -> None:
        if (stage := board.read(order_id)) is not None:
            seen["board"].setdefault(stage, time.time())

    def read_trace() -> None:
        for step in record_history(probe.api, run_id, timeout=5).steps:
            if step.output in STAGES:
                seen["trace"].setdefault(step.output, time.time())

    def read_rest() -> None:
        run = probe.api.get_run(run_id)
        rest_statuses.add(run.status)
        if run.final:
            finished.set()
        elif run.output is not None:
            seen["rest-output"].setdefault(json.dumps(run.output), time.time())

    probe.say("reading the run's state while it runs")
    _poll_side_by_side([read_board, read_trace, read_rest], finished, probe.bound(40))
    final = probe.wait(run_id, timeout=20)
    # When each stage's step ran (its first execution, recorded by the step itself).
    reached = {
        stage: float(times[0])
        for stage in STAGES
        if (times := probe.effect_values(f"stage:{stage}"))
    }

    def lags(source: str) -> list[float]:
        return [seen[source][s] - reached[s] for s in STAGES if s in seen[source] and s in reached]

    for source, key in (("board", "pattern-lag"), ("trace", "trace-lag")):
        values = lags(source)
        if values:
            probe.measure(
                key,
                round(statistics.median(values) * 1000),
                "ms",
                t(
                    "median over {n} stages from a stage's step finishing to a reader polling "
                    "every {poll:g} s first seeing it; max {max:.0f} ms",
                    n=len(values),
                    poll=POLL_S,
                    max=max(values) * 1000,
                ),
            )

    probe.check(
        "status-while-running",
        t("the REST run API reports the run as running while it runs, then its final status"),
        "RUNNING" in rest_statuses and final.status == "COMPLETED",
        observed={"statuses seen": sorted(rest_statuses), "final": final.status},
        run_ids=[run_id],
    )
    probe.check(
        "rest-shows-progress",
        t("the REST run API shows how far a running run has got (an output before the end)"),
        bool(seen["rest-output"]),
        observed={"outputs seen while running": list(seen["rest-output"])},
        expected="some intermediate output; the REST API returns the output only at the end",
        run_ids=[run_id],
    )
    probe.check(
        "trace-shows-progress",
        t("the dev server's trace API shows each completed step's output while the run runs"),
        set(seen["trace"]) >= set(STAGES[:-1]),
        observed={"stages read from the trace before the end": sorted(seen["trace"])},
        run_ids=[run_id],
    )
    surface = _query_surface()
    probe.check(
        "native-query-handler",
        t("the SDK lets a function answer queries from its live state (a query handler)"),
        bool(surface),
        observed={"query-related names in inngest 0.5.19": surface},
        expected="a way to register a query handler; none means state must be published",
    )
    probe.check(
        "pattern-shows-every-stage",
        t("a reader of the published state sees every stage, each before the run moves on"),
        set(seen["board"]) == set(STAGES)
        and all(
            seen["board"][s] <= reached.get(n, float("inf")) for s, n in itertools.pairwise(STAGES)
        ),
        observed={"stages on the board": sorted(seen["board"]), "final": board.read(order_id)},
        run_ids=[run_id],
    )
    trace_lags, board_lags = lags("trace"), lags("board")
    probe.check(
        "pattern-fresher-than-trace",
        t("the published state is at least as fresh as the trace (median lag)"),
        bool(board_lags)
        and (not trace_lags or statistics.median(board_lags) <= statistics.median(trace_lags)),
        observed={
            "board lags ms": [round(v * 1000) for v in board_lags],
            "trace lags ms": [round(v * 1000) for v in trace_lags],
        },
        run_ids=[run_id],
    )
    probe.document(
        "rest-run-api",
        t("the REST API returns a run's status, and its output once it has finished"),
        "https://www.inngest.com/docs/examples/fetch-run-status-and-output",
    )


@query.rubric
def _(ev: Evidence) -> Rating:
    pattern = _query_pattern_rating(ev)
    if not ev.passed("status-while-running"):
        return Rating(
            stars=1,
            reason=t("a running run's status cannot be read"),
            drivers=["status-while-running"],
            pattern=pattern,
        )
    if ev.passed("native-query-handler"):
        return Rating(
            stars=5,
            reason=t("functions can answer queries from their live state"),
            drivers=["native-query-handler"],
            pattern=pattern,
        )
    if ev.passed("rest-shows-progress"):
        return Rating(
            stars=4,
            reason=t("no query handler, but the public run API shows a running run's progress"),
            drivers=["native-query-handler", "rest-shows-progress"],
            pattern=pattern,
        )
    if ev.passed("trace-shows-progress"):
        return Rating(
            stars=3,
            reason=t(
                "no query handler, and the public run API gives only status until the end; "
                "completed steps' outputs can be read from the dev server's trace (the GraphQL "
                "API its UI uses)"
            ),
            drivers=["native-query-handler", "rest-shows-progress", "trace-shows-progress"],
            advice=t(
                "publish the state callers need from inside steps (a status table, a cache) "
                "and let them read it there; do not build on the UI's GraphQL API"
            ),
            pattern=pattern,
        )
    return Rating(
        stars=2,
        reason=t("only a running run's status can be read: no progress, no query handler"),
        drivers=["native-query-handler", "rest-shows-progress", "trace-shows-progress"],
        pattern=pattern,
    )


def _query_pattern_rating(ev: Evidence) -> PatternRating:
    name = t("the run publishes its state from inside its steps to a table readers query")
    if not ev.passed("pattern-shows-every-stage"):
        return PatternRating(
            module=pattern_module(StatusBoard),
            pattern=name,
            stars=2,
            reason=t("readers of the published state missed stages"),
            drivers=["pattern-shows-every-stage"],
        )
    if not ev.passed("pattern-fresher-than-trace"):
        return PatternRating(
            module=pattern_module(StatusBoard),
            pattern=name,
            stars=3,
            reason=t("readers saw every stage, but later than the trace showed it"),
            drivers=["pattern-shows-every-stage", "pattern-fresher-than-trace"],
        )
    return PatternRating(
        module=pattern_module(StatusBoard),
        pattern=name,
        stars=4,
        reason=t(
            "readers saw every stage as soon as its step ran, fresher than the trace; it is "
            "application code (a store and a publish in each step), not a platform query"
        ),
        drivers=["pattern-shows-every-stage", "pattern-fresher-than-trace"],
    )


if __name__ == "__main__":
    suite.main()
