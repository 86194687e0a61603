"""Steering and inspecting runs beyond what :mod:`harness.servers.api` covers.

* waiting for several runs at once;
* manual operations an operator has on a dev server: cancel through the GraphQL API its UI uses
  (``cancelRun``), rerun a run from the start or from one of its steps (``rerun``), and the
  REST bulk cancellation endpoint (``POST /v1/cancellations``);
* reading failed runs afterwards: listing them by status (GraphQL ``runs``) and reading a run's
  error (name, message, stack) from its trace (``runTraceSpanOutputByID``).

The GraphQL operations are the ones the dev server UI sends (ui/apps/dev-server-ui/src/
coreapi.ts) against the schema in pkg/coreapi/gql.*.graphql of inngest/inngest. Each was
checked against a real dev server 1.43.0; what did not work there is said where it is used.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from harness.errors import ProbeTimeout
from harness.servers.api import DevServerAPI, Run

_CANCEL_RUN = "mutation CancelRun($runID: ULID!) { cancelRun(runID: $runID) { id status } }"
_RERUN = "mutation Rerun($runID: ULID!) { rerun(runID: $runID) }"
_RERUN_FROM_STEP = (
    "mutation RerunFromStep($runID: ULID!, $fromStep: RerunFromStepInput!) "
    "{ rerun(runID: $runID, fromStep: $fromStep) }"
)
_RUNS = (
    "query Runs($filter: RunsFilterV2!, $first: Int!) { runs(first: $first, filter: $filter, "
    "orderBy: [{field: QUEUED_AT, direction: DESC}]) "
    "{ edges { node { id status function { slug } queuedAt } } } }"
)
_RUN_OUTPUT_ID = "query RunOutputID($runID: String!) { run(runID: $runID) { trace { outputID } } }"
_SPAN_OUTPUT = (
    "query SpanOutput($outputID: String!) { runTraceSpanOutputByID(outputID: $outputID) "
    "{ data error { name message stack } } }"
)


def wait_for_all(api: DevServerAPI, run_ids: Sequence[str], *, timeout: float) -> list[Run]:
    """Every run in ``run_ids`` once it is final, in the same order; one deadline for all.

    ProbeTimeout names the runs that were still not final.
    """
    deadline = time.monotonic() + timeout
    finished: dict[str, Run] = {}
    pending = list(dict.fromkeys(run_ids))
    while pending:
        for run_id in list(pending):
            run = api.get_new_run(run_id)
            if run.final:
                finished[run_id] = run
                pending.remove(run_id)
        if not pending:
            break
        if time.monotonic() > deadline:
            raise ProbeTimeout(
                f"{len(pending)} of {len(finished) + len(pending)} run(s) were not finished "
                f"after {timeout:g}s: {', '.join(pending)}"
            )
        time.sleep(0.25)
    return [finished[run_id] for run_id in run_ids]


# --- manual operations ----------------------------------------------------------------------------
def cancel_via_graphql(api: DevServerAPI, run_id: str) -> str:
    """Cancel a run as the UI's Cancel button does; returns the status GraphQL answers with."""
    data = api.graphql(_CANCEL_RUN, {"runID": run_id})
    return str((data.get("cancelRun") or {}).get("status") or "")


def rerun(api: DevServerAPI, run_id: str, *, from_step_id: str | None = None) -> str:
    """Start a new run of ``run_id``'s function with its event; returns the new run's ID.

    Without ``from_step_id`` the new run starts from scratch (the UI's "Rerun"). With the
    hashed ID of one of the run's steps (``Span.step_id`` from the trace), the steps before it
    are copied from the original run and execution starts at that step ("Rerun from step").
    """
    if from_step_id is None:
        data = api.graphql(_RERUN, {"runID": run_id})
    else:
        data = api.graphql(
            _RERUN_FROM_STEP, {"runID": run_id, "fromStep": {"stepID": from_step_id}}
        )
    new_id = data.get("rerun")
    if not new_id:
        raise RuntimeError(f"rerun of {run_id} returned no run ID: {data}")
    return str(new_id)


@dataclass(frozen=True)
class HttpOutcome:
    """What an HTTP endpoint answered: kept as evidence whether or not it worked."""

    status_code: int
    body: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


def bulk_cancel(
    api: DevServerAPI,
    *,
    app_id: str,
    function_id: str,
    started_after: datetime,
    started_before: datetime,
    if_exp: str | None = None,
) -> HttpOutcome:
    """``POST /v1/cancellations``: cancel a function's runs started in a time window.

    ``function_id`` is the function's full ID as the dev server lists it (app ID prefix
    included). The answer is returned as it is, errors included, because whether the endpoint
    works is what a probe wants to know.
    """
    body: dict[str, Any] = {
        "app_id": app_id,
        "function_id": function_id,
        "started_after": started_after.astimezone(UTC).isoformat(),
        "started_before": started_before.astimezone(UTC).isoformat(),
    }
    if if_exp is not None:
        body["if"] = if_exp
    response = api.request("POST", "/v1/cancellations", json=body)
    return HttpOutcome(response.status_code, response.text[:500])


def rerun_via_rest_v2(api: DevServerAPI, run_id: str) -> tuple[HttpOutcome, str | None]:
    """``POST /api/v2/runs/<id>/rerun`` (REST v2, marked beta): what it answered, and the new
    run's ID when it started one (``{"data": {"runId": …}}``)."""
    response = api.request("POST", f"/api/v2/runs/{run_id}/rerun", json={})
    outcome = HttpOutcome(response.status_code, response.text[:200])
    try:
        body = response.json()
    except ValueError:
        return outcome, None
    data = body.get("data") if isinstance(body, dict) and outcome.ok else None
    new_id = data.get("runId") if isinstance(data, dict) else None
    return outcome, str(new_id) if new_id else None


# --- failed runs afterwards -----------------------------------------------------------------------
@dataclass(frozen=True)
class RunSummary:
    id: str
    status: str
    function_slug: str
    queued_at: str


def list_runs(
    api: DevServerAPI,
    *,
    since: datetime,
    statuses: Sequence[str] | None = None,
    first: int = 200,
) -> list[RunSummary]:
    """Runs queued since ``since``, newest first, optionally only those with ``statuses``.

    The list's statuses come from the dev server's run index; for one run's current status,
    read ``/v1/runs/{id}`` (DevServerAPI.get_run) instead.
    """
    run_filter: dict[str, Any] = {"from": since.astimezone(UTC).isoformat()}
    if statuses:
        run_filter["status"] = list(statuses)
    data = api.graphql(_RUNS, {"filter": run_filter, "first": first})
    edges = (data.get("runs") or {}).get("edges") or []
    return [
        RunSummary(
            id=str(node["id"]),
            status=str(node.get("status") or ""),
            function_slug=str((node.get("function") or {}).get("slug") or ""),
            queued_at=str(node.get("queuedAt") or ""),
        )
        for node in (edge["node"] for edge in edges)
    ]


@dataclass(frozen=True)
class RunError:
    name: str | None
    message: str | None
    stack: str | None


def run_error(api: DevServerAPI, run_id: str) -> RunError | None:
    """A finished run's error as its trace stores it (what the UI shows); None if it has none."""
    trace = (api.graphql(_RUN_OUTPUT_ID, {"runID": run_id}).get("run") or {}).get("trace") or {}
    output_id = trace.get("outputID")
    if not output_id:
        return None
    output = api.graphql(_SPAN_OUTPUT, {"outputID": output_id}).get("runTraceSpanOutputByID")
    error = (output or {}).get("error")
    if not error:
        return None
    return RunError(name=error.get("name"), message=error.get("message"), stack=error.get("stack"))
