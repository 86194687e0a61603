"""Attempt timings read from a run's trace, and the gaps between them.

The dev server's trace (see :mod:`harness.servers.api`) lists, under each step, one child span per
attempt (``Attempt 0``, ``Attempt 1`` …) with its start and end time. A failure outside any step
shows up as an ``execute`` span with the same children. That is where retry timing is read
from; the side-effect ledger's own timestamps are a cross-check kept by the probes.

Everything here is pure (spans and numbers in, numbers out), so it is unit-tested without a
dev server.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from harness.servers.api import Span


def attempt_starts(step: Span) -> list[datetime]:
    """When each attempt of ``step`` started, in order.

    A step that succeeded on its first try has no attempt children: its own start is the one
    attempt. Attempts that never started (the trace can list a last attempt as QUEUED after
    the run has already failed) are left out.
    """
    if not step.children:
        return [step.started_at] if step.started_at else []
    return sorted(a.started_at for a in step.children if a.started_at is not None)


def attempt_statuses(step: Span) -> list[str]:
    """The status of each attempt that started (e.g. ``["FAILED", "COMPLETED"]``)."""
    if not step.children:
        return [step.status]
    return [a.status for a in step.children if a.started_at is not None]


def gaps_s(starts: Sequence[datetime | float]) -> list[float]:
    """Seconds between consecutive starts (datetimes or epoch seconds), rounded to 10 ms."""
    values = [s.timestamp() if isinstance(s, datetime) else float(s) for s in starts]
    return [round(b - a, 2) for a, b in itertools.pairwise(values)]


def by_retry(gaps_per_run: Sequence[Sequence[float]]) -> list[list[float]]:
    """Regroup gaps measured per run into gaps per retry number.

    ``[[g1, g2], [g1', g2']]`` (run by run) becomes ``[[g1, g1'], [g2, g2']]`` (the first retry's
    gaps, then the second's). Runs with fewer gaps contribute to the first retries only.
    """
    longest = max((len(g) for g in gaps_per_run), default=0)
    return [[g[i] for g in gaps_per_run if len(g) > i] for i in range(longest)]


@dataclass(frozen=True)
class ScheduleFit:
    """How measured gaps compare with a backoff table that adds bounded random jitter."""

    retry: int  # 1 for the gap before the first retry
    expected_min_s: float  # the table's value
    expected_max_s: float  # the table's value plus the largest jitter
    measured: list[float]
    outside: list[float]  # measured gaps outside [min - slack, max + slack]

    @property
    def fits(self) -> bool:
        return bool(self.measured) and not self.outside

    @property
    def jitter_s(self) -> list[float]:
        """How much each gap exceeded the table's value: the jitter (plus scheduling delay)."""
        return [round(g - self.expected_min_s, 2) for g in self.measured]


def fit_schedule(
    gaps_per_retry: Sequence[Sequence[float]],
    table_s: Sequence[float],
    jitter_max_s: float,
    *,
    slack_s: float = 3.0,
) -> list[ScheduleFit]:
    """Compare each retry's gaps with ``table_s[retry - 1] + [0, jitter_max_s)``.

    ``slack_s`` absorbs what the table does not model: the queue's poll tick, the time an
    attempt itself takes, and a loaded machine. Retries beyond the table use its last value.
    """
    fits: list[ScheduleFit] = []
    for index, gaps in enumerate(gaps_per_retry):
        base = table_s[min(index, len(table_s) - 1)]
        low, high = base - slack_s, base + jitter_max_s + slack_s
        fits.append(
            ScheduleFit(
                retry=index + 1,
                expected_min_s=base,
                expected_max_s=base + jitter_max_s,
                measured=list(gaps),
                outside=[g for g in gaps if not low <= g <= high],
            )
        )
    return fits


def growth_ratio(gaps_per_retry: Sequence[Sequence[float]]) -> float | None:
    """Mean of the last retry's gaps over the mean of the first's (None with under 2 retries).

    Above 1 the schedule backs off; near 1 it is linear.
    """
    means = [statistics.fmean(g) for g in gaps_per_retry if g]
    if len(means) < 2 or means[0] <= 0:
        return None
    return round(means[-1] / means[0], 2)
