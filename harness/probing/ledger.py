"""A side-effect ledger kept outside the app process.

Functions record each real side effect here (a row per execution). Because it is a SQLite file
and not process memory, the counts survive the app process being SIGKILLed, which is how the
suite tells "a completed step ran again" from "it was replayed from memoized state".
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import inngest

LEDGER_ENV = "DURABILITY_LEDGER"


class Ledger:
    def __init__(self, path: Path | None = None) -> None:
        self._path = path

    @property
    def path(self) -> Path:
        if self._path is None:
            # Resolved lazily: the app process learns the path from its environment.
            env = os.environ.get(LEDGER_ENV)
            if not env:
                raise RuntimeError(f"{LEDGER_ENV} is not set: no side-effect ledger to write to")
            self._path = Path(env)
        return self._path

    def use(self, path: Path) -> None:
        """Point this ledger (and app processes started after this call) at ``path``."""
        self._path = path
        os.environ[LEDGER_ENV] = str(path)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS effects ("
                " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                " key TEXT NOT NULL, value TEXT, pid INTEGER, at REAL)"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            yield db
        finally:
            db.close()

    def record(self, key: str, value: Any = None) -> int:
        """Record one occurrence of ``key``; returns how many there are now."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO effects (key, value, pid, at) VALUES (?, ?, ?, ?)",
                (key, json.dumps(value), os.getpid(), time.time()),
            )
            row = db.execute("SELECT COUNT(*) FROM effects WHERE key = ?", (key,)).fetchone()
            return int(row[0])

    def executed(self, event: inngest.Event, name: str, value: Any = None) -> int:
        """Evidence: ``name`` (a step, or the function body) really executed for the probe that
        sent ``event``. Returns how many times it has executed so far (1 the first time)."""
        return self.record(effect_key(str(event.data["tag"]), name), value)

    def count(self, key: str) -> int:
        with self._connect() as db:
            row = db.execute("SELECT COUNT(*) FROM effects WHERE key = ?", (key,)).fetchone()
            return int(row[0])

    def values(self, key: str) -> list[Any]:
        with self._connect() as db:
            rows = db.execute("SELECT value FROM effects WHERE key = ? ORDER BY seq", (key,))
            return [json.loads(value) for (value,) in rows]

    def pids(self, key: str) -> list[int]:
        with self._connect() as db:
            rows = db.execute("SELECT pid FROM effects WHERE key = ? ORDER BY seq", (key,))
            return [int(pid) for (pid,) in rows]

    def wait_for(self, key: str, count: int = 1, *, timeout: float, poll: float = 0.05) -> bool:
        """Wait until ``key`` was recorded ``count`` times; False if that took over ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count(key) >= count:
                return True
            time.sleep(poll)
        return self.count(key) >= count


def effect_key(tag: str, name: str) -> str:
    return f"{tag}:{name}"


# The one ledger that function code records into; the harness points it at a fresh file per run.
side_effects = Ledger()
