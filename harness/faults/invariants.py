"""Invariants of durable execution, checked on a recorded history (Jepsen's way).

Each checker reads the whole history and returns what it checked, whether the invariant held,
and every counterexample it found (run, step, what happened), so a violation can be looked up in
the history file and in the server. A counterexample is data, never a summary.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from harness.faults.history import History, StepRecord

COMPLETED = "COMPLETED"
FINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
SERVER_FAULTS = frozenset({"server-term", "server-kill"})
KEPT = 50  # counterexamples kept per invariant (the count is always complete)


@dataclass
class Outcome:
    key: str
    checked: int  # how many runs (or steps) the invariant was checked on
    violations: list[dict[str, Any]] = field(default_factory=list)
    total_violations: int = 0
    # Every violation counted by kind ("no run", a status), where a checker tells kinds apart:
    # the kept counterexamples are only the first ones.
    tally: dict[str, int] = field(default_factory=dict)

    @property
    def holds(self) -> bool:
        """No counterexample (an invariant with nothing to check holds vacuously: see
        ``checked``, which the report shows beside it)."""
        return self.total_violations == 0

    def add(self, violation: dict[str, Any]) -> None:
        self.total_violations += 1
        if len(self.violations) < KEPT:
            self.violations.append(violation)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "checked": self.checked,
            "holds": self.holds,
            "total_violations": self.total_violations,
            "violations": self.violations,
            "tally": self.tally,
        }


def _orders(history: History) -> list[str]:
    """Every order the campaign sent at least once and the server accepted."""
    return sorted({s.order_key for s in history.sends if s.accepted})


def _finals_by_order(history: History) -> dict[str, list[Any]]:
    by: dict[str, list[Any]] = defaultdict(list)
    for final in history.finals:
        by[final.order_key].append(final)
    return by


def _steps_by_run(history: History) -> dict[str, list[StepRecord]]:
    by: dict[str, list[StepRecord]] = defaultdict(list)
    for record in history.steps:
        by[record.run_id].append(record)
    return by


def _server_fault_after(history: History, order: str) -> dict[str, Any]:
    """For an order that never got a run: when the server acknowledged it, and the first server
    stop after that (a lost acknowledged event points at what the server holds in memory)."""
    acknowledged = min(
        (s.t for s in history.sends if s.order_key == order and s.accepted), default=0
    )
    # A stop already under way when the server answered counts (a SIGTERM takes seconds).
    after = [
        f
        for f in history.faults
        if f.kind in SERVER_FAULTS
        and (f.end_t if f.end_t is not None else f.start_t) >= acknowledged
    ]
    if not after:
        return {"acknowledged_at": acknowledged}
    first = min(after, key=lambda f: f.start_t)
    return {
        "acknowledged_at": acknowledged,
        "next_server_fault": first.kind,
        "seconds_after_acknowledged": round(first.start_t - acknowledged, 3),
    }


def _last_progress(history: History, run_id: str) -> dict[str, Any]:
    """For a run that never ended: its last step record, how long before the faults ended it
    was, and a server stop within two seconds of it (what a stuck run points at)."""
    records = [r for r in history.steps if r.run_id == run_id]
    if not records:
        return {}
    last = max(records, key=lambda r: r.t)
    ended = max((f.end_t or f.start_t for f in history.faults), default=last.t)
    near = [f for f in history.faults if f.kind in SERVER_FAULTS and abs(f.start_t - last.t) <= 2.0]
    found: dict[str, Any] = {
        "last_step": f"{last.step} {last.phase}",
        "seconds_before_faults_ended": round(ended - last.t, 1),
    }
    if near:
        found["server_fault_near_it"] = near[0].kind
    return found


def every_run_final(history: History) -> Outcome:
    """Every accepted order has a run, and it reached a final status (none lost, none stuck)."""
    finals = _finals_by_order(history)
    orders = _orders(history)
    outcome = Outcome("every-run-final", len(orders))
    for order in orders:
        runs = finals.get(order, [])
        if not runs:
            outcome.add({"order": order, "found": "no run", **_server_fault_after(history, order)})
            outcome.tally["no run"] = outcome.tally.get("no run", 0) + 1
        for run in runs:
            if run.status not in FINAL:
                outcome.add(
                    {
                        "order": order,
                        "run": run.run_id,
                        "status": run.status,
                        **_last_progress(history, run.run_id),
                    }
                )
                outcome.tally[run.status] = outcome.tally.get(run.status, 0) + 1
    return outcome


def every_run_completes(history: History) -> Outcome:
    """Every run that reached a final status completed (none failed under the faults)."""
    ended = [f for f in history.finals if f.status in FINAL]
    outcome = Outcome("every-run-completes", len(ended))
    for final in ended:
        if final.status != COMPLETED:
            outcome.add(
                {
                    "order": final.order_key,
                    "run": final.run_id,
                    "status": final.status,
                    "output": final.output,
                }
            )
    return outcome


def one_run_per_order(history: History) -> Outcome:
    """One order (sent again with its event ID, or with another event ID and the same
    idempotency key) starts one run: no run is created twice."""
    runs: dict[str, set[str]] = defaultdict(set)
    for final in history.finals:
        runs[final.order_key].add(final.run_id)
    for record in history.steps:
        runs[record.order_key].add(record.run_id)
    orders = _orders(history)
    outcome = Outcome("one-run-per-order", len(orders))
    sends = defaultdict(list)
    for send in history.sends:
        sends[send.order_key].append(send.event_id)
    for order in orders:
        if len(runs[order]) > 1:
            outcome.add({"order": order, "runs": sorted(runs[order]), "events": sends[order]})
    return outcome


def no_recompute_after_progress(history: History) -> Outcome:
    """Once a later step of a run has started, no earlier step of it runs again: a completed
    step's result is read from the run's state, never computed anew."""
    order_of = {step: i for i, step in enumerate(history.step_ids)}
    outcome = Outcome("no-recompute-after-progress", 0)
    for run_id, records in _steps_by_run(history).items():
        starts = [r for r in records if r.phase == "start" and r.step in order_of]
        outcome.checked += 1
        for record in starts:
            later = [
                r for r in starts if order_of[r.step] > order_of[record.step] and r.t < record.t
            ]
            if later:
                first = min(later, key=lambda r: r.t)
                outcome.add(
                    {
                        "run": run_id,
                        "order": record.order_key,
                        "step": record.step,
                        "ran_again_at": record.t,
                        "after": first.step,
                        "which_started_at": first.t,
                    }
                )
    return outcome


def at_least_once(history: History) -> Outcome:
    """Every step of every completed run did its work at least once (a ``done`` record)."""
    completed = {f.run_id for f in history.finals if f.status == COMPLETED}
    by_run = _steps_by_run(history)
    outcome = Outcome("at-least-once", len(completed))
    for run_id in sorted(completed):
        done = {r.step for r in by_run.get(run_id, []) if r.phase == "done"}
        missing = [s for s in history.step_ids if s not in done]
        if missing:
            outcome.add({"run": run_id, "steps_without_work": missing})
    return outcome


def outputs_agree(history: History) -> Outcome:
    """A completed run's output holds, for each step, a value that step actually returned, and
    every later step saw that same value: the memoized result is the one the run uses."""
    by_run = _steps_by_run(history)
    completed = [f for f in history.finals if f.status == COMPLETED]
    outcome = Outcome("outputs-agree", len(completed))
    steps = history.step_ids
    for final in completed:
        records = by_run.get(final.run_id, [])
        output = final.output if isinstance(final.output, dict) else {}
        for i, step in enumerate(steps):
            returned = {r.value for r in records if r.step == step and r.phase == "done"}
            value = output.get(step)
            if value not in returned:
                outcome.add(
                    {
                        "run": final.run_id,
                        "step": step,
                        "output": value,
                        "returned": sorted(v for v in returned if v is not None),
                    }
                )
            if i + 1 < len(steps):
                seen = {
                    r.seen_prev for r in records if r.step == steps[i + 1] and r.phase == "start"
                }
                if seen - {value}:
                    outcome.add(
                        {
                            "run": final.run_id,
                            "step": steps[i + 1],
                            "saw": sorted(v for v in seen if v is not None),
                            "output_of_previous": value,
                        }
                    )
    return outcome


def nothing_lost_across_server_restarts(history: History) -> Outcome:
    """A run in flight when the server was stopped (SIGTERM or SIGKILL) completes after it
    comes back."""
    restarts = [f for f in history.faults if f.kind in SERVER_FAULTS]
    first_send: dict[str, float] = {}
    for send in history.sends:
        if send.accepted:
            first_send.setdefault(send.order_key, send.t)
    last_step: dict[str, float] = {}
    for record in history.steps:
        last_step[record.order_key] = max(last_step.get(record.order_key, 0.0), record.t)
    finals = _finals_by_order(history)
    across = sorted(
        order
        for order, sent in first_send.items()
        if any(sent < f.start_t and last_step.get(order, sent) >= f.start_t for f in restarts)
        or any(sent < f.start_t and order not in last_step for f in restarts)
    )
    outcome = Outcome("nothing-lost-across-server-restarts", len(across))
    for order in across:
        statuses = [f.status for f in finals.get(order, [])]
        if statuses != [COMPLETED]:
            outcome.add({"order": order, "statuses": statuses})
    return outcome


CHECKERS = (
    every_run_final,
    every_run_completes,
    one_run_per_order,
    no_recompute_after_progress,
    at_least_once,
    outputs_agree,
    nothing_lost_across_server_restarts,
)


def check_all(history: History) -> list[Outcome]:
    return [checker(history) for checker in CHECKERS]


# --- figures --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Repeats:
    """Step executions beyond the first, and whether a fault explains each."""

    executions: int
    repeats: int
    explained: int  # a fault started between the previous attempt's start and this one
    unexplained: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "executions": self.executions,
            "repeats": self.repeats,
            "explained": self.explained,
            "unexplained": len(self.unexplained),
            "unexplained_examples": self.unexplained[:KEPT],
        }


def repeats(history: History) -> Repeats:
    windows = [(f.start_t, f.end_t or f.start_t) for f in history.faults]
    by_step: dict[tuple[str, str], list[StepRecord]] = defaultdict(list)
    for record in history.steps:
        if record.phase == "start":
            by_step[(record.run_id, record.step)].append(record)
    executions = sum(len(v) for v in by_step.values())
    count = explained = 0
    unexplained: list[dict[str, Any]] = []
    for (run_id, step), starts in sorted(by_step.items()):
        starts.sort(key=lambda r: r.t)
        for previous, again in itertools.pairwise(starts):
            count += 1
            if any(start <= again.t and end >= previous.t for start, end in windows):
                explained += 1
            else:
                unexplained.append(
                    {"run": run_id, "step": step, "first": previous.t, "again": again.t}
                )
    return Repeats(executions, count, explained, unexplained)


def recovery_times(history: History) -> list[float]:
    """Per fault: seconds from its end to the next step record of any run (work resumed)."""
    times = sorted(r.t for r in history.steps)
    found: list[float] = []
    for fault in history.faults:
        if fault.end_t is None:
            continue
        after = next((t for t in times if t >= fault.end_t), None)
        if after is not None:
            found.append(round(after - fault.end_t, 3))
    return found
