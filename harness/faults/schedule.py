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
# How often each kind is drawn, relative to the others (server restarts are slow: fewer).
WEIGHTS: dict[FaultKind, float] = {
    FaultKind.APP_KILL: 3.0,
    FaultKind.APP_SLOW: 2.0,
    FaultKind.APP_RESET: 2.0,
    FaultKind.APP_BLACKHOLE: 1.5,
    FaultKind.SERVER_TERM: 0.75,
    FaultKind.SERVER_KILL: 0.75,
}


@dataclass(frozen=True)
class Fault:
    index: int
    at_s: float  # seconds after the campaign's start
    kind: FaultKind
    hold_s: float  # how long the fault lasts (the app or server is down, the proxy misbehaves)
    delay_ms: int = 0  # APP_SLOW only

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "kind": str(self.kind)}


def make_schedule(
    seed: int,
    duration_s: float,
    kinds: Sequence[FaultKind],
    *,
    mean_gap_s: float,
) -> list[Fault]:
    """Faults at exponentially distributed gaps over ``duration_s``; none overlap (each starts
    after the previous one has been healed), so every fault's effect can be told apart."""
    if not kinds:
        return []
    rng = random.Random(seed)
    weights = [WEIGHTS[k] for k in kinds]
    faults: list[Fault] = []
    now = rng.uniform(0.5, mean_gap_s)
    while now < duration_s:
        kind = rng.choices(list(kinds), weights)[0]
        hold = round(rng.uniform(0.2, 2.0), 2)
        delay = rng.choice((200, 500, 1000, 3000)) if kind is FaultKind.APP_SLOW else 0
        at = round(now, 2)
        faults.append(Fault(len(faults), at, kind, hold, delay))
        now = at + hold + rng.expovariate(1.0 / mean_gap_s)
    return faults
