"""harness.stats on fixed data: percentiles, bisection, line fits."""

from __future__ import annotations

import statistics

import pytest

from harness.stats import Distribution, find_limit, fit_line, growth_exponent, percentile


def test_percentiles_interpolate_between_ranks() -> None:
    samples = [15.0, 20.0, 35.0, 40.0, 50.0]
    assert percentile(samples, 0) == 15.0
    assert percentile(samples, 50) == 35.0
    assert percentile(samples, 100) == 50.0
    assert percentile(samples, 40) == pytest.approx(29.0)  # rank 1.6: 20 + 0.6 * 15
    assert percentile(list(reversed(samples)), 40) == pytest.approx(29.0)  # order does not matter


def test_percentiles_agree_with_the_standard_library() -> None:
    samples = [float(x) for x in (3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9)]
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    for q in (5, 25, 50, 75, 95, 99):
        assert percentile(samples, q) == pytest.approx(cuts[q - 1])


def test_distribution_of_retry_gaps_at_two_digits() -> None:
    gaps = Distribution.of([18.8, 41.33, 41.6, 33.91], digits=2)
    assert (gaps.n, gaps.min, gaps.max, gaps.mean) == (4, 18.8, 41.6, 33.91)
    assert gaps.p50 == 37.62 and gaps.stdev == 10.68
    assert gaps.range == pytest.approx(22.8)


def test_percentile_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0], 101)


def test_distribution_summarises_a_sample() -> None:
    d = Distribution.of([float(x) for x in range(1, 101)])
    assert (d.n, d.min, d.max, d.mean) == (100, 1.0, 100.0, 50.5)
    assert d.p50 == 50.5 and d.p95 == pytest.approx(95.05) and d.p99 == pytest.approx(99.01)
    assert d.as_params()["p95"] == d.p95
    assert d.spread() == {"n": 100, "p95": d.p95, "p99": d.p99, "min": 1.0, "max": 100.0}
    assert d.stdev == pytest.approx(29.011, abs=0.001)
    assert d.range == 99.0
    single = Distribution.of([7.0])
    assert single.p50 == single.p99 == single.min == 7.0
    assert single.stdev == 0.0 and single.range == 0.0
    with pytest.raises(ValueError):
        Distribution.of([])


def threshold(limit: int):
    def accepts(value: int) -> tuple[bool, str | None]:
        return (value <= limit, None if value <= limit else f"{value} is too large")

    return accepts


def test_bisection_brackets_the_limit_within_the_resolution() -> None:
    found = find_limit(threshold(3_000_000), 1, 16_000_000, resolution=1024)
    assert found.bracketed
    assert found.largest_accepted is not None and found.smallest_rejected is not None
    assert found.largest_accepted <= 3_000_000 < found.smallest_rejected
    assert found.smallest_rejected - found.largest_accepted <= 1024
    assert found.rejection == f"{found.smallest_rejected} is too large"
    assert len(found.trials) <= 2 + 14  # both ends, then log2(16e6 / 1024) halvings
    assert [t.value for t in found.trials[:2]] == [1, 16_000_000]


def test_bisection_reports_limits_outside_the_range() -> None:
    everything = find_limit(threshold(10**9), 1, 1000, resolution=1)
    assert (everything.largest_accepted, everything.smallest_rejected) == (1000, None)
    assert not everything.bracketed
    nothing = find_limit(threshold(0), 1, 1000, resolution=1)
    assert (nothing.largest_accepted, nothing.smallest_rejected) == (None, 1)
    assert len(nothing.trials) == 1


def test_bisection_stops_after_max_trials() -> None:
    found = find_limit(threshold(500_000), 1, 10**9, resolution=1, max_trials=6)
    assert len(found.trials) == 6
    assert found.largest_accepted is not None and found.largest_accepted <= 500_000
    with pytest.raises(ValueError):
        find_limit(threshold(1), 10, 1, resolution=1)


def test_line_fit_recovers_a_known_line() -> None:
    fit = fit_line([50, 150, 400], [1.0 + 0.02 * x for x in (50, 150, 400)])
    assert fit.slope == pytest.approx(0.02)
    assert fit.intercept == pytest.approx(1.0)
    assert fit.r_squared == pytest.approx(1.0)
    noisy = fit_line([1, 2, 3, 4], [1.0, 3.0, 2.0, 4.0])
    assert noisy.slope == pytest.approx(0.8) and noisy.r_squared == pytest.approx(0.64)


def test_line_fit_needs_distinct_xs() -> None:
    with pytest.raises(ValueError, match="distinct"):
        fit_line([5, 5], [1.0, 2.0])
    with pytest.raises(ValueError, match="values"):
        fit_line([1, 2], [1.0])


def test_growth_exponent_tells_linear_from_quadratic() -> None:
    xs = [10, 50, 100]
    assert growth_exponent(xs, [3.0 * x for x in xs]).slope == pytest.approx(1.0)
    assert growth_exponent(xs, [0.01 * x * x for x in xs]).slope == pytest.approx(2.0)
    with pytest.raises(ValueError):
        growth_exponent([0, 1], [1.0, 2.0])
