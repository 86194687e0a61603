"""VR rubrics: hand-made evidence in, stars out (including failing and unobservable evidence)."""

from __future__ import annotations

from types import ModuleType

import pytest
from rubric_evidence import evidence

import serve
from conftest import ROOT
from harness.rating.evidence import Evidence, Rating
from harness.servers.api import Run


@pytest.fixture(scope="module")
def vr() -> ModuleType:
    return serve.load_script(ROOT / "05_vr_versioning.py")


def rate(vr: ModuleType, item: str, keys: list[str], failed: list[str]) -> Rating:
    return vr.suite.items[item].rate(evidence(keys, failed))


def test_every_vr_item_has_a_rubric(vr: ModuleType) -> None:
    assert list(vr.suite.items) == ["VR-01", "VR-02", "VR-03", "VR-04"]
    for item in vr.suite.items.values():
        assert item._rubric is not None, item.id


def test_missing_evidence_never_rates_well(vr: ModuleType) -> None:
    for item in vr.suite.items.values():
        assert item.rate(Evidence()).stars <= 2, item.id


VR01 = ["sync-bumps-version", "in-flight-run-survives-deploy", "in-flight-run-gets-new-code",
        "in-flight-run-keeps-old-config", "new-run-gets-new-version", "side-by-side-pins-in-flight",
        "side-by-side-routes-new-events"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 3),  # what the dev server does: runs move to new code; -v2 IDs pin
        (["in-flight-run-keeps-old-config"], 3),
        (["in-flight-run-gets-new-code"], 4),  # runs pinned to their code
        (["side-by-side-routes-new-events"], 2),
        (["side-by-side-pins-in-flight"], 2),
        (["in-flight-run-survives-deploy"], 1),
    ],
)
def test_vr01_versioning(vr: ModuleType, failed: list[str], stars: int) -> None:
    assert rate(vr, "VR-01", VR01, failed).stars == stars


def test_vr01_is_fail_close_and_says_when_config_is_mixed(vr: ModuleType) -> None:
    assert vr.suite.items["VR-01"].entry.fail_close
    mixed = rate(vr, "VR-01", VR01, [])
    clean = rate(vr, "VR-01", VR01, ["in-flight-run-keeps-old-config"])
    assert "retry setting" in str(mixed.reason) and "retry setting" not in str(clean.reason)
    assert mixed.advice is not None


VR02 = ["replay-passes-compatible", "replay-names-breaking-step", "native-flags-at-deploy",
        "native-flags-at-run", "native-no-corruption", "native-renamed-step-reruns",
        "replay-predicts-in-flight-outcome"]  # fmt: skip
MEASURED_VR02 = ["native-flags-at-deploy", "native-flags-at-run"]


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        (MEASURED_VR02, 2),
        (["native-flags-at-deploy"], 3),
        ([], 4),
        (["native-no-corruption"], 1),
    ],
)
def test_vr02_native_detection(vr: ModuleType, failed: list[str], stars: int) -> None:
    assert rate(vr, "VR-02", VR02, failed).stars == stars


@pytest.mark.parametrize(
    ("failed", "pattern_stars"),
    [
        ([], 4),
        (["replay-predicts-in-flight-outcome"], 3),
        (["replay-names-breaking-step"], 2),
        (["replay-passes-compatible"], 2),
    ],
)
def test_vr02_replay_pattern_rated_apart(
    vr: ModuleType, failed: list[str], pattern_stars: int
) -> None:
    rating = rate(vr, "VR-02", VR02, [*MEASURED_VR02, *failed])
    assert rating.stars == 2
    assert rating.pattern is not None and rating.pattern.stars == pattern_stars


VR03 = ["each-upload-handled-once", "no-run-lost", "routed-by-cutover", "runs-query-accurate",
        "drain-detected", "retired-function-keeps-runs"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "stars", "pattern_stars"),
    [
        (["retired-function-keeps-runs"], 3, 4),  # what the dev server does
        ([], 4, 4),
        (["retired-function-keeps-runs", "drain-detected"], 3, 3),
        (["no-run-lost"], 2, 2),
        (["each-upload-handled-once"], 1, 2),
        (["routed-by-cutover"], 1, 2),
    ],
)
def test_vr03_migration(vr: ModuleType, failed: list[str], stars: int, pattern_stars: int) -> None:
    rating = rate(vr, "VR-03", VR03, failed)
    assert rating.stars == stars
    assert rating.pattern is not None and rating.pattern.stars == pattern_stars


VR04 = ["in-flight-old-payload-on-new-code", "old-payload-on-new-code", "new-payload-on-new-code",
        "validation-error-visible", "validation-fails-fast-by-default", "non-retriable-validation",
        "replay-catches-schema-break"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        (["validation-fails-fast-by-default"], 4),  # what the dev server does
        ([], 5),
        (["validation-error-visible"], 3),
        (["in-flight-old-payload-on-new-code"], 2),
        (["old-payload-on-new-code"], 1),
    ],
)
def test_vr04_schema_evolution(vr: ModuleType, failed: list[str], stars: int) -> None:
    assert rate(vr, "VR-04", VR04, failed).stars == stars


class _Effects:
    """Stands in for a probe: only ``effects`` is read when judging the renewal run."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    def effects(self, name: str) -> int:
        return self.counts.get(name, 0)


def _run(status: str, output: object) -> Run:
    return Run(id="r", status=status, output=output, started_at=None, ended_at=None, raw={})


V2_CODE_V1_RETRIES = {"v1:charge:s1": 1, "v2:confirm:s1": 1}


@pytest.mark.parametrize(
    ("run", "counts", "survived"),
    [
        # v2 code under v1's retries=0: FAILED by v2's own first-attempt error (what happens).
        (_run("FAILED", {"name": "RuntimeError", "message": "mail provider busy (first attempt)"}),
         V2_CODE_V1_RETRIES, True),
        (_run("COMPLETED", {"charge": "charged by v1", "confirmation": "confirmed by v2"}),
         {"v1:charge:s1": 1, "v2:confirm:s1": 2}, True),
        (_run("COMPLETED", {"charge": "charged by v1", "confirmation": "confirmed by v1"}),
         {"v1:charge:s1": 1, "v1:confirm:s1": 1}, True),
        (_run("RUNNING", None), {"v1:charge:s1": 1}, False),  # stuck after the deploy
        (_run("FAILED", {"error": {"message": "function not found"}}), {"v1:charge:s1": 1}, False),
        (_run("COMPLETED", {"charge": "charged by v2", "confirmation": "confirmed by v2"}),
         {"v1:charge:s1": 1, "v2:charge:s1": 1, "v2:confirm:s1": 2}, False),  # charged twice
    ],
)  # fmt: skip
def test_vr01_survival_means_going_on_as_the_code_decides(
    vr: ModuleType, run: Run, counts: dict[str, int], survived: bool
) -> None:
    assert vr._resumed_after_deploy(_Effects(counts), run) is survived


def test_vr01_stuck_reason_names_the_watch(vr: ModuleType) -> None:
    rating = rate(vr, "VR-01", VR01, ["in-flight-run-survives-deploy"])
    assert rating.stars == 1
    assert f"within {vr.RUN_FINISH_WATCH_S:.0f} s" in str(rating.reason)


def test_vr02_says_the_renamed_step_reran_only_when_it_did(vr: ModuleType) -> None:
    reran = rate(vr, "VR-02", VR02, MEASURED_VR02)
    did_not = rate(vr, "VR-02", VR02, [*MEASURED_VR02, "native-renamed-step-reruns"])
    assert reran.stars == did_not.stars == 2
    assert "runs the renamed step again" in str(reran.reason)
    assert "runs the renamed step again" not in str(did_not.reason)


def test_vr03_pattern_says_when_the_runs_query_listed_finished_runs(vr: ModuleType) -> None:
    accurate = rate(vr, "VR-03", VR03, ["retired-function-keeps-runs"])
    stale = rate(vr, "VR-03", VR03, ["retired-function-keeps-runs", "runs-query-accurate"])
    assert accurate.pattern is not None and stale.pattern is not None
    assert accurate.pattern.stars == stale.pattern.stars == 4
    assert "listed finished runs" in str(stale.pattern.reason)
    assert "listed finished runs" not in str(accurate.pattern.reason)


@pytest.mark.parametrize(
    ("failed", "recommends_guard", "recommends_replay"),
    [
        ([], True, True),
        (["non-retriable-validation"], False, True),
        (["replay-catches-schema-break"], True, False),
        (["non-retriable-validation", "replay-catches-schema-break"], False, False),
    ],
)
def test_vr04_advises_only_the_remedies_that_worked(
    vr: ModuleType, failed: list[str], recommends_guard: bool, recommends_replay: bool
) -> None:
    rating = rate(vr, "VR-04", VR04, ["validation-fails-fast-by-default", *failed])
    assert rating.stars == 4
    assert ("raise NonRetriableError" in str(rating.advice)) is recommends_guard
    assert ("replay recorded events" in str(rating.advice)) is recommends_replay
    assert ("did not stop that" in str(rating.reason)) is not recommends_guard
