"""RT rubrics: hand-made evidence in, stars out (including failing and unobservable evidence)."""

from __future__ import annotations

from types import ModuleType

import pytest
from rubric_evidence import evidence

import serve
from conftest import ROOT
from harness.rating.evidence import Evidence, Rating


@pytest.fixture(scope="module")
def rt() -> ModuleType:
    return serve.load_script(ROOT / "02_rt_retry_timeout.py")


def rate(rt: ModuleType, item: str, ev: Evidence) -> Rating:
    return rt.suite.items[item].rate(ev)


def test_every_rt_item_has_a_rubric_and_a_budget(rt: ModuleType) -> None:
    assert list(rt.suite.items) == ["RT-01", "RT-02", "RT-03", "RT-04"]
    for item in rt.suite.items.values():
        assert item._rubric is not None, item.id
    # The limit: the whole script within 5 minutes.
    assert sum(item.timeout for item in rt.suite.items.values()) <= 5 * 60


RT01 = ["retries-0-attempts", "retries-3-attempts", "non-retriable-one-attempt",
        "step-failure-retries-step", "body-failure-retries-function", "retry-after-honoured",
        "retry-after-overrides-backoff", "default-schedule-matches-source",
        "default-schedule-backs-off", "default-schedule-jittered"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "not_run", "stars"),
    [
        ([], [], 5),
        (["retries-3-attempts"], [], 1),
        (["retries-0-attempts"], [], 1),
        (["non-retriable-one-attempt"], [], 2),
        (["body-failure-retries-function"], [], 2),
        (["retry-after-honoured"], [], 3),
        (["retry-after-overrides-backoff"], [], 3),  # the retry waited for the table's 15 s
        (["default-schedule-backs-off"], [], 4),  # e.g. a linear schedule
        (["default-schedule-jittered"], [], 4),
        ([], ["default-schedule-matches-source", "default-schedule-backs-off",
              "default-schedule-jittered", "retry-after-overrides-backoff"],
         4),  # an external dev server: no default backoff to measure or override
    ],
)  # fmt: skip
def test_rt01_retry_strategy(
    rt: ModuleType, failed: list[str], not_run: list[str], stars: int
) -> None:
    rating = rate(rt, "RT-01", evidence(RT01, failed, not_run))
    assert rating.stars == stars
    assert rating.drivers
    assert set(failed) <= set(rating.drivers) or stars == 5


def test_rt01_fail_close_threshold_falls_when_attempts_are_wrong(rt: ModuleType) -> None:
    assert rate(rt, "RT-01", evidence(RT01, ["retries-3-attempts"])).stars < 3
    assert rate(rt, "RT-01", Evidence()).stars == 1  # nothing measured is not a pass


RT02 = ["start-timeout-cancels-queued", "finish-timeout-cancels-running",
        "wait-for-event-timeout", "invoke-timeout", "step-deadline-pattern",
        "step-deadline-native", "finish-timeout-bounds-hang", "hung-step-detected",
        "late-answer-after-cancel-ignored"]  # fmt: skip
RT02_MEASURED = ["step-deadline-native", "hung-step-detected"]  # what dev server 1.43 gives


@pytest.mark.parametrize(
    ("failed", "stars", "pattern_stars"),
    [
        (RT02_MEASURED, 3, 4),
        ([], 5, 4),
        (["hung-step-detected"], 4, 4),
        ([*RT02_MEASURED, "finish-timeout-bounds-hang"], 2, 2),
        ([*RT02_MEASURED, "invoke-timeout"], 2, 4),
        ([*RT02_MEASURED, "step-deadline-pattern"], 3, 2),
        # timeouts.finish cancelled the run, but its step's late answer started the next step
        ([*RT02_MEASURED, "late-answer-after-cancel-ignored"], 3, 2),
        (RT02[:4], 1, 4),
    ],
)
def test_rt02_timeouts(rt: ModuleType, failed: list[str], stars: int, pattern_stars: int) -> None:
    rating = rate(rt, "RT-02", evidence(RT02, failed))
    assert rating.stars == stars
    assert rating.pattern is not None and rating.pattern.stars == pattern_stars


def test_rt02_unmeasured_timeouts_are_not_passes(rt: ModuleType) -> None:
    ev = evidence(RT02, RT02_MEASURED, not_run=["start-timeout-cancels-queued"])
    assert rate(rt, "RT-02", ev).stars == 2


RT03 = ["native-stops-calling", "opens-after-threshold", "open-fails-fast",
        "state-survives-app-restart", "closes-after-recovery"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "stars", "pattern_stars"),
    [
        (["native-stops-calling"], 2, 4),
        ([], 4, 4),  # the platform itself stopped calling
        (["native-stops-calling", "closes-after-recovery"], 2, 3),
        (["native-stops-calling", "state-survives-app-restart"], 2, 3),
        (["native-stops-calling", "opens-after-threshold"], 2, 1),
        (["native-stops-calling", "open-fails-fast"], 1, 2),
    ],
)
def test_rt03_circuit_breaker(
    rt: ModuleType, failed: list[str], stars: int, pattern_stars: int
) -> None:
    rating = rate(rt, "RT-03", evidence(RT03, failed))
    assert (rating.stars, rating.pattern and rating.pattern.stars) == (stars, pattern_stars)


RT04 = ["long-step-completes-after-crash", "long-step-progress-kept",
        "long-step-progress-visible", "chunked-completes", "chunked-resumes-from-last-chunk",
        "chunked-progress-visible"]  # fmt: skip
RT04_MEASURED = ["long-step-progress-kept", "long-step-progress-visible"]


@pytest.mark.parametrize(
    ("failed", "stars", "pattern_stars"),
    [
        (RT04_MEASURED, 2, 4),
        ([], 4, 4),
        (["long-step-progress-visible"], 3, 4),
        ([*RT04_MEASURED, "long-step-completes-after-crash"], 1, 4),
        ([*RT04_MEASURED, "chunked-progress-visible"], 2, 3),
        ([*RT04_MEASURED, "chunked-resumes-from-last-chunk"], 2, 2),
        ([*RT04_MEASURED, "chunked-completes"], 2, 1),
    ],
)
def test_rt04_heartbeat(rt: ModuleType, failed: list[str], stars: int, pattern_stars: int) -> None:
    rating = rate(rt, "RT-04", evidence(RT04, failed))
    assert (rating.stars, rating.pattern and rating.pattern.stars) == (stars, pattern_stars)
    assert rating.reason.id and rating.pattern and rating.pattern.reason.id


def test_advice_is_given_where_there_is_something_to_do(rt: ModuleType) -> None:
    assert rate(rt, "RT-01", evidence(RT01)).advice is not None
    assert rate(rt, "RT-02", evidence(RT02, RT02_MEASURED)).advice is not None
    assert rate(rt, "RT-03", evidence(RT03, ["native-stops-calling"])).advice is not None
    assert rate(rt, "RT-04", evidence(RT04, RT04_MEASURED)).advice is not None


def test_rt02_advice_names_the_invoked_run_only_when_it_went_on(rt: ModuleType) -> None:
    went_on = rate(
        rt,
        "RT-02",
        evidence(
            [*RT02, "invoke-timeout-stops-child"], [*RT02_MEASURED, "invoke-timeout-stops-child"]
        ),
    )
    stopped = rate(rt, "RT-02", evidence([*RT02, "invoke-timeout-stops-child"], RT02_MEASURED))
    assert went_on.advice and "invoked run" in went_on.advice.id
    assert stopped.advice and "invoked run" not in stopped.advice.id


def _view(chunk: int, *steps: tuple[str, str]) -> dict[str, object]:
    return {"chunk": chunk, "steps": [[name, status, 0, 1] for name, status in steps]}


def test_rt04_one_long_step_shows_progress_only_if_its_trace_changes(rt: ModuleType) -> None:
    running = ("reindex-everything", "RUNNING")
    same = [_view(0), _view(1, running), _view(2, running), _view(3, running)]
    assert len(rt._views_during_step(same)) == 1  # one view from chunk 2 on: nothing to read
    # The step first showing up is not progress; a change while it runs would be.
    late_appearance = [_view(1), _view(2, running), _view(3, running)]
    assert len(rt._views_during_step(late_appearance)) == 1
    changing = [*same, _view(3, running, ("reindex-everything:chunk-3", "COMPLETED"))]
    assert len(rt._views_during_step(changing)) == 2


def test_rt04_chunked_progress_counts_completed_steps_once_per_change(rt: ModuleType) -> None:
    views = [
        _view(1, ("chunk-0", "RUNNING")),
        _view(2, ("chunk-0", "COMPLETED")),
        _view(2, ("chunk-0", "COMPLETED"), ("chunk-1", "RUNNING")),
        _view(3, ("chunk-0", "COMPLETED"), ("chunk-1", "COMPLETED")),
    ]
    assert rt._completed_steps(views) == [0, 1, 2]


@pytest.mark.parametrize(
    "failed",
    [
        [],
        ["step-deadline-native"],
        RT02_MEASURED,
        [*RT02_MEASURED, "finish-timeout-bounds-hang"],
    ],
)
def test_rt02_reasons_say_how_long_the_hung_request_was_watched(
    rt: ModuleType, failed: list[str]
) -> None:
    rating = rate(rt, "RT-02", evidence(RT02, failed))
    assert f"within the {rt.HANG_OBSERVE_S:.0f} s" in str(rating.reason)
