"""What the dev server knows about the app's functions: their records and the runs they have.

Read through the GraphQL API the dev server UI uses (``/v0/gql``), checked against dev server
1.43: ``functions { id slug config }`` gives each function's internal UUID (the ``function_id``
REST run records carry) and its stored configuration, whose ``fv`` field is the function version
the dev server bumps on every sync; ``runs(filter: {functionIDs, status})`` lists a function's
runs by status, which is how a caller can tell when an old version has drained.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from harness.servers.api import DevServerAPI

IN_FLIGHT = ("QUEUED", "RUNNING")


@dataclass(frozen=True)
class FunctionRecord:
    uuid: str  # the dev server's internal ID (REST runs call it function_id)
    slug: str  # the full function ID: "<app id>-<fn_id>"
    version: int  # the "fv" the dev server stores; bumped on every sync of the app
    triggers: list[dict[str, Any]]  # [{"event": "...", "expression": "..."}, {"cron": ...}]
    config: dict[str, Any]


def function_records(api: DevServerAPI) -> dict[str, FunctionRecord]:
    """Every registered function, by slug."""
    data = api.graphql("query { functions { id slug config } }")
    records: dict[str, FunctionRecord] = {}
    for fn in data.get("functions") or []:
        config = json.loads(fn.get("config") or "{}")
        records[fn["slug"]] = FunctionRecord(
            uuid=str(fn["id"]),
            slug=str(fn["slug"]),
            version=int(config.get("fv") or 0),
            triggers=list(config.get("triggers") or []),
            config=config,
        )
    return records


def slug_of(api: DevServerAPI, function_uuid: str) -> str | None:
    """The slug of the function with internal ID ``function_uuid`` (None if unknown)."""
    for record in function_records(api).values():
        if record.uuid == function_uuid:
            return record.slug
    return None


_RUNS_QUERY = """
query Runs($filter: RunsFilterV2!, $first: Int!) {
  runs(first: $first, orderBy: [{field: QUEUED_AT, direction: DESC}], filter: $filter) {
    totalCount
    edges { node { id status } }
  }
}"""


def runs_of(
    api: DevServerAPI,
    slug: str,
    statuses: tuple[str, ...] = IN_FLIGHT,
    *,
    since: datetime | None = None,
    limit: int = 200,
) -> dict[str, str]:
    """Run ID -> status for the runs of function ``slug`` in ``statuses``, queued since
    ``since`` (default: the last 24 hours). An unknown slug has no runs."""
    record = function_records(api).get(slug)
    if record is None:
        return {}
    since = since or datetime.now(UTC) - timedelta(hours=24)
    filter_ = {
        "from": since.isoformat().replace("+00:00", "Z"),
        "functionIDs": [record.uuid],
        "status": list(statuses),
    }
    data = api.graphql(_RUNS_QUERY, {"filter": filter_, "first": limit})
    edges = (data.get("runs") or {}).get("edges") or []
    return {edge["node"]["id"]: edge["node"]["status"] for edge in edges}


_EVENT_RUNS_QUERY = (
    "query EventRuns($id: ULID!) { eventV2(id: $id) { runs { id function { slug } } } }"
)


def runs_started_by(api: DevServerAPI, event_id: str) -> list[tuple[str, str]]:
    """(function slug, run ID) for every run the event started, read from the event's own record
    (GraphQL ``eventV2``), which names the function; read statuses from ``api.get_run``."""
    try:
        data = api.graphql(_EVENT_RUNS_QUERY, {"id": event_id})
    except RuntimeError as exc:
        if "no rows" in str(exc) or "not found" in str(exc):
            return []  # the event is not stored yet
        raise
    runs = (data.get("eventV2") or {}).get("runs") or []
    return [(str(r["function"]["slug"]), str(r["id"])) for r in runs]
