"""What a campaign saves (``results/fault_campaign.json``) and the report reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

CAMPAIGN_FILE = "fault_campaign.json"
SCHEMA_VERSION = 1


class InvariantOutcome(BaseModel):
    key: str
    checked: int
    holds: bool
    total_violations: int
    violations: list[dict[str, Any]] = Field(default_factory=list)  # the first ones, as data
    tally: dict[str, int] = Field(default_factory=dict)  # every violation by kind, if told apart


class RepeatFigures(BaseModel):
    executions: int
    repeats: int
    explained: int
    unexplained: int
    unexplained_examples: list[dict[str, Any]] = Field(default_factory=list)


class Campaign(BaseModel):
    """One campaign against one server."""

    server_kind: str  # "dev" | "self-hosted"
    server: dict[str, Any]  # what the server was (binary, version, flags, backend)
    sdk_version: str
    started_at: datetime
    argv: list[str]
    seed: int
    duration_s: float  # the fault period
    wall_s: float  # the whole campaign, set-up and quiescence included
    quiescence_s: float  # from the last fault healed to every run final (or the bound)
    quiescence_bound_s: float
    orders: int  # distinct orders sent
    sends: int  # event sends accepted, duplicates included
    duplicate_sends: dict[str, int]  # "same-event-id" / "same-idempotency-key" -> count
    failed_sends: int  # sends the server refused or could not take (retried)
    runs: int  # distinct runs seen
    faults_planned: int
    faults_injected: dict[str, int]  # kind -> count
    invariants: list[InvariantOutcome]
    repeats: RepeatFigures
    recovery_s: list[float]  # per fault: from healed to the next step of any run
    history_file: str  # repository-relative, JSON lines, gzip
    retries: int = 20  # the workload function's retries per step
    retry_interval_s: int | None = 1  # the server's --retry-interval (None: its backoff table)

    @property
    def faults_total(self) -> int:
        return sum(self.faults_injected.values())

    @property
    def holds(self) -> bool:
        return all(i.holds for i in self.invariants)


class CampaignFile(BaseModel):
    schema_version: int = SCHEMA_VERSION
    campaigns: dict[str, Campaign] = Field(default_factory=dict)  # server kind -> campaign
