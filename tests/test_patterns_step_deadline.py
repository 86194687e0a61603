"""patterns.step_deadline under the mocked executor: a slow attempt is cut and retried."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import inngest
import pytest
from inngest.experimental import mocked

from patterns.step_deadline import (
    StepDeadlineExceeded,
    backstop,
    run_with_deadline,
    within_deadline,
)


class QuoteLate(Exception):
    pass


def test_a_slow_attempt_is_cut_and_the_retry_answers() -> None:
    client = mocked.Inngest(app_id="deadline-test", is_production=False)
    attempts: list[float] = []

    async def quote() -> float:
        attempts.append(time.monotonic())
        await asyncio.sleep(5 if len(attempts) == 1 else 0)
        return 1.08

    @client.create_function(fn_id="q", trigger=inngest.TriggerEvent(event="t/q"), retries=2)
    async def fetch(ctx: inngest.Context) -> float:
        return await run_with_deadline(ctx, "quote", quote, 0.05, QuoteLate)

    started = time.monotonic()
    result = mocked.trigger(fetch, inngest.Event(name="t/q"), client)
    assert result.output == 1.08 and len(attempts) == 2
    assert time.monotonic() - started < 2  # the 5 s attempt was cut short


def test_an_always_slow_call_fails_with_the_given_error_after_the_retries() -> None:
    client = mocked.Inngest(app_id="deadline-test", is_production=False)

    async def hang() -> str:
        await asyncio.sleep(5)
        return "never"

    @client.create_function(fn_id="h", trigger=inngest.TriggerEvent(event="t/h"), retries=1)
    async def fn(ctx: inngest.Context) -> str:
        return await run_with_deadline(ctx, "hang", hang, 0.02)

    result = mocked.trigger(fn, inngest.Event(name="t/h"), client)
    assert isinstance(result.error, StepDeadlineExceeded)
    assert "0.02 s" in str(result.error)


def test_within_deadline_returns_a_prompt_answer_and_cuts_a_late_one() -> None:
    async def answer(delay: float) -> str:
        await asyncio.sleep(delay)
        return "ok"

    assert asyncio.run(within_deadline(answer(0), 1)) == "ok"
    with pytest.raises(QuoteLate):
        asyncio.run(within_deadline(answer(5), 0.02, QuoteLate))


def test_backstop_is_a_finish_timeout() -> None:
    assert backstop(5).finish == timedelta(seconds=5)
    assert backstop(5).start is None
