"""harness.rating.stats on fixed data: percentiles, bisection, line and polynomial fits."""

from __future__ import annotations

import statistics

import pytest

from harness.rating.stats import (
    Distribution,
    find_limit,
    fit_line,
    fit_polynomial,
    growth_exponent,
    percentile,
    t_critical_95,
)


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


def test_polynomial_fit_recovers_a_known_quadratic_exactly() -> None:
    xs = [1.0, 10.0, 100.0, 300.0, 1000.0]
    fit = fit_polynomial(xs, [0.6 + 0.002 * x + 3e-6 * x * x for x in xs], 2)
    a, b, c = fit.coefficients
    assert a == pytest.approx(0.6) and b == pytest.approx(0.002) and c == pytest.approx(3e-6)
    assert fit.dof == 2 and fit.n == 5
    assert fit.residual_stdev == pytest.approx(0.0, abs=1e-9)
    assert fit.predict(500.0) == pytest.approx(0.6 + 1.0 + 0.75)


def test_polynomial_fit_agrees_with_the_line_fit() -> None:
    xs, ys = [1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 2.0, 4.0]
    line, poly = fit_line(xs, ys), fit_polynomial(xs, ys, 1)
    assert poly.coefficients[1] == pytest.approx(line.slope)
    assert poly.coefficients[0] == pytest.approx(line.intercept)


def test_standard_errors_match_the_textbook_formula_for_a_line() -> None:
    # SE(slope) = s / sqrt(Sxx), s² = SSR / (n - 2).
    xs, ys = [1.0, 2.0, 3.0, 4.0, 5.0], [2.1, 3.9, 6.2, 7.8, 10.1]
    fit = fit_polynomial(xs, ys, 1)
    slope, intercept = fit.coefficients[1], fit.coefficients[0]
    ssr = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    s = (ssr / 3) ** 0.5
    assert fit.standard_errors is not None
    assert fit.standard_errors[1] == pytest.approx(s / 10**0.5)  # Sxx = 10
    assert fit.residual_stdev == pytest.approx(s)


def test_curvature_is_told_apart_from_noise_by_its_standard_error() -> None:
    xs = [n for n in (1.0, 10.0, 100.0, 300.0, 1000.0) for _ in range(3)]
    jitter = [0.02, -0.01, -0.01] * 5  # the same spread at every size, mean zero
    linear = [0.6 + 0.002 * x + j for x, j in zip(xs, jitter, strict=True)]
    curved = [y + 2e-6 * x * x for x, y in zip(xs, linear, strict=True)]
    assert fit_polynomial(xs, linear, 2).distinguishable_from_zero(2) is False
    bent = fit_polynomial(xs, curved, 2)
    assert bent.distinguishable_from_zero(2) is True
    assert bent.coefficients[2] == pytest.approx(2e-6, rel=0.01)
    t = bent.t_value(2)
    assert t is not None and t > t_critical_95(bent.dof)


def test_exact_fit_has_no_spread_to_judge_by() -> None:
    fit = fit_polynomial([1.0, 2.0, 3.0], [1.0, 4.0, 9.0], 2)
    assert fit.standard_errors is None and fit.residual_stdev is None
    assert fit.t_value(2) is None and fit.distinguishable_from_zero(2) is None


def test_noise_free_samples_make_any_nonzero_coefficient_distinguishable() -> None:
    xs = [1.0, 2.0, 3.0, 4.0]
    fit = fit_polynomial(xs, [2.0 * x for x in xs], 1)
    t = fit.t_value(1)
    assert t is not None and t > 1e6 and fit.distinguishable_from_zero(1) is True


def test_polynomial_fit_rejects_too_few_distinct_xs() -> None:
    with pytest.raises(ValueError, match="at least 3 distinct"):
        fit_polynomial([1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0], 2)
    with pytest.raises(ValueError, match="y values"):
        fit_polynomial([1.0, 2.0, 3.0], [1.0], 2)


def test_t_critical_values() -> None:
    assert t_critical_95(1) == 12.706
    assert t_critical_95(12) == 2.179
    assert t_critical_95(100) == 1.96
    with pytest.raises(ValueError, match="degree of freedom"):
        t_critical_95(0)
