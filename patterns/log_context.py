"""Run and step context on every log record of an Inngest function, for any logger.

Problem: the Python SDK's ``ctx.logger`` drops lines while memoized steps are replayed (so a
line is logged once per run, not once per request) but adds no context: a line does not say which
run or step wrote it. A plain ``logging`` logger has neither. This module adds the context:

* :func:`log_context_middleware` (SDK middleware) puts the run ID, function ID and attempt of
  the request being served into a context variable;
* :func:`run_step` runs a step like ``ctx.step.run`` and names the step while its handler runs;
* :class:`RunContextFilter` copies both onto each record as ``inngest_run_id``,
  ``inngest_function_id``, ``inngest_attempt`` and ``inngest_step_id`` (``"-"`` outside a run),
  for formatters (``%(inngest_run_id)s``) and JSON log shippers alike.

When to use it: any app whose logs are searched by run (support tickets, incident review), and
any library code called from steps that logs with a module logger.

Limits: the context is set per request by the middleware, so code outside a function's request
(a background thread the handler started) logs ``"-"``. Steps must be run with :func:`run_step`
to be named; a plain ``ctx.step.run`` gets the run's context only. It adds context, it does not
deduplicate: a plain logger still repeats lines in the function body on every re-entry (use
``ctx.logger`` there).

Usage::

    handler.addFilter(RunContextFilter())
    @client.create_function(..., middleware=[log_context_middleware()])
    async def fn(ctx):
        await run_step(ctx, "charge", charge)
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import inngest

T = TypeVar("T")
NO_CONTEXT = "-"
FIELDS = ("inngest_run_id", "inngest_function_id", "inngest_attempt", "inngest_step_id")

_run: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "inngest_log_run", default=None
)
_step: contextvars.ContextVar[str | None] = contextvars.ContextVar("inngest_log_step", default=None)


class RunContextFilter(logging.Filter):
    """Adds the current run's and step's IDs to every record it sees (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        run = _run.get() or {}
        record.inngest_run_id = run.get("run_id", NO_CONTEXT)
        record.inngest_function_id = run.get("function_id", NO_CONTEXT)
        record.inngest_attempt = run.get("attempt", NO_CONTEXT)
        record.inngest_step_id = _step.get() or NO_CONTEXT
        return True


def log_context_middleware() -> Any:
    """Middleware that makes the request's run known to :class:`RunContextFilter`."""

    class LogContextMiddleware(inngest.Middleware):
        async def transform_input(
            self,
            ctx: inngest.Context | inngest.ContextSync,
            function: inngest.Function[Any],
            steps: inngest.StepMemos,
        ) -> None:
            # The SDK runs the handler in the task that calls this hook, so the value is
            # visible to every log call the handler makes, and to no other request.
            _run.set(
                {"run_id": ctx.run_id, "function_id": function.id, "attempt": str(ctx.attempt)}
            )

    return LogContextMiddleware


async def run_step(
    ctx: inngest.Context,
    step_id: str,
    handler: Callable[..., Awaitable[T]],
    *args: Any,
    **options: Any,
) -> T:
    """``ctx.step.run(step_id, handler, *args)``, with ``step_id`` on the handler's log records."""
    token = _step.set(step_id)
    try:
        return await ctx.step.run(step_id, handler, *args, **options)
    finally:
        _step.reset(token)
