"""DX rubrics: hand-made evidence in, stars out (failing and unobservable evidence included)."""

from __future__ import annotations

from types import ModuleType

import pytest
from rubric_evidence import evidence

import serve
from conftest import ROOT
from harness.rating.evidence import Evidence, Rating


@pytest.fixture(scope="module")
def dx() -> ModuleType:
    return serve.load_script(ROOT / "10_dx_developer_experience.py")


def rate(dx: ModuleType, item: str, ev: Evidence) -> Rating:
    return dx.suite.items[item].rate(ev)


def grade(dx: ModuleType, item: str, keys: list[str], failed: list[str], **kw) -> Rating:
    return rate(dx, item, evidence(keys, failed, **kw))


def test_every_dx_item_has_a_rubric(dx: ModuleType) -> None:
    assert list(dx.suite.items) == [f"DX-0{n}" for n in range(1, 8)]
    for item in dx.suite.items.values():
        assert item._rubric is not None, item.id


DX01 = ["patterns-small", "strict-clean", "types-precise", "static-types-hold-at-runtime"]


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["static-types-hold-at-runtime"], 4),
        (["patterns-small"], 4),
        (["types-precise"], 3),
        (["strict-clean", "static-types-hold-at-runtime"], 3),
    ],
)
def test_dx01_sdk_design(dx: ModuleType, failed: list[str], stars: int) -> None:
    rating = grade(dx, "DX-01", DX01, failed)
    assert rating.stars == stars
    assert rating.drivers


def test_dx01_advises_output_type_only_when_the_control_run_showed_it_works(
    dx: ModuleType,
) -> None:
    keys = [*DX01, "output-type-control"]
    works = grade(dx, "DX-01", keys, ["static-types-hold-at-runtime"])
    broken = grade(dx, "DX-01", keys, ["static-types-hold-at-runtime", "output-type-control"])
    assert works.stars == broken.stars == 4
    assert "pass output_type=" in str(works.advice)
    assert "pass output_type=" not in str(broken.advice) and "plain JSON" in str(broken.advice)


def test_dx01_without_mypy_rates_on_the_rest(dx: ModuleType) -> None:
    ev = evidence(["patterns-small", "static-types-hold-at-runtime"],
                  not_run=["strict-clean", "types-precise"])  # fmt: skip
    assert rate(dx, "DX-01", ev).stars == 4  # unobserved typing is neither a gap nor a pass


DX02 = ["python-core-primitives", "docs-match-installed-sdk", "python-has-typescript-features"]
DX02_LACKING = {"python-lacks-typescript-features": 3}  # what 0.5.19 lacks by introspection


@pytest.mark.parametrize(
    ("failed", "measurements", "facts", "stars"),
    [
        (["python-has-typescript-features"], DX02_LACKING, ["python-gaps-unprobed"], 4),
        (["python-has-typescript-features"], DX02_LACKING, [], 4),
        ([], {"python-lacks-typescript-features": 0}, ["python-gaps-unprobed"], 4),
        ([], {"python-lacks-typescript-features": 0}, [], 5),
        (["docs-match-installed-sdk"], DX02_LACKING, [], 3),
        (["python-core-primitives"], DX02_LACKING, [], 2),
    ],
)
def test_dx02_language_support(
    dx: ModuleType, failed: list[str], measurements: dict[str, float], facts: list[str],
    stars: int,
) -> None:  # fmt: skip
    ev = evidence(DX02, failed, measurements=measurements, facts=facts)
    assert rate(dx, "DX-02", ev).stars == stars


def test_dx02_reason_counts_what_introspection_found_missing(dx: ModuleType) -> None:
    ev = evidence(DX02, ["python-has-typescript-features"], measurements=DX02_LACKING)
    assert "lacks 3 features" in str(rate(dx, "DX-02", ev).reason)


DX03 = ["auto-sync", "first-run-completes", "changed-code-runs", "new-function-auto-synced",
        "cold-start-fast"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["cold-start-fast"], 4),
        (["new-function-auto-synced"], 4),
        (["auto-sync"], 3),
        (["changed-code-runs"], 3),
        (["first-run-completes"], 1),
    ],
)
def test_dx03_local_development(dx: ModuleType, failed: list[str], stars: int) -> None:
    assert grade(dx, "DX-03", DX03, failed).stars == stars


DX04 = ["mocked-event-path", "mocked-timeout-path", "mocked-under-a-second", "mocked-step-stub",
        "mocked-shows-steps", "mocked-stable", "devserver-skips-sleep", "pattern-event-path",
        "pattern-timeout-path", "mocked-faithful-step-failure"]  # fmt: skip
AS_MEASURED = ["mocked-shows-steps", "mocked-stable", "devserver-skips-sleep",
               "mocked-faithful-step-failure"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (AS_MEASURED, 3),
        (["mocked-stable"], 4),
        (["devserver-skips-sleep"], 4),
        (["mocked-faithful-step-failure"], 4),
        ([*AS_MEASURED, "mocked-timeout-path"], 2),
        ([*AS_MEASURED, "mocked-step-stub"], 2),
        ([*AS_MEASURED, "mocked-under-a-second"], 1),
        ([*AS_MEASURED, "mocked-event-path"], 1),
    ],
)
def test_dx04_native_time_skipping(dx: ModuleType, failed: list[str], stars: int) -> None:
    rating = grade(dx, "DX-04", DX04, failed)
    assert rating.stars == stars
    assert rating.pattern is not None and rating.pattern.stars == 4


def test_dx04_pattern_is_rated_apart_from_the_native_feature(dx: ModuleType) -> None:
    rating = grade(dx, "DX-04", DX04, [*AS_MEASURED, "pattern-timeout-path"])
    assert rating.stars == 3
    assert rating.pattern is not None and rating.pattern.stars == 2


CASES = ["bad-cron", "duplicate-id", "bad-expression"]
DX05_RUNTIME = ["step-error-name-and-message", "step-error-stack", "failing-step-identified"]
DX05_SYNC = [f"sync:{c}:{what}" for c in CASES for what in ("detected", "names-problem",
                                                             "names-function")]  # fmt: skip
AS_SEEN = ["sync:duplicate-id:detected", "sync:duplicate-id:names-problem",
           *[f"sync:{c}:names-function" for c in CASES]]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        ([f"sync:{c}:names-function" for c in CASES], 4),
        (AS_SEEN, 3),
        (["sync:bad-expression:names-problem"], 3),
        (["step-error-stack"], 2),
        (["failing-step-identified"], 2),
        (["step-error-name-and-message"], 1),
    ],
)
def test_dx05_error_messages(dx: ModuleType, failed: list[str], stars: int) -> None:
    rating = grade(dx, "DX-05", DX05_RUNTIME + DX05_SYNC, failed)
    assert rating.stars == stars
    assert set(failed) & set(rating.drivers) or not failed


UNSTORABLE = ["unserializable:names-step-and-problem", "unserializable:names-fix"]


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["unserializable:names-fix"], 5),  # named, not explained: advice, not stars
        (["unserializable:names-step-and-problem"], 3),
        ([*UNSTORABLE, "step-error-stack"], 2),
    ],
)
def test_dx05_unstorable_step_results(dx: ModuleType, failed: list[str], stars: int) -> None:
    rating = grade(dx, "DX-05", DX05_RUNTIME + DX05_SYNC + UNSTORABLE, failed)
    assert rating.stars == stars
    named_fix = "output_type=" in str(rating.advice)
    assert named_fix is ("unserializable:names-fix" in failed and stars > 2)


def test_dx05_as_seen_names_the_missing_fix_in_its_advice(dx: ModuleType) -> None:
    rating = grade(
        dx, "DX-05", DX05_RUNTIME + DX05_SYNC + UNSTORABLE, [*AS_SEEN, "unserializable:names-fix"]
    )
    assert rating.stars == 3 and "output_type=" in str(rating.advice)


DX06_RULES = ["rule:side-effects-in-steps", "rule:stable-step-ids", "rule:pydantic-output-type"]


@pytest.mark.parametrize(
    ("failed", "rules", "stars"),
    [
        ([], DX06_RULES, 4),  # what the docs and EX-05 / DX-01 show: more than one rule
        ([], DX06_RULES[:1], 5),
        ([], [], 5),
        (["minimal-program-small"], DX06_RULES, 3),
        (["minimal-program-runs", "minimal-program-small"], DX06_RULES, 2),
    ],
)
def test_dx06_learning_curve(
    dx: ModuleType, failed: list[str], rules: list[str], stars: int
) -> None:
    keys = ["minimal-program-runs", "minimal-program-small"]
    measured = {"minimal-program-lines": 11, "minimal-program-sdk-names": 8}
    ev = evidence(keys, failed, measurements=measured, facts=["quick-start", *rules])
    rating = rate(dx, "DX-06", ev)
    assert rating.stars == stars
    if stars >= 4:
        assert "11 lines" in str(rating.reason)
    if stars == 4:
        assert "3 rules" in str(rating.reason) and "step IDs that never change" in str(
            rating.reason
        )


DX07_PATTERN = ["history-recorded", "replay-reproduces-result", "replay-accepts-compatible-edit",
                "replay-detects-renamed-step", "replay-detects-output-shape-change"]  # fmt: skip
DX07 = ["native-rerun-replays", "native-local-replayer", *DX07_PATTERN]
NATIVE = ["native-rerun-replays", "native-local-replayer"]


@pytest.mark.parametrize(
    ("failed", "stars", "pattern_stars"),
    [
        (NATIVE, 2, 4),
        ([*NATIVE, "replay-detects-renamed-step"], 2, 2),
        ([*NATIVE, "history-recorded"], 1, 2),
        (["native-local-replayer"], 4, 4),
        ([], 4, 4),
    ],
)
def test_dx07_local_replay(
    dx: ModuleType, failed: list[str], stars: int, pattern_stars: int
) -> None:
    rating = grade(dx, "DX-07", DX07, failed)
    assert rating.stars == stars
    assert rating.pattern is not None and rating.pattern.stars == pattern_stars


def test_dx03_is_not_applicable_on_the_production_server(dx: ModuleType) -> None:
    """Its checks start a dev server of their own: against inngest start they would rate the
    dev server again, so the item says it does not apply there instead."""
    from types import SimpleNamespace

    from harness.rating.evidence import NotApplicable

    def not_applicable(reason: object) -> None:
        raise NotApplicable(reason)  # type: ignore[arg-type]

    probe = SimpleNamespace(
        devserver=SimpleNamespace(kind="self-hosted", owned=True), not_applicable=not_applicable
    )
    with pytest.raises(NotApplicable, match="dev server's role"):
        dx.suite.items["DX-03"].probe(probe)
