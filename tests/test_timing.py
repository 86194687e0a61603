"""harness.probing.timing: attempt timings from trace spans, gap statistics, a backoff table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from harness.probing.timing import (
    attempt_starts,
    attempt_statuses,
    by_retry,
    fit_schedule,
    gaps_s,
    growth_ratio,
)
from harness.servers.api import Span

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def span(name: str, status: str, start_s: float | None, children: list[Span] = ()) -> Span:
    started = T0 + timedelta(seconds=start_s) if start_s is not None else None
    return Span(
        name=name,
        status=status,
        attempts=None,
        step_op=None,
        step_id=None,
        started_at=started,
        ended_at=None,
        children=list(children),
    )


def test_attempts_of_a_retried_step_skip_attempts_that_never_started() -> None:
    step = span(
        "fetch",
        "FAILED",
        0,
        [
            span("Attempt 0", "FAILED", 0),
            span("Attempt 2", "FAILED", 47.5),  # out of order on purpose
            span("Attempt 1", "FAILED", 16.25),
            span("Attempt 3", "QUEUED", None),  # listed after the run failed; never ran
        ],
    )
    assert attempt_starts(step) == [T0, T0 + timedelta(seconds=16.25), T0 + timedelta(seconds=47.5)]
    assert attempt_statuses(step) == ["FAILED", "FAILED", "FAILED"]
    assert gaps_s(attempt_starts(step)) == [16.25, 31.25]


def test_a_step_that_succeeded_at_once_is_its_own_single_attempt() -> None:
    step = span("load", "COMPLETED", 3)
    assert attempt_starts(step) == [T0 + timedelta(seconds=3)]
    assert attempt_statuses(step) == ["COMPLETED"]
    assert attempt_starts(span("load", "QUEUED", None)) == []


def test_gaps_accept_epoch_seconds_and_need_two_starts() -> None:
    assert gaps_s([100.0, 101.014, 103.02]) == [1.01, 2.01]
    assert gaps_s([100.0]) == []
    assert gaps_s([]) == []


def test_by_retry_regroups_run_by_run_gaps() -> None:
    assert by_retry([[1, 10], [2, 20], [3]]) == [[1, 2, 3], [10, 20]]
    assert by_retry([]) == []


def test_gaps_inside_the_table_plus_jitter_fit() -> None:
    fits = fit_schedule([[18.8, 41.6], [30.9, 56.6]], (15, 30, 60), 30)
    assert [f.fits for f in fits] == [True, True]
    assert [(f.retry, f.expected_min_s, f.expected_max_s) for f in fits] == [
        (1, 15, 45),
        (2, 30, 60),
    ]
    assert fits[0].jitter_s == [3.8, 26.6]


def test_gaps_outside_the_table_are_named() -> None:
    # A linear 1 s interval is far below a 15 s table: every gap is outside.
    fits = fit_schedule([[1.0, 1.01], [1.0]], (15, 30), 30)
    assert [f.fits for f in fits] == [False, False]
    assert fits[0].outside == [1.0, 1.01]
    # Too late counts as outside too, beyond the slack.
    (late,) = fit_schedule([[49.0]], (15,), 30, slack_s=3)
    assert late.outside == [49.0]
    (within_slack,) = fit_schedule([[47.5]], (15,), 30, slack_s=3)
    assert within_slack.fits


def test_retries_beyond_the_table_use_its_last_value() -> None:
    fits = fit_schedule([[15], [30], [31]], (15, 30), 0, slack_s=1)
    assert [f.expected_min_s for f in fits] == [15, 30, 30]
    assert all(f.fits for f in fits)


def test_no_measurements_do_not_fit() -> None:
    (fit,) = fit_schedule([[]], (15,), 30)
    assert not fit.fits


def test_growth_ratio() -> None:
    assert growth_ratio([[30, 36], [45, 45]]) == pytest.approx(1.36)
    assert growth_ratio([[1.0], [1.0], [1.0]]) == 1.0
    assert growth_ratio([[1.0]]) is None
    assert growth_ratio([]) is None
