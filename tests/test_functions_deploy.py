"""harness.probing.functions (function records, runs by status, runs of an event) against a mocked
GraphQL endpoint, and harness.probing.deploy with a fake app."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from harness.probing.deploy import deployment, redeploy
from harness.probing.functions import function_records, runs_of, runs_started_by, slug_of
from harness.servers.api import DevServerAPI
from serve import ProductionKeys

CONFIG = {"id": "uuid-a", "fv": 3, "triggers": [{"event": "a/b", "expression": "event.ts < 5"}]}


def api_answering(answer: Any, seen: list[dict[str, Any]] | None = None) -> DevServerAPI:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if seen is not None:
            seen.append(body)
        data = answer(body["query"], body["variables"]) if callable(answer) else answer
        if isinstance(data, Exception):
            return httpx.Response(200, json={"errors": [{"message": str(data)}]})
        return httpx.Response(200, json={"data": data})

    return DevServerAPI("http://dev.test", transport=httpx.MockTransport(handler))


def functions_and_runs(query: str, variables: dict[str, Any]) -> dict[str, Any]:
    if "functions" in query:
        return {"functions": [{"id": "uuid-a", "slug": "app-a", "config": json.dumps(CONFIG)}]}
    edges = [
        {"node": {"id": "R1", "status": "RUNNING"}},
        {"node": {"id": "R2", "status": "QUEUED"}},
    ]
    return {"runs": {"totalCount": 2, "edges": edges}}


def test_function_records_parse_version_and_triggers() -> None:
    (record,) = function_records(api_answering(functions_and_runs)).values()
    assert (record.uuid, record.slug, record.version) == ("uuid-a", "app-a", 3)
    assert record.triggers == CONFIG["triggers"]
    assert slug_of(api_answering(functions_and_runs), "uuid-a") == "app-a"
    assert slug_of(api_answering(functions_and_runs), "uuid-z") is None


def test_runs_of_filters_by_function_uuid_and_status() -> None:
    seen: list[dict[str, Any]] = []
    runs = runs_of(api_answering(functions_and_runs, seen), "app-a")
    assert runs == {"R1": "RUNNING", "R2": "QUEUED"}
    query = seen[-1]["variables"]["filter"]
    assert query["functionIDs"] == ["uuid-a"] and query["status"] == ["QUEUED", "RUNNING"]
    assert query["from"].endswith("Z")
    assert runs_of(api_answering(functions_and_runs), "app-unknown") == {}


def test_runs_started_by_names_the_functions() -> None:
    runs = [{"id": "R1", "function": {"slug": "app-a"}}, {"id": "R2", "function": {"slug": "b"}}]
    api = api_answering({"eventV2": {"runs": runs}})
    assert runs_started_by(api, "E1") == [("app-a", "R1"), ("b", "R2")]


def test_an_event_not_stored_yet_has_no_runs() -> None:
    api = api_answering(lambda q, v: RuntimeError("sql: no rows in result set"))
    assert runs_started_by(api, "E1") == []
    with pytest.raises(RuntimeError, match="boom"):
        runs_started_by(api_answering(lambda q, v: RuntimeError("boom")), "E1")


class FakeApp:
    def __init__(self) -> None:
        self.dev_server_url = "http://dev.test"
        self.keys: ProductionKeys | None = None
        self.served: list[Any] = ["v1"]
        self.calls: list[str] = []

    @property
    def functions(self) -> list[Any]:
        return list(self.served)

    def stop(self) -> None:
        self.calls.append("stop")

    def start(
        self, functions: list[Any], dev_server_url: str, keys: ProductionKeys | None = None
    ) -> None:
        self.calls.append(f"start {functions} at {dev_server_url}")
        self.served = functions
        self.keys = keys

    def sync(self, api: Any, *, timeout: float = 20.0) -> set[str]:
        self.calls.append("sync")
        return set(map(str, self.served))


def test_redeploy_stops_starts_and_syncs() -> None:
    app = FakeApp()
    assert redeploy(app, None, ["v2"]) == {"v2"}  # type: ignore[arg-type]
    assert app.calls == ["stop", "start ['v2'] at http://dev.test", "sync"]


def test_a_deploy_keeps_the_apps_production_keys() -> None:
    """Against a self-hosted server the app is in production mode; new code must be too, or
    the server's sync of it fails (it signs its requests)."""
    app = FakeApp()
    app.keys = ProductionKeys(signing_key="sk", event_key="ek")
    with deployment(app, None) as deploy:  # type: ignore[arg-type]
        deploy(["v2"])
        assert app.keys == ProductionKeys(signing_key="sk", event_key="ek")
    assert app.keys == ProductionKeys(signing_key="sk", event_key="ek")


def test_deployment_restores_the_original_code_even_on_error() -> None:
    app = FakeApp()
    with pytest.raises(RuntimeError), deployment(app, None) as deploy:  # type: ignore[arg-type]
        deploy(["v2"])
        assert app.functions == ["v2"]
        raise RuntimeError("probe failed mid-deploy")
    assert app.functions == ["v1"]
    assert app.calls[-3:] == ["stop", "start ['v1'] at http://dev.test", "sync"]
