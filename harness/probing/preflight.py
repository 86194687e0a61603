"""Before anything is rated: is the server about to be measured one whose reads can be trusted?

A dev server built with a stand-in SQLite driver once answered in ways the official binary does
not (trace times null, run lists short, durations negative) and shaped findings that were the
build's, not Inngest's. So every script first runs one small known function on the server it
will measure and reads the run back every way the suite reads runs:

- the event's run list (REST) names exactly one run, which completes with the known output;
- GraphQL's ``run`` agrees on status and output;
- the runs list the UI loads names the run exactly once;
- the run's trace, as the UI asks for it, has start and end times on the run and on every step,
  and no negative duration.

A server that fails any of these is *suspect*: the script names the failing read and rates
nothing (exit 2). The function runs as an app of its own, removed again afterwards, so the
script's own app and functions are untouched.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import inngest

import serve
from harness.errors import ProbeTimeout, SetupError
from harness.probing.other_app import other_app
from harness.servers import ui_queries
from harness.servers.api import DevServerAPI, TraceNotReady, _parse_time

APP_ID = "suite-preflight"
EVENT = "suite/preflight"
STEPS = ("first", "second")
EXPECTED_OUTPUT: dict[str, Any] = {"total": 3, "steps": list(STEPS)}
BUDGET_S = 45.0  # the whole preflight, on a busy machine

_client = serve.make_client(app_id=APP_ID)


async def _one() -> int:
    return 1


async def _two() -> int:
    return 2


@_client.create_function(fn_id="known-run", trigger=inngest.TriggerEvent(event=EVENT))
async def known_run(ctx: inngest.Context) -> dict[str, Any]:
    """Two steps and a known output: the smallest run that exercises steps, memoized state,
    output and trace."""
    first = await ctx.step.run("first", _one)
    second = await ctx.step.run("second", _two)
    return {"total": first + second, "steps": ["first", "second"]}


class ServerSuspect(SetupError):
    """The server answered a known run in a way a faithful server does not; rate nothing."""


@dataclass
class PreflightReport:
    """What the preflight read: the run, each read's outcome, and how long it took."""

    run_id: str | None = None
    reads: dict[str, str] = field(default_factory=dict)  # read -> "ok" or what was wrong
    duration_s: float = 0.0

    @property
    def failures(self) -> dict[str, str]:
        return {read: outcome for read, outcome in self.reads.items() if outcome != "ok"}

    @property
    def passed(self) -> bool:
        return bool(self.reads) and not self.failures

    def describe(self) -> dict[str, Any]:
        """For the results file's session: what was checked, and the outcome."""
        return {
            "passed": self.passed,
            "run_id": self.run_id,
            "reads": self.reads,
            "duration_s": round(self.duration_s, 2),
        }


def check_known_run(
    api: DevServerAPI, *, preview: bool, deadline: float, since: datetime
) -> PreflightReport:
    """Send the known event and read its run back every way; ``preview`` as the UI asks for
    traces (``ui_queries.traces_preview``). The app serving ``known_run`` must be synced."""
    report = PreflightReport()
    clock = time.monotonic()
    event_id = api.send(EVENT, {"nonce": uuid.uuid4().hex})

    def left() -> float:
        return max(1.0, deadline - time.monotonic())

    runs = api.wait_for_runs([event_id], timeout=left())
    report.reads["event-runs"] = "ok" if len(runs) == 1 else f"{len(runs)} runs for one event"
    report.run_id = run_id = runs[0].id
    run = api.wait_for_run(run_id, timeout=left())
    report.reads["rest-run"] = _expect(run.status, run.output)
    if run.started_at and run.ended_at and run.ended_at < run.started_at:
        report.reads["rest-run"] = f"ended {run.ended_at} before it started {run.started_at}"
    report.reads["graphql-run"] = _graphql_run(api, run_id, deadline)
    report.reads["runs-list"] = _listed_once(api, run_id, since, deadline)
    report.reads["trace"] = _trace_times(api, run_id, preview, deadline)
    report.duration_s = time.monotonic() - clock
    return report


def _expect(status: str, output: Any) -> str:
    if status != "COMPLETED":
        return f"status {status}, expected COMPLETED"
    if output != EXPECTED_OUTPUT:
        return f"output {json.dumps(output)[:200]}, expected {json.dumps(EXPECTED_OUTPUT)}"
    return "ok"


_RUN_QUERY = "query($id: String!) { run(runID: $id) { status output } }"


def _graphql_run(api: DevServerAPI, run_id: str, deadline: float) -> str:
    outcome = "no answer"
    while True:
        run = api.graphql(_RUN_QUERY, {"id": run_id}).get("run") or {}
        raw = run.get("output")
        try:
            output = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            output = raw
        outcome = _expect(str(run.get("status")), output)
        if outcome == "ok" or time.monotonic() > deadline:
            return outcome
        time.sleep(0.2)


def _listed_once(api: DevServerAPI, run_id: str, since: datetime, deadline: float) -> str:
    while True:
        listed = [row for row in ui_queries.runs(api, since) if row.get("id") == run_id]
        if len(listed) == 1:
            return "ok"
        if time.monotonic() > deadline:
            return f"the run is listed {len(listed)} times in the runs list, expected once"
        time.sleep(0.3)


def _trace_times(api: DevServerAPI, run_id: str, preview: bool, deadline: float) -> str:
    while True:
        try:
            trace = ui_queries.run(api, run_id, preview=preview).get("trace") or {}
        except RuntimeError as exc:  # a GraphQL error: what the run page would show
            return f"the run page's query failed: {str(exc)[:300]}"
        except TraceNotReady:
            trace = {}
        spans = list(ui_queries.spans(trace)) if trace else []
        steps = [s for s in spans if s.get("name") in STEPS]
        if trace.get("status") == "COMPLETED" and len(steps) >= 2:
            return _span_times(spans)
        if time.monotonic() > deadline:
            return f"the trace did not show the completed run and its two steps ({trace!r:.200})"
        time.sleep(0.3)


def _span_times(spans: list[dict[str, Any]]) -> str:
    for span in spans:
        started, ended = _parse_time(span.get("startedAt")), _parse_time(span.get("endedAt"))
        name = span.get("name") or "?"
        if started is None or ended is None:
            return f"span {name!r} has no start or end time ({span.get('startedAt')!r}, " + (
                f"{span.get('endedAt')!r})"
            )
        if ended < started:
            return f"span {name!r} ends before it starts ({started} > {ended})"
    return "ok"


def run_preflight(
    api: DevServerAPI,
    keys: serve.ProductionKeys | None,
    info: dict[str, Any],
    *,
    budget_s: float = BUDGET_S,
) -> PreflightReport:
    """Serve ``known_run`` as an app of its own, check it (:func:`check_known_run`), remove the
    app again; ServerSuspect naming the failing reads when the server fails."""
    deadline = time.monotonic() + budget_s
    since = datetime.now(UTC) - timedelta(seconds=5)
    try:
        with other_app(APP_ID, [known_run], api, keys=keys):
            report = check_known_run(
                api, preview=ui_queries.traces_preview(info), deadline=deadline, since=since
            )
    except ProbeTimeout as exc:
        raise ServerSuspect(f"server suspect: the known run did not finish: {exc}") from None
    finally:
        _remove_app(api)
    if not report.passed:
        failing = "; ".join(f"{read}: {what}" for read, what in report.failures.items())
        raise ServerSuspect(f"server suspect: a known run read back wrong ({failing})")
    return report


def _remove_app(api: DevServerAPI) -> None:
    # Best effort: a server that stopped answering is reported by what failed before this.
    with contextlib.suppress(httpx.HTTPError, RuntimeError):
        for app in api.apps():
            if app.get("name") == APP_ID:
                api.delete_app(str(app["id"]))
