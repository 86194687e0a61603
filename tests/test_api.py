"""DevServerAPI against an httpx.MockTransport: cache busting, parsing, polling and traces."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from harness.errors import ProbeTimeout
from harness.servers.api import DevServerAPI, Run, RunNotFound, Span, TraceNotReady

URL = "http://devserver.test:8288"

Handler = Callable[[httpx.Request], httpx.Response]


def make_api(handler: Handler) -> DevServerAPI:
    return DevServerAPI(URL + "/", transport=httpx.MockTransport(handler))


def rest_run(status: str, run_id: str = "R1", output: Any = None) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "status": status,
        "run_started_at": "2026-11-24T12:00:00Z",
        "ended_at": "2026-11-24T12:00:01.5Z",
        "output": output,
    }


def run_of(status: str, output: Any) -> Run:
    return Run.from_rest(rest_run(status, output=output))


# --- REST reads -----------------------------------------------------------------------------
def test_every_get_carries_a_unique_cache_buster() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.startswith("/v1/events/"):
            return httpx.Response(200, json={"data": [rest_run("Running")]})
        return httpx.Response(200, json={"data": rest_run("Running")})

    api = make_api(handler)
    api.get_run("R1")
    api.get_run("R1")
    assert [r.id for r in api.runs_for_event("E1")] == ["R1"]
    assert [r.url.path for r in seen] == ["/v1/runs/R1", "/v1/runs/R1", "/v1/events/E1/runs"]
    assert all(r.method == "GET" for r in seen)
    busters = [r.url.params.get("_") for r in seen]
    assert all(busters)
    assert len(set(busters)) == 3


def test_get_run_parses_rest_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/runs/01RUN"
        body = rest_run("Completed", run_id="01RUN", output={"a": 1})
        return httpx.Response(200, json={"data": body})

    run = make_api(handler).get_run("01RUN")
    assert run.id == "01RUN"
    assert run.status == "COMPLETED"
    assert run.final is True
    assert run.output == {"a": 1}
    assert run.started_at == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert run.duration_s == pytest.approx(1.5)
    assert run.error is None


def test_scheduled_maps_to_queued() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"run_id": "R1", "status": "Scheduled", "run_started_at": None, "ended_at": None}
        return httpx.Response(200, json={"data": body})

    run = make_api(handler).get_run("R1")
    assert run.status == "QUEUED"
    assert run.final is False
    assert run.duration_s is None


def test_zero_go_time_is_no_time() -> None:
    run = Run.from_rest({"run_id": "R", "status": "Running", "ended_at": "0001-01-01T00:00:00Z"})
    assert run.ended_at is None
    assert run.started_at is None


def test_unknown_run_raises_run_not_found() -> None:
    message = "Unable to load function run: X"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"error": message, "data": None, "status": 500})

    with pytest.raises(RunNotFound) as excinfo:
        make_api(handler).get_run("X")
    assert str(excinfo.value) == message
    assert isinstance(excinfo.value, LookupError)


def test_a_run_just_named_may_be_unknown_for_a_moment() -> None:
    # Seen in CI: a run listed by GraphQL, "Unable to load function run" from REST just after.
    answers = iter(["missing", "missing", "Completed"])

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        if answer == "missing":
            return httpx.Response(200, json={"error": "Unable to load", "data": None})
        return httpx.Response(200, json={"data": rest_run(answer, output="done")})

    run = make_api(handler).wait_for_run("R1", timeout=5, poll=0.01, appear_within=2)
    assert run.status == "COMPLETED"


def test_a_run_still_unknown_after_the_grace_is_not_found() -> None:
    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        return httpx.Response(200, json={"error": "Unable to load", "data": None})

    with pytest.raises(RunNotFound):
        make_api(handler).wait_for_run("R1", timeout=5, appear_within=0.5)
    assert len(calls) >= 2  # it asked again before giving up
    assert calls[-1] - calls[0] < 1.5  # and gave up once the grace was over, not at timeout


def test_http_error_status_raises() -> None:
    api = make_api(lambda request: httpx.Response(503, json={}))
    with pytest.raises(httpx.HTTPStatusError):
        api.get_run("R1")


# --- Run.error --------------------------------------------------------------------------------
def test_error_from_sdk_shaped_output() -> None:
    assert run_of("Failed", {"name": "Error", "message": "boom"}).error == "boom"


def test_error_from_dev_server_shaped_output() -> None:
    assert run_of("Failed", {"error": {"error": "x", "message": "nested"}}).error == "nested"


def test_error_falls_back_to_nested_error_field() -> None:
    assert run_of("Failed", {"error": {"error": "only error"}}).error == "only error"
    assert run_of("Failed", "plain text").error == "plain text"


def test_error_is_none_unless_failed() -> None:
    assert run_of("Completed", {"name": "Error", "message": "boom"}).error is None
    assert run_of("Cancelled", {"message": "m"}).error is None


# --- polling --------------------------------------------------------------------------------
def test_wait_for_run_times_out_naming_last_status() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200, json={"data": rest_run("Running")})

    with pytest.raises(ProbeTimeout, match="RUNNING") as excinfo:
        make_api(handler).wait_for_run("R1", timeout=0.3, poll=0.02)
    assert "R1" in str(excinfo.value)
    assert calls >= 2


def test_wait_for_run_returns_when_completed_on_third_poll() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        status = "Completed" if calls >= 3 else "Running"
        return httpx.Response(200, json={"data": rest_run(status, output="done")})

    run = make_api(handler).wait_for_run("R1", timeout=5, poll=0.01)
    assert run.status == "COMPLETED"
    assert run.output == "done"
    assert calls == 3


def test_a_final_run_is_read_again_until_its_output_is_there() -> None:
    # As dev server 1.43 answers: final first, the output a few reads later.
    reads = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal reads
        reads += 1
        output = {"total": 3} if reads >= 3 else None
        return httpx.Response(200, json={"data": rest_run("Completed", output=output)})

    run = make_api(handler).wait_for_run("R1", timeout=5, poll=0.01)
    assert run.output == {"total": 3} and reads == 3


def test_an_output_that_stays_empty_costs_a_bounded_wait() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": rest_run("Completed", output=None)})

    api = make_api(handler)
    started = time.monotonic()
    run = api.with_output(api.get_run("R1"), within=0.3)
    assert run.output is None and 0.3 <= time.monotonic() - started < 1.0


def test_a_running_run_is_not_waited_on_for_output() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("a run that is not final must not be read again")

    api = make_api(handler)
    assert api.with_output(run_of("Running", None)).status == "RUNNING"


def test_wait_for_runs_over_two_events() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        if request.url.path == "/v1/events/E2/runs":
            runs = [rest_run("Running", run_id="R2a"), rest_run("Completed", run_id="R2b")]
            return httpx.Response(200, json={"data": runs})
        return httpx.Response(200, json={"data": None})

    runs = make_api(handler).wait_for_runs(["E1", "E2", "E1"], count=2, timeout=5)
    assert [r.id for r in runs] == ["R2a", "R2b"]
    assert sorted(paths) == ["/v1/events/E1/runs", "/v1/events/E2/runs"]


def test_wait_for_runs_times_out() -> None:
    api = make_api(lambda request: httpx.Response(200, json={"data": []}))
    with pytest.raises(ProbeTimeout, match="E9"):
        api.wait_for_runs(["E9"], count=1, timeout=0.1)


# --- events ---------------------------------------------------------------------------------
def test_send_posts_event_and_returns_id() -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"ids": ["01ABC"], "status": 200})

    api = make_api(handler)
    assert api.send("test/go", {"tag": "t1"}) == "01ABC"
    assert api.send("test/go", {"n": 2}, event_id="dedupe-1") == "01ABC"

    first, second = requests
    assert first.method == "POST"
    assert first.url.path.startswith("/e/")
    assert len(first.url.path) > len("/e/")
    assert json.loads(first.content) == {"name": "test/go", "data": {"tag": "t1"}}
    assert json.loads(second.content) == {"name": "test/go", "data": {"n": 2}, "id": "dedupe-1"}


@pytest.mark.parametrize("ids", [[], ["a", "b"], None])
def test_send_rejects_other_than_one_id(ids: list[str] | None) -> None:
    api = make_api(lambda request: httpx.Response(200, json={"ids": ids, "status": 200}))
    with pytest.raises(RuntimeError, match="one event ID"):
        api.send("test/go", {})


# --- GraphQL --------------------------------------------------------------------------------
def span(name: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "status": status,
        "attempts": extra.get("attempts"),
        "stepOp": extra.get("stepOp"),
        "stepID": extra.get("stepID"),
        "startedAt": extra.get("startedAt"),
        "endedAt": extra.get("endedAt"),
        "childrenSpans": extra.get("children", []),
    }


TRACE = span(
    "fn",
    "COMPLETED",
    attempts=0,
    children=[
        span(
            "b",
            "COMPLETED",
            attempts=1,
            stepOp="RUN",
            stepID="h",
            children=[
                span("Attempt 0", "FAILED", startedAt="2026-11-24T12:00:00Z"),
                span("Attempt 1", "COMPLETED", endedAt="2026-11-24T12:00:02Z"),
            ],
        ),
        span("c", "RUNNING", stepOp="SLEEP", stepID="s"),
    ],
)


def test_trace_builds_span_tree() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.url.path == "/v0/gql"
        body = json.loads(request.content)
        assert body["variables"] == {"runID": "R1"}
        assert "childrenSpans" in body["query"]
        return httpx.Response(200, json={"data": {"run": {"status": "COMPLETED", "trace": TRACE}}})

    root = make_api(handler).trace("R1")
    assert isinstance(root, Span)
    assert root.name == "fn"
    assert root.attempts == 0
    assert root.step_op is None

    (b,) = root.steps("b")
    assert b.status == "COMPLETED"
    assert b.attempts == 1
    assert b.step_op == "RUN"
    assert b.step_id == "h"
    assert [a.name for a in b.children] == ["Attempt 0", "Attempt 1"]
    assert [a.status for a in b.children] == ["FAILED", "COMPLETED"]
    assert b.children[0].started_at == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert b.children[1].ended_at == datetime(2026, 11, 24, 12, 0, 2, tzinfo=UTC)

    assert [s.name for s in root.steps()] == ["b", "c"]
    assert root.steps("missing") == []
    assert [s.name for s in root.walk()] == ["fn", "b", "Attempt 0", "Attempt 1", "c"]


def test_trace_missing_raises() -> None:
    api = make_api(lambda request: httpx.Response(200, json={"data": {"run": None}}))
    with pytest.raises(RuntimeError, match="no trace"):
        api.trace("R1")


def test_graphql_errors_raise() -> None:
    body = {"errors": [{"message": "Cannot query field"}], "data": None}
    api = make_api(lambda request: httpx.Response(200, json=body))
    with pytest.raises(RuntimeError, match="Cannot query field"):
        api.graphql("query { nope }")


def test_graphql_returns_data() -> None:
    body = {"data": {"functions": [{"slug": "app-a"}, {"slug": "app-b"}]}}
    api = make_api(lambda request: httpx.Response(200, json=body))
    assert api.function_slugs() == {"app-a", "app-b"}


def test_trace_not_ready_right_after_start_is_waited_out() -> None:
    """Just after a run starts, GraphQL answers 'no function run span found'."""
    answers = iter(
        [
            {"errors": [{"message": "error retrieving run: sql: no rows in result set"}]},
            {"data": {"run": None}, "errors": [{"message": "no function run span found"}]},
            {"data": {"run": {"status": "RUNNING", "trace": None}}},
            {"data": {"run": {"status": "RUNNING", "trace": {
                "name": "fn", "status": "RUNNING", "childrenSpans": [
                    {"name": "nap", "status": "WAITING", "stepOp": "SLEEP", "childrenSpans": []}
                ]}}}},
        ]
    )  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=next(answers))

    api = make_api(handler)
    with pytest.raises(TraceNotReady):
        api.trace("R1")
    assert api.wait_for_step("R1", "nap", timeout=5)


def test_other_graphql_errors_are_not_mistaken_for_a_missing_trace() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"errors": [{"message": "syntax error"}]})

    with pytest.raises(RuntimeError, match="syntax error") as caught:
        make_api(handler).trace("R1")
    assert not isinstance(caught.value, TraceNotReady)


def test_wait_for_step_gives_up_after_its_timeout() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": {"run": {"trace": None}}})

    assert make_api(handler).wait_for_step("R1", "nap", timeout=0.3) is False


def test_final_trace_waits_for_the_trace_store_to_catch_up() -> None:
    statuses = iter(["RUNNING", "RUNNING", "COMPLETED"])

    def handler(request: httpx.Request) -> httpx.Response:
        trace = {"name": "fn", "status": next(statuses), "childrenSpans": []}
        return httpx.Response(200, json={"data": {"run": {"trace": trace}}})

    assert make_api(handler).final_trace("R1", timeout=5).status == "COMPLETED"
