"""The Temporal workflows and activities the comparison runs (``compare_temporal.py``).

Each one is the Temporal counterpart of an Inngest function in a category script, written the
way Temporal's Python SDK is meant to be used: ``@workflow.defn`` classes whose code is
deterministic (it runs again on replay), ``@activity.defn`` functions for everything that touches
the world, dataclasses for inputs and outputs (the SDK's default converter handles them). Where
the comparison must prove how often something really ran, activities record it in the same
side-effect ledger the Inngest items use (a SQLite file outside the worker process, so counts
survive the worker being SIGKILLed).

Workflow code runs in the SDK's sandbox, which re-imports this module; the ledger is passed
through (it is only called from activities, never from workflow code).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from harness.probing.ledger import effect_key, side_effects


def _record(tag: str, name: str, value: Any = None) -> int:
    """Evidence that ``name`` really executed for the probe scenario ``tag``; returns the count."""
    return side_effects.record(effect_key(tag, name), value)


# ═══ EX-01 progress after a worker crash ════════════════════════════════════════════════════════
# An order pipeline of three activities. The probe SIGKILLs the worker process while the second
# one runs; a new worker process picks the workflow up.


@dataclass
class Order:
    tag: str
    order_id: str
    first_charge_latency_s: float = 0.0  # a slow payment provider on the first call


@activity.defn
async def reserve_inventory(order: Order) -> str:
    _record(order.tag, "reserve-inventory")
    return f"reservation-{order.order_id}"


@activity.defn
async def charge_card(order: Order) -> str:
    if _record(order.tag, "charge-card", {"pid": os.getpid()}) == 1:
        await asyncio.sleep(order.first_charge_latency_s)  # the probe kills the worker here
    return f"charge-{order.order_id}"


@activity.defn
async def send_receipt(order: Order) -> str:
    _record(order.tag, "send-receipt")
    return f"receipt-{order.order_id}"


# Without heartbeats the server learns that an attempt died only when its start-to-close timeout
# expires, so the timeout is what bounds recovery from a crashed worker here.
ORDER_STEP_TIMEOUT = timedelta(seconds=4)
ORDER_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1))


@workflow.defn
class OrderPipeline:
    @workflow.run
    async def run(self, order: Order) -> dict[str, str]:
        reservation = await workflow.execute_activity(
            reserve_inventory,
            order,
            start_to_close_timeout=ORDER_STEP_TIMEOUT,
            retry_policy=ORDER_RETRY,
        )
        charge = await workflow.execute_activity(
            charge_card, order, start_to_close_timeout=ORDER_STEP_TIMEOUT, retry_policy=ORDER_RETRY
        )
        receipt = await workflow.execute_activity(
            send_receipt, order, start_to_close_timeout=ORDER_STEP_TIMEOUT, retry_policy=ORDER_RETRY
        )
        return {"reservation": reservation, "charge": charge, "receipt": receipt}


# ═══ RT-01 retry policy ═════════════════════════════════════════════════════════════════════════
# A charge that is declined a set number of times: attempts and the gaps between them are what
# the retry policy promises.


@dataclass
class ChargePlan:
    tag: str
    succeed_on_attempt: int | None  # None: declined every time
    non_retryable: bool  # the decline is final: the error says not to retry
    maximum_attempts: int
    initial_interval_s: float
    backoff_coefficient: float


@activity.defn
async def flaky_charge(plan: ChargePlan) -> int:
    attempt = activity.info().attempt
    _record(plan.tag, "flaky-charge", {"attempt": attempt, "at": time.time()})
    if plan.succeed_on_attempt is not None and attempt >= plan.succeed_on_attempt:
        return attempt
    raise ApplicationError(
        f"card declined on attempt {attempt}", type="CardDeclined", non_retryable=plan.non_retryable
    )


@workflow.defn
class RetriedCharge:
    @workflow.run
    async def run(self, plan: ChargePlan) -> int:
        return await workflow.execute_activity(
            flaky_charge,
            plan,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=plan.initial_interval_s),
                backoff_coefficient=plan.backoff_coefficient,
                maximum_interval=timedelta(seconds=60),
                maximum_attempts=plan.maximum_attempts,
            ),
        )


# ═══ RT-04 heartbeats ═══════════════════════════════════════════════════════════════════════════
# A long export that reports its progress. When its worker dies, the heartbeat timeout tells the
# server within seconds, and the retry resumes from the last reported row.


@dataclass
class ExportJob:
    tag: str
    rows: int
    row_seconds: float
    heartbeat: bool


EXPORT_HEARTBEAT_TIMEOUT = timedelta(seconds=2)
EXPORT_TIMEOUT_WITH_HEARTBEAT = timedelta(seconds=60)
EXPORT_TIMEOUT_WITHOUT_HEARTBEAT = timedelta(seconds=8)
EXPORT_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=500))


@activity.defn
async def export_rows(job: ExportJob) -> int:
    info = activity.info()
    # A retry starts from the progress the last attempt reported (0 without heartbeats).
    resume_from = int(info.heartbeat_details[0]) if info.heartbeat_details else 0
    _record(
        job.tag,
        "export-attempt",
        {"attempt": info.attempt, "from_row": resume_from, "at": time.time(), "pid": os.getpid()},
    )
    for row in range(resume_from, job.rows):
        await asyncio.sleep(job.row_seconds)
        _record(job.tag, "row-exported", row)
        if job.heartbeat:
            activity.heartbeat(row + 1)
    return job.rows


@workflow.defn
class ExportWorkflow:
    @workflow.run
    async def run(self, job: ExportJob) -> int:
        if job.heartbeat:
            return await workflow.execute_activity(
                export_rows,
                job,
                start_to_close_timeout=EXPORT_TIMEOUT_WITH_HEARTBEAT,
                heartbeat_timeout=EXPORT_HEARTBEAT_TIMEOUT,
                retry_policy=EXPORT_RETRY,
            )
        return await workflow.execute_activity(
            export_rows,
            job,
            start_to_close_timeout=EXPORT_TIMEOUT_WITHOUT_HEARTBEAT,
            retry_policy=EXPORT_RETRY,
        )


# ═══ EX-06 / VR-01 / VR-02 / DX-07 a code change under a running workflow ═══════════════════════
# Version 1 packs, waits for a release signal, then ships. Version 2 weighs the parcel before
# packing: deployed as is, it breaks workflows that already packed; behind workflow.patched() it
# keeps them on the old path. All three register under the same workflow type name, as a new
# deployment of the same code would.


@dataclass
class Shipment:
    tag: str
    shipment_id: str


SHIPMENT_TYPE = "ShipmentFlow"
SHIPMENT_PATCH = "weigh-before-pack"
_SHIPMENT_STEP = timedelta(seconds=10)


@activity.defn
async def pack(shipment: Shipment) -> str:
    _record(shipment.tag, "pack")
    return f"packed-{shipment.shipment_id}"


@activity.defn
async def weigh(shipment: Shipment) -> str:
    _record(shipment.tag, "weigh")
    return f"weighed-{shipment.shipment_id}"


@activity.defn
async def ship(shipment: Shipment) -> str:
    _record(shipment.tag, "ship")
    return f"shipped-{shipment.shipment_id}"


@workflow.defn(name=SHIPMENT_TYPE)
class ShipmentFlow:
    """Version 1, the code the running workflows started on."""

    def __init__(self) -> None:
        self.released = False

    @workflow.signal
    def release(self) -> None:
        self.released = True

    @workflow.run
    async def run(self, shipment: Shipment) -> list[str]:
        packed = await workflow.execute_activity(
            pack, shipment, start_to_close_timeout=_SHIPMENT_STEP
        )
        await workflow.wait_condition(lambda: self.released)
        shipped = await workflow.execute_activity(
            ship, shipment, start_to_close_timeout=_SHIPMENT_STEP
        )
        return [packed, shipped]


@workflow.defn(name=SHIPMENT_TYPE)
class ShipmentFlowWeighFirst:
    """Version 2 deployed as is: a new activity before the first one (a breaking change)."""

    def __init__(self) -> None:
        self.released = False

    @workflow.signal
    def release(self) -> None:
        self.released = True

    @workflow.run
    async def run(self, shipment: Shipment) -> list[str]:
        weighed = await workflow.execute_activity(
            weigh, shipment, start_to_close_timeout=_SHIPMENT_STEP
        )
        packed = await workflow.execute_activity(
            pack, shipment, start_to_close_timeout=_SHIPMENT_STEP
        )
        await workflow.wait_condition(lambda: self.released)
        shipped = await workflow.execute_activity(
            ship, shipment, start_to_close_timeout=_SHIPMENT_STEP
        )
        return [weighed, packed, shipped]


@workflow.defn(name=SHIPMENT_TYPE)
class ShipmentFlowPatched:
    """Version 2 behind ``workflow.patched``: histories without the patch marker (workflows
    that started on version 1) replay the old path; new workflows take the new one."""

    def __init__(self) -> None:
        self.released = False

    @workflow.signal
    def release(self) -> None:
        self.released = True

    @workflow.run
    async def run(self, shipment: Shipment) -> list[str]:
        steps: list[str] = []
        if workflow.patched(SHIPMENT_PATCH):
            steps.append(
                await workflow.execute_activity(
                    weigh, shipment, start_to_close_timeout=_SHIPMENT_STEP
                )
            )
        steps.append(
            await workflow.execute_activity(pack, shipment, start_to_close_timeout=_SHIPMENT_STEP)
        )
        await workflow.wait_condition(lambda: self.released)
        steps.append(
            await workflow.execute_activity(ship, shipment, start_to_close_timeout=_SHIPMENT_STEP)
        )
        return steps


# ═══ SG-04 query ════════════════════════════════════════════════════════════════════════════════
# A batch that processes items one by one; a query handler answers from its live state.


@dataclass
class Batch:
    tag: str
    items: int
    item_seconds: float


@dataclass
class BatchItem:
    tag: str
    index: int
    seconds: float


@dataclass
class BatchProgress:
    done: int
    total: int


@activity.defn
async def process_item(item: BatchItem) -> int:
    await asyncio.sleep(item.seconds)
    _record(item.tag, "item-processed", item.index)
    return item.index


@workflow.defn
class BatchWorkflow:
    def __init__(self) -> None:
        self.done = 0
        self.total = 0

    @workflow.query
    def progress(self) -> BatchProgress:
        return BatchProgress(done=self.done, total=self.total)

    @workflow.run
    async def run(self, batch: Batch) -> int:
        self.total = batch.items
        for index in range(batch.items):
            await workflow.execute_activity(
                process_item,
                BatchItem(batch.tag, index, batch.item_seconds),
                start_to_close_timeout=timedelta(seconds=10),
            )
            self.done += 1
        return self.done


# ═══ PF-01 / PF-02 step latency and fan-out ═════════════════════════════════════════════════════


# The step work is the same as the Inngest PF-01's (07_pf_performance.py): a checksum chain, each
# step hashing a block derived from the previous digest, so each step needs the one before it.
CHAIN_STEPS = 51  # 50 step-to-step gaps
BLOCK_KIB = 256


def checksum_block(previous: str, index: int, block_kib: int) -> str:
    """One step's work: hash ``block_kib`` KiB derived from the previous digest."""
    seed = hashlib.sha256(f"{previous}:{index}".encode()).digest()
    return hashlib.sha256(seed * (block_kib * 1024 // len(seed))).hexdigest()


@dataclass
class ChecksumStep:
    previous: str
    index: int
    block_kib: int


@dataclass
class TimedDigest:
    digest: str
    started: float  # time.perf_counter() when the step began: comparable within one process
    finished: float


@activity.defn
async def checksum_step(step: ChecksumStep) -> TimedDigest:
    started = time.perf_counter()
    digest = checksum_block(step.previous, step.index, step.block_kib)
    return TimedDigest(digest, started, time.perf_counter())


@dataclass
class ChainPlan:
    steps: int = CHAIN_STEPS
    block_kib: int = BLOCK_KIB
    local: bool = False  # local activities: run inside the workflow task, no activity task


@workflow.defn
class ChecksumChain:
    @workflow.run
    async def run(self, plan: ChainPlan) -> list[TimedDigest]:
        done: list[TimedDigest] = []
        digest = "seed"
        for index in range(plan.steps):
            step = ChecksumStep(digest, index, plan.block_kib)
            if plan.local:
                timed = await workflow.execute_local_activity(
                    checksum_step, step, start_to_close_timeout=timedelta(seconds=10)
                )
            else:
                timed = await workflow.execute_activity(
                    checksum_step, step, start_to_close_timeout=timedelta(seconds=10)
                )
            done.append(timed)
            digest = timed.digest
        return done


@activity.defn
async def unit_of_work(index: int) -> int:
    return index


@workflow.defn
class SingleStep:
    @workflow.run
    async def run(self, index: int) -> int:
        return await workflow.execute_activity(
            unit_of_work, index, start_to_close_timeout=timedelta(seconds=60)
        )


@workflow.defn
class ParallelSteps:
    @workflow.run
    async def run(self, width: int) -> int:
        done = await asyncio.gather(
            *(
                workflow.execute_activity(
                    unit_of_work, index, start_to_close_timeout=timedelta(seconds=60)
                )
                for index in range(width)
            )
        )
        return len(done)


# ═══ DX-04 time skipping ════════════════════════════════════════════════════════════════════════
# A trial that reminds the user after a day, then waits a week for a confirmation.


@dataclass
class Trial:
    tag: str
    user: str


@dataclass
class TrialOutcome:
    outcome: str  # "confirmed" or "expired"
    virtual_days: float  # how much workflow time passed


TRIAL_REMINDER_AFTER = timedelta(days=1)
TRIAL_CONFIRMATION_WINDOW = timedelta(days=7)


@activity.defn
async def send_trial_reminder(trial: Trial) -> None:
    _record(trial.tag, "trial-reminder", {"at": time.time()})


@workflow.defn
class TrialWorkflow:
    def __init__(self) -> None:
        self.confirmed = False

    @workflow.signal
    def confirm(self) -> None:
        self.confirmed = True

    @workflow.run
    async def run(self, trial: Trial) -> TrialOutcome:
        started = workflow.now()
        await workflow.sleep(TRIAL_REMINDER_AFTER)
        await workflow.execute_activity(
            send_trial_reminder, trial, start_to_close_timeout=timedelta(seconds=10)
        )
        try:
            await workflow.wait_condition(lambda: self.confirmed, timeout=TRIAL_CONFIRMATION_WINDOW)
            outcome = "confirmed"
        except TimeoutError:
            outcome = "expired"
        elapsed = workflow.now() - started
        return TrialOutcome(outcome=outcome, virtual_days=round(elapsed / timedelta(days=1), 3))


# ═══ registration ═══════════════════════════════════════════════════════════════════════════════
# The version-1 workflows a worker serves by default (the version-2 shipment flows share their
# type name with version 1, so a worker registers one of the three at a time).
WORKFLOWS: list[type] = [
    OrderPipeline,
    RetriedCharge,
    ExportWorkflow,
    ShipmentFlow,
    BatchWorkflow,
    ChecksumChain,
    SingleStep,
    ParallelSteps,
    TrialWorkflow,
]
ACTIVITIES: list[Any] = [
    reserve_inventory,
    charge_card,
    send_receipt,
    flaky_charge,
    export_rows,
    pack,
    weigh,
    ship,
    process_item,
    checksum_step,
    unit_of_work,
    send_trial_reminder,
]
