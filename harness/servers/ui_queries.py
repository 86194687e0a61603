"""The GraphQL queries the dev server's UI sends, and readers for their answers.

The query texts are those of the UI bundled with dev server v1.43 (``ui/apps/dev-server-ui/src/
coreapi.ts`` in the inngest/inngest repository): the run page loads a run with :data:`GET_RUN`,
a step's input/output/error with :data:`GET_TRACE_RESULT` and the triggering event with
:data:`GET_TRIGGER`; the runs page lists runs with :data:`GET_RUNS`. Sending the same queries
checks that what the UI would show is there, whether or not a browser renders it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx

from harness.servers.api import DevServerAPI

TRACE_DETAILS_FRAGMENT = """
  fragment TraceDetails on RunTraceSpan {
    name
    status
    attempts
    queuedAt
    scheduledAt
    startedAt
    endedAt
    isRoot
    isUserland
    userlandSpan {
      spanName
      spanKind
      serviceName
      scopeName
      scopeVersion
      spanAttrs
      resourceAttrs
    }
    metadata {
      scope
      kind
      values
      updatedAt
    }
    outputID
    groupID
    debugRunID
    debugSessionID
    spanID
    stepID
    stepOp
    stepType
    stepInfo {
      __typename
      ... on InvokeStepInfo {
        triggeringEventID
        functionID
        timeout
        returnEventID
        runID
        timedOut
      }
      ... on SleepStepInfo {
        sleepUntil
      }
      ... on WaitForEventStepInfo {
        eventName
        expression
        timeout
        foundEventID
        timedOut
      }
      ... on RunStepInfo {
        type
      }
      ... on WaitForSignalStepInfo {
        signal
        timeout
        timedOut
      }
    }
    response {
      statusCode
      headers
    }
  }
"""

GET_RUN = (
    """
  query GetRun($runID: String!, $preview: Boolean) {
    run(runID: $runID) {
      function {
        app {
          name
          method
        }
        id
        name
        slug
      }
      status
      trace(preview: $preview) {
        ...TraceDetails
        childrenSpans {
          ...TraceDetails
          childrenSpans {
            ...TraceDetails
            childrenSpans {
              ...TraceDetails
              childrenSpans {
                ...TraceDetails
              }
            }
          }
        }
      }
      hasAI
    }
  }
"""
    + TRACE_DETAILS_FRAGMENT
)

GET_TRACE_RESULT = """
  query GetTraceResult($traceID: String!) {
    runTraceSpanOutputByID(outputID: $traceID) {
      input
      data
      error {
        message
        name
        stack
        cause
      }
    }
  }
"""

GET_TRIGGER = """
  query GetTrigger($runID: String!) {
    runTrigger(runID: $runID) {
      IDs
      payloads
      timestamp
      eventName
      isBatch
      batchID
      cron
    }
  }
"""

GET_RUNS = """
  query GetRuns(
    $appIDs: [UUID!]
    $startTime: Time!
    $status: [FunctionRunStatus!]
    $timeField: RunsV2OrderByField!
    $functionRunCursor: String = null
    $celQuery: String = null
    $preview: Boolean = false
    $isDeferred: Boolean = null
  ) {
    runs(
      filter: {
        appIDs: $appIDs
        from: $startTime
        status: $status
        timeField: $timeField
        query: $celQuery
        isDeferred: $isDeferred
      }
      orderBy: [{ field: $timeField, direction: DESC }]
      after: $functionRunCursor
      preview: $preview
    ) {
      edges {
        node {
          app {
            externalID
            name
          }
          cronSchedule
          eventName
          function {
            name
            slug
          }
          id
          isBatch
          queuedAt
          endedAt
          startedAt
          status
          hasAI
          isDeferred
          deferredFrom {
            runID
            function {
              name
              slug
            }
          }
        }
      }
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
    }
  }
"""


def feature_info(server_url: str) -> dict[str, Any]:
    """``GET /dev`` as the UI reads it for its feature flags: the answer's JSON, or ``{}`` when
    the server does not answer it. ``inngest start`` answers 404 (pkg/devserver/api.go, Info:
    "Return 404 in self-hosted mode"); the UI then uses each flag's default
    (ui/apps/dev-server-ui/src/hooks/useBooleanFlag.ts), and so does the suite."""
    response = httpx.get(f"{server_url}/dev", timeout=10)
    if not response.is_success:
        return {}
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def traces_preview(info: dict[str, Any]) -> bool:
    """Whether the UI asks for the "preview" trace store: its ``traces-preview`` flag, read from
    the ``features`` of ``GET /dev`` and on unless the server turns it off (the dev server takes
    flags from ``INNGEST_FEATURE_FLAGS=traces-preview=false``)."""
    return bool((info.get("features") or {}).get("traces-preview", True))


def run(api: DevServerAPI, run_id: str, *, preview: bool) -> dict[str, Any]:
    """The run page's data: function, status and the span tree (``run`` of GET_RUN), asked for
    as the UI asks (``preview`` as :func:`traces_preview`). RuntimeError on a GraphQL error."""
    return dict(api.graphql(GET_RUN, {"runID": run_id, "preview": preview}).get("run") or {})


def trace_result(api: DevServerAPI, output_id: str) -> dict[str, Any]:
    """A span's input, output data and error (what the UI shows when a step is opened)."""
    data = api.graphql(GET_TRACE_RESULT, {"traceID": output_id})
    return dict(data.get("runTraceSpanOutputByID") or {})


def trigger(api: DevServerAPI, run_id: str) -> dict[str, Any]:
    """The event(s) that started the run, as the run page shows them."""
    return dict(api.graphql(GET_TRIGGER, {"runID": run_id}).get("runTrigger") or {})


def runs(api: DevServerAPI, since: datetime) -> list[dict[str, Any]]:
    """The first page of the runs list, newest first, as the runs page loads it."""
    data = api.graphql(GET_RUNS, {"startTime": since.isoformat(), "timeField": "QUEUED_AT"})
    return [edge["node"] for edge in (data.get("runs") or {}).get("edges") or []]


def spans(span: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """``span`` and every span below it (a GET_RUN trace is nested five levels deep)."""
    yield span
    for child in span.get("childrenSpans") or []:
        yield from spans(child)


def rollup_steps(run: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's steps as the run page shows them: one row per step, from the run's direct
    children (a GET_RUN answer). The same grouping as the UI's ``traceRollup``
    (``ui/packages/components/src/RunDetailsV4/utils/traceConversion.ts``): spans are grouped
    by ``stepID`` in first-seen order and keyed by attempt number (a later span with the same
    number replaces an earlier one; the preview trace lists a step's spans more than once). A
    step with one attempt is that span; with several, a span from the first attempt's start to
    the last one's end, with the last one's status and output, and the attempts (sorted) as its
    ``childrenSpans``. Spans without a ``stepID`` (finalization, the run's own) are left out."""
    order: list[str] = []
    steps: dict[str, dict[int, dict[str, Any]]] = {}
    for child in (run.get("trace") or {}).get("childrenSpans") or []:
        step_id, attempt = child.get("stepID"), child.get("attempts")
        if not step_id or attempt is None:
            continue
        if step_id not in steps:
            order.append(step_id)
        steps.setdefault(step_id, {})[int(attempt)] = child
    rows: list[dict[str, Any]] = []
    for step_id in order:
        attempts = steps[step_id]
        first, last = attempts[min(attempts)], attempts[max(attempts)]
        if len(attempts) == 1:
            rows.append(last)
            continue
        rows.append(
            {
                **last,
                "startedAt": first.get("startedAt"),
                "queuedAt": first.get("queuedAt"),
                "childrenSpans": [attempts[n] for n in sorted(attempts)],
            }
        )
    return rows
