"""Bursts of events, and the many runs one function makes of them.

Flow-control items send many events at once (or at a steady pace) and then need every run one
function started from them, including runs that no event of ours can name (a batch, a cron).
Both live here:

* :func:`send_burst` sends events in one request (a true burst: one instant) or paced by
  ``spacing_s``, and records the wall-clock time each was sent, so timelines can be drawn
  relative to the burst;
* :func:`function_runs` lists a function's runs through the GraphQL query the dev server UI
  uses (``runs(filter: {functionIDs, from})``), and :func:`wait_for_function_runs` waits for a
  number of them to exist and finish, then for a quiet period in which no further run appears.

Seen on dev server 1.43: the GraphQL list can show a run as COMPLETED while its ``endedAt`` is
still null, and REST ``/v1/events/{id}/runs`` can show stale statuses, so statuses and outputs
are read from ``/v1/runs/{id}`` (:meth:`DevServerAPI.get_run`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from harness.errors import ProbeTimeout
from harness.servers.api import DevServerAPI, Run, _parse_time


@dataclass(frozen=True)
class Burst:
    """Events sent together: their IDs and the wall-clock time (``time.time()``) of each send."""

    name: str
    event_ids: list[str]
    sent_at: list[float]

    @property
    def origin(self) -> float:
        """When the burst began: the reference point for its timeline."""
        return min(self.sent_at)

    @property
    def last(self) -> float:
        return max(self.sent_at)

    def __len__(self) -> int:
        return len(self.event_ids)


def send_burst(
    api: DevServerAPI, name: str, payloads: Sequence[dict[str, Any]], *, spacing_s: float = 0.0
) -> Burst:
    """Send one event per payload: all in one request when ``spacing_s`` is 0, else one every
    ``spacing_s`` seconds (paced against the start, so request latency does not add drift)."""
    if not payloads:
        raise ValueError("a burst needs at least one event")
    if spacing_s <= 0:
        sent = time.time()
        at_once = api.send_many([{"name": name, "data": dict(p)} for p in payloads])
        return Burst(name, at_once, [sent] * len(at_once))
    ids: list[str] = []
    sent_at: list[float] = []
    start = time.monotonic()
    for index, payload in enumerate(payloads):
        delay = start + index * spacing_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sent_at.append(time.time())
        ids.append(api.send(name, dict(payload)))
    return Burst(name, ids, sent_at)


@dataclass(frozen=True)
class RunRow:
    """One run as the dev server's run list shows it (statuses there can lag; see module doc)."""

    id: str
    status: str
    queued_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    trigger_ids: list[str]
    is_batch: bool
    cron_schedule: str | None

    @classmethod
    def from_gql(cls, node: dict[str, Any]) -> RunRow:
        return cls(
            id=str(node["id"]),
            status=str(node.get("status") or "UNKNOWN"),
            queued_at=_parse_time(node.get("queuedAt")),
            started_at=_parse_time(node.get("startedAt")),
            ended_at=_parse_time(node.get("endedAt")),
            trigger_ids=[str(t) for t in node.get("triggerIDs") or []],
            is_batch=bool(node.get("isBatch")),
            cron_schedule=node.get("cronSchedule"),
        )


_RUNS_QUERY = """
query FunctionRuns($filter: RunsFilterV2!, $after: String) {
  runs(first: 100, after: $after, filter: $filter,
       orderBy: [{field: QUEUED_AT, direction: ASC}]) {
    edges { node { id status queuedAt startedAt endedAt triggerIDs isBatch cronSchedule } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def function_uuid(api: DevServerAPI, slug: str) -> str:
    """The dev server's internal ID of the function ``slug`` (what the run list filters on)."""
    data = api.graphql("query { functions { id slug } }")
    for fn in data.get("functions") or []:
        if fn["slug"] == slug:
            return str(fn["id"])
    raise LookupError(f"the dev server has no function {slug!r} (was the app synced?)")


def _rfc3339(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def function_runs(api: DevServerAPI, slug: str, *, since: float) -> list[RunRow]:
    """Runs of function ``slug`` queued at or after ``since`` (``time.time()``), oldest first."""
    filter_: dict[str, Any] = {"from": _rfc3339(since), "functionIDs": [function_uuid(api, slug)]}
    rows: list[RunRow] = []
    after: str | None = None
    while True:
        page = api.graphql(_RUNS_QUERY, {"filter": filter_, "after": after})["runs"]
        rows += [RunRow.from_gql(edge["node"]) for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return rows
        after = page["pageInfo"]["endCursor"]


def wait_for_function_runs(
    api: DevServerAPI,
    slug: str,
    *,
    since: float,
    count: int,
    timeout: float,
    settle: float = 0.0,
    poll: float = 0.25,
) -> list[Run]:
    """Wait until function ``slug`` has at least ``count`` runs since ``since`` and every run
    listed is final, then for ``settle`` more seconds in which no new run may appear (so runs
    that come late, or never, are counted right). Returns the runs read from REST, oldest first.

    ProbeTimeout (with what was seen) when that takes longer than ``timeout``.
    """
    deadline = time.monotonic() + timeout
    runs: dict[str, Run] = {}
    seen: list[str] = []
    quiet_since: float | None = None
    while True:
        rows = function_runs(api, slug, since=since)
        for row in rows:
            known = runs.get(row.id)
            # REST decides (the list's status can lag behind it); a run REST calls final is not
            # read again.
            if known is None or not known.final:
                # Listed here, yet REST may not know the run for a moment under load.
                runs[row.id] = api.get_new_run(row.id)
        ids = [row.id for row in rows]
        now = time.monotonic()
        if len(ids) >= count and all(i in runs and runs[i].final for i in ids):
            if quiet_since is None or ids != seen:  # a new run restarts the quiet period
                quiet_since = now
            if now - quiet_since >= settle:
                return [runs[i] for i in ids]
        else:
            quiet_since = None
        seen = ids
        if now > deadline:
            raise ProbeTimeout(
                f"{slug}: {len(ids)} run(s) since the burst within {timeout:g}s, expected "
                f"{count}, all final; statuses: {[runs[i].status for i in ids]} (run list: "
                f"{[row.status for row in rows]})"
            )
        time.sleep(poll)
