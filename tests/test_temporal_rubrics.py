"""The Temporal comparison's pure logic: rubrics, measured cells, and the verdict against the
original report. Hand-made evidence only: no Temporal server, no SDK."""

from __future__ import annotations

import pytest
from rubric_evidence import evidence

from harness.i18n import t
from harness.rating.evidence import Evidence
from harness.temporal.comparison import DOCUMENTED_ROWS, TemporalResult
from harness.temporal.rubrics import (
    ITEM_NAMES,
    MEASURED_ROWS,
    ORIGINAL,
    RUBRICS,
    assemble,
    measured_cell,
    rate_heartbeat,
    rate_local_dev,
    rate_nondeterminism,
    rate_patching,
    rate_progress,
    rate_query,
    rate_replay,
    rate_retries,
    rate_time_skipping,
)

PROGRESS = [
    "completes-after-crash",
    "completed-activity-not-rerun",
    "interrupted-activity-retried",
    "later-activities-once",
]


@pytest.mark.parametrize(
    ("failing", "stars"),
    [
        (None, 5),
        ("later-activities-once", 3),
        ("completed-activity-not-rerun", 2),
        ("completes-after-crash", 1),
    ],
)
def test_progress_rubric_orders_its_conditions(failing: str | None, stars: int) -> None:
    ev = evidence(PROGRESS, failed=[failing] if failing else [])
    rating = rate_progress(ev)
    assert rating.stars == stars
    if failing:
        assert failing in rating.drivers


RETRIES = [
    "recovers-after-retries",
    "attempts-as-configured",
    "gaps-follow-policy",
    "exhausted-attempts-fail",
    "non-retryable-stops",
]


@pytest.mark.parametrize(
    ("failing", "stars"),
    [
        (None, 5),
        ("non-retryable-stops", 4),
        ("gaps-follow-policy", 3),
        ("attempts-as-configured", 2),
        ("recovers-after-retries", 1),
    ],
)
def test_retry_rubric(failing: str | None, stars: int) -> None:
    ev = evidence(RETRIES, failed=[failing] if failing else [])
    assert rate_retries(ev).stars == stars


HEARTBEAT = [
    "both-complete",
    "heartbeat-detects-dead-worker",
    "heartbeat-faster-than-timeout",
    "progress-carried-to-retry",
]


@pytest.mark.parametrize(
    ("failing", "stars"),
    [
        (None, 5),
        ("progress-carried-to-retry", 4),
        ("heartbeat-faster-than-timeout", 3),
        ("heartbeat-detects-dead-worker", 2),
        ("both-complete", 1),
    ],
)
def test_heartbeat_rubric(failing: str | None, stars: int) -> None:
    ev = evidence(HEARTBEAT, failed=[failing] if failing else [])
    assert rate_heartbeat(ev).stars == stars


NDE = [
    "nde-detected",
    "error-names-the-change",
    "workflow-kept-running",
    "new-code-had-no-effect",
    "rollback-completes",
]


@pytest.mark.parametrize(
    ("failing", "stars"),
    [
        (None, 5),
        ("rollback-completes", 4),
        ("error-names-the-change", 4),
        ("workflow-kept-running", 3),
        ("nde-detected", 2),
        ("new-code-had-no-effect", 1),
    ],
)
def test_nondeterminism_rubric(failing: str | None, stars: int) -> None:
    ev = evidence(NDE, failed=[failing] if failing else [])
    assert rate_nondeterminism(ev).stars == stars


PATCHING = [
    "old-run-completes-on-new-code",
    "old-run-keeps-old-path",
    "no-nde-for-old-run",
    "new-run-takes-new-path",
    "patch-marker-only-in-new-run",
]


@pytest.mark.parametrize(
    ("failing", "stars"),
    [
        (None, 5),
        ("patch-marker-only-in-new-run", 4),
        ("new-run-takes-new-path", 3),
        ("no-nde-for-old-run", 2),
        ("old-run-completes-on-new-code", 1),
    ],
)
def test_patching_rubric(failing: str | None, stars: int) -> None:
    ev = evidence(PATCHING, failed=[failing] if failing else [])
    ev.not_run("build-id-routing", t("a check"), t("a reason"))  # never decides the stars
    assert rate_patching(ev).stars == stars


REPLAY = [
    "same-code-replays",
    "changed-code-flagged",
    "history-json-round-trip",
    "cli-export-replays",
    "patched-code-replays",
]


@pytest.mark.parametrize(
    ("failing", "stars"),
    [
        (None, 5),
        ("patched-code-replays", 4),
        ("cli-export-replays", 4),
        ("changed-code-flagged", 2),
        ("same-code-replays", 1),
    ],
)
def test_replay_rubric(failing: str | None, stars: int) -> None:
    ev = evidence(REPLAY, failed=[failing] if failing else [])
    assert rate_replay(ev).stars == stars


QUERY = ["answers-while-running", "answers-are-live", "answers-after-completion"]


@pytest.mark.parametrize(
    ("failing", "stars"),
    [
        (None, 5),
        ("answers-after-completion", 4),
        ("answers-are-live", 3),
        ("answers-while-running", 1),
    ],
)
def test_query_rubric(failing: str | None, stars: int) -> None:
    ev = evidence(QUERY, failed=[failing] if failing else [])
    assert rate_query(ev).stars == stars


def test_time_skipping_through_an_experimental_api_only_is_not_five_stars() -> None:
    ev = evidence(
        passed=["v2-skips-timers", "activities-run-under-skipping", "v2-marked-experimental"],
        not_run=["test-server-v1"],
    )
    rating = rate_time_skipping(ev)
    assert rating.stars == 4
    assert "test-server-v1" in rating.drivers


def test_time_skipping_ratings_follow_what_ran() -> None:
    assert (
        rate_time_skipping(evidence(failed=["v2-skips-timers"], not_run=["test-server-v1"])).stars
        == 1
    )
    stable = evidence(passed=["v2-skips-timers"], failed=["v2-marked-experimental"])
    assert rate_time_skipping(stable).stars == 5  # the API is no longer marked experimental
    both = evidence(passed=["v2-skips-timers", "test-server-v1", "v2-marked-experimental"])
    assert rate_time_skipping(both).stars == 5


def test_local_dev_rubric_needs_the_ui_checked_for_five_stars() -> None:
    base = ["server-starts", "first-workflow-completes"]
    assert rate_local_dev(evidence(passed=[*base, "ui-serves"])).stars == 5
    assert rate_local_dev(evidence(passed=base, not_run=["ui-serves"])).stars == 4
    assert (
        rate_local_dev(
            evidence(passed=["server-starts"], failed=["first-workflow-completes"])
        ).stars
        == 2
    )
    assert rate_local_dev(evidence(failed=["server-starts"])).stars == 1


def test_every_item_has_a_name_and_figures_have_no_rubric() -> None:
    assert set(RUBRICS) | {"PF-01", "PF-02"} == set(ITEM_NAMES)


# --- the table -----------------------------------------------------------------------------------
def measured(item_id: str, ev: Evidence, *, with_rating: bool = True) -> TemporalResult:
    rubric = RUBRICS.get(item_id)
    return TemporalResult(
        id=item_id,
        name=ITEM_NAMES[item_id],
        status="measured",
        rating=rubric(ev) if rubric and with_rating else None,
        evidence=ev,
    )


def heartbeat_evidence() -> Evidence:
    ev = evidence(passed=HEARTBEAT)
    for key, value in {
        "detection-with-heartbeat": 2.2,
        "detection-without-heartbeat": 5.8,
        "heartbeat-timeout": 2.0,
        "resumed-from-row": 7,
        "rows": 24,
    }.items():
        ev.measure(key, value, "s")
    return ev


def latency_evidence(p50: float) -> Evidence:
    ev = evidence(passed=["all-steps-ran"])
    for key, value in {
        "activity-step-p50": p50 + 0.6,
        "activity-step-p95": p50 * 2,
        "activity-step-p99": p50 * 3,
        "activity-step-samples": 177,
        "step-overhead-p50": p50,
        "local-step-p50": 2.3,
        "in-process-step-p50": 0.55,
    }.items():
        ev.measure(key, value, "ms")
    return ev


def test_without_results_every_row_is_documented_or_not_measured() -> None:
    rows = assemble({})
    assert [r.key for r in rows] == [r.key for r in [*DOCUMENTED_ROWS, *MEASURED_ROWS]]
    assert all(r.temporal.basis == "documented" for r in rows[: len(DOCUMENTED_ROWS)])
    assert all(r.temporal.basis == "not measured" for r in rows[len(DOCUMENTED_ROWS) :])
    assert all(r.differs is None for r in rows)  # nothing measured: nothing to hold against


def test_a_measured_row_carries_its_figures_stars_and_checks() -> None:
    rows = {r.key: r for r in assemble({"RT-04": measured("RT-04", heartbeat_evidence())})}
    cell = rows["heartbeat"].temporal
    assert cell.basis == "measured" and cell.stars == 5 and cell.items == ["RT-04"]
    assert "retried 2.2 s after the kill with a 2.0 s heartbeat timeout" in str(cell.text)
    assert "RT-04 progress-carried-to-retry" in cell.checks
    assert rows["heartbeat"].original == ORIGINAL["heartbeat"]
    assert rows["heartbeat"].differs is False  # measured 5, the original 5
    assert rows["determinism"].temporal.basis == "documented"  # EX-06 not measured


def test_fewer_stars_than_the_original_is_a_difference_with_a_reason() -> None:
    ev = heartbeat_evidence()
    ev.check("progress-carried-to-retry", t("a check"), False)
    row = {r.key: r for r in assemble({"RT-04": measured("RT-04", ev)})}["heartbeat"]
    assert row.temporal.stars == 4 and row.differs is True
    assert str(row.differs_why) == "measured 4★ where the original report gave 5★"
    assert row.differs_why and row.differs_why.render("ja") == "元のレポートは 5★、測定では 4★"


@pytest.mark.parametrize(
    ("p50", "differs"), [(4.0, False), (7.9, False), (2.0, False), (48.0, True), (1.5, True)]
)
def test_step_overhead_agrees_within_a_factor_of_two_of_four_ms(p50: float, differs: bool) -> None:
    results = {"PF-01": measured("PF-01", latency_evidence(p50), with_rating=False)}
    row = {r.key: r for r in assemble(results)}["step-latency"]
    assert row.temporal.basis == "measured" and row.temporal.stars is None
    assert row.differs is differs
    assert "the same step work in-process p50 0.550 ms" in str(row.temporal.text)


def test_an_errored_item_leaves_the_documented_cell_or_says_why_not_measured() -> None:
    failed = TemporalResult(id="PF-01", name=ITEM_NAMES["PF-01"], status="error", error="boom")
    broken = TemporalResult(id="RT-04", name=ITEM_NAMES["RT-04"], status="error", error="timed out")
    rows = {r.key: r for r in assemble({"PF-01": failed, "RT-04": broken})}
    assert rows["step-latency"].temporal.basis == "not measured"
    assert str(rows["step-latency"].temporal.text) == "not measured: PF-01: boom"
    assert rows["heartbeat"].temporal.basis == "documented"  # falls back to the citation


def test_a_measured_item_missing_a_figure_gives_no_measured_cell() -> None:
    ev = evidence(passed=HEARTBEAT)  # checks, but no measurements: nothing to show
    assert measured_cell("heartbeat", {"RT-04": measured("RT-04", ev)}) is None
