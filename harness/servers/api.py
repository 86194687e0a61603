"""Reading and steering runs through the dev server's own APIs.

Two surfaces are used, each for what it does best (both checked against a real dev server):
* REST v1 (``/v1/events/{id}/runs``, ``/v1/runs/{id}``, ``DELETE /v1/runs/{id}``): run status,
  output and timestamps, and cancellation.
* The GraphQL API the dev server UI uses (``/v0/gql``): the run's trace, which is where step
  names, per-step status and attempt counts live.

The dev server caches REST v1 GET responses per URL (``/v1/runs/{id}`` for 3 s,
``/v1/events/{id}/runs`` for 15 s). Polling those URLs as they are would read stale data, so
every REST read here carries a unique query parameter.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from harness.errors import ProbeTimeout

FINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELLED", "SKIPPED", "OVERFLOWED"})
_nonce = itertools.count()


# How long a run the server just named may still be unknown to GET /v1/runs/{id}: seen once
# in CI (a run listed by GraphQL, "Unable to load function run" from REST a moment later).
RUN_APPEARS_WITHIN_S = 5.0


class RunNotFound(LookupError):
    """The dev server does not know the run (e.g. it restarted without keeping state)."""


# How long a finished run's output may lag behind its final status (see with_output).
OUTPUT_SETTLES_WITHIN_S = 1.0


class TraceNotReady(RuntimeError):
    """The run exists, but its trace has not been written yet (just after it starts)."""


# How GraphQL answers for a run whose trace is not written yet (both seen on dev server 1.43).
TRACE_NOT_READY = ("no function run span found", "no rows in result set")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value or value.startswith("0001-"):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Run:
    id: str
    status: str  # upper case: COMPLETED, FAILED, CANCELLED, RUNNING, QUEUED, ...
    output: Any
    started_at: datetime | None
    ended_at: datetime | None
    raw: dict[str, Any] = field(repr=False)

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def error(self) -> str | None:
        """A failed run's error message. The SDK reports ``{"name", "message", ...}``; errors
        raised by the dev server itself come nested as ``{"error": {"message": ...}}``."""
        if self.status != "FAILED":
            return None
        output = self.output
        if isinstance(output, dict):
            detail = output["error"] if isinstance(output.get("error"), dict) else output
            return str(detail.get("message") or detail.get("error") or output)
        return "(failed without an error message)" if output is None else str(output)

    @property
    def duration_s(self) -> float | None:
        if self.started_at and self.ended_at:
            return (self.ended_at - self.started_at).total_seconds()
        return None

    @classmethod
    def from_rest(cls, data: dict[str, Any]) -> Run:
        status = str(data.get("status", "UNKNOWN")).upper()
        return cls(
            id=str(data["run_id"]),
            status="QUEUED" if status == "SCHEDULED" else status,
            output=data.get("output"),
            started_at=_parse_time(data.get("run_started_at")),
            ended_at=_parse_time(data.get("ended_at")),
            raw=data,
        )


@dataclass(frozen=True)
class Span:
    """One node of a run's trace: the run itself, a step, or an attempt of a step."""

    name: str
    status: str
    attempts: int | None
    step_op: str | None
    step_id: str | None
    started_at: datetime | None
    ended_at: datetime | None
    children: list[Span]

    @classmethod
    def from_gql(cls, data: dict[str, Any]) -> Span:
        return cls(
            name=data.get("name") or "",
            status=data.get("status") or "UNKNOWN",
            attempts=data.get("attempts"),
            step_op=data.get("stepOp"),
            step_id=data.get("stepID"),
            started_at=_parse_time(data.get("startedAt")),
            ended_at=_parse_time(data.get("endedAt")),
            children=[cls.from_gql(c) for c in data.get("childrenSpans") or []],
        )

    def walk(self) -> Iterator[Span]:
        yield self
        for child in self.children:
            yield from child.walk()

    def steps(self, name: str | None = None) -> list[Span]:
        """Step spans (direct children of the run), optionally only those called ``name``."""
        return [s for s in self.children if name is None or s.name == name]


_SPAN_FIELDS = "name status attempts stepOp stepID startedAt endedAt"
_TRACE_QUERY = (
    "query Trace($runID: String!) { run(runID: $runID) { status trace { "
    + _SPAN_FIELDS
    + " childrenSpans { "
    + _SPAN_FIELDS
    + " childrenSpans { "
    + _SPAN_FIELDS
    + " } } } } }"
)


_STEP_OUTPUT_IDS_QUERY = (
    "query StepOutputs($runID: String!) { run(runID: $runID) { trace { childrenSpans "
    "{ name outputID } } } }"
)
_SPAN_OUTPUT_QUERY = (
    "query SpanOutput($id: String!) { runTraceSpanOutputByID(outputID: $id) "
    "{ data error { name message stack } } }"
)


class DevServerAPI:
    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        signing_key: str | None = None,
        event_key: str | None = None,
    ) -> None:
        """``signing_key``/``event_key``: a server that requires them (``inngest start``). REST
        calls then carry ``Authorization: Bearer <signing key>``; events go to ``/e/<event key>``
        (the dev server accepts any key)."""
        self.url = url.rstrip("/")
        self.event_key = event_key or "suite-key"
        headers = {"Authorization": f"Bearer {signing_key}"} if signing_key else None
        self._http = httpx.Client(
            base_url=self.url, timeout=timeout, transport=transport, headers=headers
        )

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str) -> Any:
        response = self._http.get(path, params={"_": f"{time.time_ns()}-{next(_nonce)}"})
        response.raise_for_status()
        return response.json()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One raw request (with this client's credentials), for probes that examine the API
        itself: status codes, caching, error bodies. Nothing is retried or interpreted."""
        return self._http.request(method, path, **kwargs)

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self._http.post("/v0/gql", json={"query": query, "variables": variables or {}})
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL error: {body['errors']}")
        return dict(body["data"])

    # --- events -------------------------------------------------------------------------------
    def send(self, name: str, data: dict[str, Any], *, event_id: str | None = None) -> str:
        """Send one event the way a producer would (``POST /e/{key}``); returns its event ID."""
        event: dict[str, Any] = {"name": name, "data": data}
        if event_id is not None:
            event["id"] = event_id
        response = self._http.post(f"/e/{self.event_key}", json=event)
        response.raise_for_status()
        ids = response.json().get("ids") or []
        if len(ids) != 1:
            raise RuntimeError(f"expected one event ID from the dev server, got {response.text}")
        return str(ids[0])

    def send_many(self, events: list[dict[str, Any]]) -> list[str]:
        """Send a batch of ``{"name", "data"}`` events in one request; their IDs, in order."""
        response = self._http.post(f"/e/{self.event_key}", json=events)
        response.raise_for_status()
        ids = [str(i) for i in response.json().get("ids") or []]
        if len(ids) != len(events):
            raise RuntimeError(
                f"expected {len(events)} event IDs from the dev server, got {response.text}"
            )
        return ids

    def post_event_body(self, body: bytes) -> httpx.Response:
        """POST a raw event body and return the answer as it is, error statuses included."""
        return self._http.post(
            f"/e/{self.event_key}", content=body, headers={"Content-Type": "application/json"}
        )

    def runs_for_event(self, event_id: str) -> list[Run]:
        return [Run.from_rest(r) for r in self._get(f"/v1/events/{event_id}/runs")["data"] or []]

    def runs_for_events(self, event_ids: list[str]) -> list[Run]:
        return [
            run for event_id in dict.fromkeys(event_ids) for run in self.runs_for_event(event_id)
        ]

    def wait_for_runs(self, event_ids: list[str], *, count: int = 1, timeout: float) -> list[Run]:
        """Runs the events started, once there are ``count`` of them (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        runs: list[Run] = []
        while time.monotonic() < deadline:
            runs = self.runs_for_events(event_ids)
            if len(runs) >= count:
                return runs
            time.sleep(0.2)
        raise ProbeTimeout(
            f"event(s) {', '.join(event_ids)} started {len(runs)} run(s) within {timeout:g}s, "
            f"expected {count}"
        )

    # --- runs ---------------------------------------------------------------------------------
    def get_run(self, run_id: str) -> Run:
        # An unknown run answers HTTP 200 with {"data": null, "error": "...", "status": 500}.
        body = self._get(f"/v1/runs/{run_id}")
        if not body.get("data"):
            raise RunNotFound(body.get("error") or f"no run {run_id}")
        return Run.from_rest(body["data"])

    def get_new_run(self, run_id: str, *, appear_within: float = RUN_APPEARS_WITHIN_S) -> Run:
        """``get_run`` for a run the server has just named (in an event's or a function's run
        list, or as a rerun's ID): GET /v1/runs can answer "not found" for it for a moment
        under load, so that answer only counts once ``appear_within`` seconds have passed."""
        deadline = time.monotonic() + appear_within
        while True:
            try:
                return self.get_run(run_id)
            except RunNotFound:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.2)

    def wait_for_run(
        self,
        run_id: str,
        *,
        timeout: float,
        poll: float = 0.25,
        appear_within: float = RUN_APPEARS_WITHIN_S,
    ) -> Run:
        """The run once it reaches a final status; ProbeTimeout with its last status otherwise.
        RunNotFound when the server still does not know the run after ``appear_within``."""
        deadline = time.monotonic() + timeout
        run = self.get_new_run(run_id, appear_within=min(appear_within, timeout))
        while not run.final and time.monotonic() < deadline:
            time.sleep(poll)
            run = self.get_run(run_id)
        if not run.final:
            raise ProbeTimeout(f"run {run_id} was still {run.status} after {timeout:g}s")
        return self.with_output(run)

    def with_output(self, run: Run, *, within: float = OUTPUT_SETTLES_WITHIN_S) -> Run:
        """A finished run, re-read until its output is readable (at most ``within`` seconds).

        In dev server 1.43, GraphQL's ``run`` (what the UI and the SDK's own tests read) takes
        the status from the spans and the output from a store written in batches, so it reads
        final before the output is there (OP-02 measures it: tens of milliseconds). REST v1
        reads both from one row and showed no gap there; the wait is kept as a cheap bound in
        case another server or version does. A function that returns None costs it once."""
        deadline = time.monotonic() + within
        while run.final and run.output is None and time.monotonic() < deadline:
            time.sleep(0.05)
            run = self.get_run(run.id)
        return run

    def trace(self, run_id: str) -> Span:
        try:
            data = self.graphql(_TRACE_QUERY, {"runID": run_id})
        except RuntimeError as exc:
            if any(message in str(exc) for message in TRACE_NOT_READY):
                raise TraceNotReady(f"run {run_id} has no trace yet") from exc
            raise
        trace = (data.get("run") or {}).get("trace")
        if not trace:
            raise TraceNotReady(f"run {run_id} has no trace yet")
        return Span.from_gql(trace)

    def final_trace(self, run_id: str, *, timeout: float = 10.0) -> Span:
        """The trace of a finished run, once the trace store has caught up with REST."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(TraceNotReady):
                trace = self.trace(run_id)
                if trace.status in FINAL_STATUSES:
                    return trace
            if time.monotonic() > deadline:
                raise ProbeTimeout(f"the trace of run {run_id} did not reach a final status")
            time.sleep(0.2)

    def wait_for_step(self, run_id: str, step: str, *, timeout: float) -> bool:
        """Wait until the run's trace shows a step called ``step``; False after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(TraceNotReady):
                if self.trace(run_id).steps(step):
                    return True
            time.sleep(0.2)
        return False

    def step_result(self, run_id: str, step: str) -> dict[str, Any] | None:
        """What the trace stored for the step called ``step``: ``{"data": …}`` (JSON text as
        the dev server keeps it) or ``{"error": {"name", "message", "stack"}}``; None when the
        trace has no such step with a stored result (yet)."""
        try:
            data = self.graphql(_STEP_OUTPUT_IDS_QUERY, {"runID": run_id})
        except RuntimeError as exc:
            if any(message in str(exc) for message in TRACE_NOT_READY):
                return None
            raise
        spans = ((data.get("run") or {}).get("trace") or {}).get("childrenSpans") or []
        for span in spans:
            if span.get("name") == step and span.get("outputID"):
                stored = self.graphql(_SPAN_OUTPUT_QUERY, {"id": span["outputID"]})
                result = stored.get("runTraceSpanOutputByID") or {}
                if result.get("error"):
                    return {"error": result["error"]}
                return {"data": result.get("data")}
        return None

    def cancel(self, run_id: str) -> None:
        """Cancel a run (``DELETE /v1/runs/{id}``).

        ``inngest start`` on PostgreSQL (v1.43.0) answers 404 there for a run that exists (its
        run query leaves out the environment ID the handler compares); GraphQL's ``cancelRun``
        works, so a 404 falls back to it. OP-02 measures the REST call itself.
        """
        response = self._http.delete(f"/v1/runs/{run_id}")
        if response.status_code == 404:
            self.graphql("mutation($id: ULID!) { cancelRun(runID: $id) { id } }", {"id": run_id})
            return
        response.raise_for_status()

    # --- apps and functions -------------------------------------------------------------------
    def function_slugs(self) -> set[str]:
        data = self.graphql("query { functions { slug } }")
        return {f["slug"] for f in data.get("functions") or []}

    def apps(self) -> list[dict[str, Any]]:
        """Every app the dev server knows: ``id``, ``name``, ``url``, ``error`` and ``functions``
        (``slug``, trigger ``value``s). An app that failed to sync keeps the reason in ``error``;
        the dev server shows app URLs with ``localhost`` for ``127.0.0.1``."""
        data = self.graphql(
            "query { apps { id name url error functions { slug triggers { value } } } }"
        )
        return list(data.get("apps") or [])

    def delete_app(self, app_id: str) -> None:
        """Forget an app (what "Remove app" in the UI does)."""
        self.graphql("mutation Delete($id: String!) { deleteApp(id: $id) }", {"id": app_id})

    def app_errors(self) -> dict[str, str]:
        data = self.graphql("query { apps { name url error } }")
        return {a["url"] or a["name"]: a["error"] for a in data.get("apps") or [] if a["error"]}

    def function_uuids(self) -> dict[str, str]:
        """Function slug -> the dev server's internal function ID (GraphQL filters take it)."""
        data = self.graphql("query { functions { id slug } }")
        return {f["slug"]: f["id"] for f in data.get("functions") or []}

    def runs_since(
        self, since: datetime, *, function_uuid: str, page_size: int = 200, max_runs: int = 5000
    ) -> list[RunSummary]:
        """Runs of one function queued since ``since`` (GraphQL ``runs``, all pages).

        Dev server 1.43 pages this list unreliably when many runs are queued within the same
        milliseconds: some runs are listed twice (rows are deduplicated here by run ID) and
        others not at all (381 of 400 in one burst, still 15 s after all had ended, on a busy
        machine). Count runs per event through REST when every run matters.
        """
        runs: list[RunSummary] = []
        cursor: str | None = None
        while len(runs) < max_runs:
            data = self.graphql(
                _RUNS_QUERY,
                {
                    "from": since.isoformat(),
                    "functionIDs": [function_uuid],
                    "first": page_size,
                    "after": cursor,
                },
            )["runs"]
            runs += [RunSummary.from_gql(edge["node"]) for edge in data["edges"]]
            if not data["pageInfo"]["hasNextPage"]:
                break
            cursor = data["pageInfo"]["endCursor"]
        return list({run.id: run for run in runs}.values())


@dataclass(frozen=True)
class RunSummary:
    """A row of the GraphQL ``runs`` list (what the UI's runs page shows).

    Dev server 1.43 leaves ``endedAt`` empty here (and reports ``startedAt`` = ``queuedAt``):
    read when a run ended from :meth:`DevServerAPI.get_run`."""

    id: str
    status: str
    queued_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None

    @classmethod
    def from_gql(cls, node: dict[str, Any]) -> RunSummary:
        return cls(
            id=str(node["id"]),
            status=str(node.get("status") or "UNKNOWN"),
            queued_at=_parse_time(node.get("queuedAt")),
            started_at=_parse_time(node.get("startedAt")),
            ended_at=_parse_time(node.get("endedAt")),
        )


_RUNS_QUERY = """
query Runs($from: Time!, $functionIDs: [UUID!], $first: Int!, $after: String) {
  runs(
    filter: {from: $from, functionIDs: $functionIDs, timeField: QUEUED_AT}
    orderBy: [{field: QUEUED_AT, direction: ASC}]
    first: $first
    after: $after
  ) {
    edges { node { id status queuedAt startedAt endedAt } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
