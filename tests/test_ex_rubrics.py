"""EX rubrics: hand-made evidence in, stars out (including failing and unobservable evidence)."""

from __future__ import annotations

from types import ModuleType

import pytest
from rubric_evidence import evidence

import serve
from conftest import ROOT
from harness.rating.evidence import Evidence, Rating


@pytest.fixture(scope="module")
def ex() -> ModuleType:
    return serve.load_script(ROOT / "01_ex_execution_semantics.py")


def rate(ex: ModuleType, item: str, ev: Evidence) -> Rating:
    return ex.suite.items[item].rate(ev)


def test_every_ex_item_has_a_rubric(ex: ModuleType) -> None:
    assert list(ex.suite.items) == [f"EX-0{n}" for n in range(1, 8)]
    for item in ex.suite.items.values():
        assert item._rubric is not None, item.id


EX01 = ["completes-after-crash", "completed-step-not-rerun", "interrupted-step-retried",
        "later-steps-once"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["completes-after-crash"], 1),
        (["completed-step-not-rerun"], 2),
        (["interrupted-step-retried"], 3),
        (["later-steps-once"], 3),
    ],
)
def test_ex01_progress(ex: ModuleType, failed: list[str], stars: int) -> None:
    rating = rate(ex, "EX-01", evidence(EX01, failed))
    assert rating.stars == stars
    assert rating.drivers


EX02 = ["completes-after-step-retries", "memoized-effect-once", "retries-visible",
        "stable-idempotency-key", "failed-attempt-effect-not-repeated"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["failed-attempt-effect-not-repeated"], 4),  # at-least-once inside a step
        (["stable-idempotency-key", "failed-attempt-effect-not-repeated"], 3),
        (["memoized-effect-once"], 1),
        (["completes-after-step-retries"], 1),
    ],
)
def test_ex02_side_effects(ex: ModuleType, failed: list[str], stars: int) -> None:
    assert rate(ex, "EX-02", evidence(EX02, failed)).stars == stars


EX03 = ["same-event-id-one-run", "same-key-one-run", "different-keys-both-run"]


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["same-event-id-one-run"], 4),
        (["same-key-one-run"], 3),
        (["different-keys-both-run"], 3),  # merging distinct keys is not deduplication
        (EX03, 1),
    ],
)
def test_ex03_idempotency(ex: ModuleType, failed: list[str], stars: int) -> None:
    assert rate(ex, "EX-03", evidence(EX03, failed)).stars == stars


def test_ex04_full_persistence_is_five(ex: ModuleType) -> None:
    ev = evidence(["across-requests", "across-app-restart", "devserver-restart-persist"],
                  ["devserver-restart-memory"])  # fmt: skip
    assert rate(ex, "EX-04", ev).stars == 5


def test_ex04_lost_on_devserver_restart_is_four(ex: ModuleType) -> None:
    ev = evidence(["across-requests", "across-app-restart"],
                  ["devserver-restart-persist", "devserver-restart-memory"])  # fmt: skip
    rating = rate(ex, "EX-04", ev)
    assert rating.stars == 4
    assert "did not finish within 25 s" in str(rating.reason)


def test_ex04_unobservable_restart_caps_at_four_and_says_so(ex: ModuleType) -> None:
    ev = evidence(["across-requests", "across-app-restart"], [],
                  ["devserver-restart-persist", "devserver-restart-memory"])  # fmt: skip
    rating = rate(ex, "EX-04", ev)
    assert rating.stars == 4
    assert "could not be observed" in str(rating.reason)


@pytest.mark.parametrize(
    ("failed", "stars"), [(["across-requests"], 1), (["across-app-restart"], 3)]
)
def test_ex04_state_loss(ex: ModuleType, failed: list[str], stars: int) -> None:
    keys = ["across-requests", "across-app-restart"]
    assert rate(ex, "EX-04", evidence(keys, failed)).stars == stars


EX05 = ["body-reruns-nondeterministically", "allowed-nondeterminism-harmless",
        "violation-run-ends", "violation-error-clear", "violation-contained",
        "violation-reported"]  # fmt: skip
EX05_WATCHED = {"unstable-step-executions": 1000.0, "unstable-run-seconds": 24.0}


@pytest.mark.parametrize(
    ("failed", "stars", "says"),
    [
        ([], 5, "caught and named"),
        (["violation-reported"], 4, "without naming"),
        (["violation-contained"], 3, "the cause is named"),
        (["violation-contained", "violation-reported"], 3, "1000 times"),
        (["violation-error-clear", "violation-contained", "violation-reported"], 2,
         "without an error that says why"),
        (["violation-run-ends", "violation-error-clear", "violation-contained",
          "violation-reported"], 2, "still running after 24 s"),
        (["body-reruns-nondeterministically"], 2, "re-execution model"),
        (["allowed-nondeterminism-harmless"], 1, "breaks runs"),
    ],
)  # fmt: skip
def test_ex05_determinism_constraints(
    ex: ModuleType, failed: list[str], stars: int, says: str
) -> None:
    rating = rate(ex, "EX-05", evidence(EX05, failed, measurements=EX05_WATCHED))
    assert rating.stars == stars
    assert says in str(rating.reason)


def test_ex05_a_run_watched_to_the_step_limit_is_rated_on_what_was_counted(
    ex: ModuleType,
) -> None:
    failed = ["violation-contained", "violation-reported"]
    ev = evidence(EX05, failed, measurements={**EX05_WATCHED, "unstable-step-executions": 999.0})
    rating = rate(ex, "EX-05", ev)
    assert rating.stars == 3 and "999 times" in str(rating.reason) and rating.advice


def test_ex05_violation_not_observable_is_not_rated_as_a_loop(ex: ModuleType) -> None:
    ev = evidence(EX05[:2], not_run=EX05[2:])
    rating = rate(ex, "EX-05", ev)
    assert rating.stars == 3 and "not observed" in str(rating.reason)


EX06 = ["swapped-steps-keep-values", "run-finishes", "renamed-step-silently-rerun",
        "change-reported", "in-flight-run-pinned"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["in-flight-run-pinned"], 4),
        (["in-flight-run-pinned", "change-reported"], 3),
        (["run-finishes"], 2),
        # A stuck run has no outputs, so the value check fails too: still "stuck", not "mixed up".
        (["run-finishes", "swapped-steps-keep-values", "in-flight-run-pinned"], 2),
        (["swapped-steps-keep-values"], 1),
    ],
)
def test_ex06_violation_handling(ex: ModuleType, failed: list[str], stars: int) -> None:
    assert rate(ex, "EX-06", evidence(EX06, failed)).stars == stars


def test_ex06_stuck_run_reason_names_the_watch(ex: ModuleType) -> None:
    rating = rate(ex, "EX-06", evidence(EX06, ["run-finishes"]))
    assert f"{ex.RUN_FINISH_WATCH_S:.0f} s" in str(rating.reason)
    assert rating.drivers == ["run-finishes"]


def ex07_keys(ex: ModuleType) -> list[str]:
    cases = [*ex.CORE_CASES, *ex.EDGE_CASES, "pydantic-model"]
    return [f"round-trip:{name}" for name in cases] + ["non-json-fails-loudly"]


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["non-json-fails-loudly"], 4),
        (["round-trip:beyond-double-precision"], 3),
        (["round-trip:pydantic-model"], 3),
        (["round-trip:floats"], 2),
        (["round-trip:floats", "round-trip:unicode", "round-trip:nested"], 1),
    ],
)
def test_ex07_replay_accuracy(ex: ModuleType, failed: list[str], stars: int) -> None:
    rating = rate(ex, "EX-07", evidence(ex07_keys(ex), failed))
    assert rating.stars == stars
    assert set(failed) <= set(rating.drivers) or stars == 5


def test_missing_evidence_never_rates_well(ex: ModuleType) -> None:
    """A probe that recorded nothing must not earn a good rating by default."""
    for item in ex.suite.items.values():
        assert item.rate(Evidence()).stars <= 2, item.id


# EX-04 on the self-hosted server (the server users deploy) decides when it was observed.
def test_ex04_self_hosted_restart_survived_is_five_with_dev_server_beside_it(
    ex: ModuleType,
) -> None:
    ev = evidence(["across-requests", "across-app-restart", "self-hosted-restart"],
                  ["devserver-restart-persist", "devserver-restart-memory"])  # fmt: skip
    rating = rate(ex, "EX-04", ev)
    assert rating.stars == 5
    assert "self-hosted-restart" in rating.drivers and "devserver-restart-persist" in rating.drivers
    assert "--persist" in str(rating.reason) and rating.advice is not None


def test_ex04_self_hosted_restart_lost_is_three(ex: ModuleType) -> None:
    ev = evidence(["across-requests", "across-app-restart", "devserver-restart-persist"],
                  ["self-hosted-restart"])  # fmt: skip
    rating = rate(ex, "EX-04", ev)
    assert rating.stars == 3
    assert rating.drivers == ["across-app-restart", "self-hosted-restart"]


def test_ex04_without_postgres_falls_back_to_the_dev_server(ex: ModuleType) -> None:
    ev = evidence(["across-requests", "across-app-restart"],
                  ["devserver-restart-persist", "devserver-restart-memory"],
                  ["self-hosted-restart"])  # fmt: skip
    assert rate(ex, "EX-04", ev).stars == 4


def test_ex04_reasons_name_how_long_the_restarted_run_was_watched(ex: ModuleType) -> None:
    dev_lost = evidence(["across-requests", "across-app-restart", "self-hosted-restart"],
                        ["devserver-restart-persist"])  # fmt: skip
    self_hosted_lost = evidence(["across-requests", "across-app-restart"],
                                ["self-hosted-restart"])  # fmt: skip
    for ev in (dev_lost, self_hosted_lost):
        assert f"within {ex.RESTART_WATCH_S:.0f} s" in str(rate(ex, "EX-04", ev).reason)
