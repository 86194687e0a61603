"""The evaluation framework's fixed facts: categories, items, star scale and fail-close rules.

Item IDs, names, categories, the original report's ratings and the fail-close rule are reused
from the original evaluation so that results stay comparable with it. Nothing here is a
measurement: the stars this suite prints are computed by the rubric beside each item.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.i18n import N_


class Category(StrEnum):
    EX = N_("Execution Semantics")
    RT = N_("Retry & Timeout")
    WF = N_("Workflow Primitives")
    SG = N_("Signals & Events")
    VR = N_("Versioning & Migration")
    CP = N_("Compensation & Recovery")
    PF = N_("Performance & Overhead")
    OP = N_("Operations")
    OB = N_("Observability")
    DX = N_("Developer Experience")
    AI = N_("AI/Agent Integration")


STAR_LABELS: dict[int, str] = {
    1: N_("Not supported"),
    2: N_("Experimental"),
    3: N_("PoC ready"),
    4: N_("Production ready"),
    5: N_("Production recommended"),
}

ALWAYS = N_("always")
WHEN_MINUTES_OR_LONGER = N_("duration >= minutes")

# An item "passes" (is good) at this many stars or more; fail-close items must reach it.
GOOD_THRESHOLD = 3


@dataclass(frozen=True)
class CatalogItem:
    id: str
    name: str
    original_stars: int
    fail_close: str | None = None  # when the item is fail-close: the condition it applies under

    @property
    def category(self) -> Category:
        return Category[self.id.split("-")[0]]


def _items(*rows: tuple[str, str, int] | tuple[str, str, int, str]) -> dict[str, CatalogItem]:
    return {row[0]: CatalogItem(*row) for row in rows}


ITEMS: dict[str, CatalogItem] = _items(
    ("EX-01", N_("Progress Guarantee"), 5, ALWAYS),
    ("EX-02", N_("Side Effect Guarantee"), 4),
    ("EX-03", N_("Idempotency / Deduplication"), 5, ALWAYS),
    ("EX-04", N_("State Persistence"), 5),
    ("EX-05", N_("Determinism Constraints"), 4),
    ("EX-06", N_("Determinism Violation Handling"), 3),
    ("EX-07", N_("Replay Accuracy"), 4),
    ("RT-01", N_("Retry Strategy"), 5, ALWAYS),
    ("RT-02", N_("Timeout System"), 3),
    ("RT-03", N_("Circuit Breaker"), 3),
    ("RT-04", N_("Heartbeat"), 2),
    ("WF-01", N_("Step Definition"), 5),
    ("WF-02", N_("Child Workflows"), 4),
    ("WF-03", N_("Parallel Execution / Fan-out"), 5),
    ("WF-04", N_("Conditional / Loop"), 5),
    ("WF-05", N_("Sleep / Timer"), 5),
    ("WF-06", N_("Queue / Rate Control"), 4),
    ("SG-01", N_("External Signals"), 5),
    ("SG-02", N_("Wait / Awaitables"), 5),
    ("SG-03", N_("Event Triggers"), 5),
    ("SG-04", N_("Query"), 3),
    ("VR-01", N_("Workflow Versioning"), 3, WHEN_MINUTES_OR_LONGER),
    ("VR-02", N_("Breaking Change Detection"), 2),
    ("VR-03", N_("Migration Strategy"), 3),
    ("VR-04", N_("Schema Evolution"), 4),
    ("CP-01", N_("Compensation / Saga"), 4),
    ("CP-02", N_("Partial Resume"), 5),
    ("CP-03", N_("Manual Intervention"), 4),
    ("CP-04", N_("Dead Letter"), 4),
    ("PF-01", N_("Step Latency"), 3),
    ("PF-02", N_("Fan-out Throughput"), 4),
    ("PF-03", N_("Payload Size Limits"), 4),
    ("OP-01", N_("Deployment Model"), 5),
    ("OP-02", N_("Workflow Management API"), 4, ALWAYS),
    ("OP-03", N_("Storage Backend"), 4),
    ("OP-04", N_("Scalability"), 5),
    ("OP-05", N_("Data Retention / Cleanup"), 4),
    ("OP-06", N_("Multi-Region / HA"), 4),
    ("OP-07", N_("Multi-Tenant Isolation"), 4),
    ("OB-01", N_("Dashboard / UI"), 5),
    ("OB-02", N_("Metrics"), 4),
    ("OB-03", N_("History Visualization"), 5),
    ("OB-04", N_("OTel Compliance"), 3),
    ("OB-05", N_("Alerts"), 4),
    ("OB-06", N_("Logging"), 4),
    ("DX-01", N_("SDK Design"), 5),
    ("DX-02", N_("Language Support"), 4),
    ("DX-03", N_("Local Development"), 5),
    ("DX-04", N_("Testing / Time Skipping"), 2),
    ("DX-05", N_("Error Messages / Debugging"), 4),
    ("DX-06", N_("Learning Curve"), 5),
    ("DX-07", N_("Local Replay Harness"), 2),
    ("AI-01", N_("LLM Call as Activity"), 5),
    ("AI-02", N_("Non-determinism Handling"), 4),
    ("AI-03", N_("HITL / Human Approval"), 5),
    ("AI-04", N_("Streaming"), 3),
    ("AI-05", N_("Agent Framework Integration"), 5),
    ("AI-06", N_("Tool Execution Fault Tolerance"), 5),
)


class Prerequisites(BaseModel):
    """The workload a rating assumes: the original evaluation's prerequisite parameters.

    Defaults are the original's values. They decide which fail-close items apply (VR-01 only
    when workflows run for minutes or longer) and are recorded with every session.
    """

    model_config = ConfigDict(frozen=True)

    duration: Literal["seconds", "minutes-to-hours", "days-or-longer"] = "minutes-to-hours"
    side_effects: Literal["none", "idempotent-write", "restricted-write", "unrestricted-write"] = (
        "restricted-write"
    )
    deployment: Literal["serverless-cloud", "self-hosted", "containers"] = "serverless-cloud"
    scale: int = Field(default=100, ge=1)  # concurrent workflows, order of magnitude
    determinism: Literal["deterministic", "llm-decision"] = "llm-decision"
    language: Literal["python", "typescript", "go", "java", "other"] = "python"


# How each prerequisite is shown in a report (parameter names and values are texts too).
PREREQUISITE_LABELS: dict[str, str] = {
    "duration": N_("Duration"),
    "side_effects": N_("Side effects"),
    "deployment": N_("Deployment"),
    "scale": N_("Scale (concurrent workflows)"),
    "determinism": N_("Determinism"),
    "language": N_("Language"),
}
PREREQUISITE_VALUES: dict[str, str] = {
    "seconds": N_("seconds"),
    "minutes-to-hours": N_("minutes to hours"),
    "days-or-longer": N_("days or longer"),
    "none": N_("none"),
    "idempotent-write": N_("idempotent writes"),
    "restricted-write": N_("restricted writes"),
    "unrestricted-write": N_("unrestricted writes"),
    "serverless-cloud": N_("serverless / cloud"),
    "self-hosted": N_("self-hosted"),
    "containers": N_("containers"),
    "deterministic": N_("deterministic"),
    "llm-decision": N_("LLM decisions involved"),
    "python": "Python",
    "typescript": "TypeScript",
    "go": "Go",
    "java": "Java",
    "other": N_("other"),
}


def fail_close_applies(entry: CatalogItem, prerequisites: Prerequisites) -> bool:
    """Whether the fail-close rule covers ``entry`` for this workload."""
    if entry.fail_close == ALWAYS:
        return True
    if entry.fail_close == WHEN_MINUTES_OR_LONGER:
        return prerequisites.duration != "seconds"
    return False


def lookup(item_id: str) -> CatalogItem:
    """The catalog entry for an item ID such as ``EX-03`` (case-insensitive)."""
    key = item_id.strip().upper()
    try:
        return ITEMS[key]
    except KeyError:
        raise KeyError(f"unknown item ID {item_id!r}; known IDs look like EX-01 … AI-06") from None


def items_in(category: Category) -> list[CatalogItem]:
    return [item for item in ITEMS.values() if item.category is category]
