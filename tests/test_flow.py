"""harness.probing.flow against an httpx.MockTransport: bursts, a function's runs, waiting."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from harness.errors import ProbeTimeout
from harness.probing.flow import Burst, function_runs, send_burst, wait_for_function_runs
from harness.servers.api import DevServerAPI

DEV_SERVER = SimpleNamespace(kind="dev")  # what a probe reads of its server here: its kind

URL = "http://devserver.test:8288"
SLUG = "durability-suite-wf06-import-rows"
FN_UUID = "e2569a42-9112-52e1-8d72-ad74da465133"


def api_with(handler: Any) -> DevServerAPI:
    return DevServerAPI(URL, transport=httpx.MockTransport(handler))


# --- bursts ---------------------------------------------------------------------------------
def test_burst_at_once_is_one_request_with_every_event() -> None:
    posted: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        posted.append(body)
        return httpx.Response(200, json={"ids": [f"E{i}" for i in range(len(body))]})

    before = time.time()
    burst = send_burst(api_with(handler), "wf/x", [{"seq": 0}, {"seq": 1}, {"seq": 2}])
    assert posted == [[{"name": "wf/x", "data": {"seq": i}} for i in range(3)]]
    assert burst.event_ids == ["E0", "E1", "E2"] and len(burst) == 3
    assert burst.origin == burst.last >= before
    assert len(set(burst.sent_at)) == 1


def test_paced_burst_sends_one_event_per_spacing() -> None:
    posted: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        posted.append(json.loads(request.content))
        return httpx.Response(200, json={"ids": [f"E{len(posted)}"]})

    burst = send_burst(api_with(handler), "wf/x", [{"seq": i} for i in range(4)], spacing_s=0.05)
    assert [p["data"]["seq"] for p in posted] == [0, 1, 2, 3]
    assert burst.event_ids == ["E1", "E2", "E3", "E4"]
    steps = [b - a for a, b in zip(burst.sent_at, burst.sent_at[1:], strict=False)]
    assert all(0.03 <= s <= 0.2 for s in steps), steps
    assert burst.last - burst.origin == pytest.approx(0.15, abs=0.1)


def test_burst_needs_events_and_checks_the_ids_returned() -> None:
    with pytest.raises(ValueError, match="at least one"):
        send_burst(api_with(lambda r: httpx.Response(200)), "wf/x", [])
    short = api_with(lambda r: httpx.Response(200, json={"ids": ["only-one"]}))
    with pytest.raises(RuntimeError, match="expected 2 event IDs"):
        send_burst(short, "wf/x", [{}, {}])


def test_burst_origin_is_its_first_send() -> None:
    burst = Burst("n", ["a", "b"], [12.5, 10.0])
    assert (burst.origin, burst.last) == (10.0, 12.5)


# --- a function's runs ----------------------------------------------------------------------
def node(run_id: str, status: str = "COMPLETED", **extra: Any) -> dict[str, Any]:
    return {
        "node": {
            "id": run_id,
            "status": status,
            "queuedAt": "2026-11-25T12:00:00.5Z",
            "startedAt": "2026-11-25T12:00:01Z",
            "endedAt": None,  # the run list can lag behind REST
            "triggerIDs": [f"E-{run_id}"],
            "isBatch": extra.get("isBatch", False),
            "cronSchedule": extra.get("cronSchedule"),
        }
    }


class FakeDevServer:
    """Answers the function list, the run list (paged) and REST run reads."""

    def __init__(self, pages: list[list[dict[str, Any]]], rest_status: str = "Completed") -> None:
        self.pages = pages
        self.rest_status = rest_status
        self.queries: list[dict[str, Any]] = []
        self.rest_reads: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/v1/runs/"):
            run_id = request.url.path.rsplit("/", 1)[1]
            self.rest_reads.append(run_id)
            data = {"run_id": run_id, "status": self.rest_status, "output": run_id}
            return httpx.Response(200, json={"data": data})
        body = json.loads(request.content)
        if "functions" in body["query"] and "runs(" not in body["query"]:
            functions = [{"id": "other", "slug": "x"}, {"id": FN_UUID, "slug": SLUG}]
            return httpx.Response(200, json={"data": {"functions": functions}})
        self.queries.append(body["variables"])
        page = int(body["variables"]["after"] or 0)
        has_next = page + 1 < len(self.pages)
        runs = {
            "edges": self.pages[page],
            "pageInfo": {"hasNextPage": has_next, "endCursor": str(page + 1)},
        }
        return httpx.Response(200, json={"data": {"runs": runs}})


def test_function_runs_filters_by_function_and_time_and_follows_pages() -> None:
    fake = FakeDevServer([[node("R1"), node("R2", isBatch=True)], [node("R3", "RUNNING")]])
    rows = function_runs(api_with(fake), SLUG, since=1_795_000_000.25)
    assert [r.id for r in rows] == ["R1", "R2", "R3"]
    assert rows[1].is_batch and rows[2].status == "RUNNING"
    assert rows[0].ended_at is None and rows[0].trigger_ids == ["E-R1"]
    first = fake.queries[0]["filter"]
    assert first["functionIDs"] == [FN_UUID]
    assert first["from"] == "2026-11-18T11:06:40.250000Z"
    assert [q["after"] for q in fake.queries] == [None, "1"]


def test_unknown_function_is_a_clear_error() -> None:
    fake = FakeDevServer([[]])
    with pytest.raises(LookupError, match="no function 'nope'"):
        function_runs(api_with(fake), "nope", since=0)


def test_wait_returns_final_runs_read_from_rest() -> None:
    fake = FakeDevServer([[node("R1"), node("R2")]])
    runs = wait_for_function_runs(api_with(fake), SLUG, since=0, count=2, timeout=2, poll=0.01)
    assert [(r.id, r.status, r.output) for r in runs] == [
        ("R1", "COMPLETED", "R1"),
        ("R2", "COMPLETED", "R2"),
    ]
    assert fake.rest_reads == ["R1", "R2"]  # once each: they were final at once


def test_rest_decides_when_the_list_lags() -> None:
    fake = FakeDevServer([[node("R1"), node("R2", "RUNNING")]])
    runs = wait_for_function_runs(api_with(fake), SLUG, since=0, count=2, timeout=2, poll=0.01)
    assert [r.status for r in runs] == ["COMPLETED", "COMPLETED"]  # REST says R2 is done
    assert sorted(fake.rest_reads) == ["R1", "R2"]  # and neither is read again


def test_a_listed_run_rest_does_not_know_yet_is_read_again() -> None:
    # Seen in CI under load: GraphQL lists the run, GET /v1/runs/{id} says "not found" at first.
    fake = FakeDevServer([[node("R1")]])
    misses = [1, 2]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/v1/runs/") and misses:
            misses.pop()
            return httpx.Response(200, json={"error": "Unable to load function run", "data": None})
        return fake(request)

    runs = wait_for_function_runs(api_with(handler), SLUG, since=0, count=1, timeout=5, poll=0.01)
    assert [(r.id, r.status) for r in runs] == [("R1", "COMPLETED")]
    assert not misses


def test_timeout_names_rest_and_list_statuses() -> None:
    fake = FakeDevServer([[node("R1", "RUNNING")]], rest_status="Running")
    with pytest.raises(ProbeTimeout, match=r"statuses: \['RUNNING'\] \(run list: \['RUNNING'\]\)"):
        wait_for_function_runs(api_with(fake), SLUG, since=0, count=1, timeout=0.1, poll=0.01)


def test_wait_times_out_when_too_few_runs_come() -> None:
    fake = FakeDevServer([[node("R1")]])
    with pytest.raises(ProbeTimeout, match="1 run"):
        wait_for_function_runs(api_with(fake), SLUG, since=0, count=3, timeout=0.1, poll=0.01)


def test_wait_keeps_waiting_while_rest_disagrees_with_the_list() -> None:
    fake = FakeDevServer([[node("R1")]], rest_status="Running")
    with pytest.raises(ProbeTimeout):
        wait_for_function_runs(api_with(fake), SLUG, since=0, count=1, timeout=0.1, poll=0.01)
    assert len(fake.rest_reads) > 1  # read again until REST says final


def test_settle_waits_for_late_runs_and_restarts_when_one_appears() -> None:
    fake = FakeDevServer([[node("R1")]])
    late_after = time.monotonic() + 0.15

    original = fake.__call__

    def handler(request: httpx.Request) -> httpx.Response:
        if time.monotonic() > late_after and len(fake.pages[0]) == 1:
            fake.pages[0].append(node("R2"))  # a run that shows up during the quiet period
        return original(request)

    started = time.monotonic()
    runs = wait_for_function_runs(
        api_with(handler), SLUG, since=0, count=1, timeout=5, settle=0.3, poll=0.02
    )
    assert [r.id for r in runs] == ["R1", "R2"]
    assert time.monotonic() - started >= 0.15 + 0.3  # the quiet period restarted after R2


# --- the probe's verbs and the second app ---------------------------------------------------
def test_probe_send_burst_tags_every_event_with_the_probe() -> None:
    from harness.probing.ledger import Ledger
    from harness.rating.catalog import lookup
    from harness.suite import Item, Probe

    posted: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        posted.extend(body)
        return httpx.Response(200, json={"ids": [f"E{i}" for i in range(len(body))]})

    item = Item(lookup("WF-06"), lambda probe: None, [], timeout=30)
    probe = Probe(item, api_with(handler), None, DEV_SERVER, Ledger(), lambda message: None)  # type: ignore[arg-type]
    burst = probe.send_burst("wf/x", [{"seq": 0}, {"seq": 1, "tag": "overridden"}])
    assert [e["data"] for e in posted] == [
        {"tag": probe.tag, "seq": 0},
        {"tag": "overridden", "seq": 1},  # a payload may name its own tag
    ]
    assert burst.event_ids == ["E0", "E1"]


def running_probe(item_timeout: float) -> Any:
    """A probe whose dev server shows one run, R1, RUNNING for ever."""
    from harness.probing.ledger import Ledger
    from harness.rating.catalog import lookup
    from harness.suite import Item, Probe

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": {"run_id": "R1", "status": "Running"}})

    item = Item(lookup("PF-01"), lambda probe: None, [], timeout=item_timeout)
    return Probe(item, api_with(handler), None, DEV_SERVER, Ledger(), lambda message: None)  # type: ignore[arg-type]


def test_wait_or_last_returns_a_run_that_never_ends_as_it_stands() -> None:
    probe = running_probe(item_timeout=30)
    with pytest.raises(ProbeTimeout):
        probe.wait("R1", timeout=0.3)
    run = probe.wait_or_last("R1", timeout=0.3)
    assert (run.id, run.status, run.final) == ("R1", "RUNNING", False)


def test_wait_or_last_still_ends_the_probe_when_its_budget_is_spent() -> None:
    probe = running_probe(item_timeout=0.3)
    with pytest.raises(ProbeTimeout):
        probe.wait_or_last("R1", timeout=60)


def test_other_app_refuses_functions_of_another_app() -> None:
    import inngest

    from common import inngest_client
    from harness.probing.other_app import other_app

    @inngest_client.create_function(fn_id="t-main-app", trigger=inngest.TriggerEvent(event="t/x"))
    async def main_app_fn(ctx: inngest.Context) -> None:
        return None

    api = api_with(lambda r: httpx.Response(500))
    with (
        pytest.raises(ValueError, match="not declared with a client of app 'partner'"),
        other_app("partner", [main_app_fn], api),
    ):
        pass
