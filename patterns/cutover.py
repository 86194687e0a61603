"""Moving new events to a new version of a function at a cutover time, then draining the old.

Problem: Inngest keeps no version of a function: a deploy replaces its code, and runs in flight
continue on the new code (see ``history_replay``). A rewrite that is incompatible with those runs
needs the old code to keep serving them while new events go to the new code, and the old
function must not be removed while it still has runs in flight (removing it strands them).

The pattern: deploy both versions as two functions on the same event, split by the event's
timestamp: the old one triggers on ``event.ts < cutover`` (:func:`before_cutover`), the new one
on ``event.ts >= cutover`` (:func:`from_cutover`), so every event is taken by exactly one of
them. Pick the cutover a little after the deploy finishes. Then gate the old version's removal
on :func:`wait_until_drained`: it polls the old function's queued or running runs (confirming
each with the run's own record, since run lists can lag behind it) until none is left.

When to use it: a rewrite of a function whose runs last long enough to be in flight at deploy
time (sleeps, waits for events) and whose step IDs or outputs change incompatibly.

Limits: it splits on when the event was sent, so an event sent before the cutover but delayed
still goes to the old version, which must stay until it drains. Replaying an old event later
sends it to the old function, which may be gone by then. The drain gate sees only what the run
list and run records it is given report; bound its wait and decide what a timeout means (keep
the old version).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import inngest

# The run statuses of a run that has not finished (as Inngest's API reports them).
IN_FLIGHT = ("QUEUED", "RUNNING")


def cutover_ms(at: datetime) -> int:
    """A cutover time as ``event.ts`` holds it: milliseconds since the Unix epoch."""
    return int(at.timestamp() * 1000)


def before_cutover(event: str, cutover: int) -> inngest.TriggerEvent:
    """The old version's trigger: events sent before ``cutover`` (ms since the epoch)."""
    return inngest.TriggerEvent(event=event, expression=f"event.ts < {cutover}")


def from_cutover(event: str, cutover: int) -> inngest.TriggerEvent:
    """The new version's trigger: events sent at or after ``cutover`` (ms since the epoch)."""
    return inngest.TriggerEvent(event=event, expression=f"event.ts >= {cutover}")


@dataclass
class Drain:
    """What the drain gate saw while it waited for a version to have no runs in flight."""

    drained_at: float | None = None  # time.time() when it saw none; None if it never did
    listed: list[int] = field(default_factory=list)  # in-flight runs the run list listed
    confirmed: list[int] = field(default_factory=list)  # of those, still in flight per record
    stale: dict[str, str] = field(default_factory=dict)  # listed in flight, but final per record


def wait_until_drained(
    list_in_flight: Callable[[], Iterable[str]],
    status_of: Callable[[str], str],
    *,
    timeout: float,
    poll_s: float = 0.25,
    in_flight: Collection[str] = IN_FLIGHT,
) -> Drain:
    """The drain gate before retiring a version: poll ``list_in_flight()`` (the old function's
    queued or running run IDs), confirm each with ``status_of(run_id)``, and return once none
    is left in flight, or after ``timeout`` seconds with ``drained_at`` None."""
    drain = Drain()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = list(list_in_flight())
        statuses = {run_id: status_of(run_id) for run_id in listed}
        still = [run_id for run_id, status in statuses.items() if status in in_flight]
        drain.stale.update({r: s for r, s in statuses.items() if s not in in_flight})
        drain.listed.append(len(listed))
        drain.confirmed.append(len(still))
        if not still:
            drain.drained_at = time.time()
            return drain
        time.sleep(poll_s)
    return drain
