"""A deadline inside a step, with the function's ``timeouts.finish`` as the backstop.

Problem: ``step.run`` has no deadline of its own. A step whose awaited call hangs holds its
request open until the SDK's or the platform's HTTP limits end it, and the run waits with it.

The pattern: bound the awaited call inside the step with ``asyncio.wait_for`` and turn the
timeout into an ordinary exception, so a slow call becomes a step error that Inngest retries
(the next attempt may be fast); give the function ``timeouts.finish`` as the backstop that ends
a run whose step never returns at all (a blocked thread, a call that ignores cancellation).

When to use it: every step that awaits a network call, a subprocess or a lock that can hang.

Limits: ``asyncio.wait_for`` cancels only awaited code; a handler blocked in synchronous code
(a thread, a C call) is not interrupted, which is what the backstop is for. The backstop cancels
the run, it does not interrupt the request still running in the app: make the step's effect
idempotent or check for cancellation before acting on a late answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import inngest

T = TypeVar("T")


class StepDeadlineExceeded(Exception):
    """The bounded call gave no answer in time; an ordinary error, so the step is retried."""


async def within_deadline(
    call: Awaitable[T],
    seconds: float,
    error: Callable[[str], Exception] = StepDeadlineExceeded,
) -> T:
    """Await ``call`` for at most ``seconds``; past it, cancel the call and raise ``error``
    (built from a message naming the deadline)."""
    try:
        return await asyncio.wait_for(call, timeout=seconds)
    except TimeoutError as exc:
        raise error(f"no answer within {seconds:g} s") from exc


async def run_with_deadline(
    ctx: inngest.Context,
    step_id: str,
    handler: Callable[[], Awaitable[T]],
    seconds: float,
    error: Callable[[str], Exception] = StepDeadlineExceeded,
) -> T:
    """``ctx.step.run(step_id, handler)`` whose every attempt is cut after ``seconds``."""

    async def bounded() -> T:
        return await within_deadline(handler(), seconds, error)

    return await ctx.step.run(step_id, bounded)


def backstop(seconds: float) -> inngest.Timeouts:
    """The function-level bound for what an in-step deadline cannot cut short:
    ``create_function(..., timeouts=backstop(300))`` cancels a run not finished by then."""
    return inngest.Timeouts(finish=timedelta(seconds=seconds))
