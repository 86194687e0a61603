"""OP — Operations: how Inngest is deployed, managed, stored, scaled and shared between tenants.

Items OP-01 … OP-07. What one machine can run is run: the serve and connect models, request
signing, the management APIs, the dev server and the self-hosted server (``inngest start`` on a
real PostgreSQL and a real Redis the harness starts itself, see
harness/servers/selfhosted.py), restarts and crashes under sleeping runs, a queue drained,
concurrency keys under a noisy tenant. What it cannot (cloud HA, regions, plan retention) is
cited documentation, labelled so. Run ``python 08_op_operations.py --help`` for options.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import inngest
import jcs
from pydantic import BaseModel

import serve
from common import (
    SELF_HOSTED_NEEDS,
    Category,
    Evidence,
    Msg,
    Probe,
    ProbeTimeout,
    Rating,
    RunNotFound,
    Suite,
    echo,
    inngest_client,
    side_effects,
    t,
)
from harness.host.ports import free_port
from harness.probing import cloud_docs
from harness.probing.connect import ConnectWorker
from harness.rating.stats import Distribution
from harness.servers.api import FINAL_STATUSES, TRACE_NOT_READY, DevServerAPI
from harness.servers.selfhosted import (
    INSTALL_COMMAND,
    SELF_HOSTED,
    SELF_HOSTED_SQLITE,
    SelfHostedServer,
    SelfHostedUnavailable,
    start_help,
)

suite = Suite(__file__, Category.OP)


def _not_installed(
    probe: Probe, keys: list[str], description: Msg, exc: SelfHostedUnavailable
) -> None:
    """Record ``keys`` as not run because PostgreSQL, Redis or inngest is missing here."""
    for key in keys:
        probe.not_run(key, description, exc.reason())


# ═══ OP-01 Deployment model ════════════════════════════════════════════════════════════════════
# One account-provisioning workflow, served two ways: over HTTP from a FastAPI app (the serve
# model), and over an outbound connection from a worker process (the connect model). Then what
# production mode adds: the serve endpoint runs only requests signed with the signing key.


class AccountRequested(BaseModel):
    account_id: str


async def _provision(ctx: inngest.Context) -> dict[str, str]:
    account_id = AccountRequested.model_validate(ctx.event.data).account_id

    async def create_account() -> str:
        side_effects.executed(ctx.event, "create-account")
        return f"acct-{account_id}"

    async def send_welcome() -> str:
        side_effects.executed(ctx.event, "send-welcome")
        return f"welcome-{account_id}"

    account = await ctx.step.run("create-account", create_account)
    welcome = await ctx.step.run("send-welcome", send_welcome)
    return {"account": account, "welcome": welcome}


@inngest_client.create_function(
    fn_id="op01-provision-account",
    trigger=inngest.TriggerEvent(event="op01/account.requested"),
)
async def provision_account(ctx: inngest.Context) -> dict[str, str]:
    return await _provision(ctx)


# Served only by the connect worker (a function ID belongs to one app), never over HTTP.
@inngest_client.create_function(
    fn_id="op01-provision-account-connect",
    trigger=inngest.TriggerEvent(event="op01/account.requested-connect"),
)
async def provision_account_over_connect(ctx: inngest.Context) -> dict[str, str]:
    return await _provision(ctx)


def _signature(body: bytes, key: str, timestamp: int) -> str:
    """The ``X-Inngest-Signature`` a server sends: HMAC-SHA256 over the JSON-canonical body and
    the timestamp, keyed with the signing key (hex, without any ``signkey-…-`` prefix)."""
    mac = hmac.new(key.encode(), jcs.canonicalize(json.loads(body)), hashlib.sha256)
    mac.update(str(timestamp).encode())
    return f"t={timestamp}&s={mac.hexdigest()}"


def _execution_request(fn: inngest.Function[Any]) -> tuple[str, bytes]:
    """A request as the server sends it to run a function's first step (query, body)."""
    event = {
        "name": "op01/account.requested",
        "data": {"account_id": "forged"},
        "id": "e1",
        "ts": 0,
    }
    body = {
        "ctx": {
            "attempt": 0,
            "disable_immediate_execution": True,  # plan the first step, do not run it
            "run_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
            "stack": {"stack": []},
        },
        "event": event,
        "events": [event],
        "steps": {},
        "use_api": False,
    }
    return f"?fnId={fn.get_id()}&stepId=step", json.dumps(body).encode()


@contextmanager
def _production_endpoint(fn: inngest.Function[Any], key: str) -> Iterator[str]:
    """``fn`` served by an app in production mode with signing key ``key`` (no server needed:
    the SDK checks signatures itself); yields the serve URL."""
    port = free_port()
    keys = serve.ProductionKeys(signing_key=key, event_key="unused")
    server = serve.InProcessServer(serve.build_app([fn], "http://127.0.0.1:9", keys), port)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}{serve.SERVE_PATH}"
    finally:
        server.stop()


@suite.item(
    "OP-01",
    functions=[provision_account],
    timeout=120,
    needs=SELF_HOSTED_NEEDS,
)
def deployment_model(probe: Probe) -> None:
    # The serve model: the server calls the app's HTTP endpoint for every step.
    run = probe.trigger("op01/account.requested", {"account_id": probe.tag})
    expected = {"account": f"acct-{probe.tag}", "welcome": f"welcome-{probe.tag}"}
    probe.check(
        "serve-model-runs",
        t("a function served over HTTP by a FastAPI app runs to completion"),
        run.status == "COMPLETED" and run.output == expected,
        observed={"status": run.status, "output": run.output},
        run_ids=[run.id],
    )

    # The connect model: a worker process with no HTTP endpoint, connected outbound.
    probe.new_scenario()
    worker = ConnectWorker(
        probe.item.script or suite.script,
        [provision_account_over_connect],
        ["provision_account_over_connect"],
        probe.devserver.url,
        probe.app.workdir / "connect-worker.log",
        probe.devserver.app_keys(),
    )
    try:
        probe.say("starting a connect worker")
        worker.start(probe.api, timeout=probe.bound(40))
        try:
            run = probe.trigger(
                "op01/account.requested-connect", {"account_id": probe.tag}, timeout=60
            )
        except ProbeTimeout as exc:
            # Seen on a busy machine: the gateway found no healthy connection and the run hung.
            raise RuntimeError(f"the run over connect did not finish: {exc}") from exc
        probe.check(
            "connect-model-runs",
            t("the same workflow served by a connect worker (no HTTP endpoint) runs to completion"),
            run.status == "COMPLETED"
            and run.output == {"account": f"acct-{probe.tag}", "welcome": f"welcome-{probe.tag}"},
            observed={"status": run.status, "output": run.output},
            run_ids=[run.id],
        )
    except RuntimeError as exc:
        probe.check(
            "connect-model-runs",
            t("the same workflow served by a connect worker (no HTTP endpoint) runs to completion"),
            False,
            observed=str(exc).splitlines()[0],
        )
    finally:
        worker.stop()

    # Production mode: the SDK verifies every request's signature.
    key = uuid.uuid4().hex + uuid.uuid4().hex
    query, body = _execution_request(provision_account)
    with _production_endpoint(provision_account, key) as url:
        now = int(time.time())

        def post(signature: str | None) -> httpx.Response:
            headers = {"Content-Type": "application/json"}
            if signature:
                headers["X-Inngest-Signature"] = signature
            return httpx.post(url + query, content=body, headers=headers, timeout=10)

        unsigned = post(None)
        wrong = post(_signature(body, uuid.uuid4().hex + uuid.uuid4().hex, now))
        right = post(_signature(body, key, now))
        stale = post(_signature(body, key, now - 3600))
    probe.check(
        "unsigned-rejected",
        t("a production-mode serve endpoint rejects a request without a signature"),
        unsigned.status_code == 401,
        observed={"status": unsigned.status_code, "body": unsigned.text[:200]},
        expected="401",
    )
    probe.check(
        "wrong-signature-rejected",
        t("it rejects a request signed with another key"),
        wrong.status_code == 401,
        observed={"status": wrong.status_code, "body": wrong.text[:200]},
        expected="401",
    )
    probe.check(
        "correct-signature-accepted",
        t("it accepts a request signed with its signing key"),
        right.status_code in (200, 206),
        observed={"status": right.status_code, "body": right.text[:200]},
        expected="200 or 206 (the first step planned)",
    )
    probe.check(
        "stale-signature-rejected",
        t("it rejects a correctly signed request replayed an hour later"),
        stale.status_code == 401,
        observed={"status": stale.status_code, "body": stale.text[:200]},
        expected="401 (the docs promise that old requests are rejected)",
    )
    probe.document(
        "replay-protection-claim",
        t("Inngest's docs say requests carry a signed timestamp and old requests are rejected"),
        "https://www.inngest.com/docs/platform/signing-keys",
    )

    # The real thing: a self-hosted server signs its requests, the app verifies them.
    description = t(
        "a self-hosted server's signed requests are accepted by the production-mode app"
    )
    try:
        with probe.self_hosted() as server:
            probe.new_scenario()
            run = probe.trigger("op01/account.requested", {"account_id": probe.tag})
            rejected = probe.api.request(
                "POST", "/e/not-the-event-key", json={"name": "op01/account.requested", "data": {}}
            )
            probe.check(
                "server-signed-run",
                description,
                run.status == "COMPLETED",
                observed={"status": run.status, "server": server.backend()},
                run_ids=[run.id],
            )
            probe.check(
                "event-key-required",
                t("the self-hosted server refuses events sent with an unknown event key"),
                rejected.status_code == 401,
                observed={"status": rejected.status_code, "body": rejected.text[:200]},
                expected="401",
            )
    except SelfHostedUnavailable as exc:
        _not_installed(probe, ["server-signed-run", "event-key-required"], description, exc)
    probe.document(
        "serverless-platforms",
        t("the serve model is documented for serverless platforms and long-running servers alike"),
        "https://www.inngest.com/docs/learn/serving-inngest-functions",
    )


@deployment_model.rubric
def _(ev: Evidence) -> Rating:
    if not ev.passed("serve-model-runs"):
        return Rating(
            stars=1,
            reason=t("a function served over HTTP did not run to completion"),
            drivers=["serve-model-runs"],
        )
    guards = ["unsigned-rejected", "wrong-signature-rejected", "correct-signature-accepted"]
    if not all(ev.passed(k) for k in guards):
        return Rating(
            stars=2,
            reason=t("request signing does not protect the production serve endpoint"),
            drivers=guards,
            advice=t("do not expose the serve endpoint until signature checks are fixed"),
        )
    if ev.failed("server-signed-run"):
        return Rating(
            stars=3,
            reason=t("signing works in isolation, but the self-hosted server's runs failed"),
            drivers=["server-signed-run"],
        )
    if ev.failed("event-key-required"):
        # Anyone who reaches the server could start runs: the other half of the guard.
        return Rating(
            stars=3,
            reason=t(
                "requests to the app are signed and checked, but the self-hosted server accepts "
                "events sent with an unknown event key"
            ),
            drivers=["event-key-required"],
            advice=t("keep the self-hosted server's event API off public networks"),
        )
    if not ev.passed("connect-model-runs"):
        return Rating(
            stars=4,
            reason=t(
                "the serve model works and is protected by signatures; the connect "
                "model did not run"
            ),
            drivers=["serve-model-runs", "connect-model-runs", *guards],
        )
    if ev.failed("stale-signature-rejected"):
        return Rating(
            stars=4,
            reason=t(
                "serve and connect models both run, and unsigned or wrongly signed requests are "
                "rejected; but a signed request replayed an hour later is accepted, contrary to "
                "the docs"
            ),
            drivers=["connect-model-runs", *guards, "stale-signature-rejected"],
            advice=t(
                "with the Python SDK, keep the serve endpoint off the public internet or behind a "
                "gateway that rejects old X-Inngest-Signature timestamps; steps must be "
                "idempotent anyway"
            ),
        )
    return Rating(
        stars=5,
        reason=t("serve and connect models both run; signatures are enforced, replays included"),
        drivers=[
            "serve-model-runs",
            "connect-model-runs",
            *guards,
            "stale-signature-rejected",
            "event-key-required",
        ],
    )


# ═══ OP-02 Workflow management API (fail-close) ════════════════════════════════════════════════
# Every management call an operator needs, through REST v1, REST v2 and GraphQL: list and get
# runs, cancel, rerun, list apps and functions, and the oddities met on the way.


class InvoiceRequested(BaseModel):
    invoice_id: str


@inngest_client.create_function(
    fn_id="op02-issue-invoice",
    trigger=inngest.TriggerEvent(event="op02/invoice.requested"),
)
async def issue_invoice(ctx: inngest.Context) -> str:
    invoice_id = InvoiceRequested.model_validate(ctx.event.data).invoice_id

    async def issue() -> str:
        side_effects.executed(ctx.event, "issue")
        return f"invoice-{invoice_id}"

    return await ctx.step.run("issue", issue)


@inngest_client.create_function(
    fn_id="op02-await-approval",
    trigger=inngest.TriggerEvent(event="op02/approval.requested"),
)
async def await_approval(ctx: inngest.Context) -> str:
    async def notify_approver() -> str:
        side_effects.executed(ctx.event, "notify-approver")
        return "approver-notified"

    await ctx.step.run("notify-approver", notify_approver)
    # Then waits for an hour: a run an operator might want to cancel.
    await ctx.step.sleep("approval-window", timedelta(hours=1))
    return "approved"


RUNS_QUERY = (
    "query($filter: RunsFilterV2!) { runs(first: 200, filter: $filter, "
    "orderBy: [{field: QUEUED_AT, direction: DESC}]) { edges { node { id status } } } }"
)
UNKNOWN_RUN = "01ARZ3NDEKTSV4RRFFQ69G5FAV"  # a well-formed ULID no server has


def _waiting_run(probe: Probe) -> tuple[str, str]:
    """Start an approval run and wait until it sleeps; (event ID, run ID)."""
    event_id = probe.send("op02/approval.requested")
    run_id = probe.run_of(event_id)
    if not probe.wait_for_step(run_id, "approval-window", timeout=20):
        raise RuntimeError("the approval run never reached its sleep")
    return event_id, run_id


def _statuses(api: DevServerAPI, event_id: str, run_id: str) -> dict[str, str | None]:
    """A run's status as each read endpoint reports it, a second into its sleep (so that every
    store has had time to record that it started)."""
    time.sleep(1.0)
    v2 = api.request("GET", f"/api/v2/runs/{run_id}").json().get("data") or {}
    node = api.graphql("query($id: String!) { run(runID: $id) { status } }", {"id": run_id})
    return {
        "GET /v1/runs/<id>": api.get_run(run_id).status,
        "GET /v1/events/<id>/runs": next((r.status for r in api.runs_for_event(event_id)), None),
        "GET /api/v2/runs/<id>": v2.get("status"),
        "GraphQL run": (node["run"] or {}).get("status"),
    }


def _final_status(probe: Probe, run_id: str, timeout: float = 15) -> str:
    try:
        return probe.wait(run_id, timeout=timeout).status
    except ProbeTimeout:
        return probe.api.get_run(run_id).status


GAP_RUNS = 20
GAP_POLL_S = 0.005


# Where a client reads a run: REST v1 (the public API), and GraphQL's run, which the UI and the
# SDK's own tests read (status and output come from different stores there).
GAP_READERS = ("rest", "graphql")
_RUN_QUERY = "query($id: String!) { run(runID: $id) { status output } }"


def _read_status_and_output(probe: Probe, reader: str, run_id: str) -> tuple[bool, Any]:
    """(final?, output) of a run as ``reader`` answers, raw: no waiting for the output."""
    if reader == "rest":
        run = probe.api.get_run(run_id)
        return run.final, run.output
    try:
        answer = probe.api.graphql(_RUN_QUERY, {"id": run_id}).get("run") or {}
    except RuntimeError as exc:
        # Just after a run starts GraphQL cannot load it yet ("no rows in result set", the same
        # answer a trace read gets): not final, nothing to read yet.
        if any(message in str(exc) for message in TRACE_NOT_READY):
            return False, None
        raise
    return str(answer.get("status")) in FINAL_STATUSES, answer.get("output")


def _status_to_output_gaps(probe: Probe, reader: str) -> tuple[list[float], list[str], list[str]]:
    """For GAP_RUNS runs one after another, read each run's status and output through
    ``reader`` every GAP_POLL_S from its start until its output is readable: how long after its
    status first read final its output first did (ms; 0 when both came in the same read).
    Returns (gaps, run IDs, runs whose output never became readable)."""
    gaps: list[float] = []
    run_ids: list[str] = []
    unreadable: list[str] = []
    for index in range(GAP_RUNS):
        data = {"invoice_id": f"gap-{reader}-{index}"}
        run_id = probe.run_of(probe.send("op02/invoice.requested", data))
        run_ids.append(run_id)
        probe.api.get_new_run(run_id)
        final_at: float | None = None
        deadline = time.monotonic() + probe.bound(20)
        while True:
            final, output = _read_status_and_output(probe, reader, run_id)
            read_at = time.monotonic()
            if final and final_at is None:
                final_at = read_at
            if final_at is not None and output is not None:
                gaps.append(round((read_at - final_at) * 1000, 1))
                break
            if read_at > deadline:
                unreadable.append(run_id)
                break
            time.sleep(GAP_POLL_S)
    return gaps, run_ids, unreadable


def _gap_key(base: str, reader: str) -> str:
    return base if reader == "rest" else f"{base}:{reader}"


def _measure_output_gap(probe: Probe, reader: str) -> None:
    """How long a finished run's output lags its final status, as ``reader`` shows them."""
    where = "GET /v1/runs/<id>" if reader == "rest" else "GraphQL run(runID) { status output }"
    probe.say(f"reading {GAP_RUNS} runs' status and output every {GAP_POLL_S * 1000:g} ms")
    gaps, gap_runs, unreadable = _status_to_output_gaps(probe, reader)
    if gaps:
        spread = Distribution.of(gaps, digits=1)
        probe.measure(
            _gap_key("final-status-to-output", reader),
            spread.p50,
            "ms",
            t(
                "median time from a run's status first reading final to its output first "
                "being readable ({where} read every {poll} ms), over {n} runs: "
                "p95 {p95}, p99 {p99}, min {min}, max {max} ms; {gapped} of {n} runs showed "
                "a final status without an output",
                where=where,
                poll=GAP_POLL_S * 1000,
                gapped=sum(1 for gap in gaps if gap > 0),
                **spread.spread(),
            ),
            samples=gaps,
        )
    probe.check(
        _gap_key("output-with-final-status", reader),
        t("a run's output is readable as soon as its status reads final ({where})", where=where),
        bool(gaps) and not unreadable and all(gap == 0 for gap in gaps),
        observed={
            "runs": len(gap_runs),
            "gaps ms": gaps,
            "runs with a final status before their output": sum(1 for gap in gaps if gap > 0),
            "output never readable": unreadable,
        },
        expected="0 ms in every run",
        run_ids=gap_runs,
    )


def _anonymous_graphql(
    server: SelfHostedServer, query: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    """A GraphQL call to the self-hosted server with no credentials at all."""
    return httpx.post(
        f"{server.url}/v0/gql", json={"query": query, "variables": variables or {}}, timeout=10
    )


def _answer(response: httpx.Response) -> dict[str, Any]:
    return {"HTTP": response.status_code, "body": response.text[:200]}


def _graphql_without_key(probe: Probe, server: SelfHostedServer) -> None:
    """Send the management calls the UI makes (a read, then cancelRun, rerun and deleteApp)
    without any credentials, each against something of the suite's own, and see what they did."""
    calls: dict[str, dict[str, Any]] = {}
    read = _anonymous_graphql(server, "{ apps { name } }")
    calls["query apps"] = _answer(read)

    _, sleeping = _waiting_run(probe)  # a throwaway run
    cancel = _anonymous_graphql(
        server, "mutation($id: ULID!) { cancelRun(runID: $id) { id } }", {"id": sleeping}
    )
    after = _final_status(probe, sleeping, timeout=5)
    calls["mutation cancelRun"] = {**_answer(cancel), "run status after": after}
    if after != "CANCELLED":
        probe.api.cancel(sleeping)  # with the key: do not leave it sleeping for an hour

    finished = probe.trigger("op02/invoice.requested", {"invoice_id": f"{probe.tag}-anonymous"})
    rerun = _anonymous_graphql(
        server, "mutation($id: ULID!) { rerun(runID: $id) }", {"id": finished.id}
    )
    try:
        new_run = ((rerun.json() or {}).get("data") or {}).get("rerun")
    except ValueError:
        new_run = None
    calls["mutation rerun"] = {**_answer(rerun), "new run": new_run}

    # The suite's own app on this server, synced again right after (a deleted app runs nothing).
    app = next((a for a in probe.api.apps() if a.get("name") == serve.APP_ID), None)
    if app is None:
        raise RuntimeError(f"app {serve.APP_ID} is not synced with the self-hosted server")
    try:
        delete = _anonymous_graphql(
            server, "mutation($id: String!) { deleteApp(id: $id) }", {"id": app["id"]}
        )
        listed = any(a.get("id") == app["id"] for a in probe.api.apps())
        calls["mutation deleteApp"] = {**_answer(delete), "app still listed": listed}
    finally:
        probe.app.sync(probe.api)
    refused = all(call["HTTP"] == 401 for call in calls.values())
    took_effect = [
        name
        for name, happened in (
            ("cancelRun", after == "CANCELLED"),
            ("rerun", bool(new_run)),
            ("deleteApp", not calls["mutation deleteApp"]["app still listed"]),
        )
        if happened
    ]
    probe.check(
        "graphql-requires-key",
        t(
            "the self-hosted server's GraphQL API refuses calls without the signing key: a "
            "query, and the cancelRun, rerun and deleteApp mutations (on a throwaway run, a "
            "finished run and the suite's own app, synced again after)"
        ),
        refused and not took_effect,
        observed={**calls, "took effect without credentials": took_effect},
        expected="401 for each call, and none of them takes effect",
        run_ids=[sleeping, finished.id, *([new_run] if new_run else [])],
    )


@suite.item(
    "OP-02",
    functions=[issue_invoice, await_approval],
    timeout=200,
    needs=SELF_HOSTED_NEEDS,
)
def management_api(probe: Probe) -> None:
    api = probe.api
    app_id = serve.APP_ID
    since = (datetime.now(UTC) - timedelta(minutes=2)).isoformat()
    event_id = probe.send("op02/invoice.requested", {"invoice_id": probe.tag})
    run_id = probe.run_of(event_id)
    finished = probe.wait(run_id)

    # REST v1
    listed = api.runs_for_event(event_id)
    probe.check(
        "rest-list-event-runs",
        t("REST v1 lists the runs an event started"),
        [r.id for r in listed] == [run_id],
        observed=[(r.id, r.status) for r in listed],
        run_ids=[run_id],
    )
    got = api.get_run(run_id)
    probe.check(
        "rest-get-run",
        t("REST v1 returns a run's status and output"),
        got.status == "COMPLETED" and got.output == f"invoice-{probe.tag}",
        observed={"status": got.status, "output": got.output},
        run_ids=[run_id],
    )
    functions = api.request("GET", f"/v1/apps/{app_id}/functions").json()
    slugs = {f.get("id") for f in functions} if isinstance(functions, list) else set()
    probe.check(
        "rest-list-functions",
        t("REST v1 lists an app's functions"),
        {issue_invoice.get_id(), await_approval.get_id()} <= slugs,
        observed=sorted(s for s in slugs if s)[:10],
    )
    _, waiting = _waiting_run(probe)
    deleted = api.request("DELETE", f"/v1/runs/{waiting}")  # REST alone, no fallback
    status = _final_status(probe, waiting)
    probe.check(
        "rest-cancel-run",
        t("REST v1 cancels a sleeping run"),
        status == "CANCELLED",
        observed={"DELETE": deleted.status_code, "run status": status},
        run_ids=[waiting],
    )
    if status != "CANCELLED":
        api.cancel(waiting)  # do not leave it sleeping for an hour

    # GraphQL (what the UI uses)
    edges = api.graphql(RUNS_QUERY, {"filter": {"from": since}})["runs"]["edges"]
    listed_ids = [e["node"]["id"] for e in edges]
    probe.check(
        "gql-list-runs",
        t("GraphQL lists recent runs"),
        run_id in listed_ids,
        observed={"runs listed": len(listed_ids)},
        run_ids=[run_id],
    )
    node = api.graphql("query($id: String!) { run(runID: $id) { status output } }", {"id": run_id})[
        "run"
    ]
    probe.check(
        "gql-get-run",
        t("GraphQL returns a run's status and output"),
        bool(node)
        and node["status"] == "COMPLETED"
        and f"invoice-{probe.tag}" in str(node["output"]),
        observed=node,
        run_ids=[run_id],
    )
    apps = api.graphql("query { apps { name functions { slug } } }")["apps"]
    app_slugs = {f["slug"] for a in apps if a["name"] == app_id for f in a["functions"] or []}
    probe.check(
        "gql-list-apps",
        t("GraphQL lists apps with their functions"),
        issue_invoice.get_id() in app_slugs,
        observed={"apps": [a["name"] for a in apps], "functions": len(app_slugs)},
    )
    _, waiting = _waiting_run(probe)
    api.graphql("mutation($id: ULID!) { cancelRun(runID: $id) { id } }", {"id": waiting})
    status = _final_status(probe, waiting)
    probe.check(
        "gql-cancel-run",
        t("GraphQL cancels a sleeping run"),
        status == "CANCELLED",
        observed=status,
        run_ids=[waiting],
    )
    rerun_id = api.graphql("mutation($id: ULID!) { rerun(runID: $id) }", {"id": run_id})["rerun"]
    rerun = probe.wait(rerun_id, appear_within=15)
    probe.check(
        "gql-rerun",
        t("GraphQL reruns a finished run: a new run that executes the steps again"),
        rerun.status == "COMPLETED"
        and rerun.output == finished.output
        and probe.effects("issue") == 2,
        observed={
            "status": rerun.status,
            "output": rerun.output,
            "issue executions": probe.effects("issue"),
        },
        run_ids=[run_id, rerun_id],
    )

    # REST v2 (the newer API)
    v2 = api.request("POST", f"/api/v2/runs/{run_id}/rerun", json={})
    v2_run = (v2.json().get("data") or {}).get("runId") if v2.status_code == 200 else None
    v2_status = probe.wait(v2_run, appear_within=15).status if v2_run else f"HTTP {v2.status_code}"
    probe.check(
        "v2-rerun",
        t("REST v2 reruns a finished run"),
        v2_status == "COMPLETED",
        observed={"status": v2_status, "body": v2.text[:200]},
        run_ids=[r for r in (run_id, v2_run) if r],
    )

    # Oddities
    unknown = api.request("GET", f"/v1/runs/{UNKNOWN_RUN}")
    probe.check(
        "unknown-run-is-404",
        t("REST v1 answers an unknown run ID with 404"),
        unknown.status_code == 404,
        observed={"status": unknown.status_code, "body": unknown.text[:200]},
        expected="404",
    )
    waiting_event, waiting = _waiting_run(probe)
    statuses = _statuses(api, waiting_event, waiting)
    probe.check(
        "statuses-agree",
        t("every endpoint reports a sleeping run as running"),
        set(statuses.values()) == {"RUNNING"},
        observed=statuses,
        run_ids=[waiting],
    )
    probe.check(
        "sleeping-run-never-final",
        t("no endpoint reports a sleeping run as finished (a final status)"),
        not set(statuses.values()) & FINAL_STATUSES,
        observed=statuses,
        expected="RUNNING or QUEUED everywhere",
        run_ids=[waiting],
    )
    fixed_url = f"/v1/runs/{waiting}"  # no cache-busting parameter, as a plain client reads it
    before = api.request("GET", fixed_url).json()["data"]["status"]
    api.cancel(waiting)
    cancelled = _final_status(probe, waiting)  # a fresh read (unique URL) sees the change
    after = api.request("GET", fixed_url).json()["data"]["status"]
    probe.check(
        "reads-are-fresh",
        t("a run read again right after it was cancelled shows the cancellation"),
        after.upper() == cancelled,
        observed={"before": before, "same URL after": after, "fresh read": cancelled},
        expected=cancelled,
        run_ids=[waiting],
    )

    # How soon after a run's status turns final is its output readable?
    for reader in GAP_READERS:
        _measure_output_gap(probe, reader)

    # On the self-hosted server, who may call these APIs?
    description = t("the self-hosted server's REST API refuses calls without the signing key")
    try:
        with probe.self_hosted() as server:
            rest = httpx.get(f"{server.url}/v1/runs/{UNKNOWN_RUN}", timeout=10)
            probe.check(
                "rest-requires-key",
                description,
                rest.status_code == 401,
                observed={"status": rest.status_code},
                expected="401",
            )
            waiting_event, waiting = _waiting_run(probe)
            statuses = _statuses(probe.api, waiting_event, waiting)
            probe.check(
                "self-hosted:statuses-agree",
                t("on the self-hosted server, every endpoint reports a sleeping run as running"),
                set(statuses.values()) == {"RUNNING"},
                observed=statuses,
                run_ids=[waiting],
            )
            probe.check(
                "self-hosted:sleeping-run-never-final",
                t(
                    "on the self-hosted server, no endpoint reports a sleeping run as finished "
                    "(a final status)"
                ),
                not set(statuses.values()) & FINAL_STATUSES,
                observed=statuses,
                expected="RUNNING or QUEUED everywhere",
                run_ids=[waiting],
            )
            # The same cancellations on the server users deploy.
            deleted = probe.api.request("DELETE", f"/v1/runs/{waiting}")
            status = _final_status(probe, waiting, timeout=10)
            probe.check(
                "self-hosted:rest-cancel-run",
                t("on the self-hosted server, REST v1 cancels a sleeping run"),
                status == "CANCELLED",
                observed={
                    "DELETE": deleted.status_code,
                    "body": deleted.text[:200],
                    "run status": status,
                },
                run_ids=[waiting],
            )
            if status == "CANCELLED":
                _, waiting = _waiting_run(probe)
            probe.api.graphql(
                "mutation($id: ULID!) { cancelRun(runID: $id) { id } }", {"id": waiting}
            )
            status = _final_status(probe, waiting, timeout=10)
            probe.check(
                "self-hosted:gql-cancel-run",
                t("on the self-hosted server, GraphQL cancels a sleeping run"),
                status == "CANCELLED",
                observed=status,
                run_ids=[waiting],
            )
            if status != "CANCELLED":
                probe.api.cancel(waiting)
            _graphql_without_key(probe, server)
    except SelfHostedUnavailable as exc:
        _not_installed(
            probe,
            [
                "rest-requires-key",
                "self-hosted:statuses-agree",
                "self-hosted:sleeping-run-never-final",
                "self-hosted:rest-cancel-run",
                "self-hosted:gql-cancel-run",
                "graphql-requires-key",
            ],
            description,
            exc,
        )


@management_api.rubric
def _(ev: Evidence) -> Rating:
    reads = ["rest-get-run", "gql-get-run", "rest-list-event-runs", "gql-list-runs"]
    if not (ev.passed("rest-get-run") or ev.passed("gql-get-run")) or not (
        ev.passed("rest-list-event-runs") or ev.passed("gql-list-runs")
    ):
        return Rating(
            stars=1, reason=t("runs cannot be listed and read through the API"), drivers=reads
        )
    cancels = ["rest-cancel-run", "gql-cancel-run"]
    if not any(ev.passed(k) for k in cancels):
        return Rating(
            stars=2, reason=t("runs cannot be cancelled through the API"), drivers=cancels
        )
    others = ["gql-rerun", "v2-rerun", "rest-list-functions", "gql-list-apps"]
    if not (ev.passed("gql-rerun") or ev.passed("v2-rerun")) or not (
        ev.passed("rest-list-functions") or ev.passed("gql-list-apps")
    ):
        return Rating(
            stars=3,
            reason=t(
                "runs can be read and cancelled, but rerun or listing apps and functions failed"
            ),
            drivers=others,
        )
    hosted = ["self-hosted:rest-cancel-run", "self-hosted:gql-cancel-run"]
    if all(ev.failed(k) for k in hosted):
        return Rating(
            stars=3,
            reason=t("on the self-hosted server, runs cannot be cancelled through the API"),
            drivers=hosted,
        )
    core = [*reads, *cancels, "gql-rerun"]
    gap = _gap_params(ev)
    # Faults: the public API does not do what it says (REST cancel, GraphQL being the UI's
    # internal API), reports a running run as finished, or lets anyone read or manage runs and
    # apps (REST or GraphQL without the signing key).
    faults = _failed_on_either_server(ev, API_FAULTS)
    # Oddities: answers a client must be written to handle, with nothing wrong in the end. A
    # status gap the reason gives in figures is not named again.
    oddities = _failed_on_either_server(
        ev, {k: v for k, v in API_ODDITIES.items() if not (gap and k == "output-with-final-status")}
    )
    fault_keys = [key for key in API_FAULTS_KEYS if ev.failed(key)]
    oddity_keys = [key for key in API_ODDITIES_KEYS if ev.failed(key)]
    advice = t(
        "read a run's status from GET /v1/runs/<run ID> with a unique query parameter (or "
        "GraphQL), read its output again if a finished run shows none yet, treat 200 with an "
        "error body as not found; on a self-hosted server cancel through GraphQL's cancelRun "
        "when DELETE /v1/runs answers 404, and keep the server's port private (its GraphQL API "
        "is the UI's, checked without credentials here)"
    )
    if gap:
        oddities.append(
            t(
                "a run's status reads final before its output is readable ({gapped} of {n} "
                "runs, median {p50} ms, max {max} ms)",
                **gap,
            )
        )
    if fault_keys:
        return Rating(
            stars=3,
            reason=t(
                "runs can be listed, read, cancelled and rerun through the API, but it has "
                "faults: {faults}; and oddities a client must handle: {oddities}",
                faults=faults,
                oddities=oddities,
            )
            if oddities
            else t(
                "runs can be listed, read, cancelled and rerun through the API, but it has "
                "faults: {faults}",
                faults=faults,
            ),
            drivers=[*core, *fault_keys, *oddity_keys],
            advice=advice,
        )
    if oddity_keys:
        return Rating(
            stars=4,
            reason=t(
                "list, get, cancel, rerun and app/function listing all work through REST and "
                "GraphQL; oddities a client must handle: {oddities}",
                oddities=oddities,
            ),
            drivers=[*core, *oddity_keys],
            advice=advice,
        )
    return Rating(
        stars=5,
        reason=t("every management call works through REST and GraphQL, with no oddities found"),
        drivers=[
            *core,
            "rest-requires-key",
            "graphql-requires-key",
            "output-with-final-status",
            "output-with-final-status:graphql",
        ],
    )


# What each failed check means, in words a reason can use (the keys stay in the drivers).
API_FAULTS: dict[str, Msg] = {
    "rest-cancel-run": t("DELETE /v1/runs answers 404 and does not cancel the run"),
    "sleeping-run-never-final": t("some endpoints report a sleeping run as finished"),
    "rest-requires-key": t("the self-hosted server's REST v1 answers without the signing key"),
    "graphql-requires-key": t(
        "the self-hosted server's GraphQL takes queries and mutations without the signing key"
    ),
}
API_ODDITIES: dict[str, Msg] = {
    "unknown-run-is-404": t("an unknown run ID gets HTTP 200 with an error in the body"),
    "statuses-agree": t("endpoints disagree on a sleeping run's status"),
    "reads-are-fresh": t("reading the same URL again can return a stale status"),
    "output-with-final-status": t("a finished run's output can lag its final status"),
}
ON_SELF_HOSTED = "self-hosted:"  # the prefix of a check run on the self-hosted server
API_FAULTS_KEYS = [k for base in API_FAULTS for k in (base, ON_SELF_HOSTED + base)]
API_ODDITIES_KEYS = [
    *(k for base in API_ODDITIES for k in (base, ON_SELF_HOSTED + base)),
    *(_gap_key("output-with-final-status", reader) for reader in GAP_READERS if reader != "rest"),
]


def _failed_on_either_server(ev: Evidence, named: dict[str, Msg]) -> list[Msg]:
    """The named problems whose check failed, each said with the server(s) it was seen on."""
    found: list[Msg] = []
    for base, words in named.items():
        dev = ev.failed(base) or any(
            ev.failed(_gap_key(base, reader)) for reader in GAP_READERS if reader != "rest"
        )
        hosted = ev.failed(ON_SELF_HOSTED + base)
        if dev and hosted:
            found.append(t("{problem} (on both servers)", problem=words))
        elif hosted:
            found.append(t("{problem} (on the self-hosted server)", problem=words))
        elif dev:
            found.append(words)
    return found


def _gap_params(ev: Evidence) -> dict[str, Any]:
    """The status-to-output gap's figures for a reason, from the first reader whose runs showed
    one ({} when none did)."""
    for reader in GAP_READERS:
        if not ev.failed(_gap_key("output-with-final-status", reader)):
            continue
        for measurement in ev.measurements:
            if (
                measurement.key == _gap_key("final-status-to-output", reader)
                and measurement.samples
            ):
                gaps = measurement.samples
                spread = Distribution.of(gaps, digits=1)
                return {
                    "gapped": sum(1 for gap in gaps if gap > 0),
                    "n": spread.n,
                    "p50": spread.p50,
                    "max": spread.max,
                }
    return {}


# ═══ OP-03 Storage backend ═════════════════════════════════════════════════════════════════════
# What survives a restart of the server, per backend: the dev server in memory and with
# --persist, then `inngest start` on PostgreSQL + Redis, and on its own defaults (SQLite and a
# built-in Redis). Counted each time: a finished run (history), the registered functions, and a
# sleeping run (queued work).


class ReportRequested(BaseModel):
    batch_wait_s: float


@inngest_client.create_function(
    fn_id="op03-nightly-report",
    trigger=inngest.TriggerEvent(event="op03/report.requested"),
)
async def nightly_report(ctx: inngest.Context) -> dict[str, str]:
    request = ReportRequested.model_validate(ctx.event.data)

    async def collect() -> str:
        side_effects.executed(ctx.event, "collect")
        return "rows-collected"

    rows = await ctx.step.run("collect", collect)
    if request.batch_wait_s:
        await ctx.step.sleep("wait-for-batch", timedelta(seconds=request.batch_wait_s))
    published = await ctx.step.run("publish", echo, "report-published")
    return {"rows": rows, "published": published}


BATCH_WAIT_S = 3.0
SCENARIOS = {
    "dev-memory": t("the dev server without --persist"),
    "dev-persist": t("the dev server with --persist"),
    "self-hosted": t("inngest start on PostgreSQL + Redis"),
    "self-hosted-sqlite": t("inngest start on its defaults (SQLite + built-in Redis)"),
}


def _survival(probe: Probe, restart: Callable[[], None]) -> dict[str, Any]:
    """A finished run and a sleeping run, then ``restart``: what is still there afterwards."""
    finished = probe.trigger("op03/report.requested", {"batch_wait_s": 0})
    sleeping = probe.run_of(probe.send("op03/report.requested", {"batch_wait_s": BATCH_WAIT_S}))
    if not probe.wait_for_step(sleeping, "wait-for-batch", timeout=20):
        raise RuntimeError("the report run never reached its sleep")
    clock = time.monotonic()
    restart()
    downtime = round(time.monotonic() - clock, 2)
    registered = nightly_report.get_id() in probe.api.function_slugs()
    try:
        history = probe.api.get_run(finished.id).status
    except RunNotFound:
        history = "LOST"
    probe.app.sync(probe.api)  # as a deploy would: whatever was lost is registered again
    try:
        in_flight = probe.wait(sleeping, timeout=BATCH_WAIT_S + 12).status
    except RunNotFound:
        in_flight = "LOST"
    except ProbeTimeout:
        in_flight = "STUCK"
    return {
        "history": history,
        "registered": registered,
        "in_flight": in_flight,
        "restart_s": downtime,
        "runs": [finished.id, sleeping],
    }


def _survival_findings(scenario: str, outcome: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What a restart left, per check of ``scenario`` (its key's suffix): Evidence.check's
    arguments after the key."""
    return {
        "history-kept": {
            "description": t(
                "a finished run is still readable after the server restarts: {scenario}",
                scenario=SCENARIOS[scenario],
            ),
            "passed": outcome["history"] == "COMPLETED",
            "observed": outcome,
            "run_ids": outcome["runs"][:1],
        },
        "registration-kept": {
            "description": t(
                "the app's functions are registered after the server restarts, as the dev "
                "server syncs its -u URL at boot: {scenario}",
                scenario=SCENARIOS[scenario],
            )
            if scenario.startswith("dev")
            else t(
                "the app's functions are still registered after the server restarts: {scenario}",
                scenario=SCENARIOS[scenario],
            ),
            "passed": bool(outcome["registered"]),
            "observed": outcome["registered"],
        },
        "in-flight-resumed": {
            "description": t(
                "a run sleeping while the server restarts completes: {scenario}",
                scenario=SCENARIOS[scenario],
            ),
            "passed": outcome["in_flight"] == "COMPLETED",
            "observed": outcome["in_flight"],
            "run_ids": outcome["runs"][1:],
        },
    }


def _measure_restart(probe: Probe, scenario: str, outcome: dict[str, Any]) -> None:
    probe.measure(
        f"{scenario}:restart",
        outcome["restart_s"],
        "s",
        t("from stopping the server (SIGTERM) to it answering again, one restart"),
    )


def _record_survival(probe: Probe, scenario: str, outcome: dict[str, Any]) -> None:
    for check, found in _survival_findings(scenario, outcome).items():
        probe.check(f"{scenario}:{check}", **found)
    _measure_restart(probe, scenario, outcome)


def _record_in_memory_control(probe: Probe, outcome: dict[str, Any]) -> None:
    """The dev server without --persist keeps everything in memory by design: recorded as the
    control the persistent backends are compared with, never rated."""
    found = _survival_findings("dev-memory", outcome)
    probe.check("dev-memory:history-kept", **found["history-kept"], informational=True)
    probe.check("dev-memory:registration-kept", **found["registration-kept"], informational=True)
    probe.check("dev-memory:in-flight-resumed", **found["in-flight-resumed"], informational=True)
    _measure_restart(probe, "dev-memory", outcome)


def _survival_keys(scenario: str) -> list[str]:
    return [f"{scenario}:{k}" for k in ("history-kept", "registration-kept", "in-flight-resumed")]


@suite.item(
    "OP-03",
    functions=[nightly_report],
    timeout=240,
    needs=SELF_HOSTED_NEEDS,
)
def storage_backend(probe: Probe) -> None:
    # The dev server, in memory and with --persist (only one the suite started can restart).
    if probe.devserver.kind == "dev" and probe.devserver.owned:
        outcome = _survival(probe, lambda: probe.devserver.restart(persist=False))
        _record_in_memory_control(probe, outcome)
        with probe.devserver_options(persist=True):
            probe.new_scenario()
            outcome = _survival(probe, lambda: probe.devserver.restart(persist=True))
        _record_survival(probe, "dev-persist", outcome)
    else:
        reason = t("this run is not against a dev server the suite started")
        for scenario in ("dev-memory", "dev-persist"):
            for key in _survival_keys(scenario):
                probe.not_run(key, SCENARIOS[scenario], reason)

    # The self-hosted server, on PostgreSQL + Redis, then on its own defaults.
    for scenario, kind in (
        ("self-hosted", SELF_HOSTED),
        ("self-hosted-sqlite", SELF_HOSTED_SQLITE),
    ):
        try:
            with probe.self_hosted(kind) as server:
                probe.new_scenario()
                outcome = _survival(probe, server.restart)
                _record_survival(probe, scenario, outcome)
                if server.postgres and server.redis:
                    rows = server.postgres.query("SELECT count(*) FROM function_runs")
                    keys = server.redis.command("DBSIZE")
                    probe.check(
                        "self-hosted:data-in-backends",
                        t("runs are recorded in PostgreSQL and run state in Redis"),
                        rows.isdigit() and int(rows) > 0 and bool(keys) and keys != ":0",
                        observed={"function_runs rows": rows, "redis DBSIZE": keys},
                        informational=True,  # a control: the scenario used the backends
                    )
        except SelfHostedUnavailable as exc:
            _not_installed(probe, _survival_keys(scenario), SCENARIOS[scenario], exc)
    probe.document(
        "builtin-redis-snapshots",
        t(
            "inngest start --help says its default in-memory Redis has periodic snapshot "
            "backups; in v1.43.0 the snapshot routine is not wired in (NewService gets nil options)"
        ),
        "https://github.com/inngest/inngest/blob/v1.43.0/pkg/devserver/devserver.go",
    )


@storage_backend.rubric
def _(ev: Evidence) -> Rating:
    production = _survival_keys("self-hosted")
    if not any(ev.passed(k) or ev.failed(k) for k in production):
        return Rating(
            stars=3,
            reason=t(
                "the production backend (PostgreSQL + Redis) could not be run here; the dev "
                "server alone is not a storage backend for production"
            ),
            drivers=production,
            advice=t(
                "install PostgreSQL and Redis ({command}) and run this item again",
                command=INSTALL_COMMAND,
            ),
        )
    if not ev.passed("self-hosted:in-flight-resumed"):
        return Rating(
            stars=2,
            reason=t("on PostgreSQL + Redis, a run sleeping during a server restart was lost"),
            drivers=["self-hosted:in-flight-resumed"],
        )
    if not (ev.passed("self-hosted:history-kept") and ev.passed("self-hosted:registration-kept")):
        return Rating(
            stars=3,
            reason=t(
                "on PostgreSQL + Redis, in-flight work survived a restart but history "
                "or registrations did not"
            ),
            drivers=production,
        )
    # What the rest claim: the advice and the 5-star reason speak of --persist and SQLite.
    dev_persist_lost = any(ev.failed(k) for k in _survival_keys("dev-persist"))
    advice = (
        t(
            "self-host with --redis-uri (and --postgres-uri); never rely on the built-in "
            "Redis for queued work, and treat the dev server, even with --persist, as "
            "disposable"
        )
        if dev_persist_lost
        else t(
            "self-host with --redis-uri (and --postgres-uri); never rely on the built-in "
            "Redis for queued work"
        )
    )
    sqlite = _survival_keys("self-hosted-sqlite")
    if ev.failed("self-hosted-sqlite:in-flight-resumed"):
        return Rating(
            stars=4,
            reason=t(
                "on PostgreSQL + Redis everything survived a restart: history, registrations "
                "and a sleeping run; inngest start on its defaults (SQLite + built-in Redis) "
                "lost the sleeping run, although its help promises snapshot backups"
            ),
            drivers=[*production, *sqlite],
            advice=advice,
        )
    if any(ev.failed(k) for k in sqlite):
        return Rating(
            stars=4,
            reason=t(
                "on PostgreSQL + Redis everything survived a restart: history, registrations "
                "and a sleeping run; inngest start on its defaults (SQLite + built-in Redis) "
                "kept the sleeping run but lost history or registrations"
            ),
            drivers=[*production, *sqlite],
            advice=advice,
        )
    if dev_persist_lost:
        return Rating(
            stars=5,
            reason=t(
                "the self-hosted server kept history, registrations and sleeping runs across a "
                "restart, on PostgreSQL + Redis and on its defaults; the dev server with "
                "--persist did not (it is not meant for production)"
            ),
            drivers=[*production, *sqlite, *_survival_keys("dev-persist")],
            advice=advice,
        )
    return Rating(
        stars=5,
        reason=t(
            "every backend that claims persistence kept history, registrations and sleeping runs"
        ),
        drivers=[*production, *sqlite, *_survival_keys("dev-persist")],
    )


# ═══ OP-04 Scalability ═════════════════════════════════════════════════════════════════════════
# One machine: 100 queued runs drained (the original's scale prerequisite), and a per-customer
# concurrency limit under load. Horizontal scaling is documentation, cited.


class ImageUploaded(BaseModel):
    image_id: int


@inngest_client.create_function(
    fn_id="op04-make-thumbnail",
    trigger=inngest.TriggerEvent(event="op04/image.uploaded"),
)
async def make_thumbnail(ctx: inngest.Context) -> str:
    image_id = ImageUploaded.model_validate(ctx.event.data).image_id

    async def resize() -> str:
        side_effects.executed(ctx.event, "resize", image_id)
        return f"thumb-{image_id}"

    return await ctx.step.run("resize", resize)


class CustomerChanged(BaseModel):
    customer_id: str


SYNC_S = 1.0  # how long one CRM sync holds its slot


@inngest_client.create_function(
    fn_id="op04-sync-customer",
    trigger=inngest.TriggerEvent(event="op04/customer.changed"),
    # One sync at a time per customer (the CRM rejects parallel writes to a record); different
    # customers in parallel.
    concurrency=[inngest.Concurrency(limit=1, key="event.data.customer_id")],
)
async def sync_customer(ctx: inngest.Context) -> None:
    customer_id = CustomerChanged.model_validate(ctx.event.data).customer_id

    async def push_to_crm() -> None:
        started = time.time()
        await asyncio.sleep(SYNC_S)
        side_effects.executed(ctx.event, "crm-write", [customer_id, started, time.time()])

    await ctx.step.run("push-to-crm", push_to_crm)


DRAIN_RUNS = 100
CUSTOMERS, CHANGES_PER_CUSTOMER = 3, 3


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The largest number of intervals open at one instant."""
    edges = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    open_now = peak = 0
    for _, delta in edges:
        open_now += delta
        peak = max(peak, open_now)
    return peak


def _drain(probe: Probe, key: str) -> None:
    """Send DRAIN_RUNS events in one request and time until every run's step has run."""
    events = [
        {"name": "op04/image.uploaded", "data": {"tag": probe.tag, "image_id": i}}
        for i in range(DRAIN_RUNS)
    ]
    clock = time.monotonic()
    event_ids = probe.api.send_many(events)
    drained = probe.wait_for_effect("resize", DRAIN_RUNS, timeout=120)
    drain_s = round(time.monotonic() - clock, 2)
    resized = sorted(probe.effect_values("resize"))
    server = probe.devserver.kind
    probe.measure(
        key.replace("queue-drains", "drain-time"),
        drain_s,
        "s",
        t(
            "{runs} one-step runs sent in one request until every step had run once; one "
            "sample ({server})",
            runs=DRAIN_RUNS,
            server=server,
        ),
    )
    probe.measure(
        key.replace("queue-drains", "drain-throughput"),
        round(DRAIN_RUNS / drain_s, 1),
        "runs/s",
        t("the same sample ({server})", server=server),
    )
    runs = probe.api.runs_for_events(event_ids[:: max(1, DRAIN_RUNS // 10)])
    statuses = [_final_status(probe, r.id, timeout=10) for r in runs]
    probe.check(
        key,
        t(
            "{runs} queued runs all run, each step exactly once ({server})",
            runs=DRAIN_RUNS,
            server=server,
        ),
        drained and resized == list(range(DRAIN_RUNS)) and set(statuses) == {"COMPLETED"},
        observed={
            "steps run": len(resized),
            "distinct": len(set(resized)),
            "sampled statuses": statuses,
            "seconds": drain_s,
        },
        run_ids=[r.id for r in runs],
    )


# ── Two instances of inngest start on one PostgreSQL and one Redis (OP-04, OP-06) ────────────
# What a team does to scale or fail over a self-hosted server: run a second `inngest start` on
# the same stores. Which instance calls the app is read from the kernel: the TCP connections
# each process holds open to the app's port (harness.servers.selfhosted.open_connections). The queue
# leases each function's partition to one worker at a time (pkg/execution/queue/
# process_partition.go, PartitionLease for PartitionLeaseDuration, 4 s), so one function's burst
# may stay with one instance: the burst is spread over several functions.


class JobQueued(BaseModel):
    job_id: int
    work_s: float


async def _two_instances_job(ctx: inngest.Context) -> int:
    job = JobQueued.model_validate(ctx.event.data)

    async def work() -> int:
        side_effects.executed(ctx.event, "work-started", job.job_id)
        await asyncio.sleep(job.work_s)  # a call to a slow service, in flight in the app
        side_effects.executed(ctx.event, "work", job.job_id)
        return job.job_id

    async def finish() -> None:
        side_effects.executed(ctx.event, "finish", job.job_id)

    done = await ctx.step.run("work", work)
    await ctx.step.run("finish", finish)
    return done


TWO_INSTANCE_FUNCTIONS = 4  # queue partitions the burst is spread over
two_instances_jobs = [
    inngest_client.create_function(
        fn_id=f"op-two-instances-job-{n}",
        trigger=inngest.TriggerEvent(event=f"op/two-instances.job-{n}"),
        retries=2,
    )(_two_instances_job)
    for n in range(TWO_INSTANCE_FUNCTIONS)
]
TWO_INSTANCE_JOBS = 48
TWO_INSTANCE_WORK_S = 0.5
KILLED_WORK_S = 15.0  # long enough to start the second instance while the step is in flight
NOT_ON_SELF_HOSTED = t(
    "measured when the script runs against the self-hosted server (--server self-hosted)"
)


@contextmanager
def _second_instance(probe: Probe, server: SelfHostedServer) -> Iterator[SelfHostedServer]:
    """A second ``inngest start`` on ``server``'s PostgreSQL, Redis and keys (started by the
    caller), stopped afterwards; ``server`` is started again if the block killed it."""
    replica = server.replica(probe.app.workdir / f"replica-{probe.new_scenario()}")
    try:
        yield replica
    finally:
        replica.stop()
        if server._process is None:
            server.restart()


class _AppCallers:
    """Samples, every 50 ms during the block, which instances hold TCP connections to the app
    that they did not hold before it: an instance that opened one called the app."""

    def __init__(self, instances: dict[str, SelfHostedServer], app_port: int) -> None:
        self.instances = instances
        self.app_port = app_port
        self.most = dict.fromkeys(instances, 0)
        self.before = {name: s.connections_to(app_port) for name, s in instances.items()}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.samples += 1
            for name, instance in self.instances.items():
                self.most[name] = max(self.most[name], instance.connections_to(self.app_port))

    def __enter__(self) -> _AppCallers:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def called(self, name: str) -> bool:
        return self.most[name] > self.before[name]


def _two_instances_share_work(probe: Probe, server: SelfHostedServer) -> None:
    """A burst of two-step runs with two instances up: do both call the app, and does any
    step run more than once?"""
    with _second_instance(probe, server) as second:
        probe.say("starting a second inngest start on the same PostgreSQL + Redis")
        second.start()
        probe.new_scenario()
        jobs = [
            {"name": f"op/two-instances.job-{n % TWO_INSTANCE_FUNCTIONS}",
             "data": {"tag": probe.tag, "job_id": n, "work_s": TWO_INSTANCE_WORK_S}}
            for n in range(TWO_INSTANCE_JOBS)
        ]  # fmt: skip
        callers = _AppCallers({"first": server, "second": second}, probe.app.port)
        with callers:
            clock = time.monotonic()
            probe.api.send_many(jobs)
            done = probe.wait_for_effect("finish", TWO_INSTANCE_JOBS, timeout=90)
            elapsed = round(time.monotonic() - clock, 2)
        time.sleep(2)  # a late second execution would show now
        started, finished = probe.effect_values("work-started"), probe.effect_values("finish")
    probe.check(
        "two-instances:both-take-work",
        t(
            "with two inngest start processes on one PostgreSQL and Redis, both called the app "
            "during a burst of {n} runs of {functions} functions",
            n=TWO_INSTANCE_JOBS,
            functions=TWO_INSTANCE_FUNCTIONS,
        ),
        all(callers.called(name) for name in callers.instances),
        observed={
            "connections to the app before": callers.before,
            "most at once during the burst": callers.most,
            "samples": callers.samples,
        },
    )
    probe.check(
        "two-instances:each-step-once",
        t("with two instances sharing the queue, every run completed and each step ran once"),
        done
        and sorted(started) == list(range(TWO_INSTANCE_JOBS))
        and sorted(finished) == list(range(TWO_INSTANCE_JOBS)),
        observed={
            "work steps started": len(started),
            "distinct": len(set(started)),
            "finish steps": len(finished),
            "seconds": elapsed,
        },
    )
    probe.measure(
        "two-instances:drain-time",
        elapsed,
        "s",
        t(
            "{n} two-step runs ({s} s of work each) sent in one request, two instances; one sample",
            n=TWO_INSTANCE_JOBS,
            s=TWO_INSTANCE_WORK_S,
        ),
    )


def _kill_mid_step(probe: Probe, server: SelfHostedServer) -> None:
    """The only instance is running a step (the app is in the middle of it); a second one
    starts; the first is SIGKILLed. Does the second finish the run, and what runs twice?"""
    with _second_instance(probe, server) as second:
        probe.new_scenario()
        run_id = probe.run_of(
            probe.send("op/two-instances.job-0", {"job_id": 0, "work_s": KILLED_WORK_S})
        )
        if not probe.wait_for_effect("work-started", 1, timeout=20):
            raise RuntimeError("the run's step never started")
        probe.say("starting a second inngest start while the first runs the step")
        second.start()
        if probe.effects("work") != 0:  # the step returned before the kill: nothing to see
            probe.not_run(
                "two-instances:killed-mid-step-completes",
                t("a run whose step was under way on a SIGKILLed instance completes on another"),
                t("the step returned before the second instance was up to take over"),
            )
            return
        server.stop_server(crash=True)
        api = second.api()
        try:
            status = api.wait_for_run(run_id, timeout=probe.bound(90)).status
        except ProbeTimeout:
            status = "STUCK"
        finally:
            api.close()
        time.sleep(2)  # a late second execution would show now
        runs_of = {name: probe.effects(name) for name in ("work-started", "work", "finish")}
    probe.check(
        "two-instances:killed-mid-step-completes",
        t(
            "a run whose step was under way on an instance that was SIGKILLed completes on the "
            "second instance, its next step run once"
        ),
        status == "COMPLETED" and runs_of["finish"] == 1,
        observed={"status": status, **runs_of},
        run_ids=[run_id],
    )
    probe.check(
        "two-instances:killed-step-ran-again",
        t("the step that was under way when its instance was killed ran again (at least once)"),
        runs_of["work-started"] >= 2,
        observed=runs_of,
        run_ids=[run_id],
        informational=True,  # at-least-once steps: what the SDK documents, rated nowhere
    )


@suite.item(
    "OP-04",
    functions=[make_thumbnail, sync_customer, *two_instances_jobs],
    timeout=180,
    needs=SELF_HOSTED_NEEDS,
)
def scalability(probe: Probe) -> None:
    _drain(probe, "queue-drains")
    description = t("the same burst drains on the self-hosted server (PostgreSQL + Redis)")
    server = probe.devserver
    if isinstance(server, SelfHostedServer) and server.kind == SELF_HOSTED:
        _two_instances_share_work(probe, server)
    else:
        for key, what in (
            ("two-instances:both-take-work", t("two inngest start processes both take work")),
            ("two-instances:each-step-once", t("with two instances each step runs once")),
        ):
            probe.not_run(key, what, NOT_ON_SELF_HOSTED)
    if probe.devserver.kind != SELF_HOSTED:
        try:
            with probe.self_hosted():
                probe.new_scenario()
                _drain(probe, "self-hosted:queue-drains")
        except SelfHostedUnavailable as exc:
            _not_installed(probe, ["self-hosted:queue-drains"], description, exc)

    probe.new_scenario()
    changes = [
        {"name": "op04/customer.changed", "data": {"tag": probe.tag, "customer_id": f"c{c}"}}
        for _ in range(CHANGES_PER_CUSTOMER)
        for c in range(CUSTOMERS)
    ]
    clock = time.monotonic()
    probe.api.send_many(changes)
    done = probe.wait_for_effect("crm-write", len(changes), timeout=60)
    elapsed = round(time.monotonic() - clock, 2)
    writes = probe.effect_values("crm-write")
    per_customer = {
        c: _max_overlap([(s, e) for cid, s, e in writes if cid == c])
        for c in {w[0] for w in writes}
    }
    across = _max_overlap([(s, e) for _, s, e in writes])
    probe.check(
        "per-key-limit-held",
        t("no customer ever had two syncs at once (limit 1 per concurrency key)"),
        done and all(v == 1 for v in per_customer.values()),
        observed={"max concurrent per customer": per_customer, "writes": len(writes)},
    )
    probe.check(
        "keys-run-in-parallel",
        t("different customers' syncs ran in parallel"),
        done and across >= 2,
        observed={"max concurrent overall": across, "seconds": elapsed},
        expected=f">= 2 (serial would take {CUSTOMERS * CHANGES_PER_CUSTOMER * SYNC_S:.0f}s)",
    )
    probe.measure(
        "keyed-batch-time",
        elapsed,
        "s",
        t(
            "{n} syncs of {s} s each over {k} customers, limit 1 per customer; one sample",
            n=len(changes),
            s=SYNC_S,
            k=CUSTOMERS,
        ),
    )
    probe.document(
        "self-hosted-single-node",
        t(
            "the self-hosting release is described as a single-node setup, scaling "
            "out being future work"
        ),
        "https://www.inngest.com/blog/inngest-1-0-announcing-self-hosting-support",
    )
    for key, claim, source in cloud_docs.concurrency_by_plan():
        probe.document(key, claim, source)


@scalability.rubric
def _(ev: Evidence) -> Rating:
    if not ev.passed("queue-drains"):
        return Rating(
            stars=2,
            reason=t("a burst of queued runs was not drained completely"),
            drivers=["queue-drains"],
        )
    if ev.failed("self-hosted:queue-drains"):
        # Not run where no self-hosted server can start; failed is the server users deploy.
        return Rating(
            stars=2,
            reason=t(
                "a burst of queued runs drained on the dev server, but not completely on the "
                "self-hosted server (PostgreSQL + Redis)"
            ),
            drivers=["queue-drains", "self-hosted:queue-drains"],
        )
    if ev.failed("two-instances:each-step-once"):
        return Rating(
            stars=3,
            reason=t(
                "with two inngest start processes sharing one PostgreSQL and Redis, a run did "
                "not complete or a step ran more than once, with no failure injected"
            ),
            drivers=["two-instances:each-step-once"],
            advice=t("run a single inngest start per PostgreSQL and Redis and scale it up"),
        )
    if not ev.passed("per-key-limit-held") or not ev.passed("keys-run-in-parallel"):
        return Rating(
            stars=3,
            reason=t(
                "runs drain, but keyed concurrency did not hold its limit or did not "
                "run keys in parallel"
            ),
            drivers=["per-key-limit-held", "keys-run-in-parallel"],
        )
    if ev.value("drain-time") > 60:
        return Rating(
            stars=3,
            reason=t(
                "runs drain and keys are respected, but 100 runs took over a minute on one machine"
            ),
            drivers=["queue-drains"],
        )
    reason = t(
        "100 queued runs drained quickly and keyed limits held with keys in parallel on one "
        "machine; beyond one machine only the cloud scales by plan, and self-hosting is "
        "documented as single-node"
    )
    if ev.passed("two-instances:both-take-work") and ev.passed("two-instances:each-step-once"):
        reason = t(
            "100 queued runs drained quickly and keyed limits held with keys in parallel; two "
            "inngest start processes on one PostgreSQL and Redis shared a burst, each step run "
            "once, though self-hosting is documented as single-node; more than one machine was "
            "not shown"
        )
    elif ev.failed("two-instances:both-take-work"):
        reason = t(
            "100 queued runs drained quickly and keyed limits held with keys in parallel on one "
            "machine, but a second inngest start on the same PostgreSQL and Redis took no share "
            "of a burst; beyond one machine only the cloud scales by plan"
        )
    return Rating(
        stars=4,
        reason=reason,
        drivers=[
            "queue-drains",
            "self-hosted:queue-drains",
            "per-key-limit-held",
            "keys-run-in-parallel",
            "two-instances:both-take-work",
            "two-instances:each-step-once",
        ],
        advice=t(
            "for more than one machine's worth of work, plan on Inngest Cloud (concurrency by "
            "plan) or on scaling a self-hosted server vertically"
        ),
    )


# ═══ OP-05 Retention and cleanup ═══════════════════════════════════════════════════════════════
# What the self-hosted server keeps, whether anything limits how long, and whether anyone can
# delete it; plan retention on the cloud from documentation.


@suite.item(
    "OP-05",
    functions=[issue_invoice],
    timeout=120,
    needs=SELF_HOSTED_NEEDS,
)
def retention(probe: Probe) -> None:
    help_text = start_help() or ""
    options = sorted({word.strip(",") for word in help_text.split() if word.startswith("--")})
    retention_flags = [
        o
        for o in options
        if any(w in o for w in ("retention", "ttl", "history", "expire", "prune"))
    ]
    if help_text:
        probe.check(
            "retention-setting",
            t("inngest start has a setting for how long runs and history are kept"),
            bool(retention_flags),
            observed={"retention-like flags": retention_flags, "flags": len(options)},
        )
    else:
        probe.not_run(
            "retention-setting",
            t("inngest start has a setting for how long runs and history are kept"),
            t("no inngest binary was found to ask"),
        )
    mutations = probe.api.graphql("{ __schema { mutationType { fields { name } } } }")
    names = [f["name"] for f in mutations["__schema"]["mutationType"]["fields"]]
    probe.check(
        "delete-run-api",
        t("the API can delete a run's data"),
        any("delete" in n.lower() and ("run" in n.lower() or "event" in n.lower()) for n in names),
        observed={"GraphQL mutations": names},
    )

    description = t(
        "the self-hosted server keeps finished runs in PostgreSQL, growing with every run"
    )
    try:
        with probe.self_hosted() as server:
            assert server.postgres
            before = server.postgres.query("SELECT count(*) FROM function_runs")
            size_before = server.postgres.query("SELECT pg_database_size(current_database())")
            run_ids = [
                probe.trigger("op02/invoice.requested", {"invoice_id": f"{probe.tag}-{i}"}).id
                for i in range(5)
            ]
            after = server.postgres.query("SELECT count(*) FROM function_runs")
            size_after = server.postgres.query("SELECT pg_database_size(current_database())")
            tables = server.postgres.query(
                "SELECT string_agg(relname || '=' || n_live_tup, ',' ORDER BY relname) "
                "FROM pg_stat_user_tables"
            )
            probe.check(
                "self-hosted-keeps-history",
                description,
                before.isdigit() and after.isdigit() and int(after) >= int(before) + 5,
                observed={
                    "function_runs before": before,
                    "after 5 runs": after,
                    "rows per table": tables,
                },
                run_ids=run_ids,
            )
            probe.measure(
                "database-growth",
                (int(size_after) - int(size_before)) / 1024
                if size_after.isdigit() and size_before.isdigit()
                else 0,
                "KiB",
                t("pg_database_size before and after 5 one-step runs; one sample"),
            )
    except SelfHostedUnavailable as exc:
        _not_installed(probe, ["self-hosted-keeps-history"], description, exc)
    probe.document(
        "self-hosted-no-cleanup",
        t(
            "the self-hosted server's SQL has no statement that deletes runs, events, history "
            "or traces; only queue snapshots are pruned"
        ),
        "https://github.com/inngest/inngest/blob/v1.43.0/pkg/db/postgres/sqlc/queries.sql",
    )
    for key, claim, source in cloud_docs.history_retention_by_plan():
        probe.document(key, claim, source)


@retention.rubric
def _(ev: Evidence) -> Rating:
    if ev.failed("self-hosted-keeps-history"):
        return Rating(
            stars=2,
            reason=t("the self-hosted server did not keep finished runs"),
            drivers=["self-hosted-keeps-history"],
        )
    if ev.passed("retention-setting") and ev.passed("delete-run-api"):
        return Rating(
            stars=5,
            reason=t("history is kept, its lifetime is configurable, and runs can be deleted"),
            drivers=["retention-setting", "delete-run-api"],
        )
    if ev.passed("retention-setting") or ev.passed("delete-run-api"):
        return Rating(
            stars=4,
            reason=t("history is kept and can be limited, by a setting or through the API"),
            drivers=["retention-setting", "delete-run-api"],
        )
    return Rating(
        stars=3,
        reason=t(
            "retention is plan-based and automatic on the cloud (documented); a self-hosted "
            "server keeps every run forever, with no retention setting and no API to delete"
        ),
        drivers=["retention-setting", "delete-run-api", "self-hosted-keeps-history"],
        advice=t(
            "when self-hosting, schedule your own pruning of old rows in PostgreSQL "
            "(function_runs, function_finishes, history, spans, traces, events) and watch the "
            "database size"
        ),
    )


# ═══ OP-06 Multi-region / HA ═══════════════════════════════════════════════════════════════════
# On one machine: the self-hosted server SIGKILLed under a sleeping run and started again, and a
# second instance on the same PostgreSQL + Redis taking over from a dead first one. Regions and
# cloud availability are documentation.


@suite.item(
    "OP-06",
    functions=[nightly_report, two_instances_jobs[0]],
    timeout=210,
    needs=SELF_HOSTED_NEEDS,
)
def high_availability(probe: Probe) -> None:
    description = t(
        "a run sleeping when the self-hosted server is SIGKILLed completes once it is back"
    )
    on_self_hosted = probe.devserver.kind == SELF_HOSTED  # the script's own server
    if not on_self_hosted:
        probe.not_run(
            "two-instances:killed-mid-step-completes",
            t("a run whose step was under way on a SIGKILLed instance completes on another"),
            NOT_ON_SELF_HOSTED,
        )
    try:
        with probe.self_hosted() as server:
            probe.new_scenario()
            outcome = _survival(probe, lambda: server.restart(crash=True))
            probe.check(
                "crash-recovery",
                description,
                outcome["in_flight"] == "COMPLETED" and outcome["history"] == "COMPLETED",
                observed=outcome,
                run_ids=outcome["runs"],
            )
            probe.measure(
                "crash-restart",
                outcome["restart_s"],
                "s",
                t("from SIGKILL of inngest start to it answering again; one sample"),
            )
            _takeover(probe, server)
            if on_self_hosted:
                _kill_mid_step(probe, server)
    except SelfHostedUnavailable as exc:
        _not_installed(probe, ["crash-recovery", "second-instance-takeover"], description, exc)
    probe.document(
        "backing-systems-ha",
        t(
            "the self-hosting guide requires the state, queue and data stores to "
            "be highly available"
        ),
        "https://www.inngest.com/docs/self-hosting",
    )
    probe.document(
        "cloud-outage-2024-08-16",
        t(
            "Inngest Cloud's incident report of 2024-08-16 describes hours of "
            "failed function execution"
        ),
        "https://www.inngest.com/blog/2024-08-16-incident-report",
    )


def _takeover(probe: Probe, server: SelfHostedServer) -> None:
    """Start a second instance on the same backends, kill the first under a sleeping run."""
    replica = server.replica(probe.app.workdir / f"replica-{probe.tag}")
    replica_api = replica.api()
    try:
        probe.say("starting a second inngest start on the same PostgreSQL + Redis")
        replica.start()
        probe.new_scenario()
        run_id = probe.run_of(probe.send("op03/report.requested", {"batch_wait_s": BATCH_WAIT_S}))
        if not probe.wait_for_step(run_id, "wait-for-batch", timeout=20):
            raise RuntimeError("the report run never reached its sleep")
        server.stop_server(crash=True)  # the first instance dies; the second is up
        try:
            status = replica_api.wait_for_run(run_id, timeout=probe.bound(BATCH_WAIT_S + 15)).status
        except ProbeTimeout:
            status = "STUCK"
        probe.check(
            "second-instance-takeover",
            t(
                "a second instance on the same PostgreSQL + Redis finishes a run the "
                "first one left sleeping"
            ),
            status == "COMPLETED",
            observed={"status seen through the second instance": status},
            run_ids=[run_id],
        )
    finally:
        replica_api.close()
        replica.stop()
        if server._process is None:
            server.restart()


@high_availability.rubric
def _(ev: Evidence) -> Rating:
    # Everything here runs on one host against one PostgreSQL and one Redis: it can show that
    # the server process fails over, never that the stores or a region do. Regions are not in
    # any source cited, so a passing run is capped at PoC level.
    if ev.failed("crash-recovery"):
        return Rating(
            stars=1,
            reason=t("a crash of the self-hosted server lost a sleeping run"),
            drivers=["crash-recovery"],
        )
    if not ev.passed("crash-recovery"):
        return Rating(
            stars=2,
            reason=t(
                "crash recovery could not be observed here; availability rests on documentation"
            ),
            drivers=["crash-recovery"],
        )
    if ev.failed("two-instances:killed-mid-step-completes"):
        return Rating(
            stars=2,
            reason=t(
                "a crashed server resumes its runs once restarted, but a run whose step was under "
                "way on a SIGKILLed instance did not complete on a second instance on the same "
                "PostgreSQL and Redis"
            ),
            drivers=["crash-recovery", "two-instances:killed-mid-step-completes"],
            advice=t("run the self-hosted server under a supervisor that restarts it at once"),
        )
    if not ev.passed("second-instance-takeover"):
        return Rating(
            stars=2,
            reason=t(
                "a crashed server resumes its runs once restarted on the same backends, but a "
                "second instance did not take over; HA means restarting quickly"
            ),
            drivers=["crash-recovery", "second-instance-takeover"],
            advice=t("run the self-hosted server under a supervisor that restarts it at once"),
        )
    reason = t(
        "on one host, a crashed server lost nothing and a second server process on the same "
        "single PostgreSQL and Redis finished the first one's runs; failover of PostgreSQL "
        "and Redis themselves and anything across regions were not shown, and no cited "
        "source covers regions"
    )
    if ev.passed("two-instances:killed-mid-step-completes"):
        reason = t(
            "on one host, a crashed server lost nothing, and a second server process on the same "
            "single PostgreSQL and Redis finished a sleeping run and a run whose step was under "
            "way when the first was SIGKILLed (that step ran again: at least once); failover of "
            "PostgreSQL and Redis themselves and anything across regions were not shown"
        )
    return Rating(
        stars=3,
        reason=reason,
        drivers=[
            "crash-recovery",
            "second-instance-takeover",
            "two-instances:killed-mid-step-completes",
        ],
        advice=t(
            "run two instances behind a load balancer, on highly available PostgreSQL and Redis"
        ),
    )


# ═══ OP-07 Multi-tenant isolation ══════════════════════════════════════════════════════════════
# A noisy tenant queues a backlog of slow report renders; a quiet tenant then asks for one. With
# a shared limit the quiet tenant waits behind the backlog; with the limit keyed per tenant it
# does not.


class ReportOrdered(BaseModel):
    tenant_id: str


RENDER_S = 1.5
NOISY_BACKLOG = 4


async def _render(ctx: inngest.Context) -> None:
    tenant = ReportOrdered.model_validate(ctx.event.data).tenant_id

    async def render() -> None:
        started = time.time()
        await asyncio.sleep(RENDER_S)  # a slow PDF renderer holding its concurrency slot
        side_effects.executed(ctx.event, "render", [tenant, started, time.time()])

    await ctx.step.run("render", render)


@inngest_client.create_function(
    fn_id="op07-render-report-shared",
    trigger=inngest.TriggerEvent(event="op07/report.ordered-shared"),
    concurrency=[inngest.Concurrency(limit=1)],  # one renderer for everybody
)
async def render_report_shared(ctx: inngest.Context) -> None:
    await _render(ctx)


@inngest_client.create_function(
    fn_id="op07-render-report-per-tenant",
    trigger=inngest.TriggerEvent(event="op07/report.ordered-per-tenant"),
    concurrency=[inngest.Concurrency(limit=1, key="event.data.tenant_id")],  # one per tenant
)
async def render_report_per_tenant(ctx: inngest.Context) -> None:
    await _render(ctx)


def _tenant_wait(probe: Probe, event: str) -> dict[str, Any]:
    """Queue the noisy backlog, then the quiet tenant's order; how long did each wait?"""
    backlog = [
        {"name": event, "data": {"tag": probe.tag, "tenant_id": "noisy"}}
        for _ in range(NOISY_BACKLOG)
    ]
    probe.api.send_many(backlog)
    time.sleep(0.3)  # the quiet order arrives after the whole backlog
    sent_at = time.time()
    probe.send(event, {"tenant_id": "quiet"})
    done = probe.wait_for_effect(
        "render", NOISY_BACKLOG + 1, timeout=(NOISY_BACKLOG + 1) * RENDER_S + 20
    )
    renders = probe.effect_values("render")
    quiet = [s for tenant, s, _ in renders if tenant == "quiet"]
    noisy = [(s, e) for tenant, s, e in renders if tenant == "noisy"]
    return {
        "all rendered": done,
        "quiet wait s": round(quiet[0] - sent_at, 2) if quiet else None,
        "noisy max concurrent": _max_overlap(noisy),
    }


@suite.item("OP-07", functions=[render_report_shared, render_report_per_tenant], timeout=120)
def tenant_isolation(probe: Probe) -> None:
    shared = _tenant_wait(probe, "op07/report.ordered-shared")
    probe.new_scenario()
    keyed = _tenant_wait(probe, "op07/report.ordered-per-tenant")
    for name, outcome in (("shared", shared), ("per-tenant", keyed)):
        if outcome["quiet wait s"] is not None:
            probe.measure(
                f"quiet-tenant-wait:{name}",
                outcome["quiet wait s"],
                "s",
                t(
                    "from the quiet tenant's event to its render starting, behind {n} noisy "
                    "renders of {s} s; one sample",
                    n=NOISY_BACKLOG,
                    s=RENDER_S,
                ),
            )
    probe.check(
        "shared-limit-delays",
        t("without a key, the quiet tenant waits behind the noisy tenant's backlog"),
        shared["all rendered"] and (shared["quiet wait s"] or 0) >= 2 * RENDER_S,
        observed=shared,
        expected=f">= {2 * RENDER_S:.1f}s wait",
    )
    probe.check(
        "per-tenant-key-isolates",
        t(
            "with the limit keyed per tenant, the quiet tenant starts without "
            "waiting for the backlog"
        ),
        keyed["all rendered"]
        and keyed["quiet wait s"] is not None
        and keyed["quiet wait s"] < RENDER_S + 1.5,
        observed=keyed,
        expected=f"< {RENDER_S + 1.5:.1f}s wait",
    )
    probe.check(
        "noisy-tenant-still-limited",
        t("the noisy tenant keeps its own limit of one render at a time"),
        keyed["noisy max concurrent"] == 1,
        observed=keyed,
    )
    probe.document(
        "concurrency-keys",
        t(
            "concurrency keys create a virtual queue per key value, documented for "
            "multi-tenant limits"
        ),
        "https://www.inngest.com/docs/guides/concurrency",
    )
    probe.document(
        "environments",
        t("environments separate production, staging and branches, each with its own keys"),
        "https://www.inngest.com/docs/platform/environments",
    )


@tenant_isolation.rubric
def _(ev: Evidence) -> Rating:
    if not ev.passed("per-tenant-key-isolates"):
        return Rating(
            stars=2,
            reason=t("even with a per-tenant key, one tenant's backlog delayed another tenant"),
            drivers=["per-tenant-key-isolates"],
        )
    if not ev.passed("noisy-tenant-still-limited"):
        return Rating(
            stars=3,
            reason=t("tenants were isolated, but the per-tenant limit was not enforced"),
            drivers=["noisy-tenant-still-limited"],
        )
    if not ev.passed("shared-limit-delays"):
        return Rating(
            stars=3,
            reason=t(
                "the quiet tenant was not delayed even without a key: the test shows "
                "no interference to isolate"
            ),
            drivers=["shared-limit-delays", "per-tenant-key-isolates"],
        )
    return Rating(
        stars=4,
        reason=t(
            "a per-tenant concurrency key cut the quiet tenant's wait behind a noisy backlog "
            "from {shared:.1f} s to {keyed:.1f} s while still limiting the noisy tenant; "
            "isolation is opt-in per function, and environments separate deployments "
            "(documented)",
            shared=ev.value("quiet-tenant-wait:shared"),
            keyed=ev.value("quiet-tenant-wait:per-tenant"),
        ),
        drivers=["shared-limit-delays", "per-tenant-key-isolates", "noisy-tenant-still-limited"],
        advice=t(
            "key every shared limit by tenant (concurrency, throttle) where one tenant's "
            "burst must not delay others"
        ),
    )


if __name__ == "__main__":
    suite.main()
