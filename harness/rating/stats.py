"""Statistics for measurements: percentiles, a bisection search for limits, and least-squares fits.

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


# Two-sided 95 % critical values of Student's t by degrees of freedom (1..30); beyond 30 the
# normal value 1.96 is used (t at 30 dof is 2.042, so the step is small).
_T_975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_critical_95(dof: int) -> float:
    """The two-sided 95 % critical value of Student's t with ``dof`` degrees of freedom."""
    if dof < 1:
        raise ValueError(f"t needs at least one degree of freedom, got {dof}")
    return _T_975[dof - 1] if dof <= len(_T_975) else 1.96


@dataclass(frozen=True)
class PolynomialFit:
    """Least-squares ``y = c0 + c1·x + c2·x² + …`` with each coefficient's standard error.

    ``standard_errors`` come from the residuals (σ² (XᵀX)⁻¹); they are ``None`` when there are
    no spare degrees of freedom (as many points as coefficients), since the fit is then exact
    and says nothing about spread.
    """

    coefficients: tuple[float, ...]  # c0, c1, … (lowest power first)
    standard_errors: tuple[float, ...] | None
    residual_stdev: float | None
    dof: int  # samples minus coefficients
    n: int

    def predict(self, x: float) -> float:
        return sum(c * x**power for power, c in enumerate(self.coefficients))

    def t_value(self, power: int) -> float | None:
        """The coefficient over its standard error (None when there is no spread to judge by;
        ±inf for an exactly fitting nonzero coefficient)."""
        if self.standard_errors is None:
            return None
        coefficient, error = self.coefficients[power], self.standard_errors[power]
        if error == 0:
            return 0.0 if coefficient == 0 else math.copysign(math.inf, coefficient)
        return coefficient / error

    def distinguishable_from_zero(self, power: int) -> bool | None:
        """Whether the coefficient of ``x**power`` lies outside its 95 % confidence interval
        around 0 (|t| above Student's critical value); None without spare degrees of freedom."""
        t = self.t_value(power)
        return None if t is None else abs(t) > t_critical_95(self.dof)


def fit_polynomial(xs: Sequence[float], ys: Sequence[float], degree: int) -> PolynomialFit:
    """Ordinary least squares of ``ys`` on ``1, x, …, x**degree`` by the normal equations.

    x is scaled to [-1, 1] by its largest magnitude before the fit (so that x² for sizes in the
    thousands does not swamp the constant column) and the coefficients scaled back after.
    """
    if len(xs) != len(ys):
        raise ValueError(f"{len(xs)} x values but {len(ys)} y values")
    terms = degree + 1
    if degree < 1 or len(set(xs)) < terms:
        raise ValueError(f"a degree-{degree} fit needs at least {terms} distinct x values")
    scale = max(abs(x) for x in xs)
    rows = [[(x / scale) ** power for power in range(terms)] for x in xs]
    normal = [[sum(r[i] * r[j] for r in rows) for j in range(terms)] for i in range(terms)]
    inverse = _inverse(normal)
    moments = [sum(r[i] * y for r, y in zip(rows, ys, strict=True)) for i in range(terms)]
    scaled = [sum(inverse[i][j] * moments[j] for j in range(terms)) for i in range(terms)]
    residuals = [
        y - sum(c * v for c, v in zip(scaled, r, strict=True))
        for r, y in zip(rows, ys, strict=True)
    ]
    dof = len(xs) - terms
    coefficients = tuple(c / scale**power for power, c in enumerate(scaled))
    if dof == 0:
        return PolynomialFit(coefficients, None, None, dof, len(xs))
    variance = sum(r * r for r in residuals) / dof
    errors = tuple(
        math.sqrt(max(variance * inverse[power][power], 0.0)) / scale**power
        for power in range(terms)
    )
    return PolynomialFit(coefficients, errors, math.sqrt(variance), dof, len(xs))


def _inverse(matrix: list[list[float]]) -> list[list[float]]:
    """Gauss-Jordan inverse with partial pivoting (for the small normal equations above)."""
    size = len(matrix)
    work = [[*row, *(1.0 if i == j else 0.0 for j in range(size))] for i, row in enumerate(matrix)]
    for column in range(size):
        pivot = max(range(column, size), key=lambda r: abs(work[r][column]))
        if abs(work[pivot][column]) < 1e-12:
            raise ValueError("the normal equations are singular (x values too few or alike)")
        work[column], work[pivot] = work[pivot], work[column]
        lead = work[column][column]
        work[column] = [v / lead for v in work[column]]
        for row in range(size):
            if row != column and work[row][column] != 0:
                factor = work[row][column]
                work[row] = [a - factor * b for a, b in zip(work[row], work[column], strict=True)]
    return [row[size:] for row in work]
