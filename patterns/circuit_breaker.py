"""A circuit breaker whose state every run shares, failing steps for good while it is open.

Problem: Inngest has no circuit breaker. While a dependency is down, every run calls it on every
attempt (retries multiply the load), and the runs fail only after their retries are spent.

The pattern: a breaker whose state (consecutive failures, when it opened) lives in a shared,
durable store, here a SQLite file; closed → open after ``threshold`` consecutive failures →
half-open after ``cooldown_s`` (one trial call) → closed on success, open again on failure.
While it is open, :func:`call_through` raises :class:`CircuitOpen`, an
``inngest.NonRetriableError``: the step fails without calling the dependency and without
retries. A concurrency limit on the function paces the calls.

When to use it: a step calls a dependency that fails in outages (a payment gateway, a partner
API) and many runs call it at once.

Limits: SQLite shares the state between the processes of one machine; across machines keep the
same three columns in Redis or a database table. A run that meets an open breaker fails for good:
send it again (or replay it) once the dependency is back, or catch :class:`CircuitOpen` and
``step.sleep`` past the cooldown instead if the run should wait.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Literal, TypeVar

import inngest

T = TypeVar("T")
State = Literal["closed", "open", "half-open"]


class CircuitOpen(inngest.NonRetriableError):
    """The breaker is open: the dependency is not called and the step is not retried."""


class CircuitBreaker:
    """Closed → open after ``threshold`` consecutive failures → half-open after ``cooldown_s``
    (one trial call) → closed on success, open again on failure.

    State is a row in the SQLite file ``store``, so every run (and every app process) sees the
    same breaker, and it survives the app being killed. ``name`` is one breaker per dependency.
    """

    def __init__(self, store: Path, name: str, *, threshold: int, cooldown_s: float) -> None:
        self.store = store
        self.name = name
        self.threshold = threshold
        self.cooldown_s = cooldown_s

    @contextlib.contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.store, timeout=10, isolation_level=None)
        try:
            db.execute(
                "CREATE TABLE IF NOT EXISTS breakers (name TEXT PRIMARY KEY, state TEXT,"
                " failures INTEGER, opened_at REAL)"
            )
            db.execute("BEGIN IMMEDIATE")  # one writer at a time: check-and-set is atomic
            db.execute("INSERT OR IGNORE INTO breakers VALUES (?, 'closed', 0, 0)", (self.name,))
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def state(self) -> str:
        with self._locked() as db:
            return str(db.execute("SELECT state FROM breakers WHERE name = ?",
                                  (self.name,)).fetchone()[0])  # fmt: skip

    def opened_at(self) -> float:
        """When the breaker last opened (Unix time; 0 if it never did)."""
        with self._locked() as db:
            row = db.execute("SELECT opened_at FROM breakers WHERE name = ?", (self.name,))
            return float(row.fetchone()[0])

    def allow(self) -> bool:
        """Whether a call may go out now (moves an open breaker to half-open after cooldown)."""
        with self._locked() as db:
            state, opened_at = db.execute(
                "SELECT state, opened_at FROM breakers WHERE name = ?", (self.name,)
            ).fetchone()
            if state == "closed":
                return True
            if state == "open" and time.time() - opened_at >= self.cooldown_s:
                db.execute("UPDATE breakers SET state = 'half-open' WHERE name = ?", (self.name,))
                return True  # the one trial call
            return False  # open, or a trial call is already out

    def record_success(self) -> None:
        with self._locked() as db:
            db.execute(
                "UPDATE breakers SET state = 'closed', failures = 0 WHERE name = ?", (self.name,)
            )

    def record_failure(self) -> None:
        with self._locked() as db:
            state, failures = db.execute(
                "SELECT state, failures FROM breakers WHERE name = ?", (self.name,)
            ).fetchone()
            failures += 1
            if state == "half-open" or failures >= self.threshold:
                db.execute(
                    "UPDATE breakers SET state = 'open', failures = ?, opened_at = ? "
                    "WHERE name = ?",
                    (failures, time.time(), self.name),
                )
            else:
                db.execute("UPDATE breakers SET failures = ? WHERE name = ?", (failures, self.name))


async def call_through(
    breaker: CircuitBreaker,
    call: Callable[[], Awaitable[T]],
    *,
    failures: tuple[type[BaseException], ...] = (Exception,),
) -> T:
    """Call the dependency through ``breaker``, inside a step: :class:`CircuitOpen` without
    calling it while the breaker is open; an exception in ``failures`` counts against the
    breaker and propagates (so the step is retried); a result closes the breaker."""
    if not breaker.allow():
        raise CircuitOpen(f"{breaker.name} circuit is open; not calling it")
    try:
        result = await call()
    except failures:
        breaker.record_failure()
        raise
    breaker.record_success()
    return result
