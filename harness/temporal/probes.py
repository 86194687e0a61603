"""The Temporal side of the comparison, measured: one probe per Inngest item it mirrors.

Each probe drives the workflows of :mod:`harness.temporal.workflows` against a real Temporal dev
server (:mod:`harness.temporal.server`) and records what happened in an :class:`Evidence`, as the
Inngest probes do: checks (with what was observed), measurements (with how they were measured
and, for distributions, their raw samples) and documented facts (cited, for what cannot run
here). :mod:`harness.temporal.rubrics` turns the evidence into stars and table cells;
``compare_temporal.py`` is the command line around :func:`run_comparison`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import os
import platform
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowHistory,
)
from temporalio.exceptions import ActivityError, ApplicationError, RetryState
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.testing import TimeSkipper, WorkflowEnvironment
from temporalio.worker import Replayer, Worker
from temporalio.workflow import NondeterminismError

from harness.errors import ProbeTimeout, SetupError
from harness.i18n import t
from harness.probing.ledger import effect_key, side_effects
from harness.rating.evidence import Evidence, SourceRef, utcnow
from harness.rating.stats import Distribution, fit_line, growth_exponent
from harness.temporal.comparison import TemporalResult
from harness.temporal.rubrics import ITEM_NAMES, RUBRICS
from harness.temporal.server import TIME_SKIPPING_FLAG, TemporalDevServer
from harness.temporal.worker import WorkerProcess
from harness.temporal.workflows import (
    ACTIVITIES,
    BLOCK_KIB,
    CHAIN_STEPS,
    EXPORT_HEARTBEAT_TIMEOUT,
    EXPORT_RETRY,
    EXPORT_TIMEOUT_WITHOUT_HEARTBEAT,
    ORDER_RETRY,
    ORDER_STEP_TIMEOUT,
    SHIPMENT_PATCH,
    TRIAL_CONFIRMATION_WINDOW,
    TRIAL_REMINDER_AFTER,
    WORKFLOWS,
    Batch,
    BatchWorkflow,
    ChainPlan,
    ChargePlan,
    ChecksumChain,
    ExportJob,
    ExportWorkflow,
    Order,
    OrderPipeline,
    ParallelSteps,
    RetriedCharge,
    Shipment,
    ShipmentFlow,
    ShipmentFlowPatched,
    ShipmentFlowWeighFirst,
    SingleStep,
    Trial,
    TrialWorkflow,
    checksum_block,
)

ROOT = Path(__file__).resolve().parent.parent

# The in-process worker's slots, recorded with the results (the SDK's defaults, made explicit).
WORKER_SLOTS = {"max_concurrent_activities": 100, "max_concurrent_workflow_tasks": 100}

# PF sizes: those of the Inngest PF-01/PF-02 (07_pf_performance.py), so the figures compare.
PF01_STEPS = CHAIN_STEPS  # as the Inngest PF-01: 50 step-to-step gaps
PF01_RUNS = 3
PF02_RUN_COUNTS = (50, 150, 400)  # Temporal fan-out sizes (Inngest's PF-02 has its own set)
PF02_WIDTHS = (10, 40, 100)

Say = Callable[[str], None]


# --- what a probe works with ---------------------------------------------------------------------
@dataclass
class Context:
    server: TemporalDevServer
    client: Client
    runtime: Runtime
    workdir: Path
    main_queue: str
    say: Say = print
    deadline: float = math.inf

    def bound(self, timeout: float) -> float:
        """``timeout`` clamped to what is left of the item's budget."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ProbeTimeout("the item used up its time budget")
        return min(timeout, left)

    def queue(self, name: str) -> str:
        """A task queue of the probe's own, so no other worker picks its tasks up."""
        return f"{name}-{uuid.uuid4().hex[:8]}"

    def worker(self, task_queue: str, workflows: Sequence[type]) -> Worker:
        """An in-process worker on ``task_queue`` serving ``workflows`` and every activity."""
        return Worker(
            self.client, task_queue=task_queue, workflows=workflows, activities=ACTIVITIES
        )

    def worker_process(self, task_queue: str) -> WorkerProcess:
        return WorkerProcess(self.server.address, task_queue, self.workdir / "worker.log")

    async def wait_for(self, tag: str, name: str, count: int = 1, *, timeout: float) -> bool:
        """Wait until the ledger holds ``count`` records of ``name`` for ``tag``."""
        deadline = time.monotonic() + self.bound(timeout)
        while time.monotonic() < deadline:
            if side_effects.count(effect_key(tag, name)) >= count:
                return True
            await asyncio.sleep(0.05)
        return side_effects.count(effect_key(tag, name)) >= count

    async def result(self, handle: WorkflowHandle[Any, Any], timeout: float) -> Any:
        try:
            return await asyncio.wait_for(handle.result(), self.bound(timeout))
        except TimeoutError:
            raise ProbeTimeout(
                f"workflow {handle.id} did not finish within {timeout:.0f}s"
            ) from None


def count(tag: str, name: str) -> int:
    return side_effects.count(effect_key(tag, name))


def new_tag() -> str:
    return uuid.uuid4().hex[:8]


async def _history_events(handle: WorkflowHandle[Any, Any]) -> list[Any]:
    return list((await handle.fetch_history()).events)


async def _wait_for_event(
    ctx: Context,
    handle: WorkflowHandle[Any, Any],
    wanted: Callable[[list[Any]], bool],
    timeout: float,
) -> list[Any] | None:
    """Poll the workflow's history until ``wanted(events)``; None if that never happened."""
    deadline = time.monotonic() + ctx.bound(timeout)
    while time.monotonic() < deadline:
        events = await _history_events(handle)
        if wanted(events):
            return events
        await asyncio.sleep(0.05)
    return None


def _settled_after_activity(events: list[Any]) -> bool:
    """The worker has handled the first activity's completion (a workflow task completed after
    it), so the history records the workflow as waiting."""
    completed = [
        i
        for i, e in enumerate(events)
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
    ]
    return bool(completed) and any(
        e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED for e in events[completed[0] :]
    )


def _task_failures(events: list[Any]) -> list[Any]:
    return [
        e.workflow_task_failed_event_attributes
        for e in events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    ]


# --- the items -----------------------------------------------------------------------------------
ProbeFn = Callable[[Context, Evidence], Awaitable[None]]


@dataclass
class Item:
    id: str
    probe: ProbeFn
    budget_s: float


ITEMS: dict[str, Item] = {}


def item(item_id: str, *, budget_s: float) -> Callable[[ProbeFn], ProbeFn]:
    def register(probe: ProbeFn) -> ProbeFn:
        ITEMS[item_id] = Item(item_id, probe, budget_s)
        return probe

    return register


@item("DX-03", budget_s=30)
async def local_dev_server(ctx: Context, ev: Evidence) -> None:
    started_in = ctx.server.started_in_s
    ev.check(
        "server-starts",
        t("`temporal server start-dev` listens on its port within 60 s"),
        started_in is not None and started_in < 60,
        observed={"started_in_s": started_in},
        expected="< 60 s",
    )
    if started_in is not None:
        ev.measure(
            "server-start",
            started_in,
            "s",
            t("from spawning the CLI to its gRPC port accepting connections (SQLite file)"),
        )
    clock = time.monotonic()
    result = await ctx.client.execute_workflow(
        SingleStep.run, 7, id=f"dx03-{new_tag()}", task_queue=ctx.main_queue,
        execution_timeout=timedelta(seconds=ctx.bound(20)),
    )  # fmt: skip
    first = ev.measure(
        "first-workflow",
        round(time.monotonic() - clock, 3),
        "s",
        t("from starting a workflow of one activity to its result, the worker already polling"),
    )
    ev.check(
        "first-workflow-completes",
        t("a first workflow completes on the fresh server"),
        result == 7,
        observed={"result": result, "seconds": first},
        expected="7",
    )
    url = ctx.server.ui_url
    if url is None:
        ev.not_run(
            "ui-serves",
            t("the dev server's web UI answers"),
            t("the server was started with --headless (compare_temporal.py --headless)"),
        )
        return
    async with httpx.AsyncClient() as http:
        page = await http.get(url, timeout=ctx.bound(10), follow_redirects=True)
    ev.check(
        "ui-serves",
        t("the dev server's web UI answers"),
        page.status_code == 200 and "<html" in page.text.lower(),
        observed={"url": url, "status": page.status_code, "bytes": len(page.content)},
        expected="200 with an HTML page",
    )


@item("EX-01", budget_s=60)
async def progress_after_worker_crash(ctx: Context, ev: Evidence) -> None:
    tag = new_tag()
    queue = ctx.queue("ex01")
    order = Order(tag=tag, order_id=f"order-{tag}", first_charge_latency_s=60)
    worker = ctx.worker_process(queue)
    try:
        await asyncio.to_thread(worker.start, timeout=ctx.bound(30))
        handle = await ctx.client.start_workflow(
            OrderPipeline.run, order, id=f"ex01-{tag}", task_queue=queue
        )
        ctx.say("EX-01 · waiting for the charge activity to start")
        if not await ctx.wait_for(tag, "charge-card", timeout=20):
            raise RuntimeError("the charge activity never started; cannot crash the worker in it")
        worker.kill()
        killed = time.monotonic()
        ctx.say("EX-01 · worker SIGKILLed mid-activity; starting a new worker process")
        await asyncio.to_thread(worker.start, timeout=ctx.bound(30))
        try:
            output: Any = await ctx.result(handle, 60)
        except WorkflowFailureError as exc:
            output = f"failed: {exc.cause or exc}"
        recovered = round(time.monotonic() - killed, 2)
    finally:
        await asyncio.to_thread(worker.stop)

    events = await _history_events(handle)
    attempts = [
        e.activity_task_started_event_attributes.attempt
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]
    ev.measure(
        "crash-to-completion",
        recovered,
        "s",
        t(
            "from the SIGKILL to the workflow's result; without heartbeats the server notices "
            "a lost attempt when its start-to-close timeout ({timeout} s) runs out, and retries "
            "after {interval} s",
            timeout=ORDER_STEP_TIMEOUT.total_seconds(),
            interval=(ORDER_RETRY.initial_interval or timedelta()).total_seconds(),
        ),
    )
    ev.measure(
        "retry-attempt",
        max(attempts or [0]),
        "attempt",
        t("the charge activity's attempt that completed, from its ActivityTaskStarted event"),
    )
    ev.measure("history-events", len(events), "events", t("events in the workflow's history"))
    expected = {
        "reservation": f"reservation-{order.order_id}",
        "charge": f"charge-{order.order_id}",
        "receipt": f"receipt-{order.order_id}",
    }
    ev.check(
        "completes-after-crash",
        t("the workflow completes after its worker process is SIGKILLed mid-activity"),
        output == expected,
        observed={"output": output, "recovered_s": recovered},
        expected=f"{expected}",
        run_ids=[handle.id],
    )
    ev.check(
        "completed-activity-not-rerun",
        t("an activity that had completed before the crash is not run again"),
        count(tag, "reserve-inventory") == 1,
        observed={"reserve-inventory executions": count(tag, "reserve-inventory")},
        expected="1 execution",
        run_ids=[handle.id],
    )
    charge_pids = side_effects.pids(effect_key(tag, "charge-card"))
    ev.check(
        "interrupted-activity-retried",
        t("the activity that was running when the worker died runs again, on the new worker"),
        len(charge_pids) == 2 and charge_pids[0] != charge_pids[1],
        observed={"charge-card executions": len(charge_pids), "worker pids": charge_pids},
        expected="2 executions in 2 worker processes",
        run_ids=[handle.id],
    )
    ev.check(
        "later-activities-once",
        t("activities after the crash point run exactly once"),
        count(tag, "send-receipt") == 1,
        observed={"send-receipt executions": count(tag, "send-receipt")},
        expected="1 execution",
        run_ids=[handle.id],
    )


@item("RT-01", budget_s=45)
async def retry_policy(ctx: Context, ev: Evidence) -> None:
    interval, backoff = 0.5, 2.0
    plans = {
        "recovers": ChargePlan(new_tag(), 4, False, 5, interval, backoff),
        "exhausts": ChargePlan(new_tag(), None, False, 3, interval, backoff),
        "final": ChargePlan(new_tag(), None, True, 5, interval, backoff),
    }
    handles = {
        name: await ctx.client.start_workflow(
            RetriedCharge.run, plan, id=f"rt01-{name}-{plan.tag}", task_queue=ctx.main_queue
        )
        for name, plan in plans.items()
    }
    ctx.say("RT-01 · waiting for the retries")
    outcomes: dict[str, Any] = {}
    for name, handle in handles.items():
        try:
            outcomes[name] = await ctx.result(handle, 30)
        except WorkflowFailureError as exc:
            outcomes[name] = exc

    def attempts_of(name: str) -> list[dict[str, Any]]:
        return side_effects.values(effect_key(plans[name].tag, "flaky-charge"))

    recovering = attempts_of("recovers")
    ev.check(
        "recovers-after-retries",
        t("an activity declined three times succeeds on its fourth attempt"),
        outcomes["recovers"] == 4,
        observed={"result": str(outcomes["recovers"])},
        expected="4 (the attempt that succeeded)",
        run_ids=[handles["recovers"].id],
    )
    ev.measure(
        "attempts", len(recovering), "attempts", t("attempts recorded by the activity itself")
    )
    ev.check(
        "attempts-as-configured",
        t("it took exactly four attempts, numbered 1 to 4"),
        [a["attempt"] for a in recovering] == [1, 2, 3, 4],
        observed=[a["attempt"] for a in recovering],
        expected="[1, 2, 3, 4]",
        run_ids=[handles["recovers"].id],
    )
    times = [a["at"] for a in recovering]
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(times)]
    expected_gaps = [interval * backoff**k for k in range(len(gaps))]
    for index, (gap, wanted) in enumerate(zip(gaps, expected_gaps, strict=True), start=1):
        note = t(
            "between attempts {a} and {b}, from the activity's own clock (time.time) at each "
            "attempt's start",
            a=index,
            b=index + 1,
        )
        ev.measure(f"retry-gap-measured-{index}", gap, "s", note)
        ev.measure(
            f"retry-gap-expected-{index}",
            wanted,
            "s",
            t(
                "the initial interval {interval} s times the backoff coefficient {backoff} to the "
                "power {k}",
                interval=interval,
                backoff=backoff,
                k=index - 1,
            ),
        )
    # The server schedules a retry with a timer; a worker picks the attempt up on its next poll.
    within = (
        all(w * 0.9 - 0.05 <= g <= w + 1.5 for g, w in zip(gaps, expected_gaps, strict=True))
        and len(gaps) == 3
    )
    ev.check(
        "gaps-follow-policy",
        t("each gap is the policy's interval (at least 90% of it, at most 1.5 s more)"),
        within,
        observed={"gaps_s": gaps, "expected_s": expected_gaps},
        expected="0.9 * expected - 0.05 <= gap <= expected + 1.5",
        run_ids=[handles["recovers"].id],
    )
    exhausted = outcomes["exhausts"]
    cause = exhausted.cause if isinstance(exhausted, WorkflowFailureError) else None
    ev.check(
        "exhausted-attempts-fail",
        t("running out of attempts fails the workflow with the activity's error as the cause"),
        isinstance(cause, ActivityError)
        and cause.retry_state == RetryState.MAXIMUM_ATTEMPTS_REACHED
        and isinstance(cause.cause, ApplicationError)
        and cause.cause.type == "CardDeclined"
        and len(attempts_of("exhausts")) == 3,
        observed={
            "outcome": str(exhausted),
            "retry_state": str(getattr(cause, "retry_state", None)),
            "attempts": len(attempts_of("exhausts")),
        },
        expected="workflow failed, MAXIMUM_ATTEMPTS_REACHED after 3 attempts, cause CardDeclined",
        run_ids=[handles["exhausts"].id],
    )
    final = outcomes["final"]
    final_cause = final.cause if isinstance(final, WorkflowFailureError) else None
    ev.check(
        "non-retryable-stops",
        t("a non-retryable error ends the activity after its first attempt"),
        isinstance(final_cause, ActivityError)
        and final_cause.retry_state == RetryState.NON_RETRYABLE_FAILURE
        and len(attempts_of("final")) == 1,
        observed={
            "retry_state": str(getattr(final_cause, "retry_state", None)),
            "attempts": len(attempts_of("final")),
        },
        expected="NON_RETRYABLE_FAILURE after 1 attempt",
        run_ids=[handles["final"].id],
    )


@item("RT-04", budget_s=60)
async def heartbeat_timeout(ctx: Context, ev: Evidence) -> None:
    rows, row_seconds, kill_after = 24, 0.25, 10
    jobs = {
        "heartbeat": ExportJob(new_tag(), rows, row_seconds, heartbeat=True),
        "plain": ExportJob(new_tag(), rows, row_seconds, heartbeat=False),
    }
    queue = ctx.queue("rt04")
    worker = ctx.worker_process(queue)
    try:
        await asyncio.to_thread(worker.start, timeout=ctx.bound(30))
        handles = {
            name: await ctx.client.start_workflow(
                ExportWorkflow.run, job, id=f"rt04-{name}-{job.tag}", task_queue=queue
            )
            for name, job in jobs.items()
        }
        ctx.say("RT-04 · waiting for both exports to be under way")
        for job in jobs.values():
            if not await ctx.wait_for(job.tag, "row-exported", kill_after, timeout=20):
                raise RuntimeError("the exports did not get under way; cannot kill the worker")
        worker.kill()
        killed_at = time.time()
        done_before = {name: count(job.tag, "row-exported") for name, job in jobs.items()}
        ctx.say("RT-04 · worker SIGKILLed; a new worker waits for the retries")
        await asyncio.to_thread(worker.start, timeout=ctx.bound(30))
        outputs = {name: await ctx.result(handle, 40) for name, handle in handles.items()}
    finally:
        await asyncio.to_thread(worker.stop)

    def retry_of(name: str) -> dict[str, Any]:
        attempts = side_effects.values(effect_key(jobs[name].tag, "export-attempt"))
        return next((a for a in attempts if a["attempt"] > 1), {})

    hb, plain = retry_of("heartbeat"), retry_of("plain")
    ev.check(
        "both-complete",
        t("both exports complete after their worker is SIGKILLed"),
        outputs == {"heartbeat": rows, "plain": rows} and bool(hb) and bool(plain),
        observed={"outputs": outputs, "retries": {"heartbeat": hb, "plain": plain}},
        expected=f"{rows} rows each, after a retry",
        run_ids=[h.id for h in handles.values()],
    )
    if not (hb and plain):
        return
    timeout_s = EXPORT_HEARTBEAT_TIMEOUT.total_seconds()
    retry_s = (EXPORT_RETRY.initial_interval or timedelta()).total_seconds()
    with_hb = ev.measure(
        "detection-with-heartbeat",
        round(hb["at"] - killed_at, 2),
        "s",
        t(
            "from the SIGKILL to the retry attempt starting on the new worker; heartbeat "
            "timeout {timeout} s, retry interval {interval} s",
            timeout=timeout_s,
            interval=retry_s,
        ),
    )
    without_hb = ev.measure(
        "detection-without-heartbeat",
        round(plain["at"] - killed_at, 2),
        "s",
        t(
            "the same without heartbeats: the attempt is given up when its start-to-close "
            "timeout ({timeout} s from its start) runs out",
            timeout=EXPORT_TIMEOUT_WITHOUT_HEARTBEAT.total_seconds(),
        ),
    )
    ev.measure("heartbeat-timeout", timeout_s, "s", t("the activity's heartbeat timeout"))
    ev.measure("rows", rows, "rows", t("rows per export, {seconds} s each", seconds=row_seconds))
    resumed = ev.measure(
        "resumed-from-row",
        hb["from_row"],
        "row",
        t("where the retry started: the progress the killed attempt last reported"),
    )
    ev.measure(
        "rows-redone",
        done_before["heartbeat"] - resumed,
        "rows",
        t("rows exported before the kill but after the last heartbeat the server kept"),
    )
    bound = timeout_s + retry_s + 3.0
    ev.check(
        "heartbeat-detects-dead-worker",
        t("the retry starts within the heartbeat timeout plus the retry interval (3 s margin)"),
        with_hb <= bound,
        observed={"seconds": with_hb},
        expected=f"≤ {bound:.1f} s",
        run_ids=[handles["heartbeat"].id],
    )
    ev.check(
        "heartbeat-faster-than-timeout",
        t("with heartbeats the dead worker is detected sooner than without"),
        with_hb < without_hb,
        observed={"with_heartbeat_s": with_hb, "without_heartbeat_s": without_hb},
        expected="with < without",
        run_ids=[h.id for h in handles.values()],
    )
    ev.check(
        "progress-carried-to-retry",
        t("the retry resumes from the last progress the killed attempt reported"),
        0 < resumed <= done_before["heartbeat"] and plain["from_row"] == 0,
        observed={
            "resumed_from": resumed,
            "rows_done_before_kill": done_before["heartbeat"],
            "without_heartbeat_resumed_from": plain["from_row"],
        },
        expected="0 < resumed ≤ rows done before the kill",
        run_ids=[handles["heartbeat"].id],
    )


async def _start_shipment_on_v1(
    ctx: Context, queue: str, shipment: Shipment
) -> WorkflowHandle[Any, Any]:
    """Start a shipment on version 1 and stop that worker once the workflow waits for release."""
    async with ctx.worker(queue, [ShipmentFlow]):
        handle = await ctx.client.start_workflow(
            ShipmentFlow.run, shipment, id=f"ship-{shipment.tag}", task_queue=queue
        )
        if await _wait_for_event(ctx, handle, _settled_after_activity, 20) is None:
            raise RuntimeError("the shipment did not reach its wait on version 1")
    return handle


@item("EX-06", budget_s=60)
async def nondeterminism_on_replay(ctx: Context, ev: Evidence) -> None:
    tag = new_tag()
    queue = ctx.queue("ex06")
    shipment = Shipment(tag, f"parcel-{tag}")
    ctx.say("EX-06 · a shipment waits on version 1")
    handle = await _start_shipment_on_v1(ctx, queue, shipment)
    async with ctx.worker(queue, [ShipmentFlowWeighFirst]):
        ctx.say("EX-06 · version 2 (weighs before packing) picks it up")
        signalled = time.monotonic()
        await handle.signal(ShipmentFlow.release)
        events = await _wait_for_event(ctx, handle, lambda es: bool(_task_failures(es)), 20)
        detected = round(time.monotonic() - signalled, 3)
        await asyncio.sleep(1.0)  # room for the changed code to do harm, if it could
        status = (await handle.describe()).status
        effects = {
            "weigh": count(tag, "weigh"),
            "ship": count(tag, "ship"),
            "pack": count(tag, "pack"),
        }
    failures = _task_failures(events or [])
    failure = failures[0] if failures else None
    ev.check(
        "nde-detected",
        t(
            "replaying the history through the changed code fails the workflow task as "
            "non-deterministic"
        ),
        failure is not None
        and failure.cause
        == WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR,
        observed={
            "cause": WorkflowTaskFailedCause.Name(failure.cause) if failure else None,
            "message": failure.failure.message[:300] if failure else None,
        },
        expected="WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR",
        run_ids=[handle.id],
    )
    if failure is not None:
        ev.measure(
            "signal-to-nde",
            detected,
            "s",
            t("from the signal that woke the workflow to the failed workflow task in its history"),
        )
    message = failure.failure.message if failure else ""
    ev.check(
        "error-names-the-change",
        t("the error names the activity the history expected and the one the code asked for"),
        "pack" in message and "weigh" in message,
        observed=message[:300],
        expected="mentions 'pack' and 'weigh'",
        run_ids=[handle.id],
    )
    ev.check(
        "workflow-kept-running",
        t("the workflow stays running (blocked), neither failed nor completed"),
        status == WorkflowExecutionStatus.RUNNING,
        observed=str(status),
        expected="RUNNING",
        run_ids=[handle.id],
    )
    ev.check(
        "new-code-had-no-effect",
        t("the changed code had no side effect: no weighing, no shipping, no second packing"),
        effects == {"weigh": 0, "ship": 0, "pack": 1},
        observed=effects,
        expected="{'weigh': 0, 'ship': 0, 'pack': 1}",
        run_ids=[handle.id],
    )
    ctx.say("EX-06 · rolling back to version 1")
    async with ctx.worker(queue, [ShipmentFlow]):
        rolled_back = time.monotonic()
        output = await ctx.result(handle, 40)
        back = round(time.monotonic() - rolled_back, 2)
    ev.measure(
        "rollback-to-completion",
        back,
        "s",
        t("from a worker with the old code polling again to the workflow's result"),
    )
    ev.check(
        "rollback-completes",
        t("going back to the old code finishes the blocked workflow, each activity once"),
        output == [f"packed-{shipment.shipment_id}", f"shipped-{shipment.shipment_id}"]
        and count(tag, "pack") == 1
        and count(tag, "ship") == 1,
        observed={"output": output, "pack": count(tag, "pack"), "ship": count(tag, "ship")},
        expected="[packed, shipped], one execution each",
        run_ids=[handle.id],
    )


@item("VR-01", budget_s=60)
async def patched_versioning(ctx: Context, ev: Evidence) -> None:
    queue = ctx.queue("vr01")
    old = Shipment(new_tag(), "parcel-old")
    new = Shipment(new_tag(), "parcel-new")
    ctx.say("VR-01 · a shipment waits on version 1")
    old_handle = await _start_shipment_on_v1(ctx, queue, old)
    async with ctx.worker(queue, [ShipmentFlowPatched]):
        ctx.say("VR-01 · version 2 behind workflow.patched takes over")
        resumed = time.monotonic()
        await old_handle.signal(ShipmentFlowPatched.release)
        old_output = await ctx.result(old_handle, 30)
        old_seconds = round(time.monotonic() - resumed, 2)
        new_handle = await ctx.client.start_workflow(
            ShipmentFlowPatched.run, new, id=f"ship-{new.tag}", task_queue=queue
        )
        if not await ctx.wait_for(new.tag, "pack", timeout=20):
            raise RuntimeError("the new shipment never packed")
        await new_handle.signal(ShipmentFlowPatched.release)
        new_output = await ctx.result(new_handle, 30)
    old_events = await _history_events(old_handle)
    new_events = await _history_events(new_handle)

    def markers(events: list[Any]) -> int:
        return sum(e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED for e in events)

    ev.measure(
        "old-run-resume",
        old_seconds,
        "s",
        t("from the release signal to the old workflow's result on the patched code"),
    )
    ev.check(
        "old-run-completes-on-new-code",
        t("a workflow started on version 1 completes on version 2's patched code"),
        old_output == [f"packed-{old.shipment_id}", f"shipped-{old.shipment_id}"],
        observed=old_output,
        expected="[packed, shipped]",
        run_ids=[old_handle.id],
    )
    ev.check(
        "old-run-keeps-old-path",
        t("the old workflow does not run the step added behind the patch"),
        count(old.tag, "weigh") == 0,
        observed={"weigh executions": count(old.tag, "weigh")},
        expected="0",
        run_ids=[old_handle.id],
    )
    ev.check(
        "no-nde-for-old-run",
        t("no workflow task of the old workflow failed"),
        not _task_failures(old_events),
        observed=[f.failure.message[:200] for f in _task_failures(old_events)],
        expected="no WorkflowTaskFailed events",
        run_ids=[old_handle.id],
    )
    ev.check(
        "new-run-takes-new-path",
        t("a workflow started on version 2 runs the new step first"),
        new_output
        == [f"weighed-{new.shipment_id}", f"packed-{new.shipment_id}", f"shipped-{new.shipment_id}"]
        and count(new.tag, "weigh") == 1,
        observed={"output": new_output, "weigh executions": count(new.tag, "weigh")},
        expected="[weighed, packed, shipped]",
        run_ids=[new_handle.id],
    )
    ev.check(
        "patch-marker-only-in-new-run",
        t("the new workflow's history records the patch marker; the old one's does not"),
        markers(new_events) >= 1 and markers(old_events) == 0,
        observed={"new": markers(new_events), "old": markers(old_events), "patch": SHIPMENT_PATCH},
        expected="new ≥ 1, old 0",
        run_ids=[old_handle.id, new_handle.id],
    )
    ev.not_run(
        "build-id-routing",
        t("Worker Versioning routes each workflow to the worker build it started on"),
        t(
            "this comparison versions code with workflow.patched only; Worker Versioning needs "
            "worker deployments and build IDs set up, which it does not do"
        ),
    )
    ev.document(
        "worker-versioning",
        t(
            "Worker Versioning pins a workflow to the worker deployment version (build) it "
            "started on, so old and new code can run side by side without patches"
        ),
        "https://docs.temporal.io/worker-versioning",
    )


def _cli_history(ctx: Context, workflow_id: str) -> str:
    answer = subprocess.run(
        [
            ctx.server.binary, "workflow", "show", "--workflow-id", workflow_id,
            "--address", ctx.server.address, "--output", "json",
        ],
        capture_output=True, text=True, timeout=ctx.bound(30), check=False,
    )  # fmt: skip
    if answer.returncode != 0:
        raise RuntimeError(f"temporal workflow show failed: {answer.stderr.strip()[:300]}")
    return answer.stdout


@item("DX-07", budget_s=45)
async def replay_fetched_history(ctx: Context, ev: Evidence) -> None:
    queue = ctx.queue("dx07")
    shipment = Shipment(new_tag(), "parcel-replayed")
    async with ctx.worker(queue, [ShipmentFlow]):
        handle = await ctx.client.start_workflow(
            ShipmentFlow.run, shipment, id=f"ship-{shipment.tag}", task_queue=queue
        )
        await ctx.wait_for(shipment.tag, "pack", timeout=20)
        await handle.signal(ShipmentFlow.release)
        await ctx.result(handle, 30)
    # As from production: fetch the history from the server, save it, load it back elsewhere.
    fetched = await handle.fetch_history()
    saved = ctx.workdir / f"history-{handle.id}.json"
    saved.write_text(fetched.to_json(), encoding="utf-8")
    loaded = WorkflowHistory.from_json(handle.id, saved.read_text(encoding="utf-8"))
    ev.measure("history-events", len(fetched.events), "events", t("events in the replayed history"))
    ev.check(
        "history-json-round-trip",
        t("the history survives being saved as JSON and loaded back"),
        list(loaded.events) == list(fetched.events),
        observed={"events": len(fetched.events), "file_bytes": saved.stat().st_size},
        expected="the same events",
        run_ids=[handle.id],
    )

    async def replay(workflow_class: type, history: WorkflowHistory) -> str | None:
        """None when the replay matched; otherwise what the Replayer raised."""
        try:
            await Replayer(workflows=[workflow_class], runtime=ctx.runtime).replay_workflow(history)
        except NondeterminismError as exc:
            return f"NondeterminismError: {str(exc)[:200]}"
        except Exception as exc:
            return f"{type(exc).__name__}: {str(exc)[:200]}"
        return None

    clock = time.perf_counter()
    same = await replay(ShipmentFlow, loaded)
    replay_ms = (time.perf_counter() - clock) * 1000
    ev.measure(
        "replay-time",
        round(replay_ms, 3),
        "ms",
        t("one replay of the loaded history against the same code (Replayer, sandboxed)"),
    )
    ev.check(
        "same-code-replays",
        t("the history replays against the code that produced it"),
        same is None,
        observed=same,
        expected="no error",
        run_ids=[handle.id],
    )
    changed = await replay(ShipmentFlowWeighFirst, loaded)
    ev.check(
        "changed-code-flagged",
        t("replaying it against code that weighs before packing raises a non-determinism error"),
        changed is not None and changed.startswith("NondeterminismError"),
        observed=changed,
        expected="NondeterminismError",
        run_ids=[handle.id],
    )
    patched = await replay(ShipmentFlowPatched, loaded)
    ev.check(
        "patched-code-replays",
        t("the same change behind workflow.patched replays cleanly"),
        patched is None,
        observed=patched,
        expected="no error",
        run_ids=[handle.id],
    )
    exported = await asyncio.to_thread(_cli_history, ctx, handle.id)
    from_cli = WorkflowHistory.from_json(handle.id, exported)
    cli_replay = await replay(ShipmentFlow, from_cli)
    ev.check(
        "cli-export-replays",
        t("a history exported with `temporal workflow show --output json` replays too"),
        cli_replay is None and len(from_cli.events) == len(fetched.events),
        observed={"error": cli_replay, "events": len(from_cli.events)},
        expected="no error, same number of events",
        run_ids=[handle.id],
    )


@item("SG-04", budget_s=40)
async def query_live_state(ctx: Context, ev: Evidence) -> None:
    batch = Batch(new_tag(), items=12, item_seconds=0.25)
    handle = await ctx.client.start_workflow(
        BatchWorkflow.run, batch, id=f"sg04-{batch.tag}", task_queue=ctx.main_queue
    )
    latencies: list[float] = []
    answers: list[dict[str, int]] = []
    deadline = time.monotonic() + ctx.bound(30)
    ctx.say("SG-04 · querying the running batch")
    while time.monotonic() < deadline:
        before = count(batch.tag, "item-processed")
        clock = time.perf_counter()
        progress = await handle.query(BatchWorkflow.progress)
        latencies.append((time.perf_counter() - clock) * 1000)
        after = count(batch.tag, "item-processed")
        answers.append(
            {"before": before, "done": progress.done, "after": after, "total": progress.total}
        )
        if progress.done >= batch.items:
            break
        await asyncio.sleep(0.05)
    output = await ctx.result(handle, 20)
    clock = time.perf_counter()
    final = await handle.query(BatchWorkflow.progress)
    closed_ms = (time.perf_counter() - clock) * 1000
    running = [a for a in answers if a["done"] < batch.items]
    dist = Distribution.of(latencies)
    note = t(
        "{n} queries while the workflow ran (min {min} ms, max {max} ms); the worker serves "
        "them from the workflow's cached state",
        n=dist.n,
        min=dist.min,
        max=dist.max,
    )
    ev.measure("query-latency-p50", dist.p50, "ms", note, samples=[round(x, 3) for x in latencies])
    ev.measure("query-latency-p95", dist.p95, "ms", note)
    ev.measure("query-latency-p99", dist.p99, "ms", note)
    ev.measure("queries", dist.n, "queries", note)
    ev.measure(
        "closed-query-latency",
        round(closed_ms, 3),
        "ms",
        t("one query after the workflow completed (the worker replays its history to answer)"),
    )
    ev.check(
        "answers-while-running",
        t("the running workflow answers queries with its progress"),
        len(running) >= 5 and all(a["total"] == batch.items for a in answers),
        observed={"answers while running": len(running), "total": batch.items},
        expected="≥ 5 answers, each with the right total",
        run_ids=[handle.id],
    )
    dones = [a["done"] for a in answers]
    live = (
        all(a["before"] - 1 <= a["done"] <= a["after"] for a in answers)
        and dones == sorted(dones)
        and len(set(dones)) >= 3
    )
    ev.check(
        "answers-are-live",
        t(
            "each answer matches the work done at that moment (the ledger's count before the "
            "query, less at most the item in flight, up to its count after) and grows over time"
        ),
        live,
        observed=answers[:40],
        expected="before - 1 <= done <= after, non-decreasing, >= 3 distinct values",
        run_ids=[handle.id],
    )
    ev.check(
        "answers-after-completion",
        t("after the workflow completed, a query answers with its final state"),
        output == batch.items and final.done == batch.items,
        observed={"output": output, "final answer": final.done},
        expected=f"{batch.items}",
        run_ids=[handle.id],
    )


def _ms_list(seconds: Sequence[float]) -> list[float]:
    return [round(x * 1000, 4) for x in seconds]


@item("PF-01", budget_s=60)
async def step_latency(ctx: Context, ev: Evidence) -> None:
    # Per step: start-to-start gaps (the whole step), and the overhead between one step's end
    # and the next one's start (what Temporal adds); the same work in-process as the baseline.
    gaps: dict[str, list[float]] = {"activity": [], "local": []}
    overhead: dict[str, list[float]] = {"activity": [], "local": []}
    walls: list[float] = []
    first_step: list[float] = []
    expected, in_process = "seed", []
    for index in range(PF01_STEPS):
        clock = time.perf_counter()
        expected = checksum_block(expected, index, BLOCK_KIB)
        in_process.append(time.perf_counter() - clock)
    digests_match = True
    last_activity_run: WorkflowHandle[Any, Any] | None = None
    for local in (False, True):
        kind = "local" if local else "activity"
        for run in range(PF01_RUNS):
            ctx.say(f"PF-01 · {'local ' if local else ''}activities, run {run + 1}/{PF01_RUNS}")
            started = time.perf_counter()
            handle = await ctx.client.start_workflow(
                ChecksumChain.run, ChainPlan(PF01_STEPS, BLOCK_KIB, local),
                id=f"pf01-{new_tag()}", task_queue=ctx.main_queue,
                execution_timeout=timedelta(seconds=ctx.bound(30)),
            )  # fmt: skip
            steps = await ctx.result(handle, 30)
            digests_match &= len(steps) == PF01_STEPS and steps[-1].digest == expected
            gaps[kind] += _ms_list([b.started - a.started for a, b in itertools.pairwise(steps)])
            overhead[kind] += _ms_list(
                [b.started - a.finished for a, b in itertools.pairwise(steps)]
            )
            if not local:
                last_activity_run = handle
                walls.append((steps[-1].finished - steps[0].started) / PF01_STEPS)
                first_step.append(round((steps[0].started - started) * 1000, 3))
    ev.check(
        "all-steps-ran",
        t("every run executed all its steps in order: its final digest is the in-process one"),
        digests_match,
        observed={"runs": PF01_RUNS * 2, "steps per run": PF01_STEPS},
        expected=f"the digest {expected[:12]}…",
    )
    cores = os.cpu_count()
    figures = {
        "activity-step": (gaps["activity"], t(
            "{n} start-to-start gaps over {runs} workflows of {steps} sequential activities, "
            "each hashing {kib} KiB (min {min}, max {max} ms); worker, client and server on "
            "one machine of {cores} cores",
            n=len(gaps["activity"]), runs=PF01_RUNS, steps=PF01_STEPS, kib=BLOCK_KIB,
            min=round(min(gaps["activity"]), 2), max=round(max(gaps["activity"]), 2), cores=cores,
        )),
        "step-overhead": (overhead["activity"], t(
            "{n} gaps from one activity's end to the next one's start, measured inside the "
            "activities (min {min}, max {max} ms): what Temporal adds per step",
            n=len(overhead["activity"]), min=round(min(overhead["activity"]), 2),
            max=round(max(overhead["activity"]), 2),
        )),
        "local-step": (gaps["local"], t(
            "{n} start-to-start gaps over {runs} workflows of {steps} sequential local "
            "activities (min {min}, max {max} ms)",
            n=len(gaps["local"]), runs=PF01_RUNS, steps=PF01_STEPS,
            min=round(min(gaps["local"]), 2), max=round(max(gaps["local"]), 2),
        )),
        "in-process-step": (_ms_list(in_process), t(
            "{n} durations of the same step work called in-process without Temporal",
            n=len(in_process),
        )),
    }  # fmt: skip
    for label, (values, note) in figures.items():
        dist = Distribution.of(values, digits=4)
        ev.measure(f"{label}-p50", dist.p50, "ms", note, samples=values)
        ev.measure(f"{label}-p95", dist.p95, "ms", note)
        ev.measure(f"{label}-p99", dist.p99, "ms", note)
        ev.measure(f"{label}-samples", dist.n, "samples", note)
    first = Distribution.of(first_step)
    ev.measure(
        "first-step-p50",
        first.p50,
        "ms",
        t("from the client's start call to the first activity starting, {n} workflows", n=first.n),
        samples=first_step,
    )
    if last_activity_run is not None:
        await _latency_breakdown(ev, last_activity_run)
    load = os.getloadavg()[0]
    ev.measure(
        "load-average",
        round(load, 2),
        "",
        t(
            "the machine's 1-minute load average when the steps were timed, on {cores} cores",
            cores=cores,
        ),
    )
    per_step = sum(walls) / len(walls)
    ev.measure(
        "durable-vs-in-process",
        round(per_step / (sum(in_process) / len(in_process)), 1),
        "x",
        t(
            "wall time per step of the activity chain (first start to last end, divided by "
            "{steps}) over the in-process time per step, same run",
            steps=PF01_STEPS,
        ),
    )


# Where a step's time goes, from the server's own event times in a run's history.
_BREAKDOWN = {
    "workflow-task-dispatch": (
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    ),
    "workflow-task-processing": (
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    ),
    "activity-dispatch-and-run": (
        EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
    ),
}


async def _latency_breakdown(ev: Evidence, handle: WorkflowHandle[Any, Any]) -> None:
    events = await _history_events(handle)
    notes = {
        "workflow-task-dispatch": t(
            "median time from a workflow task being scheduled to a worker taking it, from the "
            "server's event times in one run's history"
        ),
        "workflow-task-processing": t(
            "median time from a worker taking a workflow task to completing it (replaying the "
            "workflow code and sending its commands), from the server's event times"
        ),
        "activity-dispatch-and-run": t(
            "median time from an activity task's start event to its completion event; the server "
            "writes the start event when the attempt ends, so this spans dispatch and execution"
        ),
    }
    for key, (first, then) in _BREAKDOWN.items():
        spans = [
            (b.event_time.ToDatetime() - a.event_time.ToDatetime()).total_seconds() * 1000
            for a, b in itertools.pairwise(events)
            if a.event_type == first and b.event_type == then
        ]
        if spans:
            ev.measure(f"{key}-p50", Distribution.of(spans).p50, "ms", notes[key], samples=spans)


@item("PF-02", budget_s=120)
async def fan_out_throughput(ctx: Context, ev: Evidence) -> None:
    walls: list[float] = []
    complete = True
    for n in PF02_RUN_COUNTS:
        ctx.say(f"PF-02 · {n} workflows at once")
        tag = new_tag()
        clock = time.perf_counter()
        handles = await asyncio.gather(
            *(
                ctx.client.start_workflow(
                    SingleStep.run, index, id=f"pf02-{tag}-{index}", task_queue=ctx.main_queue
                )
                for index in range(n)
            )
        )
        results = await asyncio.wait_for(
            asyncio.gather(*(h.result() for h in handles)), ctx.bound(60)
        )
        wall = time.perf_counter() - clock
        walls.append(wall)
        complete &= list(results) == list(range(n))
        ev.measure(
            f"workflow-batch-wall-{n}",
            round(wall, 3),
            "s",
            t(
                "from the first start call to the last result, {n} workflows of one activity "
                "started at once",
                n=n,
            ),
        )
        ev.measure(
            f"workflows-per-s-{n}",
            round(n / wall, 1),
            "workflows/s",
            t("{n} workflows divided by their wall time", n=n),
        )
    ev.check(
        "all-workflows-complete",
        t("every workflow of every batch completed with its own result"),
        complete,
        observed={"batches": list(PF02_RUN_COUNTS)},
        expected="all results",
    )
    width_walls: list[float] = []
    parallel_ok = True
    for width in PF02_WIDTHS:
        ctx.say(f"PF-02 · one workflow with {width} parallel activities")
        clock = time.perf_counter()
        done = await ctx.client.execute_workflow(
            ParallelSteps.run, width, id=f"pf02-par-{new_tag()}", task_queue=ctx.main_queue,
            execution_timeout=timedelta(seconds=ctx.bound(60)),
        )  # fmt: skip
        wall = time.perf_counter() - clock
        width_walls.append(wall)
        parallel_ok &= done == width
        ev.measure(
            f"parallel-wall-{width}",
            round(wall, 3),
            "s",
            t(
                "from the start call to the result of one workflow running {width} activities "
                "at once",
                width=width,
            ),
        )
        ev.measure(
            f"parallel-steps-per-s-{width}",
            round(width / wall, 1),
            "activities/s",
            t(
                "{width} activities divided by the workflow's wall time; the worker runs at "
                "most {slots} at a time",
                width=width,
                slots=WORKER_SLOTS["max_concurrent_activities"],
            ),
        )
    ev.check(
        "all-parallel-steps-complete",
        t("every parallel activity completed"),
        parallel_ok,
        observed={"widths": list(PF02_WIDTHS)},
        expected="all activities",
    )
    ev.measure("largest-run-count", PF02_RUN_COUNTS[-1], "workflows")
    ev.measure(
        "workflows-per-s-largest", ev.value(f"workflows-per-s-{PF02_RUN_COUNTS[-1]}"), "workflows/s"
    )
    ev.measure("largest-width", PF02_WIDTHS[-1], "activities")
    ev.measure(
        "parallel-steps-per-s-largest",
        ev.value(f"parallel-steps-per-s-{PF02_WIDTHS[-1]}"),
        "activities/s",
    )
    for name, sizes, seconds in (
        ("runs", PF02_RUN_COUNTS, walls),
        ("parallel", PF02_WIDTHS, width_walls),
    ):
        line = fit_line([float(s) for s in sizes], seconds)
        growth = growth_exponent([float(s) for s in sizes], seconds)
        ev.measure(
            f"{name}-cost-slope",
            round(line.slope * 1000, 3),
            "ms per unit",
            t(
                "least-squares slope of wall time against size over sizes {sizes} (r² {r2})",
                sizes=str(list(sizes)),
                r2=f"{line.r_squared:.3f}",
            ),
        )
        ev.measure(
            f"{name}-growth-exponent",
            round(growth.slope, 3),
            "",
            t("slope of log(wall time) on log(size): 1 means linear growth"),
        )


@item("DX-04", budget_s=40)
async def time_skipping(ctx: Context, ev: Evidence) -> None:
    trial = Trial(new_tag(), "user-1")
    skipper = TimeSkipper(ctx.client)  # stamps a time-skipping config on the workflows it starts
    clock = time.monotonic()
    handle = await skipper.client.start_workflow(
        TrialWorkflow.run, trial, id=f"dx04-{trial.tag}", task_queue=ctx.main_queue
    )
    outcome = await ctx.result(handle, 30)
    wall = round(time.monotonic() - clock, 3)
    span_days = (TRIAL_REMINDER_AFTER + TRIAL_CONFIRMATION_WINDOW) / timedelta(days=1)
    ev.measure(
        "skipped-wall-time",
        wall,
        "s",
        t(
            "wall time for a workflow that sleeps {sleep} day(s) and then waits {wait} days for "
            "a signal, started through TimeSkipper on the dev server (started with {flag}=true)",
            sleep=TRIAL_REMINDER_AFTER.days,
            wait=TRIAL_CONFIRMATION_WINDOW.days,
            flag=TIME_SKIPPING_FLAG,
        ),
    )
    ev.measure(
        "virtual-days",
        outcome.virtual_days,
        "days",
        t("workflow time that passed, from workflow.now()"),
    )
    ev.check(
        "v2-skips-timers",
        t("with per-workflow time skipping a day's sleep and a week's wait pass in under 30 s"),
        outcome.outcome == "expired" and outcome.virtual_days >= span_days and wall < 30,
        observed={"outcome": outcome.outcome, "virtual_days": outcome.virtual_days, "wall_s": wall},
        expected=f"expired after ≥ {span_days:g} days, < 30 s of wall time",
        run_ids=[handle.id],
    )
    ev.check(
        "activities-run-under-skipping",
        t("the activity between the timers ran once"),
        count(trial.tag, "trial-reminder") == 1,
        observed={"reminders": count(trial.tag, "trial-reminder")},
        expected="1",
        run_ids=[handle.id],
    )
    doc = " ".join((WorkflowEnvironment.start_time_skipping_v2.__doc__ or "").split())
    ev.check(
        "v2-marked-experimental",
        t("the installed SDK marks this time-skipping API experimental"),
        "experimental" in doc.lower(),
        observed=doc[:160],
        expected="'experimental' in the docstring of start_time_skipping_v2",
    )
    ev.not_run(
        "test-server-v1",
        t("the time-skipping test server (WorkflowEnvironment.start_time_skipping) skips timers"),
        t(
            "the SDK downloads that server at run time, and no package registry ships it; this "
            "machine reaches package registries only"
        ),
    )
    ev.document(
        "test-server",
        t(
            "WorkflowEnvironment.start_time_skipping starts a test server that skips time "
            "automatically while a test waits for a workflow's result"
        ),
        "https://python.temporal.io/temporalio.testing.WorkflowEnvironment.html",
    )


# --- running -------------------------------------------------------------------------------------
def quiet_runtime(log_path: Path) -> Runtime:
    """An SDK runtime whose logs go to a file, not the terminal: a probe that breaks code on
    purpose makes the SDK warn loudly, and those warnings belong with the evidence."""
    handler = logging.FileHandler(log_path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    for name in ("temporalio", "temporal-core"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
        logger.setLevel(logging.INFO)
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporal-core")),
            )
        )
    )


def _source(probe: ProbeFn) -> SourceRef:
    return SourceRef(
        script="harness/temporal/probes.py",
        probe=probe.__name__,
        line=probe.__code__.co_firstlineno,
    )


# The whole comparison's bound: an item gets its own budget or what is left of this, if less.
TOTAL_BUDGET_S = 300.0


async def run_item(
    entry: Item, ctx: Context, *, total_deadline: float = math.inf
) -> TemporalResult:
    evidence = Evidence()
    started, clock = utcnow(), time.monotonic()
    budget = min(entry.budget_s, total_deadline - clock)
    if budget <= 0:
        return TemporalResult(
            id=entry.id,
            name=ITEM_NAMES[entry.id],
            status="not run",
            error=f"the comparison's {TOTAL_BUDGET_S:.0f} s budget was used up",
            started_at=started,
            budget_s=entry.budget_s,
        )
    ctx.deadline = clock + budget
    error = trace = None
    try:
        await asyncio.wait_for(entry.probe(ctx, evidence), budget)
    except (SetupError, KeyboardInterrupt, asyncio.CancelledError):
        raise
    except (ProbeTimeout, TimeoutError) as exc:
        ctx.server.raise_if_dead()
        error = f"timed out: {exc or f'budget of {budget:.0f}s'}"
    except Exception as exc:
        ctx.server.raise_if_dead()
        error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        trace = traceback.format_exc()
    rubric = RUBRICS.get(entry.id)
    rating = rubric(evidence) if rubric and error is None else None
    return TemporalResult(
        id=entry.id,
        name=ITEM_NAMES[entry.id],
        status="error" if error else "measured",
        rating=rating,
        evidence=evidence,
        error=error,
        traceback=trace,
        started_at=started,
        duration_s=round(time.monotonic() - clock, 2),
        budget_s=entry.budget_s,
        source=_source(entry.probe),
    )


@dataclass
class RunOutcome:
    results: dict[str, TemporalResult] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0


async def run_comparison(
    binary: str,
    workdir: Path,
    selected: Sequence[str],
    *,
    ui: bool = True,
    say: Say = print,
    done: Callable[[TemporalResult], None] = lambda _: None,
) -> RunOutcome:
    """Start a dev server in ``workdir``, run the selected items one after another, stop it."""
    clock = time.monotonic()
    side_effects.use(workdir / "ledger.sqlite")  # worker processes inherit it from the environment
    server = TemporalDevServer(binary, workdir / "server", ui=ui)
    outcome = RunOutcome(
        machine={
            "cpu_count": os.cpu_count(),
            "load_average_at_start": round(os.getloadavg()[0], 2),
            "platform": platform.platform(),
            "python": sys.version.split()[0],
            "worker": {"in_process": True, **WORKER_SLOTS},
        }
    )
    try:
        say("starting the Temporal dev server")
        await asyncio.to_thread(server.start)
        runtime = quiet_runtime(workdir / "sdk.log")
        client = await server.connect(runtime=runtime)
        outcome.server = server.describe()
        say(f"Temporal dev server {server.versions.get('server')} at {server.address}")
        ctx = Context(server, client, runtime, workdir, main_queue=f"main-{new_tag()}", say=say)
        async with Worker(
            client,
            task_queue=ctx.main_queue,
            workflows=WORKFLOWS,
            activities=ACTIVITIES,
            max_concurrent_activities=WORKER_SLOTS["max_concurrent_activities"],
            max_concurrent_workflow_tasks=WORKER_SLOTS["max_concurrent_workflow_tasks"],
        ):
            total_deadline = clock + TOTAL_BUDGET_S
            for item_id in selected:
                say(f"{item_id} · starting")
                result = await run_item(ITEMS[item_id], ctx, total_deadline=total_deadline)
                outcome.results[item_id] = result
                done(result)
    finally:
        await asyncio.to_thread(server.stop)
        outcome.duration_s = round(time.monotonic() - clock, 2)
    return outcome
