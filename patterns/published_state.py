"""A run publishing its state from its steps to a table that readers query.

Problem: Inngest has no query handler (Temporal's ``@workflow.query``): a run has no live process
to ask "where are you?". Its status and step outputs can be read from the API, but they say which
steps finished, not the business state a caller wants ("packed"), and only by run ID.

The pattern: the run writes its state to a table, keyed by the business ID (an order ID), from
inside its steps; readers query the table. Written inside a step, a publish is retried with the
step and is not repeated when the run replays memoized steps. Each state carries a number that
only grows (the stage), so a late retry of an earlier step cannot overwrite a newer state.

When to use it: callers (a UI, a support tool, another service) need a long-running run's
current state by their own key, at any time, and cheaply.

Limits: the state is as fresh as the last step that published it: work between steps and a run
that dies between two publishes are not reflected (check the run's status for the latter). The
table here is a SQLite file, shared by the processes of one machine; in production use your own
database with the same upsert. A state published before the step's effect is durable may be
ahead of it: publish after the effect, in the same step.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path


class StatusBoard:
    """Where runs publish their state for readers: one row per key, the highest number wins."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS status (order_id TEXT PRIMARY KEY,"
                " stage_no INTEGER, stage TEXT, run_id TEXT, updated_at REAL)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10, isolation_level=None)

    def publish(self, key: str, stage_no: int, stage: str, run_id: str) -> None:
        """Record ``stage`` for ``key``, unless a stage with a higher number is already there.
        Call it from inside the step whose work reached the stage."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO status VALUES (?, ?, ?, ?, ?) ON CONFLICT(order_id) DO UPDATE SET"
                " stage_no=excluded.stage_no, stage=excluded.stage, run_id=excluded.run_id,"
                " updated_at=excluded.updated_at WHERE excluded.stage_no > status.stage_no",
                (key, stage_no, stage, run_id, time.time()),
            )

    def read(self, key: str) -> str | None:
        """The latest stage published for ``key``; None before the first publish."""
        with self._connect() as db:
            row = db.execute("SELECT stage FROM status WHERE order_id = ?", (key,)).fetchone()
            return str(row[0]) if row else None
