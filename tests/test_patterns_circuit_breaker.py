"""patterns.circuit_breaker: the state machine, its shared store, and a guarded step."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import inngest
import pytest
from inngest.experimental import mocked

from patterns.circuit_breaker import CircuitBreaker, CircuitOpen, call_through


def breaker(tmp_path: Path, cooldown_s: float = 60.0) -> CircuitBreaker:
    return CircuitBreaker(tmp_path / "b.sqlite", "dep", threshold=3, cooldown_s=cooldown_s)


def test_breaker_opens_after_the_threshold_and_stays_open(tmp_path: Path) -> None:
    b = breaker(tmp_path)
    for _ in range(2):
        assert b.allow()
        b.record_failure()
    assert b.state() == "closed"
    b.record_failure()
    assert b.state() == "open" and b.opened_at() > 0
    assert not b.allow()


def test_breaker_success_resets_the_count(tmp_path: Path) -> None:
    b = breaker(tmp_path)
    b.record_failure()
    b.record_failure()
    b.record_success()
    b.record_failure()
    assert b.state() == "closed" and b.opened_at() == 0


def test_breaker_half_opens_for_one_trial_after_cooldown(tmp_path: Path) -> None:
    b = breaker(tmp_path, cooldown_s=0.05)
    for _ in range(3):
        b.record_failure()
    time.sleep(0.1)
    assert b.allow()  # the trial call
    assert b.state() == "half-open"
    assert not b.allow()  # only one trial at a time
    b.record_failure()
    assert b.state() == "open"  # a failed trial opens it again
    time.sleep(0.1)
    assert b.allow()
    b.record_success()
    assert b.state() == "closed" and b.allow()


def test_breaker_state_is_shared_through_its_store(tmp_path: Path) -> None:
    first, second = breaker(tmp_path), breaker(tmp_path)
    for _ in range(3):
        first.record_failure()
    assert second.state() == "open"
    other = CircuitBreaker(tmp_path / "b.sqlite", "other", threshold=3, cooldown_s=60)
    assert other.state() == "closed"


class Down(Exception):
    pass


def test_a_guarded_step_stops_calling_once_open_and_fails_for_good(tmp_path: Path) -> None:
    client = mocked.Inngest(app_id="breaker-test", is_production=False)
    b = breaker(tmp_path)
    calls: list[int] = []

    async def dependency() -> str:
        calls.append(1)
        raise Down("502")

    @client.create_function(
        fn_id="charge", trigger=inngest.TriggerEvent(event="t/charge"), retries=2
    )
    async def charge(ctx: inngest.Context) -> str:
        async def guarded() -> str:
            return await call_through(b, dependency, failures=(Down,))

        return await ctx.step.run("charge", guarded)

    first = mocked.trigger(charge, inngest.Event(name="t/charge"), client)
    assert isinstance(first.error, Down) and len(calls) == 3  # three attempts open the breaker
    second = mocked.trigger(charge, inngest.Event(name="t/charge"), client)
    assert isinstance(second.error, CircuitOpen) and len(calls) == 3
    assert isinstance(second.error, inngest.NonRetriableError)


def test_an_error_outside_failures_does_not_count(tmp_path: Path) -> None:
    b = breaker(tmp_path)

    async def bad_request() -> str:
        raise ValueError("a bug, not an outage")

    for _ in range(5):
        with pytest.raises(ValueError):
            asyncio.run(call_through(b, bad_request, failures=(Down,)))
    assert b.state() == "closed"
