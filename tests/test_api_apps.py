"""DevServerAPI additions for the DX items: apps, removing an app, a step's stored result."""

from __future__ import annotations

import json

import httpx

from harness.servers.api import DevServerAPI


def api_answering(
    answers: dict[str, dict[str, object]], seen: list[dict[str, object]]
) -> DevServerAPI:
    """A client whose GraphQL calls get the answer keyed by the query's operation name."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        for name, data in answers.items():
            if name in body["query"]:
                return httpx.Response(200, json={"data": data})
        return httpx.Response(200, json={"errors": [{"message": "unexpected query"}]})

    return DevServerAPI("http://devserver.test", transport=httpx.MockTransport(handler))


def test_apps_lists_errors_and_registered_functions() -> None:
    seen: list[dict[str, object]] = []
    apps = [{"id": "a1", "name": "x", "url": "http://localhost:1/api/inngest", "error": "bad cron",
             "functions": []}]  # fmt: skip
    api = api_answering({"apps": {"apps": apps}}, seen)
    assert api.apps() == apps
    assert "functions { slug triggers { value } }" in str(seen[0]["query"])


def test_delete_app_sends_the_mutation_with_the_id() -> None:
    seen: list[dict[str, object]] = []
    api = api_answering({"deleteApp": {"deleteApp": "a1"}}, seen)
    api.delete_app("a1")
    assert seen[0]["variables"] == {"id": "a1"}


def test_step_result_reads_the_named_steps_stored_error() -> None:
    seen: list[dict[str, object]] = []
    spans = {"run": {"trace": {"childrenSpans": [
        {"name": "other", "outputID": "o0"}, {"name": "charge", "outputID": "o1"}]}}}  # fmt: skip
    error = {"name": "PaymentDeclined", "message": "declined", "stack": "Traceback…"}
    api = api_answering(
        {"StepOutputs": spans, "SpanOutput": {"runTraceSpanOutputByID": {"data": None,
                                                                         "error": error}}},
        seen,
    )  # fmt: skip
    assert api.step_result("R1", "charge") == {"error": error}
    assert seen[1]["variables"] == {"id": "o1"}
    assert api.step_result("R1", "missing") is None


def test_step_result_of_a_run_without_a_trace_yet_is_none() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"errors": [{"message": "no function run span found"}]})

    api = DevServerAPI("http://devserver.test", transport=httpx.MockTransport(handler))
    assert api.step_result("R1", "charge") is None
