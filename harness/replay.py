"""Recording a run's step history from the suite's dev server, for patterns.history_replay.

The replay itself (:func:`patterns.history_replay.replay`) needs no server; this module reads a
finished or in-flight run back from a dev server's GraphQL API (the run's trace, each step's
output or error, the triggering events and the run's output) into a
:class:`patterns.history_replay.History`. The suite records histories with it (VR-02, DX-07) and
``python -m harness.replay record RUN_ID --url http://127.0.0.1:8288 -o history.json`` writes one
as a JSON fixture for ``python -m patterns.history_replay check``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from harness.errors import ProbeTimeout
from harness.servers.api import FINAL_STATUSES, TRACE_NOT_READY, DevServerAPI, TraceNotReady
from patterns.history_replay import (
    History,
    RecordedError,
    RecordedStep,
    StepKind,
)

_KIND_OF_TRACE_OP = {
    "RUN": StepKind.RUN,
    "SLEEP": StepKind.SLEEP,
    "WAIT_FOR_EVENT": StepKind.WAIT_FOR_EVENT,
    "INVOKE": StepKind.INVOKE,
    "AI_GATEWAY": StepKind.AI,
    "WAIT_FOR_SIGNAL": StepKind.WAIT_FOR_SIGNAL,
}


# --- recording it from a dev server --------------------------------------------------------------
_SPAN = "name status stepOp stepID outputID"
_HISTORY_QUERY = (
    "query History($runID: String!) { run(runID: $runID) { status function { slug } "
    f"trace {{ {_SPAN} childrenSpans {{ {_SPAN} }} }} }} }}"
)
_OUTPUT_QUERY = (
    "query Output($id: String!) { runTraceSpanOutputByID(outputID: $id) "
    "{ data error { name message stack } } }"
)
_TRIGGER_QUERY = "query Trigger($runID: String!) { runTrigger(runID: $runID) { payloads } }"
# Spans of the run that are not steps: the function's own result, a request being queued.
_MEMOIZED = frozenset({"COMPLETED", "FAILED"})


def record_history(api: DevServerAPI, run_id: str, *, timeout: float = 15.0) -> History:
    """The step history of run ``run_id`` as the dev server at ``api`` holds it.

    A finished run is recorded once its trace has caught up with its final status (bounded by
    ``timeout``). A run in flight is recorded as it is: the steps that completed or failed so
    far, which are what a deploy would hand to the new code. Raises ``RunNotFound`` for an
    unknown run and ProbeTimeout when the trace never becomes readable.
    """
    final = api.get_run(run_id).final
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(TraceNotReady):
            run = _read_run(api, run_id)
            trace = run.get("trace") or {}
            if trace and (not final or trace.get("status") in FINAL_STATUSES):
                break
        if time.monotonic() > deadline:
            raise ProbeTimeout(f"the trace of run {run_id} was not readable within {timeout:g}s")
        time.sleep(0.2)

    steps: list[RecordedStep] = []
    output: Any = None
    for span in trace.get("childrenSpans") or []:
        if not span.get("stepID"):
            if span.get("outputID") and trace.get("status") == "COMPLETED":
                output = _decode(_span_output(api, span["outputID"]).get("data"))
            continue
        if span.get("status") not in _MEMOIZED:
            continue  # running, waiting or queued: not memoized yet
        steps.append(_recorded_step(api, span))
    if output is None and trace.get("status") in FINAL_STATUSES:
        output = api.with_output(api.get_run(run_id)).output
    payloads = api.graphql(_TRIGGER_QUERY, {"runID": run_id})["runTrigger"]["payloads"]
    return History(
        function_id=str((run.get("function") or {}).get("slug") or ""),
        run_id=run_id,
        status=str(trace.get("status") or run.get("status") or "UNKNOWN"),
        events=[_decode(p) for p in payloads],
        steps=steps,
        output=output,
        recorded_from=api.url,
    )


def _read_run(api: DevServerAPI, run_id: str) -> dict[str, Any]:
    try:
        data = api.graphql(_HISTORY_QUERY, {"runID": run_id})
    except RuntimeError as exc:
        if any(message in str(exc) for message in TRACE_NOT_READY):
            raise TraceNotReady(f"run {run_id} has no trace yet") from exc
        raise
    run = data.get("run")
    if not run or not run.get("trace"):
        raise TraceNotReady(f"run {run_id} has no trace yet")
    return dict(run)


def _span_output(api: DevServerAPI, output_id: str) -> dict[str, Any]:
    return dict(api.graphql(_OUTPUT_QUERY, {"id": output_id})["runTraceSpanOutputByID"] or {})


def _decode(raw: Any) -> Any:
    """Span outputs and trigger payloads come as JSON text (GraphQL ``Bytes``)."""
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _recorded_step(api: DevServerAPI, span: dict[str, Any]) -> RecordedStep:
    kind = _KIND_OF_TRACE_OP.get(span.get("stepOp") or "", StepKind.UNKNOWN)
    output: Any = None
    error: RecordedError | None = None
    if span.get("outputID"):
        stored = _span_output(api, span["outputID"])
        if stored.get("error"):
            error = RecordedError.model_validate(stored["error"])
        else:
            output = _decode(stored.get("data"))
            if kind is StepKind.INVOKE and isinstance(output, dict) and set(output) == {"data"}:
                output = output["data"]  # the dev server wraps an invoked function's result
    if error is None and span.get("status") == "FAILED":
        error = RecordedError(message="the step failed (no error was stored)")
    if error is not None and kind is StepKind.UNKNOWN:
        kind = StepKind.RUN  # only run steps fail with an error of their own
    return RecordedStep(
        id=str(span.get("name") or ""),
        hashed_id=str(span["stepID"]),
        kind=kind,
        status=str(span.get("status")),
        output=output,
        error=error,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.replay",
        description="Record a run's step history from a dev server as a JSON fixture (replay it "
        "with python -m patterns.history_replay check). Exit codes: 0 recorded, 2 bad input.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    record = commands.add_parser("record", help="save a run's history as a JSON fixture")
    record.add_argument("run_id")
    record.add_argument("--url", default="http://127.0.0.1:8288", help="dev server URL")
    record.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    api = DevServerAPI(args.url)
    try:
        history = record_history(api, args.run_id)
    except httpx.HTTPError as exc:
        print(f"error: cannot read from the dev server at {args.url}: {exc}", file=sys.stderr)
        return 2
    except (ValueError, LookupError, OSError, RuntimeError, ProbeTimeout) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        api.close()
    print(f"{history.save(args.output)}: {len(history.steps)} steps ({history.status})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
