"""PF rubrics: hand-made evidence (checks and measurements) in, stars out."""

from __future__ import annotations

from types import ModuleType

import pytest
from rubric_evidence import evidence

import serve
from conftest import ROOT
from harness.evidence import Evidence, Rating
from harness.stats import Limit


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
def fan_out(runs: float, steps: float, runs_growth: float = 0.9, steps_growth: float = 0.5):
    ev = evidence(passed=["runs-all-complete", "parallel-steps-complete"])
    ev.measure("runs-per-s:400", runs, "runs/s")
    ev.measure("steps-per-s:100", steps, "steps/s")
    ev.measure("runs-growth-exponent", runs_growth, "")
    ev.measure("steps-growth-exponent", steps_growth, "")
    return ev


@pytest.mark.parametrize(
    ("runs", "steps", "runs_growth", "steps_growth", "stars"),
    [
        (95.0, 86.0, 0.95, 0.47, 5),
        (95.0, 30.0, 0.95, 0.47, 4),
        (5.0, 86.0, 0.95, 0.47, 3),
        (95.0, 86.0, 1.9, 0.47, 2),
        (95.0, 86.0, 0.9, 2.1, 2),
    ],
)
def test_pf02_stars_follow_throughput_and_growth(
    pf, runs, steps, runs_growth, steps_growth, stars
) -> None:
    assert rate(pf, "PF-02", fan_out(runs, steps, runs_growth, steps_growth)).stars == stars


@pytest.mark.parametrize("lost", ["runs-all-complete", "parallel-steps-complete"])
def test_pf02_lost_work_is_one_star(pf, lost: str) -> None:
    ev = fan_out(95.0, 86.0)
    ev.check(lost, lost, False)
    rating = rate(pf, "PF-02", ev)
    assert rating.stars == 1 and lost in rating.drivers


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
