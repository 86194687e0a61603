"""The campaign's history, recorded outside the app and the server: a SQLite file.

Three writers share it. The app's steps write a ``start`` row before their side effect and a
``done`` row with the value they return (the app process may be SIGKILLed between the two). The
campaign writes every event it sends, every fault it injects, and, after quiescence, the final
state of each run as the server's API reports it. SQLite in WAL mode with a busy timeout lets
the processes write at once; a killed writer loses at most its own unfinished row.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS steps (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, order_key TEXT NOT NULL, run_id TEXT NOT NULL,
    step TEXT NOT NULL, phase TEXT NOT NULL CHECK (phase IN ('start', 'done')),
    attempt INTEGER NOT NULL, pid INTEGER NOT NULL, t REAL NOT NULL,
    value TEXT, seen_prev TEXT
);
CREATE TABLE IF NOT EXISTS sends (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, order_key TEXT NOT NULL, event_id TEXT NOT NULL,
    t REAL NOT NULL, accepted INTEGER NOT NULL, received_id TEXT, error TEXT
);
CREATE TABLE IF NOT EXISTS faults (
    idx INTEGER PRIMARY KEY, kind TEXT NOT NULL, start_t REAL NOT NULL, end_t REAL,
    detail TEXT
);
CREATE TABLE IF NOT EXISTS finals (
    order_key TEXT NOT NULL, run_id TEXT NOT NULL, status TEXT NOT NULL, output TEXT,
    PRIMARY KEY (order_key, run_id)
);
"""


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(path, timeout=30.0, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA busy_timeout=30000")
        yield db


def create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with connect(path) as db:
        db.executescript(SCHEMA)


def record_step(
    path: Path,
    *,
    order_key: str,
    run_id: str,
    step: str,
    phase: str,
    attempt: int,
    pid: int,
    value: str | None = None,
    seen_prev: str | None = None,
) -> None:
    with connect(path) as db:
        db.execute(
            "INSERT INTO steps (order_key, run_id, step, phase, attempt, pid, t, value, seen_prev)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (order_key, run_id, step, phase, attempt, pid, time.time(), value, seen_prev),
        )


def record_send(
    path: Path,
    order_key: str,
    event_id: str,
    *,
    received_id: str | None = None,
    error: str | None = None,
) -> None:
    """One send of an order's event: ``event_id`` is the ID the sender chose (Inngest
    deduplicates on it), ``received_id`` the ID the server answered with; ``error`` when the
    send failed (the server down, say)."""
    with connect(path) as db:
        db.execute(
            "INSERT INTO sends (order_key, event_id, t, accepted, received_id, error)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (order_key, event_id, time.time(), int(error is None), received_id, error),
        )


def record_fault_start(path: Path, index: int, kind: str, detail: dict[str, Any]) -> None:
    with connect(path) as db:
        db.execute(
            "INSERT OR REPLACE INTO faults (idx, kind, start_t, detail) VALUES (?, ?, ?, ?)",
            (index, kind, time.time(), json.dumps(detail)),
        )


def record_fault_end(path: Path, index: int) -> None:
    with connect(path) as db:
        db.execute("UPDATE faults SET end_t = ? WHERE idx = ?", (time.time(), index))


def record_final(path: Path, order_key: str, run_id: str, status: str, output: Any) -> None:
    with connect(path) as db:
        db.execute(
            "INSERT OR REPLACE INTO finals (order_key, run_id, status, output) VALUES (?,?,?,?)",
            (order_key, run_id, status, json.dumps(output)),
        )


# --- the history as the checkers read it ---------------------------------------------------------
@dataclass(frozen=True)
class StepRecord:
    seq: int
    order_key: str
    run_id: str
    step: str
    phase: str  # "start" | "done"
    attempt: int
    pid: int
    t: float
    value: str | None = None
    seen_prev: str | None = None


@dataclass(frozen=True)
class Send:
    order_key: str
    event_id: str
    t: float
    accepted: bool
    received_id: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class FaultWindow:
    index: int
    kind: str
    start_t: float
    end_t: float | None


@dataclass(frozen=True)
class Final:
    order_key: str
    run_id: str
    status: str
    output: Any


@dataclass(frozen=True)
class History:
    steps: list[StepRecord]
    sends: list[Send]
    faults: list[FaultWindow]
    finals: list[Final]
    step_ids: tuple[str, ...]  # the workload's steps, in order

    def to_jsonl(self) -> Iterator[str]:
        """One JSON object a line, tagged by ``record`` (what the campaign keeps beside its
        results)."""
        yield json.dumps({"record": "workload", "steps": list(self.step_ids)})
        for tag, rows in (
            ("send", self.sends),
            ("fault", self.faults),
            ("step", self.steps),
            ("final", self.finals),
        ):
            for row in rows:
                yield json.dumps({"record": tag, **row.__dict__}, sort_keys=True)

    @classmethod
    def from_jsonl(cls, lines: Iterator[str] | list[str]) -> History:
        steps: list[StepRecord] = []
        sends: list[Send] = []
        faults: list[FaultWindow] = []
        finals: list[Final] = []
        step_ids: tuple[str, ...] = ()
        for line in lines:
            row = json.loads(line)
            tag = row.pop("record")
            if tag == "workload":
                step_ids = tuple(row["steps"])
            elif tag == "send":
                sends.append(Send(**row))
            elif tag == "fault":
                faults.append(FaultWindow(**row))
            elif tag == "step":
                steps.append(StepRecord(**row))
            elif tag == "final":
                finals.append(Final(**row))
        return cls(steps, sends, faults, finals, step_ids)


def load(path: Path, step_ids: tuple[str, ...]) -> History:
    with connect(path) as db:
        steps = [
            StepRecord(*row)
            for row in db.execute(
                "SELECT seq, order_key, run_id, step, phase, attempt, pid, t, value, seen_prev "
                "FROM steps ORDER BY seq"
            )
        ]
        sends = [
            Send(k, e, t, bool(a), r, err)
            for k, e, t, a, r, err in db.execute(
                "SELECT order_key, event_id, t, accepted, received_id, error "
                "FROM sends ORDER BY seq"
            )
        ]
        faults = [
            FaultWindow(*row)
            for row in db.execute("SELECT idx, kind, start_t, end_t FROM faults ORDER BY idx")
        ]
        finals = [
            Final(k, r, s, json.loads(o) if o is not None else None)
            for k, r, s, o in db.execute(
                "SELECT order_key, run_id, status, output FROM finals ORDER BY order_key"
            )
        ]
    return History(steps, sends, faults, finals, step_ids)
