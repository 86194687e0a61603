"""The preflight against fake servers: one that answers a known run as a faithful dev server
does, and ones that answer as the build with the stand-in SQLite driver did (trace times null,
the run missing from the runs list, a negative duration, an output read as final too early)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from harness.probing.preflight import EXPECTED_OUTPUT, PreflightReport, check_known_run
from harness.servers.api import DevServerAPI

RUN_ID = "01KBPREFLIGHT0000000000000"
T0 = "2026-12-04T12:00:00.100Z"
T1 = "2026-12-04T12:00:00.400Z"


def span(name: str, started: Any = T0, ended: Any = T1, children: list[Any] | None = None):
    return {
        "name": name,
        "status": "COMPLETED",
        "startedAt": started,
        "endedAt": ended,
        "childrenSpans": children or [],
    }


class FakeServer:
    """Answers the preflight's reads; each attribute says how a faithful server differs."""

    def __init__(self) -> None:
        self.rest_run = {
            "run_id": RUN_ID,
            "status": "Completed",
            "run_started_at": T0,
            "ended_at": T1,
            "output": EXPECTED_OUTPUT,
        }
        self.gql_output: Any = json.dumps(EXPECTED_OUTPUT)
        self.listed = [{"id": RUN_ID, "status": "COMPLETED"}]
        self.trace = span("suite-preflight-known-run", children=[span("first"), span("second")])
        self.output_lag_reads = 0  # reads of a final run before its output appears

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith("/e/"):
            return httpx.Response(200, json={"ids": ["EVT1"]})
        if path == "/v1/events/EVT1/runs":
            return httpx.Response(200, json={"data": [self.rest_run]})
        if path == f"/v1/runs/{RUN_ID}":
            run = dict(self.rest_run)
            if self.output_lag_reads > 0:
                self.output_lag_reads -= 1
                run["output"] = None
            return httpx.Response(200, json={"data": run})
        if path == "/v0/gql":
            query = json.loads(request.content)["query"]
            if "GetRuns" in query:
                edges = [{"node": row} for row in self.listed]
                return httpx.Response(200, json={"data": {"runs": {"edges": edges}}})
            if "GetRun" in query:
                run = {"status": "COMPLETED", "trace": self.trace}
                return httpx.Response(200, json={"data": {"run": run}})
            run = {"status": "COMPLETED", "output": self.gql_output}
            return httpx.Response(200, json={"data": {"run": run}})
        return httpx.Response(404)


def preflight(server: FakeServer, budget: float = 1.5) -> PreflightReport:
    api = DevServerAPI("http://fake.test", transport=httpx.MockTransport(server.handle))
    since = datetime.now(UTC) - timedelta(seconds=5)
    return check_known_run(api, preview=True, deadline=time.monotonic() + budget, since=since)


def test_a_faithful_server_passes() -> None:
    report = preflight(FakeServer())
    assert report.passed, report.reads
    assert set(report.reads) == {"event-runs", "rest-run", "graphql-run", "runs-list", "trace"}
    assert report.describe()["run_id"] == RUN_ID


def test_an_output_that_lags_the_final_status_is_waited_for() -> None:
    server = FakeServer()
    server.output_lag_reads = 2
    assert preflight(server).passed


def test_null_trace_times_make_the_server_suspect() -> None:
    # The stand-in driver's time format: every span's times parsed as zero, shown as null.
    server = FakeServer()
    server.trace = span(
        "suite-preflight-known-run",
        started=None,
        ended=None,
        children=[span("first", "0001-01-01T00:00:00Z", None), span("second")],
    )
    report = preflight(server)
    assert not report.passed
    assert set(report.failures) == {"trace"}
    assert "no start or end time" in report.failures["trace"]


def test_a_run_missing_from_the_runs_list_makes_the_server_suspect() -> None:
    server = FakeServer()
    server.listed = [{"id": "SOMEONE-ELSE", "status": "COMPLETED"}]
    report = preflight(server)
    assert set(report.failures) == {"runs-list"}
    assert "listed 0 times" in report.failures["runs-list"]


def test_a_run_listed_twice_makes_the_server_suspect() -> None:
    server = FakeServer()
    server.listed = server.listed * 2
    assert "listed 2 times" in preflight(server).failures["runs-list"]


def test_a_negative_duration_makes_the_server_suspect() -> None:
    server = FakeServer()
    server.rest_run["ended_at"] = "2026-12-04T11:00:00Z"
    steps = [span("first", T1, T0), span("second")]
    server.trace = span("suite-preflight-known-run", children=steps)
    failures = preflight(server).failures
    assert "before it started" in failures["rest-run"]
    assert "ends before it starts" in failures["trace"]


@pytest.mark.parametrize("output", [None, json.dumps({"total": 4, "steps": []})])
def test_graphql_disagreeing_with_rest_makes_the_server_suspect(output: Any) -> None:
    server = FakeServer()
    server.gql_output = output
    failures = preflight(server, budget=0.8).failures
    assert set(failures) == {"graphql-run"} and "expected" in failures["graphql-run"]
