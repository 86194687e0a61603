"""harness.probing.timeline on fixed data: overlap, windows, gaps, compact timelines."""

from __future__ import annotations

import pytest

from harness.probing.timeline import (
    Interval,
    compact,
    gaps,
    intervals,
    max_in_window,
    max_overlap,
    max_overlap_by_key,
    ms,
    offsets,
    spread,
    wall_time,
)


def span(label: str, start: float, end: float, key: str | None = None) -> Interval:
    return Interval(label, start, end, key)


def test_serial_intervals_overlap_one_at_a_time() -> None:
    # A slot handed on at the same instant is not an overlap.
    assert max_overlap([span("a", 0, 1), span("b", 1, 2), span("c", 2, 3)]) == 1


def test_overlap_counts_the_busiest_instant() -> None:
    spans = [span("a", 0, 10), span("b", 1, 3), span("c", 2, 4), span("d", 3.5, 5), span("e", 6, 7)]
    assert max_overlap(spans) == 3  # a, b, c at t=2..3 (b ends when d has not started)


def test_everything_at_once() -> None:
    assert max_overlap([span(str(i), 100.0, 101.5) for i in range(50)]) == 50


def test_no_intervals() -> None:
    assert max_overlap([]) == 0
    assert wall_time([]) == 0.0
    assert max_in_window([], 1.0) == 0
    assert gaps([]) == []
    assert spread([]) == {"n": 0}


def test_overlap_per_key() -> None:
    spans = [
        span("a1", 0, 2, "a"),
        span("a2", 2, 4, "a"),
        span("b1", 0, 2, "b"),
        span("b2", 1, 3, "b"),
        span("x", 0, 1),
    ]
    assert max_overlap_by_key(spans) == {"": 1, "a": 1, "b": 2}
    assert max_overlap(spans) == 3  # x hands over to b2 at t=1


def test_interval_rejects_an_end_before_its_start() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        Interval("bad", 2.0, 1.0)


def test_intervals_from_ledger_values() -> None:
    records = [
        {"label": "p1", "start": 1, "end": 2.5, "key": "k"},
        {"label": 7, "start": 3, "end": 3},
    ]
    assert intervals(records) == [Interval("p1", 1.0, 2.5), Interval("7", 3.0, 3.0)]
    assert intervals(records[:1], key="key") == [Interval("p1", 1.0, 2.5, "k")]


def test_wall_time_and_gaps() -> None:
    spans = [span("a", 10, 11), span("b", 10.5, 12.25)]
    assert wall_time(spans) == pytest.approx(2.25)
    assert gaps([4.0, 0.0, 2.0, 2.5]) == [2.0, 0.5, 1.5]


@pytest.mark.parametrize(
    ("times", "window", "most"),
    [
        ([0, 0.1, 2.0, 4.0], 2.0, 2),  # [0, 2) holds 0 and 0.1; 2.0 starts a new window
        ([0, 1.9, 2.0, 3.9], 2.0, 2),
        ([0, 1, 1.5, 1.99], 2.0, 4),
        ([5, 0, 3], 10.0, 3),  # order does not matter
    ],
)
def test_max_in_window(times: list[float], window: float, most: int) -> None:
    assert max_in_window(times, window) == most


def test_spread_summarises() -> None:
    assert spread([0.3, 0.1, 0.2, 0.9]) == {"n": 4, "min": 0.1, "median": 0.25, "max": 0.9}


def test_compact_is_relative_milliseconds_by_start() -> None:
    origin = 1_700_000_000.0
    spans = [
        span("late", origin + 2.0004, origin + 3.5),
        span("early", origin + 0.1234, origin + 1),
    ]
    assert compact(spans, origin) == [["early", 123, 1000], ["late", 2000, 3500]]
    keyed = [span("a#0", origin, origin + 0.5, "a")]
    assert compact(keyed, origin) == [["a#0", 0, 500, "a"]]
    assert ms(origin - 0.25, origin) == -250
    assert offsets([origin + 1, origin + 0.5], origin) == [500, 1000]
