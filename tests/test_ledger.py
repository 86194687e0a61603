"""The SQLite side-effect ledger: counting, values, cross-process durability and waiting."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import inngest
import pytest

from harness.probing.ledger import LEDGER_ENV, Ledger, effect_key, side_effects

ROOT = Path(__file__).resolve().parent.parent


def test_record_increments_and_returns_count(ledger: Path) -> None:
    assert side_effects.count("k") == 0
    assert side_effects.record("k") == 1
    assert side_effects.record("k") == 2
    assert side_effects.record("other") == 1
    assert side_effects.count("k") == 2
    assert side_effects.path == ledger
    assert os.environ[LEDGER_ENV] == str(ledger)


def test_values_in_order(ledger: Path) -> None:
    side_effects.record("k", {"n": 1})
    side_effects.record("k", [1, "two"])
    side_effects.record("other", "ignored")
    side_effects.record("k", None)
    side_effects.record("k", "last")
    assert side_effects.values("k") == [{"n": 1}, [1, "two"], None, "last"]
    assert side_effects.pids("k") == [os.getpid()] * 4


def test_executed_uses_event_tag(ledger: Path) -> None:
    event = inngest.Event(name="x", data={"tag": "t1"})
    assert side_effects.executed(event, "charge", value=42) == 1
    assert side_effects.executed(event, "charge") == 2
    assert effect_key("t1", "charge") == "t1:charge"
    assert side_effects.count(effect_key("t1", "charge")) == 2
    assert side_effects.values(effect_key("t1", "charge")) == [42, None]
    assert side_effects.count("charge") == 0


def test_counts_survive_across_processes(ledger: Path) -> None:
    side_effects.record("shared")
    code = (
        "from harness.probing.ledger import side_effects\n"
        "print(side_effects.record('shared', 'child'))\n"
        "print(side_effects.record('shared', 'child'))\n"
    )
    env = {**os.environ, LEDGER_ENV: str(ledger), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "3"]
    assert side_effects.count("shared") == 3
    assert side_effects.values("shared") == [None, "child", "child"]
    pids = side_effects.pids("shared")
    assert pids[0] == os.getpid()
    assert pids[1] == pids[2] != os.getpid()


def test_wait_for_returns_true_as_soon_as_reached(ledger: Path) -> None:
    side_effects.record("k")
    started = time.monotonic()
    assert side_effects.wait_for("k", 1, timeout=5) is True
    assert time.monotonic() - started < 0.5


def test_wait_for_sees_a_later_record(ledger: Path) -> None:
    timer = threading.Timer(0.2, lambda: side_effects.record("late"))
    timer.start()
    try:
        started = time.monotonic()
        assert side_effects.wait_for("late", 1, timeout=5, poll=0.02) is True
        assert time.monotonic() - started < 2
    finally:
        timer.cancel()
        timer.join()


def test_wait_for_times_out(ledger: Path) -> None:
    side_effects.record("k")
    timeout = 0.3
    started = time.monotonic()
    assert side_effects.wait_for("k", 2, timeout=timeout, poll=0.02) is False
    elapsed = time.monotonic() - started
    assert timeout <= elapsed < timeout + 0.5


def test_ledger_without_path_or_env_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LEDGER_ENV, raising=False)
    with pytest.raises(RuntimeError, match=LEDGER_ENV):
        Ledger().record("k")
    with pytest.raises(RuntimeError, match=LEDGER_ENV):
        _ = Ledger().path
