"""What an item's probe records, and what its rubric turns into stars.

A probe records *checks* (a named expectation that passed or failed, with what was observed and
the run IDs that show it), *measurements* (numbers with units) and *documented facts* (claims
taken from cited documentation, for what cannot run on one machine). A rubric is a pure
function from that :class:`Evidence` to a :class:`Rating`, so it can be unit-tested with
hand-made evidence.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, field_validator

from .catalog import GOOD_THRESHOLD, STAR_LABELS

DOCUMENTED_LABEL = "documented, not executed"


class CheckOutcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_RUN = "not run"  # could not be observed in this setup (the reason says why)


class Check(BaseModel):
    key: str
    description: str
    outcome: CheckOutcome
    observed: Any = None
    expected: str | None = None
    run_ids: list[str] = Field(default_factory=list)
    reason: str | None = None  # why a check was not run

    @property
    def passed(self) -> bool:
        return self.outcome is CheckOutcome.PASSED


class Measurement(BaseModel):
    key: str
    value: float
    unit: str
    note: str | None = None


class DocumentedFact(BaseModel):
    key: str
    claim: str
    source: str
    label: str = DOCUMENTED_LABEL


class MissingEvidenceError(KeyError):
    """A rubric asked for a check or measurement that its probe never recorded."""


class Evidence(BaseModel):
    """Everything one item's probe recorded, in the order it was recorded."""

    checks: list[Check] = Field(default_factory=list)
    measurements: list[Measurement] = Field(default_factory=list)
    facts: list[DocumentedFact] = Field(default_factory=list)

    # --- recording -------------------------------------------------------------------------
    def check(
        self,
        key: str,
        description: str,
        passed: bool,
        *,
        observed: Any = None,
        expected: str | None = None,
        run_ids: list[str] | None = None,
    ) -> bool:
        """Record a check and return whether it passed, so probes can branch on it."""
        self._replace(
            Check(
                key=key,
                description=description,
                outcome=CheckOutcome.PASSED if passed else CheckOutcome.FAILED,
                observed=observed,
                expected=expected,
                run_ids=run_ids or [],
            )
        )
        return passed

    def not_run(self, key: str, description: str, reason: str) -> None:
        """Record that a check could not be observed here; rubrics treat it as unknown."""
        self._replace(
            Check(key=key, description=description, outcome=CheckOutcome.NOT_RUN, reason=reason)
        )

    def measure(self, key: str, value: float, unit: str, note: str | None = None) -> float:
        self.measurements = [m for m in self.measurements if m.key != key]
        self.measurements.append(Measurement(key=key, value=value, unit=unit, note=note))
        return value

    def document(self, key: str, claim: str, source: str) -> None:
        self.facts = [f for f in self.facts if f.key != key]
        self.facts.append(DocumentedFact(key=key, claim=claim, source=source))

    def _replace(self, check: Check) -> None:
        self.checks = [c for c in self.checks if c.key != check.key]
        self.checks.append(check)

    # --- reading (for rubrics) -------------------------------------------------------------
    def get(self, key: str) -> Check:
        for check in self.checks:
            if check.key == key:
                return check
        raise MissingEvidenceError(f"no check {key!r} was recorded")

    def passed(self, key: str) -> bool:
        """True only if the check ran and passed; a failed, unrun or missing check is False."""
        try:
            return self.get(key).passed
        except MissingEvidenceError:
            return False

    def failed(self, key: str) -> bool:
        """True only if the check ran and failed (unlike ``not passed``, unrun is not failed)."""
        try:
            return self.get(key).outcome is CheckOutcome.FAILED
        except MissingEvidenceError:
            return False

    def value(self, key: str) -> float:
        for m in self.measurements:
            if m.key == key:
                return m.value
        raise MissingEvidenceError(f"no measurement {key!r} was recorded")


class Rating(BaseModel):
    """Stars and the reason for them: which checks drove the rating."""

    stars: int
    reason: str
    drivers: list[str] = Field(default_factory=list)  # check keys that decided the rating

    @field_validator("stars")
    @classmethod
    def _on_scale(cls, stars: int) -> int:
        if stars not in STAR_LABELS:
            raise ValueError(f"stars must be 1..5, got {stars}")
        return stars

    @property
    def label(self) -> str:
        return STAR_LABELS[self.stars]


class ItemStatus(StrEnum):
    RATED = "rated"
    ERROR = "error"  # the probe itself broke: no rating is given


class ItemResult(BaseModel):
    id: str
    name: str
    category: str
    status: ItemStatus
    rating: Rating | None = None
    original_stars: int
    fail_close: str | None = None
    evidence: Evidence
    error: str | None = None
    started_at: datetime
    duration_s: float
    session: str

    @property
    def stars(self) -> int | None:
        return self.rating.stars if self.rating else None

    @property
    def good(self) -> bool:
        return self.stars is not None and self.stars >= GOOD_THRESHOLD

    @property
    def differs_from_original(self) -> bool:
        return self.stars is not None and self.stars != self.original_stars

    @property
    def basis(self) -> str:
        """Whether the rating rests on executed checks, cited documentation, or both."""
        executed = any(c.outcome is not CheckOutcome.NOT_RUN for c in self.evidence.checks)
        documented = bool(self.evidence.facts)
        if executed and documented:
            return "executed + documented"
        if executed or documented:
            return "executed" if executed else "documented"
        return "none"


def utcnow() -> datetime:
    return datetime.now(UTC)
