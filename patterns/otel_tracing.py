"""OpenTelemetry traces for Inngest runs, through the Python SDK's middleware API.

Problem: the Python SDK (0.5.x) ships no OpenTelemetry integration (its only observability
middleware is an experimental Sentry one); the dev server accepts OTLP spans only from SDKs that
send its private trace references (the TypeScript SDK's Extended Traces). This module fills the
gap with ``opentelemetry-sdk``:

* one span per **run** (kind SERVER, named after the function, FaaS semantic conventions:
  ``faas.invocation_id`` = run ID, ``faas.trigger``, ``faas.name``), emitted by the request in
  which the run ends (the function returns, or fails for good). It starts at the time encoded
  in the run's ULID, i.e. when Inngest created the run;
* one span per **step attempt** (kind INTERNAL, named ``step.run <step id>``, ``step.sleep …``),
  a child of the run span, emitted by the request that executed it. A failed attempt has status
  ERROR, ``error.type`` and an exception event; steps replayed from memoized state are not
  executed again and get no span;
* a failed attempt of the function's own code (outside steps) that will be retried gets an
  ERROR span ``function.attempt <function id>`` under the run span.

An Inngest run is many HTTP requests, possibly served by different processes, so its spans
cannot share an in-memory parent. They share IDs derived from the run ID instead: every step
span's parent is the run span's (deterministic) ID, and :class:`RunScopedIdGenerator` gives the
run span exactly that ID when it is finally emitted. Build the tracer provider with
:func:`tracer_provider` (or pass ``id_generator=RunScopedIdGenerator()`` to your own).

When to use it: an app whose runs should show up in an existing OpenTelemetry backend (Jaeger,
Tempo, Honeycomb…) next to the traces of the services its steps call.

Limits: runs the SDK never hears end (cancelled, timed out while no request ran) get no run
span. Steps replayed from memoized state get no span, so a step's span is its attempt, not its
lifetime. The spans are built from what the SDK's middleware API exposes; Inngest's own trace
view (queueing, sleeps, waits) is not exported.

Usage::

    provider = tracer_provider(exporter_from_env())    # OTEL_TRACES_EXPORTER=otlp|console
    client = inngest.Inngest(app_id="shop", middleware=[tracing_middleware(provider)])
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import logging
import os
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import inngest
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.semconv.attributes.service_attributes import SERVICE_NAME
from opentelemetry.trace import SpanKind, Status, StatusCode

logger = logging.getLogger(__name__)

INSTRUMENTATION_SCOPE = "inngest.otel_tracing"  # the tracer name spans are reported under
DEFAULT_SERVICE_NAME = "inngest-app"

# FaaS semantic conventions (incubating in the OTel spec, so written out rather than imported
# from the semconv package's private ``_incubating`` module).
EXPORTER_ENV = "OTEL_TRACES_EXPORTER"  # the standard variable; the OTLP one reads the rest
EXPORTERS = ("otlp", "console", "none")
ENDPOINT_ENVS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

FAAS_INVOCATION_ID = "faas.invocation_id"
FAAS_NAME = "faas.name"
FAAS_TRIGGER = "faas.trigger"
FAAS_CRON = "faas.cron"
# Inngest's own attributes, in an ``inngest.`` namespace as the conventions ask.
RUN_ID = "inngest.run.id"
FUNCTION_ID = "inngest.function.id"
EVENT_NAME = "inngest.event.name"
EVENT_ID = "inngest.event.id"
STEP_ID = "inngest.step.id"
STEP_OP = "inngest.step.op"
ATTEMPT = "inngest.attempt"
WILL_RETRY = "inngest.will_retry"

FAILURE_EVENT = "inngest/function.failed"
CRON_EVENT = "inngest/scheduled.timer"
# The dev server's and Inngest Cloud's default when a function sets no ``retries``
# (consts.DefaultRetryCount in the inngest/inngest repository): 4 retries, 5 attempts.
DEFAULT_RETRIES = 4

_STEP_SPAN_PREFIX = {
    "StepRun": "step.run",
    "StepError": "step.run",
    "StepFailed": "step.run",
    "Sleep": "step.sleep",
    "WaitForEvent": "step.wait_for_event",
    "InvokeFunction": "step.invoke",
    "AIGateway": "step.ai",
}


# --- IDs derived from the run ID -----------------------------------------------------------------
def run_trace_id(run_id: str) -> int:
    """The trace ID of every span of run ``run_id`` (128 bits, never 0)."""
    return int.from_bytes(hashlib.sha256(f"trace:{run_id}".encode()).digest()[:16], "big") or 1


def run_span_id(run_id: str) -> int:
    """The span ID of run ``run_id``'s own span (64 bits, never 0)."""
    return int.from_bytes(hashlib.sha256(f"span:{run_id}".encode()).digest()[:8], "big") or 1


_forced_ids: contextvars.ContextVar[tuple[int, int] | None] = contextvars.ContextVar(
    "inngest_otel_forced_ids", default=None
)


class RunScopedIdGenerator(IdGenerator):
    """Random IDs, except while a run's own span is started: then the run's derived IDs."""

    def __init__(self) -> None:
        self._random = RandomIdGenerator()

    def generate_trace_id(self) -> int:
        forced = _forced_ids.get()
        return forced[0] if forced else self._random.generate_trace_id()

    def generate_span_id(self) -> int:
        forced = _forced_ids.get()
        return forced[1] if forced else self._random.generate_span_id()


@contextlib.contextmanager
def _ids_of_run(run_id: str) -> Iterator[None]:
    token = _forced_ids.set((run_trace_id(run_id), run_span_id(run_id)))
    try:
        yield
    finally:
        _forced_ids.reset(token)


def run_context(run_id: str) -> Any:
    """An OTel context whose current span is run ``run_id``'s span (for its children)."""
    parent = trace.SpanContext(
        trace_id=run_trace_id(run_id),
        span_id=run_span_id(run_id),
        is_remote=True,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(trace.NonRecordingSpan(parent))


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid_time_ns(run_id: str) -> int | None:
    """When a ULID (Inngest's run IDs are ULIDs) was made, in ns since the epoch; None if
    ``run_id`` is not a ULID."""
    if len(run_id) != 26:
        return None
    millis = 0
    for char in run_id[:10].upper():
        index = _CROCKFORD.find(char)
        if index < 0:
            return None
        millis = millis * 32 + index
    return millis * 1_000_000


# --- providers and exporters ---------------------------------------------------------------------
def tracer_provider(
    *exporters: SpanExporter | None, service_name: str = DEFAULT_SERVICE_NAME, batch: bool = False
) -> TracerProvider:
    """A tracer provider with run-scoped IDs exporting to ``exporters`` (None ones skipped).

    ``batch=False`` exports each span as it ends (tests, short-lived processes); use
    ``batch=True`` for a network exporter in a long-running app.
    """
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: service_name}),
        id_generator=RunScopedIdGenerator(),
    )
    for exporter in exporters:
        if exporter is not None:
            processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
            provider.add_span_processor(processor)
    return provider


def exporter_from_env(environ: Mapping[str, str] | None = None) -> SpanExporter | None:
    """The exporter the standard ``OTEL_TRACES_EXPORTER`` variable asks for: ``otlp`` (OTLP over
    HTTP, configured by the standard ``OTEL_EXPORTER_OTLP_*`` variables), ``console``, or
    ``none``/unset for no export. ValueError for anything else."""
    choice = exporter_choice(environ)
    if choice == "none":
        return None
    if choice == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def exporter_choice(environ: Mapping[str, str] | None = None) -> str:
    """``OTEL_TRACES_EXPORTER`` as ``otlp``, ``console`` or ``none`` (also when unset);
    ValueError for anything else, so that a typo is caught before anything runs."""
    env = os.environ if environ is None else environ
    choice = env.get(EXPORTER_ENV, "").strip().lower() or "none"
    if choice not in EXPORTERS:
        raise ValueError(f"{EXPORTER_ENV}={choice!r}: unknown; allowed: {', '.join(EXPORTERS)}")
    return choice


def otlp_endpoints(environ: Mapping[str, str] | None = None) -> None:
    """ValueError when a standard OTLP endpoint variable is set but is no http(s) URL with a
    host (the exporter would only fail when it first exports)."""
    env = os.environ if environ is None else environ
    for name in ENDPOINT_ENVS:
        value = env.get(name, "").strip()
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise ValueError(
                f"{name}={value!r}: not an http(s) URL with a host; allowed: e.g. "
                "http://127.0.0.1:4318"
            )


# For harness.host.validate.check_environment; this module imports nothing of the suite's
# (copyable).
ENV_CHECKS = (exporter_choice, otlp_endpoints)


# --- the middleware ------------------------------------------------------------------------------
def _max_attempts(ctx: inngest.Context | inngest.ContextSync, function: Any) -> int:
    # The executor sends the run's attempt budget with every request (ctx.max_attempts in the
    # request body); the SDK keeps it on the execution's request without a public accessor.
    request = getattr(getattr(ctx.step, "_execution", None), "_request", None)
    sent = getattr(getattr(request, "ctx", None), "max_attempts", None)
    if isinstance(sent, int) and sent > 0:
        return sent
    retries = getattr(getattr(function, "_opts", None), "retries", None)
    return (DEFAULT_RETRIES if retries is None else retries) + 1


def tracing_middleware(provider: trace.TracerProvider) -> Any:
    """Middleware (for ``inngest.Inngest(middleware=[…])`` or ``create_function(middleware=[…])``)
    that traces runs and step attempts with ``provider``; see the module docstring."""
    tracer = provider.get_tracer(INSTRUMENTATION_SCOPE)

    class TracingMiddleware(inngest.Middleware):
        """One instance per request from Inngest."""

        def __init__(self, client: inngest.Inngest, raw_request: object) -> None:
            super().__init__(client, raw_request)
            self._run: dict[str, Any] | None = None
            self._entered_ns = time.time_ns()
            self._new_code_ns: int | None = None

        async def transform_input(
            self,
            ctx: inngest.Context | inngest.ContextSync,
            function: inngest.Function[Any],
            steps: inngest.StepMemos,
        ) -> None:
            event = ctx.event
            is_failure_handler = event.name == FAILURE_EVENT
            function_id = (
                function.on_failure_fn_id if is_failure_handler else function.id
            ) or function.id
            trigger = "timer" if event.name == CRON_EVENT else "pubsub"
            self._run = {
                "run_id": ctx.run_id,
                "function_id": function_id,
                "attempt": ctx.attempt,
                "max_attempts": _max_attempts(ctx, function),
                "attributes": {
                    RUN_ID: ctx.run_id,
                    FUNCTION_ID: function_id,
                    EVENT_NAME: event.name,
                    EVENT_ID: event.id or "",
                    ATTEMPT: ctx.attempt,
                },
                "run_attributes": {
                    FAAS_INVOCATION_ID: ctx.run_id,
                    FAAS_NAME: function_id,
                    FAAS_TRIGGER: trigger,
                },
            }

        async def before_execution(self) -> None:
            # Called once per request, when replay of memoized steps is over and new code
            # starts: the beginning of the step attempt this request will execute.
            self._new_code_ns = time.time_ns()

        async def transform_output(self, result: inngest.TransformOutputResult) -> None:
            run = self._run
            if run is None:
                return
            now = time.time_ns()
            if result.step is not None:
                self._step_span(run, result, now)
                return
            if result.error is not None and not self._is_final(run, result.error):
                self._attempt_span(run, result.error, now)
            else:
                self._run_span(run, result.error, now)

        def _step_span(self, run: dict[str, Any], result: Any, now: int) -> None:
            op = result.step.op.value
            if op == "StepPlanned":  # parallel steps being discovered: nothing ran yet
                return
            attributes = {**run["attributes"], STEP_ID: result.step.id, STEP_OP: op}
            if op == "StepError":
                attributes[WILL_RETRY] = True
            span = tracer.start_span(
                f"{_STEP_SPAN_PREFIX.get(op, 'step')} {result.step.id}",
                context=run_context(run["run_id"]),
                kind=SpanKind.INTERNAL,
                attributes=attributes,
                start_time=self._new_code_ns or self._entered_ns,
            )
            _finish(span, result.error, now)

        def _attempt_span(self, run: dict[str, Any], error: Exception, now: int) -> None:
            span = tracer.start_span(
                f"function.attempt {run['function_id']}",
                context=run_context(run["run_id"]),
                kind=SpanKind.INTERNAL,
                attributes={**run["attributes"], WILL_RETRY: True},
                start_time=self._new_code_ns or self._entered_ns,
            )
            _finish(span, error, now)

        def _run_span(self, run: dict[str, Any], error: Exception | None, now: int) -> None:
            run_id = run["run_id"]
            started = ulid_time_ns(run_id) or self._entered_ns
            with _ids_of_run(run_id):
                span = tracer.start_span(
                    run["function_id"],
                    context=trace.set_span_in_context(trace.INVALID_SPAN),  # a root span
                    kind=SpanKind.SERVER,
                    attributes={**run["attributes"], **run["run_attributes"]},
                    start_time=min(started, now),
                )
            if span.get_span_context().span_id != run_span_id(run_id):
                logger.warning(
                    "the tracer provider does not use RunScopedIdGenerator: run spans will not "
                    "be the parents of their step spans"
                )
            _finish(span, error, now)

        def _is_final(self, run: dict[str, Any], error: Exception) -> bool:
            if getattr(error, "is_retriable", True) is False:  # NonRetriableError, StepError
                return True
            return bool(run["attempt"] + 1 >= run["max_attempts"])

    return TracingMiddleware


def _finish(span: trace.Span, error: Exception | None, end_ns: int) -> None:
    if error is None:
        span.set_status(Status(StatusCode.OK))
    else:
        span.set_attribute(ERROR_TYPE, type(error).__qualname__)
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, str(error)[:500]))
    span.end(end_time=end_ns)
