"""PF rubrics: hand-made evidence (checks and measurements) in, stars out."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest
from rubric_evidence import evidence

import serve
from conftest import ROOT
from harness.rating.evidence import Evidence, Rating
from harness.rating.stats import Limit


@pytest.fixture(scope="module")
def pf() -> ModuleType:
    return serve.load_script(ROOT / "07_pf_performance.py")


def rate(pf: ModuleType, item: str, ev: Evidence) -> Rating:
    return pf.suite.items[item].rate(ev)


def test_every_pf_item_has_a_rubric(pf: ModuleType) -> None:
    assert list(pf.suite.items) == ["PF-01", "PF-02", "PF-03"]
    for item in pf.suite.items.values():
        assert item._rubric is not None, item.id
    assert sum(item.timeout for item in pf.suite.items.values()) <= 360  # the script's limit
    # against inngest start PF-02 has more time: the same bursts take about twice as long
    assert sum(item.self_hosted_timeout for item in pf.suite.items.values()) <= 520


# --- PF-01 --------------------------------------------------------------------------------------
def latency(
    overhead: float, low: float | None = None, passed: bool = True, low_passed: bool = True
) -> Evidence:
    ev = evidence(
        passed=["chain-completes:default-tick"] if passed else [],
        failed=[] if passed else ["chain-completes:default-tick"],
        measurements={"step-overhead:default-tick": overhead, "first-step:default-tick": 180.0},
    )
    if low is not None:
        ev.check("chain-completes:low-tick", "chain at a low tick", low_passed)
        ev.measure("step-overhead:low-tick", low, "ms")
    return ev


@pytest.mark.parametrize(
    ("overhead", "stars"), [(20.0, 5), (50.0, 5), (149.6, 4), (200.0, 4), (450.0, 3), (1500, 2)]
)
def test_pf01_stars_follow_the_median_overhead(pf, overhead: float, stars: int) -> None:
    rating = rate(pf, "PF-01", latency(overhead))
    assert rating.stars == stars
    assert "step-overhead:default-tick" in rating.drivers
    assert rating.advice is not None


def test_pf01_a_broken_chain_is_one_star_whatever_the_speed(pf) -> None:
    assert rate(pf, "PF-01", latency(5.0, passed=False)).stars == 1


def test_pf01_advice_names_the_tick_when_it_dominates(pf) -> None:
    tuned = rate(pf, "PF-01", latency(150.0, low=10.0))
    assert "--tick" in str(tuned.advice) and "step-overhead:low-tick" in tuned.drivers
    untuned = rate(pf, "PF-01", latency(150.0, low=140.0))
    assert "--tick" not in str(untuned.advice)


def test_pf01_no_tick_advice_when_the_chain_broke_at_the_low_tick(pf) -> None:
    broken = rate(pf, "PF-01", latency(150.0, low=10.0, low_passed=False))
    assert broken.stars == 4  # rated at the default tick either way
    assert "--tick" not in str(broken.advice)


# --- PF-02 --------------------------------------------------------------------------------------
PF02_CHECKS = ["runs-all-complete", "parallel-steps-complete", "runs-no-upward-bend",
               "steps-no-upward-bend"]  # fmt: skip


def fan_out(
    per_run: float = 10.0,
    per_step: float = 2.3,
    bent: tuple[str, ...] = (),
    share: float = 1.0,
) -> Evidence:
    """Evidence as PF-02 records it: ``bent`` kinds failed their upward-bend check, with the
    quadratic term making up ``share`` % of the fitted duration at the largest size."""
    ev = evidence(PF02_CHECKS, failed=[f"{k}-no-upward-bend" for k in bent])
    ev.measure("runs-cost-per-unit", per_run, "ms/run")
    ev.measure("steps-cost-per-unit", per_step, "ms/step")
    for kind in ("runs", "steps"):
        ev.measure(f"{kind}-quadratic-share", share if kind in bent else 1.0, "%")
    return ev


@pytest.mark.parametrize(
    ("ev", "stars", "says"),
    [
        (fan_out(), 5, "grows linearly within the sizes measured"),
        (fan_out(per_run=30.0), 4, "tens of milliseconds per unit"),
        (fan_out(bent=("steps",), share=10.0), 4, "parallel steps in one run bends upward"),
        (fan_out(per_step=150.0), 3, "high per unit"),
        (fan_out(bent=("steps",), share=40.0), 2, "40.0 %"),
        (fan_out(bent=("runs",), share=25.0), 2, "faster than linearly"),
    ],
)
def test_pf02_stars_follow_cost_per_unit_and_upward_bend(
    pf: ModuleType, ev: Evidence, stars: int, says: str
) -> None:
    rating = rate(pf, "PF-02", ev)
    assert rating.stars == stars and says in str(rating.reason)
    sizes = ", ".join(map(str, pf.PARALLEL_COUNTS))
    assert sizes in str(rating.reason) and f"{pf.REPEATS} repeats" in str(rating.reason)


def test_pf02_a_large_share_that_is_not_distinguishable_is_not_growth(pf: ModuleType) -> None:
    ev = fan_out()
    ev.measure("steps-quadratic-share", 60.0, "%")  # noise: the bend check passed
    assert rate(pf, "PF-02", ev).stars == 5


@pytest.mark.parametrize("lost", ["runs-all-complete", "parallel-steps-complete"])
def test_pf02_lost_work_is_one_star(pf: ModuleType, lost: str) -> None:
    ev = evidence(PF02_CHECKS, failed=[lost])
    rating = rate(pf, "PF-02", ev)
    assert rating.stars == 1 and lost in rating.drivers


def _samples(pf: ModuleType, duration: Callable[[int], float]) -> dict[int, list[float]]:
    jitter = (0.03, -0.01, -0.02, 0.01, -0.01)[: pf.REPEATS]  # one value per repeat
    return {n: [duration(n) + j for j in jitter] for n in pf.PARALLEL_COUNTS}


def test_pf02_fit_of_linear_samples_records_cost_and_no_bend(pf: ModuleType) -> None:
    fit = pf.SizeFit.of(_samples(pf, lambda n: 0.6 + 0.0023 * n))
    assert not fit.bends_upward
    ev = Evidence()
    pf._record_fit(ev, "steps", fit, "step", "no bend")
    assert ev.passed("steps-no-upward-bend")
    assert ev.value("steps-cost-per-unit") == pytest.approx(2.3, abs=0.05)
    per_repeat = next(m for m in ev.measurements if m.key == "steps-cost-per-unit").samples
    assert per_repeat is not None and len(per_repeat) == pf.REPEATS


def test_pf02_fit_of_quadratic_samples_fails_the_bend_check(pf: ModuleType) -> None:
    fit = pf.SizeFit.of(_samples(pf, lambda n: 0.6 + 0.0023 * n + 2e-5 * n * n))
    assert fit.bends_upward
    ev = Evidence()
    pf._record_fit(ev, "steps", fit, "step", "no bend")
    assert ev.failed("steps-no-upward-bend")
    largest = max(pf.PARALLEL_COUNTS)
    quadratic = 2e-5 * largest**2
    share = 100 * quadratic / (0.6 + 0.0023 * largest + quadratic)
    assert ev.value("steps-quadratic-share") == pytest.approx(share, abs=0.5)
    assert rate(pf, "PF-02", _with_runs(ev)).stars == 2


def test_pf02_one_disturbed_repeat_is_not_a_bend(pf: ModuleType) -> None:
    # Linear in every repeat but one, which slowed down at the largest size only (a busy moment).
    largest = max(pf.PARALLEL_COUNTS)
    wobble = (-0.002, 0.002, -0.002, -0.002, 1.5)[: pf.REPEATS]
    samples = {n: [0.6 + 0.0023 * n + (w if n == largest else 0.0) for w in wobble]
               for n in pf.PARALLEL_COUNTS}  # fmt: skip
    fit = pf.SizeFit.of(samples)
    assert fit.quadratic.coefficients[2] > 0
    assert sum(c > 0 for c in fit.per_repeat_curvatures) <= len(wobble) / 2
    assert not fit.bends_upward


def test_pf02_a_downward_bend_is_not_growth(pf: ModuleType) -> None:
    fit = pf.SizeFit.of(_samples(pf, lambda n: 0.6 + 0.01 * n - 2e-5 * n * n))
    assert fit.quadratic.distinguishable_from_zero(2) and not fit.bends_upward


def _with_runs(ev: Evidence) -> Evidence:
    ev.check("runs-all-complete", "runs-all-complete", True)
    ev.check("parallel-steps-complete", "parallel-steps-complete", True)
    ev.check("runs-no-upward-bend", "runs-no-upward-bend", True)
    ev.measure("runs-cost-per-unit", 10.0, "ms/run")
    ev.measure("runs-quadratic-share", 1.0, "%")
    return ev


# --- PF-03 --------------------------------------------------------------------------------------
PF03_ALL = [
    "event-limit-found", "event-over-limit-rejected-clearly", "event-error-states-limit",
    "sdk-send-raises", "largest-event-runs", "step-limit-found",
    "step-over-limit-fails-clearly", "step-error-states-limit", "no-silent-truncation",
]  # fmt: skip


def limits(failed: list[str] = ()) -> Evidence:
    ev = evidence(PF03_ALL, failed)
    ev.measure("largest-event", 3_145_344, "bytes")
    ev.measure("largest-step-output", 4_178_176, "bytes")
    return ev


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["step-error-states-limit"], 4),
        (["sdk-send-raises"], 4),
        (["step-over-limit-fails-clearly"], 3),
        (["event-over-limit-rejected-clearly"], 3),
        (["step-limit-found"], 2),
        (["no-silent-truncation"], 1),
        (["largest-event-runs"], 1),
    ],
)
def test_pf03_stars(pf, failed: list[str], stars: int) -> None:
    rating = rate(pf, "PF-03", limits(failed))
    assert rating.stars == stars
    assert set(failed) <= set(rating.drivers)


def test_pf03_reason_states_the_measured_limits(pf) -> None:
    reason = str(rate(pf, "PF-03", limits()).reason)
    assert "3072 KiB" in reason and "4080 KiB" in reason


@pytest.mark.parametrize(
    ("failed", "says"),
    [
        (["step-error-states-limit"], "the oversized step output's error does not state"),
        (["event-error-states-limit"], "the oversized event's error does not state"),
        (["event-error-states-limit", "step-error-states-limit"], "neither error states"),
        (["sdk-send-raises"], "send() did not raise"),
        (["sdk-send-raises", "step-error-states-limit"], "send() did not raise"),
    ],
)
def test_pf03_four_stars_say_which_error_fell_short(pf, failed: list[str], says: str) -> None:
    rating = rate(pf, "PF-03", limits(failed))
    assert rating.stars == 4 and says in str(rating.reason)
    assert " or " not in str(rating.reason)
    assert "-" not in str(rating.reason).split(")")[-1]  # no check IDs in the sentence


def test_stated_sizes_are_read_in_bytes(pf) -> None:
    message = "Event is over the max size: Max 3145728 bytes / Size 3146368 bytes"
    assert pf.stated_sizes(message) == [3145728, 3146368]
    assert pf.stated_sizes("output exceeds 4 MB") == [4 * 1024**2, 4_000_000]
    assert pf.stated_sizes("limit is 256KiB") == [256 * 1024]
    assert pf.stated_sizes("step output size is greater than the limit") == []


EVENT_LIMIT = Limit(largest_accepted=3145344, smallest_rejected=3146368, trials=[])


@pytest.mark.parametrize(
    ("message", "states"),
    [
        ("Event is over the max size: Max 3145728 bytes / Size 3146368 bytes", True),
        ("Event is over the max size: Size 3146368 bytes", False),  # only the size sent
        ("Event too large: max 256 KiB", False),  # a size, but not the limit that was found
        ("event exceeds 3 MiB", True),
        ("step output size is greater than the limit", False),
    ],
)
def test_the_stated_limit_must_be_the_one_found(pf, message: str, states: bool) -> None:
    assert pf.states_the_limit(message, EVENT_LIMIT, 3146368, 1024) is states


def test_event_bodies_have_the_requested_size(pf) -> None:
    for size in (1024, 100_000):
        assert len(pf._event_body("pf03/x", size, "tag")) == size
