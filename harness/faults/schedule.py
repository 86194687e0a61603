"""A seeded fault schedule: which fault, when, for how long.

The schedule is a pure function of the seed and the campaign's shape (duration, kinds, mean
gap), so ``--seed`` reproduces it exactly; what the system does under it can still differ run to
run (timing), which is why every campaign also keeps its history.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    APP_KILL = "app-kill"  # SIGKILL the app process, start it again after `hold_s`
    APP_SLOW = "app-slow"  # the proxy delays every byte to and from the app by `delay_ms`
    APP_RESET = "app-reset"  # the proxy resets every connection to the app for `hold_s`
    APP_BLACKHOLE = "app-blackhole"  # the proxy accepts connections and forwards nothing
    SERVER_TERM = "server-term"  # SIGTERM the Inngest server, start it again
    SERVER_KILL = "server-kill"  # SIGKILL the Inngest server, start it again


APP_FAULTS = (FaultKind.APP_KILL, FaultKind.APP_SLOW, FaultKind.APP_RESET, FaultKind.APP_BLACKHOLE)
SERVER_FAULTS = (FaultKind.SERVER_TERM, FaultKind.SERVER_KILL)
# How often each kind is drawn, relative to the others (restarts take seconds: fewer of them).
WEIGHTS: dict[FaultKind, float] = {
    FaultKind.APP_KILL: 2.0,
    FaultKind.APP_SLOW: 2.0,
    FaultKind.APP_RESET: 2.5,
    FaultKind.APP_BLACKHOLE: 1.5,
    FaultKind.SERVER_TERM: 0.6,
    FaultKind.SERVER_KILL: 0.6,
}
# Every fault is followed by at least this much healthy time (plus a random part), so that a
# retry can land between faults: without it, faults that run late pile up into one long outage
# and runs fail for having used up their retries, which says nothing about durability.
MIN_GAP_S = 0.3


@dataclass(frozen=True)
class Fault:
    index: int
    at_s: float  # nominal start, seconds after the campaign's (restarts make the real one later)
    kind: FaultKind
    hold_s: float  # how long the fault lasts (the app or server is down, the proxy misbehaves)
    delay_ms: int = 0  # APP_SLOW only
    gap_s: float = 0.0  # healthy time after the previous fault has been healed

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "kind": str(self.kind)}


def make_schedule(
    seed: int,
    duration_s: float,
    kinds: Sequence[FaultKind],
    *,
    mean_gap_s: float,
) -> list[Fault]:
    """Faults over ``duration_s``, one at a time: each starts a gap (``MIN_GAP_S`` plus an
    exponentially distributed part of mean ``mean_gap_s``) after the previous one was healed,
    so every fault's effect can be told apart and the system has time to make progress."""
    if not kinds:
        return []
    rng = random.Random(seed)
    weights = [WEIGHTS[k] for k in kinds]
    faults: list[Fault] = []
    now = 0.0
    while True:
        gap = round(MIN_GAP_S + rng.expovariate(1.0 / mean_gap_s), 2)
        at = round(now + gap, 2)
        if at >= duration_s:
            return faults
        kind = rng.choices(list(kinds), weights)[0]
        hold = round(rng.uniform(0.2, 1.5), 2)
        delay = rng.choice((200, 500, 1000, 3000)) if kind is FaultKind.APP_SLOW else 0
        faults.append(Fault(len(faults), at, kind, hold, delay, gap))
        now = at + hold
