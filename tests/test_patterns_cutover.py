"""patterns.cutover: the two triggers split events at the cutover; the drain gate waits."""

from __future__ import annotations

from datetime import UTC, datetime

import inngest
from inngest.experimental import mocked

from patterns.cutover import (
    before_cutover,
    cutover_ms,
    from_cutover,
    wait_until_drained,
)


def test_every_event_time_matches_exactly_one_version() -> None:
    cutover = cutover_ms(datetime(2026, 1, 1, tzinfo=UTC))
    assert cutover == 1_767_225_600_000
    old, new = before_cutover("files/uploaded", cutover), from_cutover("files/uploaded", cutover)
    assert old.event == new.event == "files/uploaded"
    assert old.expression and new.expression
    for ts in (cutover - 1, cutover, cutover + 1):
        # The expressions are plain comparisons on event.ts; evaluate them as the server would.
        matches = [eval(e.replace("event.ts", str(ts))) for e in (old.expression, new.expression)]
        assert matches.count(True) == 1, ts


def test_both_versions_are_functions_the_sdk_accepts() -> None:
    client = mocked.Inngest(app_id="cutover-test", is_production=False)
    cutover = 1_000

    @client.create_function(fn_id="v1", trigger=before_cutover("t/up", cutover))
    async def v1(ctx: inngest.Context) -> int:
        return 1

    @client.create_function(fn_id="v2", trigger=from_cutover("t/up", cutover))
    async def v2(ctx: inngest.Context) -> int:
        return 2

    assert mocked.trigger(v1, inngest.Event(name="t/up", ts=10), client).output == 1
    assert mocked.trigger(v2, inngest.Event(name="t/up", ts=2_000), client).output == 2


def test_the_drain_gate_waits_until_no_run_is_in_flight() -> None:
    # Per poll: what the run list says is in flight, and what each run's own record says.
    lists = iter([["r1", "r2"], ["r1", "r2"], ["r2"]])
    records = iter(
        [{"r1": "RUNNING", "r2": "RUNNING"}, {"r1": "RUNNING", "r2": "COMPLETED"},
         {"r2": "COMPLETED"}]
    )  # fmt: skip
    current: dict[str, str] = {}

    def listed() -> list[str]:
        current.update(next(records))
        return next(lists)

    drain = wait_until_drained(listed, current.__getitem__, timeout=5, poll_s=0)
    assert drain.drained_at is not None
    assert drain.listed == [2, 2, 1] and drain.confirmed == [2, 1, 0]
    assert drain.stale == {"r2": "COMPLETED"}  # the list lagged behind the run's record


def test_the_drain_gate_gives_up_after_its_timeout() -> None:
    drain = wait_until_drained(lambda: ["r1"], lambda _: "RUNNING", timeout=0.05, poll_s=0.01)
    assert drain.drained_at is None and all(n == 1 for n in drain.confirmed)
