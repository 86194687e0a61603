"""SG rubrics: hand-made evidence in, stars out (including failing and unobservable evidence)."""

from __future__ import annotations

from types import ModuleType

import pytest
from rubric_evidence import evidence

import serve
from conftest import ROOT
from harness.rating.evidence import Evidence, Rating


@pytest.fixture(scope="module")
def sg() -> ModuleType:
    return serve.load_script(ROOT / "04_sg_signals_events.py")


def rate(sg: ModuleType, item: str, passed: list[str], failed: list[str] = ()) -> Rating:
    return sg.suite.items[item].rate(evidence(passed, failed))


def test_every_sg_item_has_a_rubric(sg: ModuleType) -> None:
    assert list(sg.suite.items) == ["SG-01", "SG-02", "SG-03", "SG-04"]
    for item in sg.suite.items.values():
        assert item._rubric is not None, item.id


def test_missing_evidence_never_rates_well(sg: ModuleType) -> None:
    for item in sg.suite.items.values():
        assert item.rate(Evidence()).stars <= 2, item.id


SG01 = ["batch-send-starts-one-run-each", "send-event-returns-ids", "returned-ids-lead-to-runs",
        "signal-resumes-waiting-run", "signal-reaches-only-its-run",
        "signal-before-wait-delivered", "signal-after-step-delivered", "sender-told-undelivered",
        "python-sdk-wait-for-signal"]  # fmt: skip
# What SDK 0.5.19 on dev server 1.43 did: the early signal lost, the sender not told.
LOST = ["signal-before-wait-delivered", "sender-told-undelivered", "python-sdk-wait-for-signal"]


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["python-sdk-wait-for-signal"], 5),  # events cover it; advice says how
        (LOST, 3),
        ([*LOST, "signal-after-step-delivered"], 3),
        (["signal-after-step-delivered", "sender-told-undelivered"], 3),
        (["signal-before-wait-delivered"], 4),  # lost, but the API tells the sender
        (["returned-ids-lead-to-runs", "python-sdk-wait-for-signal"], 3),
        (["send-event-returns-ids"], 3),
        (["signal-reaches-only-its-run"], 2),
        (["signal-resumes-waiting-run"], 1),
        (["batch-send-starts-one-run-each"], 1),
    ],
)
def test_sg01_external_signals(sg: ModuleType, failed: list[str], stars: int) -> None:
    rating = rate(sg, "SG-01", SG01, failed)
    assert rating.stars == stars
    assert rating.drivers
    assert (
        set(failed) - {"python-sdk-wait-for-signal", "sender-told-undelivered"}
        <= set(rating.drivers)
        or stars == 5
    )


def test_sg01_missing_signal_api_gives_advice(sg: ModuleType) -> None:
    rating = rate(sg, "SG-01", SG01, ["python-sdk-wait-for-signal"])
    assert rating.advice is not None and "wait_for_signal" in str(rating.advice)


def test_sg01_lost_signal_says_so_and_advises_storing_it(sg: ModuleType) -> None:
    rating = rate(sg, "SG-01", SG01, LOST)
    assert "lost" in str(rating.reason) and "sender-told-undelivered" in rating.drivers
    assert rating.advice is not None and "store" in str(rating.advice)


def test_sg01_unobserved_delivery_never_rates_five(sg: ModuleType) -> None:
    ev = evidence(SG01, not_run=["signal-before-wait-delivered", "signal-after-step-delivered"])
    assert sg.suite.items["SG-01"].rate(ev).stars <= 4


SG02 = ["correlated-resume", "timeout-returns-none", "unmatched-event-ignored",
        "no-requests-while-waiting", "early-event-seen"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["early-event-seen"], 4),  # what the dev server does: the early event is lost
        (["no-requests-while-waiting"], 3),
        (["unmatched-event-ignored"], 3),
        (["timeout-returns-none"], 2),
        (["correlated-resume"], 1),
    ],
)
def test_sg02_wait_for_event(sg: ModuleType, failed: list[str], stars: int) -> None:
    assert rate(sg, "SG-02", SG02, failed).stars == stars


def test_sg02_lost_early_event_names_the_check_and_advises(sg: ModuleType) -> None:
    rating = rate(sg, "SG-02", SG02, ["early-event-seen"])
    assert "early-event-seen" in rating.drivers
    assert rating.advice is not None


SG03 = ["one-event-many-functions", "many-triggers-one-function", "trigger-expression-filters",
        "wildcard-event-name"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["wildcard-event-name"], 4),
        (["trigger-expression-filters"], 3),
        (["many-triggers-one-function"], 3),
        (["one-event-many-functions"], 1),
    ],
)
def test_sg03_event_triggers(sg: ModuleType, failed: list[str], stars: int) -> None:
    assert rate(sg, "SG-03", SG03, failed).stars == stars


SG04 = ["status-while-running", "rest-shows-progress", "trace-shows-progress",
        "native-query-handler", "pattern-shows-every-stage",
        "pattern-fresher-than-trace"]  # fmt: skip
MEASURED_SG04 = ["rest-shows-progress", "native-query-handler"]  # what the dev server gave


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["native-query-handler"], 4),
        (MEASURED_SG04, 3),
        ([*MEASURED_SG04, "trace-shows-progress"], 2),
        (["status-while-running"], 1),
    ],
)
def test_sg04_native_query(sg: ModuleType, failed: list[str], stars: int) -> None:
    assert rate(sg, "SG-04", SG04, failed).stars == stars


@pytest.mark.parametrize(
    ("failed", "pattern_stars"),
    [
        (MEASURED_SG04, 4),
        ([*MEASURED_SG04, "pattern-fresher-than-trace"], 3),
        ([*MEASURED_SG04, "pattern-shows-every-stage"], 2),
    ],
)
def test_sg04_pattern_is_rated_apart(sg: ModuleType, failed: list[str], pattern_stars: int) -> None:
    rating = rate(sg, "SG-04", SG04, failed)
    assert rating.stars == 3  # the native rating does not move with the pattern
    assert rating.pattern is not None and rating.pattern.stars == pattern_stars
    assert rating.pattern.drivers
