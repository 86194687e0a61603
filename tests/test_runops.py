"""harness.probing.runops against an httpx.MockTransport: runs, reruns, cancels, failed runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from harness.errors import ProbeTimeout
from harness.probing import runops
from harness.servers.api import DevServerAPI

URL = "http://devserver.test:8288"
Handler = Callable[[httpx.Request], httpx.Response]


def make_api(handler: Handler) -> DevServerAPI:
    return DevServerAPI(URL, transport=httpx.MockTransport(handler))


def gql_body(request: httpx.Request) -> dict[str, Any]:
    assert request.method == "POST" and request.url.path == "/v0/gql"
    return dict(json.loads(request.content))


def rest_run(run_id: str, status: str) -> httpx.Response:
    return httpx.Response(200, json={"data": {"run_id": run_id, "status": status}})


def test_wait_for_all_returns_every_run_in_order_once_final() -> None:
    polls: dict[str, int] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        run_id = request.url.path.rsplit("/", 1)[-1]
        polls[run_id] = polls.get(run_id, 0) + 1
        if run_id == "SLOW" and polls[run_id] < 3:
            return rest_run(run_id, "Running")
        return rest_run(run_id, "Failed" if run_id == "SLOW" else "Completed")

    runs = runops.wait_for_all(make_api(handler), ["SLOW", "FAST"], timeout=10)
    assert [(r.id, r.status) for r in runs] == [("SLOW", "FAILED"), ("FAST", "COMPLETED")]
    assert polls["FAST"] == 1  # a finished run is not polled again


def test_wait_for_all_names_the_runs_still_pending() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        run_id = request.url.path.rsplit("/", 1)[-1]
        return rest_run(run_id, "Completed" if run_id == "DONE" else "Running")

    with pytest.raises(ProbeTimeout, match=r"1 of 2 run\(s\).*STUCK"):
        runops.wait_for_all(make_api(handler), ["DONE", "STUCK"], timeout=0.3)


def test_cancel_via_graphql_sends_the_uis_mutation() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = gql_body(request)
        assert "cancelRun(runID: $runID)" in body["query"]
        assert body["variables"] == {"runID": "01RUN"}
        return httpx.Response(
            200, json={"data": {"cancelRun": {"id": "01RUN", "status": "CANCELLED"}}}
        )

    assert runops.cancel_via_graphql(make_api(handler), "01RUN") == "CANCELLED"


@pytest.mark.parametrize("from_step", [None, "bfb15544"])
def test_rerun_from_the_start_or_from_a_step(from_step: str | None) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = gql_body(request)
        assert body["variables"]["runID"] == "01OLD"
        if from_step is None:
            assert "fromStep" not in body["variables"]
        else:
            assert body["variables"]["fromStep"] == {"stepID": from_step}
            assert "fromStep: $fromStep" in body["query"]
        return httpx.Response(200, json={"data": {"rerun": "01NEW"}})

    assert runops.rerun(make_api(handler), "01OLD", from_step_id=from_step) == "01NEW"


def test_rerun_without_a_new_run_id_raises() -> None:
    api = make_api(lambda r: httpx.Response(200, json={"data": {"rerun": None}}))
    with pytest.raises(RuntimeError, match="no run ID"):
        runops.rerun(api, "01OLD")


def test_bulk_cancel_posts_the_window_and_keeps_a_failure_as_evidence() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", "/v1/cancellations")
        seen.append(json.loads(request.content))
        return httpx.Response(500, text="")

    before = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    outcome = runops.bulk_cancel(
        make_api(handler),
        app_id="app",
        function_id="app-fn",
        started_after=before - timedelta(minutes=1),
        started_before=before,
        if_exp="event.data.x == 1",
    )
    assert (outcome.status_code, outcome.ok) == (500, False)
    assert seen == [
        {
            "app_id": "app",
            "function_id": "app-fn",
            "started_after": "2026-11-25T11:59:00+00:00",
            "started_before": "2026-11-25T12:00:00+00:00",
            "if": "event.data.x == 1",
        }
    ]


def test_rest_v2_rerun_returns_the_new_run() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", "/api/v2/runs/R/rerun")
        return httpx.Response(200, json={"data": {"runId": "R2"}})

    outcome, new_run = runops.rerun_via_rest_v2(make_api(handler), "R")
    assert (outcome.ok, new_run) == (True, "R2")


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(404, text="404 page not found"),
        httpx.Response(501, json={"errors": [{"code": "not_implemented"}]}),
        httpx.Response(200, json={"data": {}}),
    ],
)
def test_rest_v2_rerun_without_a_new_run(response: httpx.Response) -> None:
    outcome, new_run = runops.rerun_via_rest_v2(make_api(lambda r: response), "R")
    assert new_run is None
    assert outcome.status_code == response.status_code


def test_list_runs_filters_by_time_and_status() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        variables = gql_body(request)["variables"]
        assert variables["filter"] == {"from": "2026-11-25T12:00:00+00:00", "status": ["FAILED"]}
        node = {"id": "R1", "status": "FAILED", "function": {"slug": "app-fn"},
                "queuedAt": "2026-11-25T12:00:01Z"}  # fmt: skip
        return httpx.Response(200, json={"data": {"runs": {"edges": [{"node": node}]}}})

    since = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    (run,) = runops.list_runs(make_api(handler), since=since, statuses=["FAILED"])
    assert (run.id, run.status, run.function_slug) == ("R1", "FAILED", "app-fn")


def test_run_error_reads_the_trace_output() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = gql_body(request)
        if "RunOutputID" in body["query"]:
            return httpx.Response(200, json={"data": {"run": {"trace": {"outputID": "OUT"}}}})
        assert body["variables"] == {"outputID": "OUT"}
        error = {"name": "CardDeclined", "message": "declined", "stack": "Traceback …"}
        return httpx.Response(
            200, json={"data": {"runTraceSpanOutputByID": {"data": None, "error": error}}}
        )

    error = runops.run_error(make_api(handler), "R1")
    assert error == runops.RunError("CardDeclined", "declined", "Traceback …")


@pytest.mark.parametrize(
    "answers",
    [
        [{"run": {"trace": {"outputID": None}}}],
        [{"run": None}],
        [{"run": {"trace": {"outputID": "OUT"}}},
         {"runTraceSpanOutputByID": {"data": "\"ok\"", "error": None}}],
    ],
)  # fmt: skip
def test_run_error_is_none_without_an_error(answers: list[dict[str, Any]]) -> None:
    replies = iter(answers)
    api = make_api(lambda r: httpx.Response(200, json={"data": next(replies)}))
    assert runops.run_error(api, "R1") is None
