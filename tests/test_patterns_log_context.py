"""patterns.log_context under the mocked executor: run and step IDs on every record."""

from __future__ import annotations

import logging

import inngest
import pytest
from inngest.experimental import mocked

from patterns.log_context import RunContextFilter, log_context_middleware, run_step


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured() -> logging.Logger:
    logger = logging.getLogger("test.logcontext")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = Capture()
    handler.addFilter(RunContextFilter())
    logger.handlers = [handler]
    return logger


def records(logger: logging.Logger) -> list[logging.LogRecord]:
    return logger.handlers[0].records  # type: ignore[attr-defined]


def test_records_carry_run_and_step_context(captured: logging.Logger) -> None:
    client = mocked.Inngest(app_id="log-test", is_production=False)

    async def charge() -> str:
        captured.info("charging")
        return "charged"

    @client.create_function(
        fn_id="checkout",
        trigger=inngest.TriggerEvent(event="shop/*"),
        middleware=[log_context_middleware()],
    )
    async def checkout(ctx: inngest.Context) -> str:
        captured.info("body runs")
        return await run_step(ctx, "charge", charge)

    assert mocked.trigger(checkout, inngest.Event(name="shop/x"), client).output == "charged"
    body = [r for r in records(captured) if r.getMessage() == "body runs"]
    step = [r for r in records(captured) if r.getMessage() == "charging"]
    assert len(step) == 1 and len(body) >= 2  # plain logging repeats with each request
    for record in [*body, *step]:
        assert record.inngest_run_id == "test"  # type: ignore[attr-defined]
        assert record.inngest_function_id == "log-test-checkout"  # type: ignore[attr-defined]
    assert step[0].inngest_step_id == "charge"  # type: ignore[attr-defined]
    assert {r.inngest_step_id for r in body} == {"-"}  # type: ignore[attr-defined]


def test_outside_a_run_the_fields_say_so(captured: logging.Logger) -> None:
    captured.info("no run here")
    (record,) = records(captured)
    assert record.inngest_run_id == record.inngest_step_id == "-"  # type: ignore[attr-defined]
