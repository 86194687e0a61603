"""The record of a whole run (``results/run.json``): what ran, how, and how long it took.

Written by run_all.py; the reports read it for the measured wall time and how scripts were run.
"""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from harness.rating.catalog import Prerequisites


def utc_now() -> datetime:
    return datetime.now(UTC)


class ScriptRun(BaseModel):
    script: str
    items: list[str]
    runs_alone: bool
    exit_code: int | None
    outcome: str  # ok, fail-close, cannot run, item errors, hung, crashed, not started, …
    duration_s: float | None


class RunLog(BaseModel):
    started_at: datetime
    ended_at: datetime
    wall_s: float
    jobs: int  # scripts run at once (1: one after another)
    selection: dict[str, Any]
    prerequisites: Prerequisites
    interrupted: bool
    server: str = "dev"  # what the scripts ran against (run_all.py --server)
    cpu_count: int | None = Field(default_factory=os.cpu_count)
    platform: str = Field(default_factory=platform.platform)
    scripts: list[ScriptRun]

    @property
    def complete(self) -> bool:
        """Everything was selected and every script ran to its end."""
        return (
            not self.interrupted
            and not any(self.selection.values())
            and all(s.outcome not in ("hung", "crashed", "not started") for s in self.scripts)
        )
