"""The Temporal comparison: what ``results/temporal.json`` holds and how a cell is labelled.

Each row compares one aspect. The Inngest side is never written here: the report takes it from
the Inngest items the row names (their measured stars). The Temporal side is a cell that is
either *measured* (by ``compare_temporal.py`` against a real Temporal dev server, with its
figure) or *documented* (a claim and the URL it comes from, labelled as not executed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from harness.i18n import Msg, t
from harness.rating.evidence import Evidence, Rating, SourceRef

COMPARISON_FILE = "temporal.json"


class Cell(BaseModel):
    # "not measured": a row that only a measurement can fill (a figure), whose probe failed
    basis: Literal["measured", "documented", "not measured"]
    text: Msg
    source: str | None = None  # the URL of a documented claim
    checks: list[str] = Field(default_factory=list)  # the checks behind a measured cell
    stars: int | None = None  # Temporal's stars from the rubric of a measured counterpart
    items: list[str] = Field(default_factory=list)  # the Temporal results behind the cell


class OriginalClaim(BaseModel):
    """What the original report's Temporal column said for a row (its stars, if it gave any,
    and the gist in this suite's words), so a measured cell can be held against it."""

    stars: int | None = None
    text: Msg


class ComparisonRow(BaseModel):
    key: str
    aspect: Msg
    inngest_items: list[str]  # catalogue item IDs whose measured stars stand for Inngest
    temporal: Cell
    original: OriginalClaim | None = None
    # Whether the measured cell disagrees with the original report (None: nothing to compare)
    differs: bool | None = None
    differs_why: Msg | None = None


class TemporalResult(BaseModel):
    """One Temporal counterpart of an Inngest item, measured against Temporal's dev server with
    the same evidence model (checks, measurements, documented facts) and a rubric."""

    id: str  # the Inngest item it mirrors, e.g. "EX-01"
    name: Msg
    status: Literal["measured", "error", "not run"]
    rating: Rating | None = None  # None for figures without stars (performance)
    evidence: Evidence = Field(default_factory=Evidence)
    error: str | None = None
    traceback: str | None = None
    started_at: datetime | None = None
    duration_s: float = 0.0
    budget_s: float | None = None
    source: SourceRef | None = None


class Comparison(BaseModel):
    written_at: datetime
    temporal_version: str | None = None  # the Temporal dev server measured, if any
    rows: list[ComparisonRow]
    sdk_version: str | None = None  # temporalio
    server: dict[str, Any] = Field(default_factory=dict)  # command line, ports, start-up time
    machine: dict[str, Any] = Field(default_factory=dict)  # cores, platform, Python
    duration_s: float | None = None
    items: dict[str, TemporalResult] = Field(default_factory=dict)

    @property
    def measured(self) -> bool:
        return bool(self.items)


def documented(source: str, text: Msg) -> Cell:
    return Cell(basis="documented", text=text, source=source)


# What Temporal's documentation says, for each aspect the original report compared. A measured
# cell from compare_temporal.py replaces the documented one where Temporal could be run here.
DOCUMENTED_ROWS: list[ComparisonRow] = [
    ComparisonRow(
        key="execution-model",
        aspect=t("Execution model"),
        inngest_items=["EX-01", "EX-07"],
        temporal=documented(
            "https://docs.temporal.io/workflow-execution",
            t(
                "an event history per workflow; a worker rebuilds workflow state by replaying "
                "that history through the workflow code"
            ),
        ),
    ),
    ComparisonRow(
        key="determinism",
        aspect=t("Determinism"),
        inngest_items=["EX-05", "EX-06"],
        temporal=documented(
            "https://docs.temporal.io/workflow-definition#deterministic-constraints",
            t(
                "the whole workflow function must be deterministic; a replay that issues "
                "different commands than the history fails with a non-determinism error"
            ),
        ),
    ),
    ComparisonRow(
        key="time-skipping",
        aspect=t("Time skipping in tests"),
        inngest_items=["DX-04"],
        temporal=documented(
            "https://python.temporal.io/temporalio.testing.WorkflowEnvironment.html",
            t(
                "a test environment (WorkflowEnvironment.start_time_skipping) skips timers "
                "automatically while a test waits for a workflow's result"
            ),
        ),
    ),
    ComparisonRow(
        key="heartbeat",
        aspect=t("Heartbeats of long activities"),
        inngest_items=["RT-04"],
        temporal=documented(
            "https://docs.temporal.io/encyclopedia/detecting-activity-failures#activity-heartbeat",
            t(
                "activities report heartbeats (with progress details); a heartbeat timeout "
                "detects a dead worker and retries the activity"
            ),
        ),
    ),
    ComparisonRow(
        key="versioning",
        aspect=t("Versioning running workflows"),
        inngest_items=["VR-01", "VR-02"],
        temporal=documented(
            "https://docs.temporal.io/develop/python/versioning",
            t(
                "code paths gated by workflow.patched() keep old histories replayable; Worker "
                "Versioning routes workflows to the worker build they started on"
            ),
        ),
    ),
    ComparisonRow(
        key="local-replay",
        aspect=t("Replaying production history locally"),
        inngest_items=["DX-07"],
        temporal=documented(
            "https://docs.temporal.io/develop/python/best-practices/testing-suite",
            t(
                "the Replayer runs a history fetched from a server against the current workflow "
                "code and reports non-determinism"
            ),
        ),
    ),
    ComparisonRow(
        key="query",
        aspect=t("Querying a running workflow"),
        inngest_items=["SG-04"],
        temporal=documented(
            "https://docs.temporal.io/develop/python/message-passing",
            t("query handlers answer synchronously from the live state of a running workflow"),
        ),
    ),
    ComparisonRow(
        key="local-dev",
        aspect=t("Local development server"),
        inngest_items=["DX-03"],
        temporal=documented(
            "https://docs.temporal.io/cli/server#start-dev",
            t("`temporal server start-dev` runs a single-process server with a UI"),
        ),
    ),
]
