"""WF rubrics: hand-made evidence in, stars out (including failing and unobservable evidence)."""

from __future__ import annotations

from types import ModuleType

import pytest
from rubric_evidence import evidence

import serve
from conftest import ROOT
from harness.rating.evidence import Evidence, Rating


@pytest.fixture(scope="module")
def wf() -> ModuleType:
    return serve.load_script(ROOT / "03_wf_workflow_primitives.py")


def rate(wf: ModuleType, item: str, ev: Evidence) -> Rating:
    return wf.suite.items[item].rate(ev)


def test_every_wf_item_has_a_rubric(wf: ModuleType) -> None:
    assert list(wf.suite.items) == [f"WF-0{n}" for n in range(1, 7)]
    for item in wf.suite.items.values():
        assert item._rubric is not None, item.id


WF01 = [
    "async-handler-with-arguments",
    "typed-model-output",
    "model-without-output-type-round-trips",
    "model-without-output-type-never-silent",
    "untyped-model-step-passes-mypy",
    "repeated-step-id",
    "sync-handler",
    "sync-handler-off-event-loop",
    "sync-function",
]
UNTYPED_FAILS = "model-without-output-type-round-trips"
MYPY_ACCEPTS = "untyped-model-step-passes-mypy"
ON_THE_LOOP = "sync-handler-off-event-loop"


@pytest.mark.parametrize(
    ("failed", "stars", "advice"),
    [
        ([], 5, False),
        # Pitfalls: code that looks right and breaks at run time (or stalls the app) costs a star.
        ([ON_THE_LOOP], 4, True),
        ([UNTYPED_FAILS], 4, True),  # mypy accepts it (the check passed)
        # What SDK 0.5.19 does on the dev server: both pitfalls.
        ([UNTYPED_FAILS, ON_THE_LOOP], 4, True),
        # mypy flags the untyped step: the type checker catches it before it runs.
        ([UNTYPED_FAILS, MYPY_ACCEPTS], 5, True),
        (["model-without-output-type-never-silent"], 3, True),  # a silent type change
        (["sync-function"], 4, False),
        (["sync-handler"], 4, False),
        (["repeated-step-id"], 3, False),
        (["typed-model-output"], 3, False),
        (["async-handler-with-arguments"], 1, False),
    ],
)
def test_wf01_steps(wf: ModuleType, failed: list[str], stars: int, advice: bool) -> None:
    rating = rate(wf, "WF-01", evidence(WF01, failed))
    assert rating.stars == stars
    assert (rating.advice is not None) is advice
    assert set(failed) <= set(rating.drivers)


def test_wf01_pitfalls_are_named_in_the_reason(wf: ModuleType) -> None:
    both = rate(wf, "WF-01", evidence(WF01, [UNTYPED_FAILS, ON_THE_LOOP]))
    assert "event loop" in str(both.reason) and "mypy --strict accepts" in str(both.reason)
    assert "sync handlers" not in str(both.reason)  # no longer advertised as safe
    loop = rate(wf, "WF-01", evidence(WF01, [ON_THE_LOOP]))
    assert "event loop" in str(loop.reason) and "output_type fails" not in str(loop.reason)


def test_wf01_mypy_not_run_claims_nothing_about_mypy(wf: ModuleType) -> None:
    rating = rate(wf, "WF-01", evidence(WF01, [UNTYPED_FAILS], not_run=[MYPY_ACCEPTS]))
    assert rating.stars == 4
    assert "mypy" not in str(rating.reason) and "type checker" not in str(rating.advice)
    both = rate(wf, "WF-01", evidence(WF01, [UNTYPED_FAILS, ON_THE_LOOP], not_run=[MYPY_ACCEPTS]))
    assert both.stars == 4 and "mypy" not in str(both.reason)


WF02 = ["invoke-returns-result", "invoke-typed-result", "child-failure-catchable",
        "invoke-timeout-enforced", "cross-app-invoke", "child-event-data-as-sent"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["child-event-data-as-sent"], 4),  # what dev server 1.43 does: an _inngest key
        (["cross-app-invoke"], 4),
        (["invoke-typed-result"], 4),
        (["invoke-timeout-enforced"], 3),
        (["child-failure-catchable"], 2),
        (["invoke-returns-result"], 1),
        (WF02, 1),
    ],
)
def test_wf02_child_workflows(wf: ModuleType, failed: list[str], stars: int) -> None:
    rating = rate(wf, "WF-02", evidence(WF02, failed))
    assert rating.stars == stars
    assert rating.drivers


def test_wf02_extra_child_data_comes_with_advice(wf: ModuleType) -> None:
    rating = rate(wf, "WF-02", evidence(WF02, ["child-event-data-as-sent"]))
    assert rating.advice is not None and "_inngest" in rating.advice.text


WF03 = ["fan-in-1", "fan-in-10", "fan-in-50", "overlap-10", "overlap-50",
        "race-mode-branches-independent", "wait-mode-waits-for-all"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["race-mode-branches-independent"], 4),
        (["wait-mode-waits-for-all"], 4),
        (["overlap-50"], 3),
        (["overlap-10", "overlap-50"], 2),  # the parallel API, but serial execution
        (["fan-in-50"], 1),
        (["fan-in-1", "overlap-10"], 1),
    ],
)
def test_wf03_fan_out(wf: ModuleType, failed: list[str], stars: int) -> None:
    rating = rate(wf, "WF-03", evidence(WF03, failed))
    assert rating.stars == stars
    assert set(failed) & set(rating.drivers) or stars == 5


WF04 = ["branch-taken", "loop-100-plus-steps", "early-return", "result-driven-loop"]


@pytest.mark.parametrize(
    ("failed", "per_step_ms", "stars"),
    [
        ([], 152, 5),
        ([], 2500, 4),  # correct, but every step of a loop is slow
        (["result-driven-loop"], 152, 4),
        (["loop-100-plus-steps"], 152, 3),
        (["early-return"], 152, 2),
        (["branch-taken"], 152, 2),
    ],
)
def test_wf04_control_flow(
    wf: ModuleType, failed: list[str], per_step_ms: float, stars: int
) -> None:
    ev = evidence(WF04, failed, measurements={"loop-per-step": per_step_ms})
    assert rate(wf, "WF-04", ev).stars == stars


def test_wf04_without_a_timing_is_not_taken_as_fast(wf: ModuleType) -> None:
    rating = rate(wf, "WF-04", evidence(WF04))
    assert rating.stars == 4 and "not measured" in str(rating.reason)


WF05 = ["sleep-wakes-on-time", "sleep-never-early", "sleep-until-wakes-on-time",
        "until-never-early", "cron-fires", "cron-on-schedule"]  # fmt: skip
WF05_TIMES = {"sleep-error-median": 0.153, "until-error-median": 0.156}


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["cron-on-schedule"], 4),
        (["cron-fires", "cron-on-schedule"], 3),
        (["sleep-wakes-on-time"], 3),  # late by more than 2 s
        (["until-never-early", "sleep-until-wakes-on-time"], 2),  # woke early
        (["sleep-never-early", "until-never-early"], 1),
    ],
)
def test_wf05_timers(wf: ModuleType, failed: list[str], stars: int) -> None:
    rating = rate(wf, "WF-05", evidence(WF05, failed, measurements=WF05_TIMES))
    assert rating.stars == stars


def test_wf05_reason_quotes_the_worst_median(wf: ModuleType) -> None:
    rating = rate(wf, "WF-05", evidence(WF05, measurements=WF05_TIMES))
    assert "156 ms" in rating.reason.text


WF06_OPTIONS = ["concurrency-limit-held", "concurrency-key-isolated", "throttle-keeps-every-event",
                "throttle-spreads-starts", "rate-limit-drops-excess", "rate-limit-within-limit",
                "debounce-one-run", "debounce-last-event", "debounce-delay", "batch-max-size",
                "batch-every-event-once", "batch-timeout-flush", "priority-overtakes-backlog",
                "singleton-skip", "singleton-cancel"]  # fmt: skip
WF06_DETAILS = ["concurrency-limit-used", "throttle-burst-as-documented",
                "priority-from-event-field", "priority-from-int-of-event-field"]  # fmt: skip
WF06 = ["concurrency-overlap-observable", *WF06_OPTIONS, *WF06_DETAILS]


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        # What dev server 1.43 does: two documented details differ.
        (["throttle-burst-as-documented", "priority-from-event-field"], 4),
        (["concurrency-limit-used"], 4),
        (["debounce-last-event"], 4),  # one option broken
        (["debounce-delay", "debounce-one-run"], 4),  # still one option
        (["singleton-skip", "batch-timeout-flush"], 3),
        (["singleton-skip", "batch-max-size", "rate-limit-within-limit"], 3),
        (["singleton-skip", "batch-max-size", "rate-limit-within-limit", "debounce-one-run"], 2),
        (["concurrency-limit-held"], 2),
        (["concurrency-overlap-observable"], 2),  # the measurement could not see overlap
    ],
)
def test_wf06_flow_control(wf: ModuleType, failed: list[str], stars: int) -> None:
    rating = rate(wf, "WF-06", evidence(WF06, failed))
    assert rating.stars == stars
    assert set(failed) <= set(rating.drivers)


def test_wf06_lists_the_options_and_advises(wf: ModuleType) -> None:
    rating = rate(wf, "WF-06", evidence(WF06, ["priority-from-event-field"]))
    assert rating.advice is not None and "int(" in rating.advice.text
    rating = rate(wf, "WF-06", evidence(WF06, ["throttle-burst-as-documented"]))
    assert rating.advice is not None and "burst + 1" in rating.advice.text
    # int() is only advised where it was seen to work.
    both = ["priority-from-event-field", "priority-from-int-of-event-field"]
    rating = rate(wf, "WF-06", evidence(WF06, both))
    assert rating.stars == 4 and rating.advice is not None and "int(" not in rating.advice.text
    broken = rate(wf, "WF-06", evidence(WF06, ["singleton-cancel"]))
    assert "6 of 7" in broken.reason.text and "singleton-cancel" in broken.reason.text


def test_wf06_option_table_matches_the_evidence_keys(wf: ModuleType) -> None:
    listed = [k for checks in wf.FLOW_CONTROL_OPTIONS.values() for k in checks]
    assert sorted(listed) == sorted(WF06_OPTIONS)
    assert sorted(wf.FLOW_CONTROL_DETAILS) == sorted(WF06_DETAILS)


@pytest.mark.parametrize(
    ("item", "keys"),
    [("WF-01", WF01), ("WF-02", WF02), ("WF-03", WF03), ("WF-04", WF04), ("WF-05", WF05),
     ("WF-06", WF06)],
)  # fmt: skip
def test_unobservable_evidence_never_rates_best(wf: ModuleType, item: str, keys: list[str]) -> None:
    """A check that could not run is not a passed check: nothing rates 5 on missing evidence."""
    assert rate(wf, item, evidence(keys, not_run=keys)).stars < 5
    assert rate(wf, item, Evidence()).stars < 5


@pytest.mark.parametrize(
    ("item", "keys"),
    [("WF-01", WF01), ("WF-02", WF02), ("WF-03", WF03), ("WF-04", WF04), ("WF-05", WF05),
     ("WF-06", WF06)],
)  # fmt: skip
def test_best_rating_names_recorded_checks(wf: ModuleType, item: str, keys: list[str]) -> None:
    measured = {**WF05_TIMES, "loop-per-step": 152}
    rating = rate(wf, item, evidence(keys, measurements=measured))
    assert rating.stars == 5
    assert set(rating.drivers) <= set(keys)
