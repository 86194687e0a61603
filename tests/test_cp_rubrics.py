"""CP rubrics: hand-made evidence in, stars out (including failing and unobservable evidence)."""

from __future__ import annotations

from types import ModuleType

import pytest
from rubric_evidence import evidence

import serve
from conftest import ROOT
from harness.rating.evidence import Evidence, Rating


@pytest.fixture(scope="module")
def cp() -> ModuleType:
    return serve.load_script(ROOT / "06_cp_compensation.py")


def rate(cp: ModuleType, item: str, ev: Evidence) -> Rating:
    return cp.suite.items[item].rate(ev)


def test_every_cp_item_has_a_rubric_and_a_budget(cp: ModuleType) -> None:
    assert list(cp.suite.items) == ["CP-01", "CP-02", "CP-03", "CP-04"]
    for item in cp.suite.items.values():
        assert item._rubric is not None, item.id
    # The limit: the whole script within 3 minutes.
    assert sum(item.timeout for item in cp.suite.items.values()) <= 3 * 60


CP01 = ["booking-fails-with-rollback", "final-state-consistent", "compensations-reverse-order",
        "failed-compensation-retried", "compensation-not-repeated", "native-saga-api"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        (["native-saga-api"], 4),
        ([], 5),
        (["native-saga-api", "final-state-consistent"], 1),
        (["native-saga-api", "compensation-not-repeated"], 2),
        (["native-saga-api", "failed-compensation-retried"], 2),
        (["native-saga-api", "compensations-reverse-order"], 3),
        # undone, but the run completed (or failed without saying why): the caller cannot tell
        (["native-saga-api", "booking-fails-with-rollback"], 3),
        (["booking-fails-with-rollback"], 3),
    ],
)
def test_cp01_saga(cp: ModuleType, failed: list[str], stars: int) -> None:
    rating = rate(cp, "CP-01", evidence(CP01, failed))
    assert rating.stars == stars
    assert set(failed) - {"native-saga-api"} <= set(rating.drivers)


CP02 = ["retry-resumes-at-failed-step", "rerun-from-step-reuses-earlier-steps",
        "full-rerun-starts-over"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "not_run", "stars"),
    [
        ([], [], 5),
        (["retry-resumes-at-failed-step"], [], 1),
        (["rerun-from-step-reuses-earlier-steps"], [], 3),
        ([], ["rerun-from-step-reuses-earlier-steps"], 3),
    ],
)
def test_cp02_partial_resume(
    cp: ModuleType, failed: list[str], not_run: list[str], stars: int
) -> None:
    assert rate(cp, "CP-02", evidence(CP02, failed, not_run)).stars == stars


CP03 = ["rest-cancel-running", "rest-cancel-sleeping", "graphql-cancel", "bulk-cancel",
        "event-cancel-matching-only", "rerun-failed-run", "rest-rerun"]  # fmt: skip
CP03_MEASURED = ["bulk-cancel"]  # what dev server 1.43 gives (its beta REST v2 reruns)


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        (CP03_MEASURED, 4),
        ([*CP03_MEASURED, "rest-rerun"], 4),
        ([], 5),
        (["rest-rerun"], 5),  # a REST rerun is not needed when GraphQL's works
        ([*CP03_MEASURED, "rest-cancel-running", "rest-cancel-sleeping", "graphql-cancel"], 1),
        ([*CP03_MEASURED, "event-cancel-matching-only", "rerun-failed-run"], 2),
        ([*CP03_MEASURED, "rerun-failed-run"], 3),
        ([*CP03_MEASURED, "graphql-cancel"], 3),
    ],
)
def test_cp03_manual_intervention(cp: ModuleType, failed: list[str], stars: int) -> None:
    assert rate(cp, "CP-03", evidence(CP03, failed)).stars == stars


def test_cp03_reason_says_which_api_reran_and_never_that_rest_cannot(cp: ModuleType) -> None:
    both = rate(cp, "CP-03", evidence(CP03, CP03_MEASURED)).reason
    graphql_only = rate(cp, "CP-03", evidence(CP03, [*CP03_MEASURED, "rest-rerun"])).reason
    assert "the beta REST v2 API" in str(both)
    assert "REST v2 rerun did not work here" in str(graphql_only)
    assert "REST has no rerun" not in str(both) + str(graphql_only)


CP04 = ["on-failure-receives-event-and-error", "function-failed-event", "failed-runs-listed",
        "failure-inspectable", "dead-letter-redrive", "bulk-redrive"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "not_run", "stars"),
    [
        ([], ["bulk-redrive"], 4),  # the dev server has no bulk replay
        ([], [], 5),
        (["failed-runs-listed", "failure-inspectable"], ["bulk-redrive"], 1),
        (["on-failure-receives-event-and-error", "function-failed-event"], ["bulk-redrive"], 2),
        (["function-failed-event"], ["bulk-redrive"], 3),
        (["failure-inspectable"], ["bulk-redrive"], 3),
        (["dead-letter-redrive"], ["bulk-redrive"], 3),
    ],
)
def test_cp04_dead_letter(
    cp: ModuleType, failed: list[str], not_run: list[str], stars: int
) -> None:
    assert rate(cp, "CP-04", evidence(CP04, failed, not_run)).stars == stars


def test_nothing_measured_rates_lowest(cp: ModuleType) -> None:
    assert [rate(cp, item, Evidence()).stars for item in cp.suite.items] == [1, 1, 1, 1]
