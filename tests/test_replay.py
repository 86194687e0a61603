"""harness.replay: a run's history recorded from a dev server's API, for the replay pattern.

The recording is read from a mocked dev server; the last tests (marked devserver) record the run
behind ``fixtures/replay-checkout-v1.json`` again and check the fixture still matches what a dev
server gives.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import replay_subjects as subjects

from conftest import ROOT
from harness import replay as recording
from harness.replay import record_history
from harness.servers.api import DevServerAPI
from patterns.history_replay import History, RecordedError, StepKind, replay

FIXTURE = ROOT / "tests" / "fixtures" / "replay-checkout-v1.json"


@pytest.fixture(scope="module")
def history() -> History:
    return History.load(FIXTURE)


# --- recording, against a mocked dev server -------------------------------------------------------
def _span(name: str, status: str, op: str | None, step_id: str | None, output_id: str | None
          ) -> dict[str, Any]:  # fmt: skip
    return {"name": name, "status": status, "stepOp": op, "stepID": step_id,
            "outputID": output_id}  # fmt: skip


Handler = Callable[[httpx.Request], httpx.Response]


def mock_dev_server(
    run_status: str, spans: list[dict[str, Any]], outputs: dict[str, dict[str, Any]]
) -> Handler:
    trace_status = run_status.upper()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/v1/runs/"):
            return httpx.Response(200, json={"data": {"run_id": "R1", "status": run_status,
                                                      "output": {"from": "rest"}}})  # fmt: skip
        body = json.loads(request.content)
        query, variables = body["query"], body["variables"]
        if "runTraceSpanOutputByID" in query:
            output = outputs[variables["id"]]
            return httpx.Response(200, json={"data": {"runTraceSpanOutputByID": output}})
        if "runTrigger" in query:
            payload = json.dumps({"name": "e", "data": {"k": 1}, "id": "E1", "ts": 1})
            return httpx.Response(200, json={"data": {"runTrigger": {"payloads": [payload]}}})
        trace = {"name": "fn", "status": trace_status, "stepOp": None, "stepID": None,
                 "outputID": "fn-out", "childrenSpans": spans}  # fmt: skip
        run = {"status": trace_status, "function": {"slug": "app-fn"}, "trace": trace}
        return httpx.Response(200, json={"data": {"run": run}})

    return handler


def test_record_history_reads_steps_outputs_and_event() -> None:
    spans = [
        _span("a", "COMPLETED", "RUN", "h-a", "o-a"),
        _span("boom", "FAILED", None, "h-boom", "o-boom"),  # a failed step's span has no op
        _span("child", "COMPLETED", "INVOKE", "h-child", "o-child"),
        _span("nap", "COMPLETED", "SLEEP", "h-nap", None),
        _span("function success", "COMPLETED", None, None, "fn-result"),
    ]
    outputs = {
        "o-a": {"data": '{"data": 1}', "error": None},  # a step that returned {"data": 1}
        "o-boom": {"data": None, "error": {"name": "ValueError", "message": "no", "stack": "s"}},
        "o-child": {"data": '{"data":{"x":2}}', "error": None},  # wrapped by the dev server
        "fn-result": {"data": '{"done": true}', "error": None},
    }
    api = DevServerAPI("http://dev.test", transport=httpx.MockTransport(
        mock_dev_server("Completed", spans, outputs)))  # fmt: skip
    history = record_history(api, "R1")
    assert history.function_id == "app-fn" and history.status == "COMPLETED"
    assert [(s.id, s.kind, s.output) for s in history.steps] == [
        ("a", StepKind.RUN, {"data": 1}),
        ("boom", StepKind.RUN, None),
        ("child", StepKind.INVOKE, {"x": 2}),
        ("nap", StepKind.SLEEP, None),
    ]
    assert history.steps[1].error == RecordedError(name="ValueError", message="no", stack="s")
    assert history.output == {"done": True}
    assert history.events == [{"name": "e", "data": {"k": 1}, "id": "E1", "ts": 1}]


def test_record_history_of_a_run_in_flight_keeps_only_memoized_steps() -> None:
    spans = [
        _span("a", "COMPLETED", "RUN", "h-a", "o-a"),
        _span("wait", "WAITING", "WAIT_FOR_EVENT", "h-wait", None),
        _span("Queued step", "QUEUED", None, None, None),
    ]
    api = DevServerAPI("http://dev.test", transport=httpx.MockTransport(
        mock_dev_server("Running", spans, {"o-a": {"data": "1", "error": None}})))  # fmt: skip
    history = record_history(api, "R1")
    assert history.status == "RUNNING" and not history.finished
    assert [s.id for s in history.steps] == ["a"] and history.output is None


# --- against a real dev server --------------------------------------------------------------------
def _essentials(history: History) -> list[tuple[Any, ...]]:
    return [
        (s.id, s.hashed_id, s.kind, s.status, s.output, s.error and s.error.message)
        for s in history.steps
    ]


@pytest.mark.devserver
def test_fixture_matches_a_fresh_recording(history: History, tmp_path: Path, ledger: Path) -> None:
    from harness.probing.app import AppHost
    from harness.servers.devserver import discover, free_port

    app = AppHost(Path(subjects.__file__), sys.modules["replay_subjects"], tmp_path, free_port())
    devserver = discover(app.url, tmp_path / "devserver")
    api = DevServerAPI(devserver.url)
    try:
        app.start([subjects.checkout_v1], devserver.url)
        app.sync(api)
        event_id = api.send("replay/checkout.requested", history.events[0]["data"])
        run_id = api.wait_for_runs([event_id], timeout=20)[0].id
        assert api.wait_for_run(run_id, timeout=40).status == "COMPLETED"
        fresh = record_history(api, run_id)
    finally:
        app.stop()
        api.close()
        devserver.stop()
    assert _essentials(fresh) == _essentials(history)
    assert fresh.output == history.output and fresh.events[0]["data"] == history.events[0]["data"]
    assert replay(subjects.checkout_v1, fresh).ok


def test_cli_record_without_a_dev_server_is_a_clear_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.servers.devserver import free_port

    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert recording.main(["record", "R1", "--url", url, "-o", str(tmp_path / "h.json")]) == 2
    assert "cannot read from the dev server" in capsys.readouterr().err
    assert not (tmp_path / "h.json").exists()
