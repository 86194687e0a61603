"""patterns.otel_tracing: the tracing middleware under the mocked executor, exported to memory."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterator
from typing import Any

import inngest
import pytest
from inngest.experimental import mocked
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from patterns.otel_tracing import (
    exporter_from_env,
    run_span_id,
    run_trace_id,
    tracer_provider,
    tracing_middleware,
    ulid_time_ns,
)

RUN_ID = "test"  # the run ID the mocked executor uses


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def client(exporter: InMemorySpanExporter) -> Iterator[mocked.Inngest]:
    provider = tracer_provider(exporter, service_name="unit-tests")
    yield mocked.Inngest(
        app_id="otel-test",
        is_production=False,
        middleware=[tracing_middleware(provider)],
    )
    provider.shutdown()


def event(**data: Any) -> inngest.Event:
    return inngest.Event(name="shop/order.placed", data=data)


def spans_by_name(exporter: InMemorySpanExporter) -> dict[str, list[ReadableSpan]]:
    grouped: dict[str, list[ReadableSpan]] = {}
    for span in exporter.get_finished_spans():
        grouped.setdefault(span.name, []).append(span)
    return grouped


def make_checkout(client: mocked.Inngest, failures: dict[str, int]) -> inngest.Function[Any]:
    """Three steps; a step named in ``failures`` fails that many times before succeeding."""
    attempts: dict[str, int] = {}

    def step(name: str) -> Any:
        async def handler() -> str:
            attempts[name] = attempts.get(name, 0) + 1
            if attempts[name] <= failures.get(name, 0):
                raise RuntimeError(f"{name} attempt {attempts[name]} failed")
            return f"{name}-done"

        return handler

    @client.create_function(fn_id="checkout", trigger=inngest.TriggerEvent(event="shop/*"))
    async def checkout(ctx: inngest.Context) -> list[str]:
        return [await ctx.step.run(name, step(name)) for name in ("reserve", "charge", "ship")]

    return checkout


def test_one_span_per_step_and_one_per_run_with_parentage(client, exporter) -> None:
    result = mocked.trigger(make_checkout(client, {}), event(), client)
    assert result.status is mocked.Status.COMPLETED
    spans = spans_by_name(exporter)
    assert sorted(spans) == [
        "otel-test-checkout", "step.run charge", "step.run reserve", "step.run ship"
    ]  # fmt: skip
    assert all(len(group) == 1 for group in spans.values())  # memoized steps: no duplicates
    (run,) = spans["otel-test-checkout"]
    assert run.kind is SpanKind.SERVER and run.parent is None
    assert run.context.trace_id == run_trace_id(RUN_ID)
    assert run.context.span_id == run_span_id(RUN_ID)
    assert run.status.status_code is StatusCode.OK
    assert run.attributes is not None
    assert run.attributes["faas.invocation_id"] == RUN_ID
    assert run.attributes["faas.trigger"] == "pubsub"
    assert run.attributes["inngest.event.name"] == "shop/order.placed"
    assert run.resource.attributes["service.name"] == "unit-tests"
    for name in ("reserve", "charge", "ship"):
        (step,) = spans[f"step.run {name}"]
        assert step.kind is SpanKind.INTERNAL
        assert step.parent is not None and step.parent.span_id == run.context.span_id
        assert step.context.trace_id == run.context.trace_id
        assert step.attributes is not None
        assert step.attributes["inngest.step.id"] == name
        assert step.attributes["inngest.step.op"] == "StepRun"
        assert step.status.status_code is StatusCode.OK
        assert step.start_time is not None and step.end_time is not None
        assert step.start_time <= step.end_time


def test_a_failed_attempt_is_an_error_span_and_the_retry_a_new_one(client, exporter) -> None:
    result = mocked.trigger(make_checkout(client, {"charge": 1}), event(), client)
    assert result.status is mocked.Status.COMPLETED
    charges = spans_by_name(exporter)["step.run charge"]
    assert [s.status.status_code for s in charges] == [StatusCode.ERROR, StatusCode.OK]
    failed, retried = charges
    assert failed.attributes is not None and retried.attributes is not None
    assert failed.attributes["error.type"] == "RuntimeError"
    assert failed.attributes["inngest.will_retry"] is True
    assert failed.attributes["inngest.attempt"] == 0 and retried.attributes["inngest.attempt"] == 1
    assert failed.status.description == "charge attempt 1 failed"
    (exception,) = [e for e in failed.events if e.name == "exception"]
    assert exception.attributes is not None
    assert exception.attributes["exception.message"] == "charge attempt 1 failed"
    assert len(spans_by_name(exporter)["step.run reserve"]) == 1  # not repeated by the retry


def test_a_run_that_fails_for_good_ends_with_an_error_run_span(client, exporter) -> None:
    @client.create_function(
        fn_id="always-fails", trigger=inngest.TriggerEvent(event="shop/*"), retries=2
    )
    async def always_fails(ctx: inngest.Context) -> None:
        raise RuntimeError(f"attempt {ctx.attempt} failed")

    result = mocked.trigger(always_fails, event(), client)
    assert result.status is mocked.Status.FAILED
    spans = spans_by_name(exporter)
    attempts = spans["function.attempt otel-test-always-fails"]
    assert [s.status.status_code for s in attempts] == [StatusCode.ERROR, StatusCode.ERROR]
    (run,) = spans["otel-test-always-fails"]
    assert run.status.status_code is StatusCode.ERROR
    assert run.status.description == "attempt 2 failed"
    assert run.attributes is not None and run.attributes["error.type"] == "RuntimeError"
    assert all(a.parent is not None and a.parent.span_id == run.context.span_id for a in attempts)


def test_a_non_retriable_error_ends_the_run_at_once(client, exporter) -> None:
    @client.create_function(fn_id="rejects", trigger=inngest.TriggerEvent(event="shop/*"))
    async def rejects(ctx: inngest.Context) -> None:
        raise inngest.NonRetriableError("order is invalid")

    mocked.trigger(rejects, event(), client)
    spans = spans_by_name(exporter)
    assert list(spans) == ["otel-test-rejects"]
    assert spans["otel-test-rejects"][0].attributes["error.type"] == "NonRetriableError"


def test_sleeps_and_parallel_steps_get_spans_but_planning_does_not(client, exporter) -> None:
    async def work(name: str) -> str:
        return name

    @client.create_function(fn_id="fan-out", trigger=inngest.TriggerEvent(event="shop/*"))
    async def fan_out(ctx: inngest.Context) -> tuple[str, ...]:
        await ctx.step.sleep("cool-down", datetime.timedelta(seconds=1))
        return await ctx.group.parallel(
            tuple((lambda n=n: ctx.step.run(f"part-{n}", work, f"p{n}")) for n in range(3))
        )

    result = mocked.trigger(fan_out, event(), client)
    assert result.status is mocked.Status.COMPLETED and result.output == ("p0", "p1", "p2")
    names = sorted(s.name for s in exporter.get_finished_spans())
    assert names == [
        "otel-test-fan-out", "step.run part-0", "step.run part-1", "step.run part-2",
        "step.sleep cool-down",
    ]  # fmt: skip


def test_a_provider_without_run_scoped_ids_is_reported(caplog, exporter) -> None:
    provider = TracerProvider()  # random IDs: the run span cannot be the steps' parent
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    client = mocked.Inngest(
        app_id="x", is_production=False, middleware=[tracing_middleware(provider)]
    )
    fn = make_checkout(client, {})
    with caplog.at_level(logging.WARNING, logger="patterns.otel_tracing"):
        mocked.trigger(fn, event(), client)
    assert "RunScopedIdGenerator" in caplog.text


def test_run_ids_are_ulids_whose_time_starts_the_run_span() -> None:
    # The ULID specification's example: ulid(1469918176385) starts with "01ARYZ6S41".
    assert ulid_time_ns("01ARYZ6S41TSV4RRFFQ69G5FAV") == 1_469_918_176_385 * 1_000_000
    assert ulid_time_ns("test") is None
    assert ulid_time_ns("U" * 26) is None  # U is not in Crockford's alphabet
    assert run_trace_id("a") != run_trace_id("b") and run_span_id("a") != run_span_id("b")


def test_exporter_is_chosen_by_the_standard_variable() -> None:
    assert exporter_from_env({}) is None
    assert exporter_from_env({"OTEL_TRACES_EXPORTER": "none"}) is None
    assert isinstance(exporter_from_env({"OTEL_TRACES_EXPORTER": "console"}), ConsoleSpanExporter)
    assert isinstance(exporter_from_env({"OTEL_TRACES_EXPORTER": "OTLP"}), OTLPSpanExporter)
    with pytest.raises(ValueError, match="allowed: otlp, console, none"):
        exporter_from_env({"OTEL_TRACES_EXPORTER": "jaeger"})


def test_otlp_export_reaches_a_collector(monkeypatch) -> None:
    """The OTLP choice really sends spans over HTTP (a local receiver stands in for a
    collector)."""
    from harness.probing.webhook import WebhookReceiver

    with WebhookReceiver() as collector:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", f"{collector.url}/v1/traces")
        exporter = exporter_from_env({"OTEL_TRACES_EXPORTER": "otlp"})
        provider = tracer_provider(exporter, service_name="otlp-test")
        provider.get_tracer("t").start_span("checkout").end()
        provider.shutdown()
        (delivery,) = collector.wait(1, timeout=10)
    assert delivery.path.endswith("/v1/traces")
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    assert headers["content-type"] == "application/x-protobuf"
    assert "checkout" in str(delivery.body) and "otlp-test" in str(delivery.body)
