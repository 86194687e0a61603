"""Timelines of what really ran: overlap, spacing and windows, from timestamps the app recorded.

Flow-control items (concurrency, throttle, rate limit, parallel steps) are judged from when
things *actually* started and ended in the app, never from what was configured. The app records
wall-clock timestamps (``time.time()``) in the side-effect ledger; the probe turns them into
:class:`Interval` objects and asks the questions below. Everything here is pure arithmetic on
those numbers, so it is unit-tested on fixed data.

Results carry the raw timelines behind every figure, compactly: milliseconds relative to an
origin (usually the moment a burst of events was sent), see :func:`compact`.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Interval:
    """Something that ran from ``start`` to ``end`` (seconds, wall clock)."""

    label: str
    start: float
    end: float
    key: str | None = None  # what it belongs to, e.g. a concurrency key or a run

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"{self.label}: ends ({self.end}) before it starts ({self.start})")

    @property
    def duration(self) -> float:
        return self.end - self.start


def intervals(
    records: Iterable[Mapping[str, Any]],
    *,
    label: str = "label",
    start: str = "start",
    end: str = "end",
    key: str | None = None,
) -> list[Interval]:
    """Intervals from ledger values such as ``{"label": "a", "start": 1.0, "end": 2.0}``."""
    return [
        Interval(
            label=str(r[label]),
            start=float(r[start]),
            end=float(r[end]),
            key=None if key is None else str(r[key]),
        )
        for r in records
    ]


def max_overlap(spans: Iterable[Interval]) -> int:
    """The largest number of intervals running at the same instant.

    An interval that ends exactly when another starts does not overlap it (a slot handed on).
    """
    events: list[tuple[float, int]] = []
    for span in spans:
        events.append((span.start, 1))
        events.append((span.end, -1))
    # At equal times, ends (-1) sort before starts (+1).
    running = peak = 0
    for _, delta in sorted(events):
        running += delta
        peak = max(peak, running)
    return peak


def max_overlap_by_key(spans: Iterable[Interval]) -> dict[str, int]:
    """:func:`max_overlap` within each key (intervals without a key are grouped under "")."""
    groups: dict[str, list[Interval]] = {}
    for span in spans:
        groups.setdefault(span.key or "", []).append(span)
    return {key: max_overlap(group) for key, group in sorted(groups.items())}


def wall_time(spans: Sequence[Interval]) -> float:
    """From the first start to the last end (0 for no intervals)."""
    if not spans:
        return 0.0
    return max(s.end for s in spans) - min(s.start for s in spans)


def gaps(times: Iterable[float]) -> list[float]:
    """Differences between consecutive times, in time order."""
    ordered = sorted(times)
    return [b - a for a, b in itertools.pairwise(ordered)]


def max_in_window(times: Iterable[float], window: float) -> int:
    """The most times that fall in any half-open window ``[t, t + window)``."""
    ordered = sorted(times)
    best = 0
    first = 0
    for last, t in enumerate(ordered):
        while t - ordered[first] >= window:
            first += 1
        best = max(best, last - first + 1)
    return best


def spread(values: Sequence[float], *, digits: int = 3) -> dict[str, float | int]:
    """Sample size, min, median and max of ``values`` (rounded), for a measurement's note."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "min": round(min(values), digits),
        "median": round(statistics.median(values), digits),
        "max": round(max(values), digits),
    }


def ms(t: float, origin: float) -> int:
    """``t`` in whole milliseconds after ``origin``."""
    return round((t - origin) * 1000)


def compact(spans: Iterable[Interval], origin: float) -> list[list[Any]]:
    """``[[label, start_ms, end_ms], ...]`` (plus the key when there is one), by start time:
    the raw timeline behind a figure, small enough to keep in the results."""
    rows: list[list[Any]] = []
    for s in sorted(spans, key=lambda s: (s.start, s.label)):
        row: list[Any] = [s.label, ms(s.start, origin), ms(s.end, origin)]
        if s.key is not None:
            row.append(s.key)
        rows.append(row)
    return rows


def offsets(times: Iterable[float], origin: float) -> list[int]:
    """Times in whole milliseconds after ``origin``, sorted."""
    return sorted(ms(t, origin) for t in times)
