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
from pathlib import PurePosixPath
from types import ModuleType
from typing import Any

from pydantic import BaseModel, Field, field_validator

from harness.i18n import N_, Msg
from harness.rating.catalog import GOOD_THRESHOLD, STAR_LABELS

DOCUMENTED_LABEL = N_("documented, not executed")
BASIS_EXECUTED = N_("executed")
BASIS_DOCUMENTED = N_("documented")
BASIS_BOTH = N_("executed + documented")
BASIS_NONE = N_("none")


class CheckOutcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_RUN = "not run"  # could not be observed in this setup (the reason says why)


class Check(BaseModel):
    key: str
    description: Msg
    outcome: CheckOutcome
    observed: Any = None  # data, shown as it is (JSON), never translated
    expected: str | None = None  # data too: the value that would have passed
    run_ids: list[str] = Field(default_factory=list)
    reason: Msg | None = None  # why a check was not run
    # Recorded for the reader, deliberately without a say in the stars (left out of the JSON
    # when False, so results written before the flag existed read the same).
    informational: bool = Field(default=False, exclude_if=lambda v: not v)

    @property
    def passed(self) -> bool:
        return self.outcome is CheckOutcome.PASSED


class Measurement(BaseModel):
    key: str
    value: float
    unit: str
    note: Msg | None = None  # how it was measured
    # The raw samples behind the figure, when there are any (left out of the JSON otherwise).
    samples: list[float] | None = Field(default=None, exclude_if=lambda v: v is None)


class DocumentedFact(BaseModel):
    key: str
    claim: Msg
    source: str  # the URL the claim is taken from
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
        description: Msg,
        passed: bool,
        *,
        observed: Any = None,
        expected: str | None = None,
        run_ids: list[str] | None = None,
        informational: bool = False,
    ) -> bool:
        """Record a check and return whether it passed, so probes can branch on it.
        ``informational``: shown with the evidence, but the rubric does not rate on it (the
        rubric guard, tests/test_rubric_guards.py, holds every other check to mattering)."""
        self._replace(
            Check(
                key=key,
                description=description,
                outcome=CheckOutcome.PASSED if passed else CheckOutcome.FAILED,
                observed=observed,
                expected=expected,
                run_ids=run_ids or [],
                informational=informational,
            )
        )
        return passed

    def not_run(self, key: str, description: Msg, reason: Msg) -> None:
        """Record that a check could not be observed here; rubrics treat it as unknown."""
        self._replace(
            Check(key=key, description=description, outcome=CheckOutcome.NOT_RUN, reason=reason)
        )

    def measure(
        self,
        key: str,
        value: float,
        unit: str,
        note: Msg | None = None,
        *,
        samples: list[float] | None = None,
    ) -> float:
        """Record a figure; ``samples`` keeps the raw data it was computed from."""
        self.measurements = [m for m in self.measurements if m.key != key]
        self.measurements.append(
            Measurement(key=key, value=value, unit=unit, note=note, samples=samples)
        )
        return value

    def document(self, key: str, claim: Msg, source: str) -> None:
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


def _stars_on_scale(stars: int) -> int:
    if stars not in STAR_LABELS:
        raise ValueError(f"stars must be 1..5, got {stars}")
    return stars


def pattern_module(code: ModuleType | type | Any) -> str:
    """The file a pattern's code lives in, relative to the project root, from the module or
    anything defined in it: ``pattern_module(call_through)`` -> ``patterns/circuit_breaker.py``.
    Derived from the module's dotted name, so it holds wherever the project is checked out."""
    name = code.__name__ if isinstance(code, ModuleType) else getattr(code, "__module__", None)
    if not isinstance(name, str) or name in ("__main__", "builtins"):
        raise ValueError(f"{code!r} is not defined in an importable module")
    return name.replace(".", "/") + ".py"


def _relative_python_file(path: str | None) -> str | None:
    if path is None:
        return None
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or pure.suffix != ".py":
        raise ValueError(f"a pattern's module is a .py path inside the project, got {path!r}")
    return path


class PatternRating(BaseModel):
    """Where the suite builds a pattern that closes a gap the platform leaves, the pattern's
    own stars, kept apart from the native feature's (the item's headline rating)."""

    pattern: Msg  # what was built, e.g. "replaying recorded history with the mocked executor"
    stars: int
    reason: Msg
    drivers: list[str] = Field(default_factory=list)
    # Where a reader finds the pattern's code (pattern_module()); None in results written
    # before patterns had modules of their own.
    module: str | None = None

    _on_scale = field_validator("stars")(_stars_on_scale)
    _in_project = field_validator("module")(_relative_python_file)


class Rating(BaseModel):
    """Stars and the reason for them: which checks drove the rating."""

    stars: int
    reason: Msg
    drivers: list[str] = Field(default_factory=list)  # check keys that decided the rating
    advice: Msg | None = None  # what a user should do about what was found, if anything
    pattern: PatternRating | None = None

    _on_scale = field_validator("stars")(_stars_on_scale)

    @property
    def label(self) -> str:
        return STAR_LABELS[self.stars]


class ItemStatus(StrEnum):
    RATED = "rated"
    ERROR = "error"  # the probe itself broke: no rating is given
    NOT_RUN = "not run"  # the infrastructure (dev server, app) failed: nothing was measured
    # The item cannot apply on the server the script ran against (a check of the dev server's
    # own CLI, say, on ``inngest start``): no rating, and the reason says why.
    NOT_APPLICABLE = "not applicable"


class NotApplicable(Exception):
    """Raised by a probe (``probe.not_applicable(reason)``) when its item cannot apply on this
    server; the item is recorded as not applicable with ``reason``, whatever it recorded so far."""

    def __init__(self, reason: Msg) -> None:
        super().__init__(str(reason))
        self.reason = reason


class SourceRef(BaseModel):
    """Where an item's code lives, so a reader can go from a rating to what produced it."""

    script: str
    probe: str
    line: int
    functions: dict[str, int] = Field(default_factory=dict)  # Inngest function ID -> line


class NotRemeasured(BaseModel):
    """An earlier rating kept because a later session could not measure the item again."""

    session: str
    status: ItemStatus
    error: str


class ItemResult(BaseModel):
    id: str
    name: str
    category: str
    status: ItemStatus
    rating: Rating | None = None
    original_stars: int
    fail_close: str | None = None
    evidence: Evidence
    error: str | None = None  # one line: what went wrong, when the item has no rating
    traceback: str | None = None  # the full traceback of an unexpected error
    started_at: datetime
    duration_s: float
    session: str
    source: SourceRef | None = None
    not_remeasured: NotRemeasured | None = None
    # Why the item does not apply (status NOT_APPLICABLE); left out of the JSON otherwise.
    not_applicable: Msg | None = Field(default=None, exclude_if=lambda v: v is None)

    @property
    def stars(self) -> int | None:
        return self.rating.stars if self.rating else None

    @property
    def good(self) -> bool:
        return self.stars is not None and self.stars >= GOOD_THRESHOLD

    @property
    def measured(self) -> bool:
        return self.status is ItemStatus.RATED

    @property
    def failed_to_measure(self) -> bool:
        """The probe errored or the infrastructure failed (not applicable is an answer)."""
        return self.status in (ItemStatus.ERROR, ItemStatus.NOT_RUN)

    @property
    def differs_from_original(self) -> bool:
        return self.stars is not None and self.stars != self.original_stars

    @property
    def basis(self) -> str:
        """Whether the rating rests on executed checks, cited documentation, or both."""
        if self.rating is None:
            return BASIS_NONE
        executed = any(c.outcome is not CheckOutcome.NOT_RUN for c in self.evidence.checks)
        documented = bool(self.evidence.facts)
        if executed and documented:
            return BASIS_BOTH
        if executed or documented:
            return BASIS_EXECUTED if executed else BASIS_DOCUMENTED
        return BASIS_NONE


def utcnow() -> datetime:
    return datetime.now(UTC)
