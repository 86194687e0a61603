"""Evidence recording/reading, Rating validation and ItemResult's derived properties."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from harness.rating.catalog import STAR_LABELS
from harness.rating.evidence import (
    DOCUMENTED_LABEL,
    CheckOutcome,
    DocumentedFact,
    Evidence,
    ItemResult,
    ItemStatus,
    MissingEvidenceError,
    Rating,
)


def make_result(
    stars: int | None = 4,
    *,
    original: int = 4,
    evidence: Evidence | None = None,
) -> ItemResult:
    return ItemResult(
        id="EX-01",
        name="Progress Guarantee",
        category="Execution Semantics",
        status=ItemStatus.RATED if stars is not None else ItemStatus.ERROR,
        rating=Rating(stars=stars, reason="r", drivers=["k"]) if stars is not None else None,
        original_stars=original,
        fail_close="always",
        evidence=evidence if evidence is not None else Evidence(),
        error=None if stars is not None else "RuntimeError: probe broke",
        started_at=datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
        duration_s=1.25,
        session="s1",
    )


# --- recording ------------------------------------------------------------------------------
def test_check_returns_passed_and_records_details() -> None:
    ev = Evidence()
    assert ev.check("a", "A ran", True, observed=3, expected="3", run_ids=["r1", "r2"]) is True
    assert ev.check("b", "B ran", False, observed={"x": 1}) is False
    a = ev.get("a")
    assert a.outcome is CheckOutcome.PASSED
    assert str(a.description) == "A ran"
    assert a.observed == 3
    assert a.expected == "3"
    assert a.run_ids == ["r1", "r2"]
    b = ev.get("b")
    assert b.outcome is CheckOutcome.FAILED
    assert b.observed == {"x": 1}
    assert b.run_ids == []


def test_recording_same_key_twice_replaces_first() -> None:
    ev = Evidence()
    ev.check("a", "first", False, observed=1)
    ev.check("b", "other", True)
    ev.check("a", "second", True, observed=2)
    assert [c.key for c in ev.checks] == ["b", "a"]
    assert str(ev.get("a").description) == "second"
    assert ev.get("a").observed == 2
    assert ev.passed("a")


def test_not_run_records_reason() -> None:
    ev = Evidence()
    ev.not_run("c", "needs a cluster", "single machine")
    check = ev.get("c")
    assert check.outcome is CheckOutcome.NOT_RUN
    assert str(check.reason) == "single machine"
    assert not check.passed


def test_passed_is_false_for_failed_not_run_and_missing() -> None:
    ev = Evidence()
    ev.check("ok", "d", True)
    ev.check("bad", "d", False)
    ev.not_run("skip", "d", "why")
    assert ev.passed("ok") is True
    assert ev.passed("bad") is False
    assert ev.passed("skip") is False
    assert ev.passed("missing") is False


def test_failed_only_for_a_check_that_ran_and_failed() -> None:
    ev = Evidence()
    ev.check("ok", "d", True)
    ev.check("bad", "d", False)
    ev.not_run("skip", "d", "why")
    assert ev.failed("bad") is True
    assert ev.failed("ok") is False
    assert ev.failed("skip") is False
    assert ev.failed("missing") is False


def test_get_missing_raises() -> None:
    with pytest.raises(MissingEvidenceError, match="nope"):
        Evidence().get("nope")
    assert issubclass(MissingEvidenceError, KeyError)


def test_measure_and_value() -> None:
    ev = Evidence()
    assert ev.measure("lat", 12.5, "ms", note="p50") == 12.5
    assert ev.value("lat") == 12.5
    ev.measure("lat", 7.0, "ms")
    assert ev.value("lat") == 7.0
    assert len(ev.measurements) == 1
    assert ev.measurements[0].unit == "ms"
    with pytest.raises(MissingEvidenceError, match="throughput"):
        ev.value("throughput")


def test_document_records_labelled_fact() -> None:
    ev = Evidence()
    ev.document("ha", "multi-region is supported", "https://example.invalid/docs")
    assert len(ev.facts) == 1
    fact = ev.facts[0]
    assert isinstance(fact, DocumentedFact)
    assert fact.key == "ha"
    assert str(fact.claim) == "multi-region is supported"
    assert fact.source == "https://example.invalid/docs"
    assert fact.label == DOCUMENTED_LABEL == "documented, not executed"
    ev.document("ha", "replaced", "src")
    assert [str(f.claim) for f in ev.facts] == ["replaced"]


# --- Rating ---------------------------------------------------------------------------------
@pytest.mark.parametrize("stars", [0, 6, -1])
def test_rating_rejects_stars_off_scale(stars: int) -> None:
    with pytest.raises(ValidationError):
        Rating(stars=stars, reason="x")


@pytest.mark.parametrize("stars", [1, 2, 3, 4, 5])
def test_rating_label(stars: int) -> None:
    assert Rating(stars=stars, reason="x").label == STAR_LABELS[stars]


# --- ItemResult -----------------------------------------------------------------------------
@pytest.mark.parametrize(("stars", "good"), [(1, False), (2, False), (3, True), (5, True)])
def test_good_threshold(stars: int, good: bool) -> None:
    assert make_result(stars).good is good


def test_differs_from_original() -> None:
    assert make_result(3, original=4).differs_from_original is True
    assert make_result(4, original=4).differs_from_original is False
    assert make_result(None, original=4).differs_from_original is False


def test_error_result_has_no_stars_and_is_not_good() -> None:
    result = make_result(None)
    assert result.status is ItemStatus.ERROR
    assert result.stars is None
    assert result.good is False


def test_basis_executed() -> None:
    ev = Evidence()
    ev.check("a", "d", True)
    ev.not_run("b", "d", "why")
    assert make_result(evidence=ev).basis == "executed"


def test_basis_documented_when_all_checks_not_run() -> None:
    ev = Evidence()
    ev.not_run("b", "d", "why")
    ev.document("f", "claim", "src")
    assert make_result(evidence=ev).basis == "documented"


def test_basis_executed_and_documented() -> None:
    ev = Evidence()
    ev.check("a", "d", False)
    ev.document("f", "claim", "src")
    assert make_result(evidence=ev).basis == "executed + documented"


def test_item_result_json_round_trip() -> None:
    ev = Evidence()
    ev.check("a", "d", True, observed={"n": [1, 2]}, expected="n", run_ids=["r1"])
    ev.not_run("b", "d", "why")
    ev.measure("m", 1.5, "s")
    ev.document("f", "claim", "src")
    original = make_result(2, original=5, evidence=ev)
    dumped = original.model_dump(mode="json")
    assert dumped["status"] == "rated"
    assert dumped["evidence"]["checks"][1]["outcome"] == "not run"
    restored = ItemResult.model_validate(dumped)
    assert restored == original
    assert restored.stars == 2
    assert restored.started_at == original.started_at
    assert restored.evidence.get("b").outcome is CheckOutcome.NOT_RUN
    assert restored.basis == "executed + documented"

    errored = make_result(None)
    assert ItemResult.model_validate(errored.model_dump(mode="json")) == errored


def test_basis_none_when_nothing_was_observed_or_documented() -> None:
    ev = Evidence()
    ev.not_run("b", "d", "why")
    assert make_result(evidence=ev).basis == "none"


def test_informational_flag_is_kept_and_left_out_of_json_when_false() -> None:
    ev = Evidence()
    ev.check("shown", "shown", True, informational=True)
    ev.check("rated", "rated", False)
    data = json.loads(ev.model_dump_json())
    assert data["checks"][0]["informational"] is True
    assert "informational" not in data["checks"][1]
    assert Evidence.model_validate(data).get("shown").informational
    assert not Evidence.model_validate(data).get("rated").informational


def test_a_pattern_rating_names_its_module_by_the_code_it_holds() -> None:
    from harness.i18n import t
    from harness.rating.evidence import PatternRating, pattern_module
    from patterns import circuit_breaker
    from patterns.circuit_breaker import CircuitBreaker, call_through

    assert pattern_module(circuit_breaker) == "patterns/circuit_breaker.py"
    assert pattern_module(call_through) == pattern_module(CircuitBreaker)
    with pytest.raises(ValueError, match="importable module"):
        pattern_module(len)
    old = {"pattern": {"id": "a breaker"}, "stars": 4, "reason": {"id": "works"}}
    assert PatternRating.model_validate(old).module is None  # results written before modules
    for outside in ("/etc/passwd.py", "../x.py", "patterns/notes.md"):
        with pytest.raises(ValidationError):
            PatternRating(pattern=t("a breaker"), stars=4, reason=t("works"), module=outside)
