"""The evaluation framework's fixed facts: categories, items, star scale and fail-close rules.

Item IDs, names, categories, the original report's ratings and the fail-close rule are reused
from the original evaluation so that results stay comparable with it. Nothing here is a
measurement: the stars this suite prints are computed by the rubric beside each item.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    EX = "Execution Semantics"
    RT = "Retry & Timeout"
    WF = "Workflow Primitives"
    SG = "Signals & Events"
    VR = "Versioning & Migration"
    CP = "Compensation & Recovery"
    PF = "Performance & Overhead"
    OP = "Operations"
    OB = "Observability"
    DX = "Developer Experience"
    AI = "AI/Agent Integration"


STAR_LABELS: dict[int, str] = {
    1: "Not supported",
    2: "Experimental",
    3: "PoC ready",
    4: "Production ready",
    5: "Production recommended",
}

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
    ("EX-01", "Progress Guarantee", 5, "always"),
    ("EX-02", "Side Effect Guarantee", 4),
    ("EX-03", "Idempotency / Deduplication", 5, "always"),
    ("EX-04", "State Persistence", 5),
    ("EX-05", "Determinism Constraints", 4),
    ("EX-06", "Determinism Violation Handling", 3),
    ("EX-07", "Replay Accuracy", 4),
    ("RT-01", "Retry Strategy", 5, "always"),
    ("RT-02", "Timeout System", 3),
    ("RT-03", "Circuit Breaker", 3),
    ("RT-04", "Heartbeat", 2),
    ("WF-01", "Step Definition", 5),
    ("WF-02", "Child Workflows", 4),
    ("WF-03", "Parallel Execution / Fan-out", 5),
    ("WF-04", "Conditional / Loop", 5),
    ("WF-05", "Sleep / Timer", 5),
    ("WF-06", "Queue / Rate Control", 4),
    ("SG-01", "External Signals", 5),
    ("SG-02", "Wait / Awaitables", 5),
    ("SG-03", "Event Triggers", 5),
    ("SG-04", "Query", 3),
    ("VR-01", "Workflow Versioning", 3, "duration >= minutes"),
    ("VR-02", "Breaking Change Detection", 2),
    ("VR-03", "Migration Strategy", 3),
    ("VR-04", "Schema Evolution", 4),
    ("CP-01", "Compensation / Saga", 4),
    ("CP-02", "Partial Resume", 5),
    ("CP-03", "Manual Intervention", 4),
    ("CP-04", "Dead Letter", 4),
    ("PF-01", "Step Latency", 3),
    ("PF-02", "Fan-out Throughput", 4),
    ("PF-03", "Payload Size Limits", 4),
    ("OP-01", "Deployment Model", 5),
    ("OP-02", "Workflow Management API", 4, "always"),
    ("OP-03", "Storage Backend", 4),
    ("OP-04", "Scalability", 5),
    ("OP-05", "Data Retention / Cleanup", 4),
    ("OP-06", "Multi-Region / HA", 4),
    ("OP-07", "Multi-Tenant Isolation", 4),
    ("OB-01", "Dashboard / UI", 5),
    ("OB-02", "Metrics", 4),
    ("OB-03", "History Visualization", 5),
    ("OB-04", "OTel Compliance", 3),
    ("OB-05", "Alerts", 4),
    ("OB-06", "Logging", 4),
    ("DX-01", "SDK Design", 5),
    ("DX-02", "Language Support", 4),
    ("DX-03", "Local Development", 5),
    ("DX-04", "Testing / Time Skipping", 2),
    ("DX-05", "Error Messages / Debugging", 4),
    ("DX-06", "Learning Curve", 5),
    ("DX-07", "Local Replay Harness", 2),
    ("AI-01", "LLM Call as Activity", 5),
    ("AI-02", "Non-determinism Handling", 4),
    ("AI-03", "HITL / Human Approval", 5),
    ("AI-04", "Streaming", 3),
    ("AI-05", "Agent Framework Integration", 5),
    ("AI-06", "Tool Execution Fault Tolerance", 5),
)

# The original evaluation's prerequisite parameters: the workload the ratings assume.
PREREQUISITES: dict[str, str] = {
    "Duration": "Minutes to hours",
    "Side effects": "Restricted write",
    "Deployment": "Serverless / cloud",
    "Scale": "~100",
    "Determinism": "LLM decision involved",
    "Language": "Python",
}


def lookup(item_id: str) -> CatalogItem:
    """The catalog entry for an item ID such as ``EX-03`` (case-insensitive)."""
    key = item_id.strip().upper()
    try:
        return ITEMS[key]
    except KeyError:
        raise KeyError(f"unknown item ID {item_id!r}; known IDs look like EX-01 … AI-06") from None


def items_in(category: Category) -> list[CatalogItem]:
    return [item for item in ITEMS.values() if item.category is category]
