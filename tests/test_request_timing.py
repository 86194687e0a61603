"""harness.probing.request_timing: per-request timings from middleware hooks (mocked executor)."""

from __future__ import annotations

import itertools
from typing import Any

import inngest
from inngest.experimental import mocked

from harness.probing.request_timing import RequestTimeline


def test_each_request_is_stamped_in_order() -> None:
    timeline = RequestTimeline()
    client = mocked.Inngest(app_id="timeline-test", is_production=False)

    async def work(n: int) -> int:
        return n * 2

    @client.create_function(
        fn_id="three-steps",
        trigger=inngest.TriggerEvent(event="t/go"),
        middleware=[timeline.middleware()],
    )
    async def three_steps(ctx: inngest.Context) -> list[int]:
        return [await ctx.step.run(f"s{n}", work, n) for n in range(3)]

    result = mocked.trigger(three_steps, inngest.Event(name="t/go", id="evt-1"), client)
    assert result.output == [0, 2, 4]
    requests = timeline.requests("test")
    # The mocked executor first plans each step, then targets it in a request of its own.
    assert [(r.step_id, r.op) for r in requests] == [
        ("s0", "StepPlanned"), ("s0", "StepRun"), ("s1", "StepPlanned"), ("s1", "StepRun"),
        ("s2", "StepPlanned"), ("s2", "StepRun"), (None, None),  # the last request returns
    ]  # fmt: skip
    assert [r.memoized for r in requests] == [0, 0, 1, 1, 2, 2, 3]
    for r in requests:
        assert r.new_code is not None and r.output is not None and r.responded is not None
        assert r.entered <= r.new_code <= r.output <= r.responded
    for earlier, later in itertools.pairwise(requests):
        assert earlier.responded is not None and earlier.responded <= later.entered
    assert timeline.run_ids() == {"test"}
    assert timeline.run_of("evt-1") == "test" and timeline.run_of("other") is None
    assert timeline.returned("test") and timeline.returned_runs() == 1
    assert timeline.wait(lambda: timeline.returned("test"), timeout=1)
    assert not timeline.wait(lambda: timeline.returned("nope"), timeout=0.05)
    timeline.clear()
    assert timeline.requests() == []


def test_errors_are_kept() -> None:
    timeline = RequestTimeline()
    client = mocked.Inngest(app_id="timeline-test", is_production=False)

    @client.create_function(
        fn_id="fails-once",
        trigger=inngest.TriggerEvent(event="t/go"),
        middleware=[timeline.middleware()],
        retries=1,
    )
    async def fails_once(ctx: inngest.Context) -> Any:
        if ctx.attempt == 0:
            raise RuntimeError("first attempt fails")
        return "ok"

    mocked.trigger(fails_once, inngest.Event(name="t/go"), client)
    first, second = timeline.requests()
    assert first.error == "first attempt fails" and (first.attempt, second.attempt) == (0, 1)
    assert second.error is None
    assert timeline.returned("test")  # the second attempt returned
    assert timeline.returned_runs() == 1  # the failed first attempt is not a second run
