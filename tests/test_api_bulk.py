"""DevServerAPI's batch sends, raw event bodies and run lists, against httpx.MockTransport."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from harness.servers.api import DevServerAPI

URL = "http://devserver.test:8288"


def test_send_many_posts_one_array_and_returns_every_id() -> None:
    seen: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json={"ids": ["E1", "E2"], "status": 200})

    api = DevServerAPI(URL, transport=httpx.MockTransport(handler))
    events = [{"name": "a/b", "data": {"n": 1}}, {"name": "a/b", "data": {"n": 2}}]
    assert api.send_many(events) == ["E1", "E2"]
    assert seen == [events]


def test_send_many_rejects_a_short_answer() -> None:
    api = DevServerAPI(
        URL, transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"ids": ["E1"]}))
    )
    with pytest.raises(RuntimeError, match="expected 2 event IDs"):
        api.send_many([{"name": "a"}, {"name": "b"}])


def test_post_event_body_returns_error_answers_as_they_are() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["content-type"] == "application/json"
        return httpx.Response(400, json={"error": "Event is over the max size"})

    api = DevServerAPI(URL, transport=httpx.MockTransport(handler))
    response = api.post_event_body(b'{"name": "x"}')
    assert response.status_code == 400 and "max size" in response.text


def node(run_id: str) -> dict[str, Any]:
    return {
        "id": run_id,
        "status": "COMPLETED",
        "queuedAt": "2026-11-25T12:00:00.5Z",
        "startedAt": "2026-11-25T12:00:00.5Z",
        "endedAt": None,
    }


def test_runs_since_follows_pages_and_drops_duplicate_rows() -> None:
    pages = {
        None: ([node("R1"), node("R2"), node("R2")], True, "c1"),
        "c1": ([node("R2"), node("R3")], False, "c2"),
    }
    variables: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if "functions" in body["query"]:
            return httpx.Response(
                200, json={"data": {"functions": [{"id": "uuid-1", "slug": "app-fn"}]}}
            )
        variables.append(body["variables"])
        rows, more, cursor = pages[body["variables"]["after"]]
        return httpx.Response(
            200,
            json={
                "data": {
                    "runs": {
                        "edges": [{"node": row} for row in rows],
                        "pageInfo": {"hasNextPage": more, "endCursor": cursor},
                    }
                }
            },
        )

    api = DevServerAPI(URL, transport=httpx.MockTransport(handler))
    assert api.function_uuids() == {"app-fn": "uuid-1"}
    since = datetime(2026, 11, 25, 12, tzinfo=UTC)
    runs = api.runs_since(since, function_uuid="uuid-1", page_size=3)
    assert [r.id for r in runs] == ["R1", "R2", "R3"]
    assert runs[0].queued_at == datetime(2026, 11, 25, 12, 0, 0, 500000, tzinfo=UTC)
    assert runs[0].ended_at is None
    assert [v["after"] for v in variables] == [None, "c1"]
    assert variables[0]["functionIDs"] == ["uuid-1"] and variables[0]["first"] == 3
