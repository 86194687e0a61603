"""Statistics for measurements: percentiles, a bisection search for limits, and line fits.

Everything here is a pure function of its input so it can be unit-tested on fixed data; the
probes feed it samples measured against a real dev server and record both the summary and the
raw samples (benchmarks are never timed unit tests).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) with linear interpolation between closest ranks.

    The same definition as numpy's default (``method="linear"``) and Python's
    ``statistics.quantiles(..., method="inclusive")``: rank ``(n - 1) * q / 100``.
    """
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Distribution:
    """Sample size and spread of a set of samples (same unit as the samples)."""

    n: int
    min: float
    p50: float
    p95: float
    p99: float
    max: float
    mean: float
    stdev: float  # sample standard deviation; 0.0 for a single sample

    @property
    def range(self) -> float:
        """max - min: how far apart the samples landed (e.g. the same retry gap in many runs)."""
        return round(self.max - self.min, 6)

    @classmethod
    def of(cls, samples: Sequence[float], *, digits: int = 3) -> Distribution:
        if not samples:
            raise ValueError("a distribution needs at least one sample")

        def r(x: float) -> float:
            return round(x, digits)

        return cls(
            n=len(samples),
            min=r(min(samples)),
            p50=r(percentile(samples, 50)),
            p95=r(percentile(samples, 95)),
            p99=r(percentile(samples, 99)),
            max=r(max(samples)),
            mean=r(sum(samples) / len(samples)),
            stdev=r(statistics.stdev(samples)) if len(samples) > 1 else 0.0,
        )

    def as_params(self) -> dict[str, Any]:
        """The figures as message parameters (``t("… p95 {p95} …", **d.as_params())``)."""
        return asdict(self)

    def spread(self) -> dict[str, Any]:
        """Sample size and spread as message parameters, for the note of a measurement whose
        value is the median: ``t("… n {n}, p95 {p95}, p99 {p99}, min {min}, max {max}", …)``."""
        figures = asdict(self)
        return {key: figures[key] for key in ("n", "p95", "p99", "min", "max")}


@dataclass(frozen=True)
class Trial:
    """One trial of a bisection: the value tried and whether it was accepted."""

    value: int
    accepted: bool
    detail: Any = None  # what the system answered (error message, status), kept as evidence


@dataclass(frozen=True)
class Limit:
    """The result of :func:`find_limit`."""

    largest_accepted: int | None  # None: even ``low`` was rejected
    smallest_rejected: int | None  # None: even ``high`` was accepted
    trials: list[Trial]

    @property
    def bracketed(self) -> bool:
        """Whether the limit lies between an accepted and a rejected value that were tried."""
        return self.largest_accepted is not None and self.smallest_rejected is not None

    @property
    def rejection(self) -> Any:
        """What the system answered for the smallest rejected value (None if none was)."""
        for trial in self.trials:
            if trial.value == self.smallest_rejected:
                return trial.detail
        return None


def find_limit(
    accepts: Callable[[int], tuple[bool, Any]],
    low: int,
    high: int,
    *,
    resolution: int,
    max_trials: int = 40,
) -> Limit:
    """The largest value in ``low..high`` that ``accepts``, by bisection.

    ``accepts(value)`` returns ``(accepted, detail)``. The search assumes a threshold (every
    value up to some limit is accepted, none above it); it tries both ends first, then halves
    the bracket until it is at most ``resolution`` wide or ``max_trials`` are used up.
    """
    if low > high or resolution < 1:
        raise ValueError(f"bad search range {low}..{high} with resolution {resolution}")
    trials: list[Trial] = []

    def attempt(value: int) -> bool:
        accepted, detail = accepts(value)
        trials.append(Trial(value, accepted, detail))
        return accepted

    if not attempt(low):
        return Limit(None, low, trials)
    if attempt(high):
        return Limit(high, None, trials)
    good, bad = low, high
    while bad - good > resolution and len(trials) < max_trials:
        middle = (good + bad) // 2
        if attempt(middle):
            good = middle
        else:
            bad = middle
    return Limit(good, bad, trials)


@dataclass(frozen=True)
class LineFit:
    """Least-squares line ``y = slope * x + intercept`` and how well it fits (r²)."""

    slope: float
    intercept: float
    r_squared: float
    n: int


def fit_line(xs: Sequence[float], ys: Sequence[float]) -> LineFit:
    """Ordinary least squares of ``ys`` on ``xs`` (at least two distinct x values)."""
    if len(xs) != len(ys):
        raise ValueError(f"{len(xs)} x values but {len(ys)} y values")
    n = len(xs)
    if n < 2 or len(set(xs)) < 2:
        raise ValueError("a line fit needs at least two distinct x values")
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    ss_total = sum((y - mean_y) ** 2 for y in ys)
    ss_residual = sum((y - (slope * x + intercept)) ** 2 for x, y in zip(xs, ys, strict=True))
    r_squared = 1.0 if ss_total == 0 else 1 - ss_residual / ss_total
    return LineFit(slope=slope, intercept=intercept, r_squared=r_squared, n=n)


def growth_exponent(xs: Sequence[float], ys: Sequence[float]) -> LineFit:
    """The slope of log(y) on log(x): about 1 for linear growth, 2 for quadratic."""
    if any(v <= 0 for v in (*xs, *ys)):
        raise ValueError("growth exponent needs positive values")
    return fit_line([math.log(x) for x in xs], [math.log(y) for y in ys])
