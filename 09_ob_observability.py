"""OB — Observability: can you see what your durable functions did, and be told when they fail?

Items OB-01 … OB-06: the dev server's UI (rendered by headless Chromium), metrics endpoints,
a run's history through the UI's own queries, OpenTelemetry traces, failure alerts to a
webhook, and logging. Run ``python 09_ob_observability.py --help`` for options.

Set ``OTEL_TRACES_EXPORTER=otlp`` (with the standard ``OTEL_EXPORTER_OTLP_*`` variables) or
``console`` to also export OB-04's spans; they always go to an in-memory exporter for checking.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import logging
import os
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import inngest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel

from common import (
    Category,
    Evidence,
    Need,
    PatternRating,
    Probe,
    Rating,
    Suite,
    inngest_client,
    pattern_module,
    side_effects,
    t,
)
from harness.probing.browser import ENV_CHECKS as BROWSER_ENV_CHECKS
from harness.probing.browser import BrowserError, Chromium, find_chromium, png_size
from harness.probing.prometheus import Exposition, parse
from harness.probing.webhook import WebhookReceiver
from harness.servers import ui_queries
from harness.servers.selfhosted import SELF_HOSTED_SQLITE, SelfHostedError, SelfHostedUnavailable
from patterns.log_context import FIELDS, RunContextFilter, log_context_middleware, run_step
from patterns.otel_tracing import ENV_CHECKS as OTEL_ENV_CHECKS
from patterns.otel_tracing import (
    exporter_from_env,
    run_span_id,
    run_trace_id,
    tracer_provider,
    tracing_middleware,
    ulid_time_ns,
)

suite = Suite(__file__, Category.OB, environment=(*BROWSER_ENV_CHECKS, *OTEL_ENV_CHECKS))


# ═══ OB-01 Dashboard / UI ══════════════════════════════════════════════════════════════════════
# A parcel booking of three steps; its run is looked up with the UI's own GraphQL queries and
# its page rendered by headless Chromium.


class ParcelBooked(BaseModel):
    parcel_id: str


@inngest_client.create_function(
    fn_id="ob01-ship-parcel", trigger=inngest.TriggerEvent(event="ob01/parcel.booked")
)
async def ship_parcel(ctx: inngest.Context) -> dict[str, str]:
    parcel = ParcelBooked.model_validate(ctx.event.data).parcel_id

    async def print_label() -> dict[str, str]:
        return {"label": f"LBL-{parcel}"}

    async def book_pickup() -> dict[str, str]:
        return {"pickup": f"PU-{parcel}", "window": "09:00-12:00"}

    async def notify_customer() -> str:
        return f"notified about {parcel}"

    label = await ctx.step.run("print-label", print_label)
    pickup = await ctx.step.run("book-pickup", book_pickup)
    notice = await ctx.step.run("notify-customer", notify_customer)
    return {**label, **pickup, "notice": notice}


OB01_STEPS = ["print-label", "book-pickup", "notify-customer"]


def _ui_assets(html: str) -> list[str]:
    """The script bundles an HTML page loads from /assets/ (how the real UI is recognised)."""
    return sorted(set(re.findall(r'(?:src|href)="(/assets/[^"]+\.js)"', html)))


def _step_spans(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The run's step spans by name: the children of the run's trace that have a step opcode
    (the trace also ends with a "function success"/"function error" span, which has none)."""
    trace = run.get("trace") or {}
    return {span["name"]: span for span in trace.get("childrenSpans") or [] if span.get("stepOp")}


WORKAROUND_FLAGS = "traces-preview=false"


def _look_at_run(probe: Probe, variant: str, real_ui: bool) -> None:
    """Run the parcel booking, read it back with the UI's queries (sent as the UI sends them),
    render its page and save a screenshot. ``variant`` suffixes check keys ("" for default)."""
    suffix = f":{variant}" if variant else ""
    info = ui_queries.feature_info(probe.devserver.url)
    preview = ui_queries.traces_preview(info)
    since = datetime.now(UTC) - timedelta(seconds=5)
    parcel = f"P-{probe.new_scenario()}"
    run = probe.trigger("ob01/parcel.booked", {"parcel_id": parcel})
    probe.api.final_trace(run.id)  # the trace store has caught up with the run's end
    try:
        ui_run, query_error = ui_queries.run(probe.api, run.id, preview=preview), None
    except RuntimeError as exc:
        ui_run, query_error = {}, str(exc)[:600]
    steps = _step_spans(ui_run)
    probe.check(
        f"ui-run-query{suffix}",
        t("the run page's query (GetRun, sent as the UI sends it) returns the run and its steps")
        if not variant
        else t("with {flags}, the run page's query returns the run and its steps", flags=variant),
        (ui_run.get("function") or {}).get("slug") == ship_parcel.id
        and ui_run.get("status") == "COMPLETED"
        and list(steps) == OB01_STEPS
        and all(s["status"] == "COMPLETED" for s in steps.values()),
        observed={
            "preview (the UI's traces-preview flag)": preview,
            "error": query_error,
            "status": ui_run.get("status"),
            "steps": {name: s["status"] for name, s in steps.items()},
        },
        run_ids=[run.id],
    )
    if not variant:
        if query_error:  # the older trace path, to see whether the data itself is there
            steps = _step_spans(ui_queries.run(probe.api, run.id, preview=False))
        pickup = steps.get("book-pickup") or {}
        output_id = pickup.get("outputID")
        result = ui_queries.trace_result(probe.api, output_id) if output_id else {}
        expected_pickup = {"pickup": f"PU-{parcel}", "window": "09:00-12:00"}
        probe.check(
            "ui-step-output-query",
            t("opening a step (GetTraceResult) shows the value it returned"),
            _json_value(result.get("data")) == expected_pickup,
            observed=result,
            expected=str(expected_pickup),
            run_ids=[run.id],
        )
        trigger = ui_queries.trigger(probe.api, run.id)
        payloads = [_json_value(p) for p in trigger.get("payloads") or []]
        probe.check(
            "ui-trigger-query",
            t("the run page's trigger query (GetTrigger) shows the event and its payload"),
            trigger.get("eventName") == "ob01/parcel.booked"
            and any((p or {}).get("data", {}).get("parcel_id") == parcel for p in payloads),
            observed=trigger,
            run_ids=[run.id],
        )
        listed = ui_queries.runs(probe.api, since)
        probe.check(
            "ui-runs-list-query",
            t("the runs page's query (GetRuns) lists the run with its function and status"),
            any(r["id"] == run.id and r["function"]["slug"] == ship_parcel.id for r in listed),
            observed=[{"id": r["id"], "status": r["status"]} for r in listed[:5]],
            run_ids=[run.id],
        )

    description = (
        t("the run's page, rendered by headless Chromium, shows every step")
        if not variant
        else t("with {flags}, the rendered run page shows every step", flags=variant)
    )
    shot = (
        t("a screenshot of the run's page is saved with the results")
        if not variant
        else t("with {flags}, a screenshot of the run's page is saved", flags=variant)
    )
    binary = find_chromium()
    if not real_ui or binary is None:
        reason = (
            t("the dev server serves a placeholder page instead of its UI (built without it)")
            if not real_ui
            else t("no Chromium found: install Debian's chromium or set SUITE_CHROMIUM")
        )
        probe.not_run(f"ui-renders-run{suffix}", description, reason)
        probe.not_run(f"screenshot{suffix}", shot, reason)
        return
    url = f"{probe.devserver.url}/run?runID={run.id}"
    probe.say("rendering the run's page in headless Chromium")
    try:
        dom, error = Chromium(binary, timeout_s=probe.bound(30)).dom(url), None
    except BrowserError as exc:
        dom, error = "", str(exc)
    shown = [name for name in OB01_STEPS if name in dom]
    graphql_error = "the requested element is null" in dom or "errors" in dom.lower()
    probe.check(
        f"ui-renders-run{suffix}",
        description,
        shown == OB01_STEPS,
        observed={
            "url": url,
            "steps shown": shown,
            "page shows a GraphQL error": graphql_error,
            "DOM bytes": len(dom),
            "error": error,
        },
        run_ids=[run.id],
    )
    name = "ob01-run-traces-preview-off.png" if variant else "ob01-run.png"
    try:
        path = Chromium(binary, timeout_s=probe.bound(30)).screenshot(url, probe.artifact(name))
        width, height = png_size(path)
        observed: dict[str, Any] = {
            "file": path.name,
            "pixels": f"{width}x{height}",
            "bytes": path.stat().st_size,
        }
        saved = path.stat().st_size > 10_000
    except (BrowserError, ValueError, OSError) as exc:
        observed, saved = {"error": str(exc)}, False
    # An artifact kept beside the evidence for readers; what the page shows is ui-renders-run.
    if variant:
        probe.check(
            "screenshot:traces-preview=false",
            shot,
            saved,
            observed=observed,
            run_ids=[run.id],
            informational=True,
        )
    else:
        probe.check(
            "screenshot", shot, saved, observed=observed, run_ids=[run.id], informational=True
        )


@suite.item("OB-01", functions=[ship_parcel], timeout=45, needs=[Need.CHROMIUM])
def dashboard(probe: Probe) -> None:
    page = httpx.get(f"{probe.devserver.url}/", timeout=10)
    html = page.text if "html" in page.headers.get("content-type", "") else ""
    assets = _ui_assets(html)
    bundle_sizes = [len(httpx.get(f"{probe.devserver.url}{a}", timeout=10).content) for a in assets]
    # A placeholder page loads no bundles; the real UI loads some hundreds of kB of them.
    real_ui = bool(assets) and sum(bundle_sizes) > 100_000
    probe.check(
        "ui-served",
        t("the dev server serves its web UI (HTML and script bundles) at /"),
        page.status_code == 200 and real_ui,
        observed={
            "status": page.status_code,
            "title": (re.findall(r"<title>(.*?)</title>", html) or [""])[0],
            "bundles": len(assets),
            "bundle bytes": sum(bundle_sizes),
            "start of page": page.text[:120],
        },
        run_ids=[],
    )
    _look_at_run(probe, "", real_ui)
    if probe.evidence.passed("ui-run-query"):
        return
    # The run page failed as the UI asks for it: does turning the UI's trace preview off help?
    if not probe.devserver.owned:
        probe.not_run(
            f"ui-run-query:{WORKAROUND_FLAGS}",
            t("the run page with the UI's trace preview turned off"),
            t("the dev server is external ($INNGEST_DEV_SERVER_URL); the suite cannot restart it"),
        )
        return
    with probe.devserver_options(env=(("INNGEST_FEATURE_FLAGS", WORKAROUND_FLAGS),)):
        _look_at_run(probe, WORKAROUND_FLAGS, real_ui)


def _json_value(raw: Any) -> Any:
    """A value the UI's queries return as JSON text (step data, payloads), decoded."""
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            return raw
        # Step outputs are stored wrapped as {"data": …}.
        if isinstance(value, dict) and set(value) == {"data"}:
            return value["data"]
        return value
    return raw


@dashboard.rubric
def _(ev: Evidence) -> Rating:
    data = ["ui-step-output-query", "ui-trigger-query", "ui-runs-list-query"]
    workaround = [f"ui-run-query:{WORKAROUND_FLAGS}", f"ui-renders-run:{WORKAROUND_FLAGS}"]
    if not ev.passed("ui-served") and not ev.passed("ui-run-query"):
        return Rating(
            stars=1, reason=t("no UI and no run data to show"), drivers=["ui-served", *data]
        )
    missing = [key for key in data if not ev.passed(key)]
    if missing:
        return Rating(
            stars=2,
            reason=t(
                "the UI cannot show parts of a run: {checks} failed", checks=", ".join(missing)
            ),
            drivers=missing,
        )
    if not ev.passed("ui-run-query") or ev.failed("ui-renders-run"):
        if all(ev.passed(key) for key in workaround):
            return Rating(
                stars=3,
                reason=t(
                    "the run page fails out of the box (its GraphQL query errors); with "
                    "INNGEST_FEATURE_FLAGS={flags} it shows the run and every step",
                    flags=WORKAROUND_FLAGS,
                ),
                drivers=["ui-run-query", "ui-renders-run", *workaround],
                advice=t(
                    "start the dev server with INNGEST_FEATURE_FLAGS={flags} until the run page "
                    "works out of the box",
                    flags=WORKAROUND_FLAGS,
                ),
            )
        return Rating(
            stars=2,
            reason=t("the run page does not show the run: its query or its rendering fails"),
            drivers=["ui-run-query", "ui-renders-run", *workaround],
        )
    if not ev.passed("ui-renders-run"):
        return Rating(
            stars=4,
            reason=t(
                "the UI's queries return the run, its steps, outputs and trigger; the rendered "
                "page could not be looked at here"
            ),
            drivers=["ui-run-query", *data, "ui-renders-run"],
        )
    return Rating(
        stars=5,
        reason=t(
            "the UI lists the run and renders its page with every step; its queries return "
            "each step's output and the triggering event"
        ),
        drivers=["ui-run-query", *data, "ui-renders-run"],
    )


# ═══ OB-02 Metrics ═════════════════════════════════════════════════════════════════════════════
# What /metrics answers on the dev server (with and without its experimental run counters), on
# a self-hosted server, and what Inngest Cloud documents.

PROM_FLAG = "INNGEST_EXPERIMENTAL_PROM_METRICS"


class InvoiceDue(BaseModel):
    invoice_id: str
    fail: bool = False


@inngest_client.create_function(
    fn_id="ob02-send-invoice", trigger=inngest.TriggerEvent(event="ob02/invoice.due"), retries=0
)
async def send_invoice(ctx: inngest.Context) -> str:
    invoice = InvoiceDue.model_validate(ctx.event.data)

    async def deliver() -> str:
        if invoice.fail:
            raise inngest.NonRetriableError(f"mailbox for {invoice.invoice_id} rejects mail")
        return f"sent {invoice.invoice_id}"

    return await ctx.step.run("deliver", deliver)


def _scrape(url: str) -> tuple[int, str, Exposition | None]:
    response = httpx.get(url, timeout=10)
    try:
        return response.status_code, response.text, parse(response.text)
    except ValueError:
        return response.status_code, response.text, None


def _run_invoices(probe: Probe, outcomes: list[bool]) -> list[str]:
    """One run per entry (True: succeeds); their run IDs, each waited for."""
    run_ids = []
    for index, succeeds in enumerate(outcomes):
        data = {"invoice_id": f"INV-{probe.tag}-{index}", "fail": not succeeds}
        run_ids.append(probe.trigger("ob02/invoice.due", data).id)
    return run_ids


@suite.item("OB-02", functions=[send_invoice], timeout=35, needs=[Need.INNGEST_BINARY])
def metrics(probe: Probe) -> None:
    fn = send_invoice.id
    run_ids = _run_invoices(probe, [True, False])
    status, text, exposition = _scrape(f"{probe.devserver.url}/metrics")
    names = sorted(exposition.names()) if exposition else []
    probe.check(
        "dev-metrics-endpoint",
        t("the dev server answers GET /metrics in the Prometheus text format"),
        status == 200 and exposition is not None and bool(names),
        observed={"status": status, "metrics": names, "start": text[:120]},
        run_ids=[],
    )
    probe.check(
        "run-counters-by-default",
        t("by default, /metrics counts function runs (not only the queue depth)"),
        exposition is not None and exposition.total("inngest_function_run_ended_total", fn=fn) > 0,
        observed={"metrics": names},
        run_ids=run_ids,
    )
    prom_status, prom_text, prom = _scrape(f"{probe.devserver.url}/v1/prom/dev")
    probe.check(
        "cloud-scrape-path",
        t("the cloud's scrape path /v1/prom/<environment> answers with metrics on the dev server"),
        prom_status == 200 and prom is not None and bool(prom.samples),
        observed={"status": prom_status, "body": prom_text[:200]},
        run_ids=[],
        # Context: the cloud's export is rated as documented, not executed; this shows the
        # dev server does not stand in for it.
        informational=True,
    )

    if probe.devserver.owned:
        with probe.devserver_options(env=((PROM_FLAG, "1"),)):
            flagged_runs = _run_invoices(probe, [True, True, False])
            status, text, flagged = _scrape(f"{probe.devserver.url}/metrics")
        counts = {
            outcome: flagged.total("inngest_function_run_ended_total", fn=fn, status=outcome)
            if flagged
            else None
            for outcome in ("completed", "failed")
        }
        requests = flagged.total("inngest_sdk_req_ended_total", fn=fn) if flagged else None
        histograms = sorted(
            name for name, kind in (flagged.types if flagged else {}).items() if kind == "histogram"
        )
        probe.check(
            "latency-histograms",
            t(
                "with {flag}=1, /metrics has latency histograms (runs, steps or SDK requests)",
                flag=PROM_FLAG,
            ),
            bool(histograms),
            observed={"histogram families": histograms, "types": flagged.types if flagged else {}},
            expected="at least one metric family of type histogram",
            run_ids=flagged_runs,
        )
        probe.check(
            "run-counters-flagged",
            t(
                "with {flag}=1, /metrics counts this function's runs by outcome and its SDK "
                "requests",
                flag=PROM_FLAG,
            ),
            counts == {"completed": 2, "failed": 1} and bool(requests),
            observed={
                "runs ended": counts,
                "SDK requests ended": requests,
                "metrics": sorted(flagged.names()) if flagged else text[:200],
            },
            expected="completed 2, failed 1",
            run_ids=flagged_runs,
        )
    else:
        external = t(
            "the dev server is external ($INNGEST_DEV_SERVER_URL); the suite cannot restart it"
        )
        probe.not_run(
            "run-counters-flagged", t("run counters with the experimental flag"), external
        )
        probe.not_run(
            "latency-histograms", t("latency histograms with the experimental flag"), external
        )

    probe.say("starting a self-hosted server (inngest start)")
    try:
        with probe.self_hosted(SELF_HOSTED_SQLITE) as hosted:
            status, text, exposition = _scrape(f"{hosted.url}/metrics")
            authed = httpx.get(f"{hosted.url}/v1/prom/default", timeout=10)
    except (SelfHostedUnavailable, SelfHostedError) as exc:
        probe.not_run(
            "self-hosted-metrics",
            t("a self-hosted server's /metrics"),
            t("no self-hosted server could be started here: {error}", error=str(exc)[:200]),
        )
    else:
        probe.check(
            "self-hosted-metrics",
            t("a self-hosted server (inngest start) answers GET /metrics in the Prometheus format"),
            status == 200 and exposition is not None,
            observed={
                "status": status,
                "metrics": sorted(exposition.names()) if exposition else text[:200],
                "answered without credentials": status == 200,
                "/v1/prom/{env}": f"{authed.status_code} {authed.text[:80]}",
                "command": hosted.describe().get("command"),
            },
            run_ids=[],
        )
    probe.document(
        "cloud-prometheus",
        t(
            "Inngest Cloud exports Prometheus metrics through a scrape endpoint on paid plans: "
            "run, SDK request and step counters and gauges per function"
        ),
        "https://inngest.com/docs/platform/monitor/prometheus-metrics-export-integration",
    )
    probe.document(
        "cloud-datadog",
        t("Inngest Cloud publishes metrics to Datadog through a native integration"),
        "https://www.inngest.com/docs/platform/monitor/datadog-integration",
    )


@metrics.rubric
def _(ev: Evidence) -> Rating:
    # The star scale's own ★2 is "experimental": counters that exist only behind a flag named
    # experimental get it. Inngest Cloud's exports are documented, not executed: named in the
    # reason, never counted.
    if not ev.passed("dev-metrics-endpoint") and not ev.passed("self-hosted-metrics"):
        return Rating(
            stars=1,
            reason=t("no metrics endpoint answers"),
            drivers=["dev-metrics-endpoint", "self-hosted-metrics"],
        )
    if ev.passed("run-counters-by-default"):
        if ev.passed("latency-histograms"):
            return Rating(
                stars=5,
                reason=t("/metrics counts runs and steps out of the box, with latency histograms"),
                drivers=["run-counters-by-default", "latency-histograms"],
            )
        return Rating(
            stars=4,
            reason=t(
                "/metrics counts runs and steps out of the box, but has no latency histograms"
            ),
            drivers=["run-counters-by-default", "latency-histograms"],
            advice=t("measure latencies in your app (OpenTelemetry, see OB-04)"),
        )
    drivers = ["dev-metrics-endpoint", "run-counters-by-default", "run-counters-flagged"]
    if ev.failed("run-counters-flagged"):
        return Rating(
            stars=1,
            reason=t(
                "/metrics answers, but only with the queue depth: no run or step counters, "
                "even with the experimental flag"
            ),
            drivers=drivers,
        )
    if not ev.passed("run-counters-flagged"):
        return Rating(
            stars=1,
            reason=t(
                "/metrics answers, but only with the queue depth: no run or step counters by "
                "default (the experimental flag could not be tried here)"
            ),
            drivers=drivers,
        )
    return Rating(
        stars=2,
        reason=t(
            "run and step counters exist only behind an experimental flag ({flag}=1; by default "
            "the dev and self-hosted servers' /metrics has only the queue depth), with latency "
            "histograms; Inngest Cloud's Prometheus and Datadog exports are documented, not "
            "executed here",
            flag=PROM_FLAG,
        )
        if ev.passed("latency-histograms")
        else t(
            "run and step counters exist only behind an experimental flag ({flag}=1; by default "
            "the dev and self-hosted servers' /metrics has only the queue depth), and there are "
            "no latency histograms; Inngest Cloud's Prometheus and Datadog exports are "
            "documented, not executed here",
            flag=PROM_FLAG,
        ),
        drivers=[*drivers, "latency-histograms", "self-hosted-metrics"],
        advice=t(
            "self-hosted: set {flag}=1 and scrape /metrics (it asks for no authentication: keep "
            "it off public networks); measure latencies in your app (OpenTelemetry, see OB-04)",
            flag=PROM_FLAG,
        ),
    )


# ═══ OB-03 History visualization ═══════════════════════════════════════════════════════════════
# A reconciliation whose currency step fails twice before it succeeds. Each step records when it
# really ran; the run's history, read through the UI's queries, must match.


class Invoice(BaseModel):
    id: str
    amount_eur: float


class ReconciliationDue(BaseModel):
    invoices: list[Invoice]


USD_PER_EUR = 1.1


@inngest_client.create_function(
    fn_id="ob03-reconcile-invoices",
    trigger=inngest.TriggerEvent(event="ob03/reconciliation.due"),
    retries=3,
)
async def reconcile_invoices(ctx: inngest.Context) -> dict[str, float]:
    due = ReconciliationDue.model_validate(ctx.event.data)

    async def timed(name: str) -> int:
        """The step's work; records when it really ran (to compare with the history the dev
        server shows) and returns how many times this step has run so far."""
        started = time.time()
        await asyncio.sleep(0.2)
        return side_effects.executed(
            ctx.event, f"ran:{name}", {"start": started, "end": time.time()}
        )

    async def fetch_invoices() -> list[dict[str, Any]]:
        await timed("fetch-invoices")
        return [invoice.model_dump() for invoice in due.invoices]

    async def convert_currency() -> float:
        attempt = await timed("convert-currency")
        if attempt < 3:
            raise RuntimeError(f"exchange-rate service unavailable (attempt {attempt})")
        return round(sum(i["amount_eur"] for i in invoices) * USD_PER_EUR, 2)

    async def store_totals() -> dict[str, float]:
        await timed("store-totals")
        return {"total_usd": total, "invoices": float(len(invoices))}

    invoices = await ctx.step.run("fetch-invoices", fetch_invoices)
    total = await ctx.step.run("convert-currency", convert_currency)
    return await ctx.step.run("store-totals", store_totals)


OB03_STEPS = ["fetch-invoices", "convert-currency", "store-totals"]
_SLACK_S = 1.0  # clock skew and rounding allowed between the app's and the dev server's times


def _parse_time(value: Any) -> float | None:
    if not isinstance(value, str) or not value or value.startswith("0001-"):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


@suite.item("OB-03", functions=[reconcile_invoices], timeout=35)
def history(probe: Probe) -> None:
    invoices: list[dict[str, Any]] = [{"id": f"I-{n}", "amount_eur": 100.0 + n} for n in range(3)]
    run = probe.trigger(
        "ob03/reconciliation.due",
        {"invoices": invoices},
        timeout=30 + probe.devserver.retry_allowance(2),
    )
    probe.api.final_trace(run.id)
    # The trace as the run page asks for it with the server's default feature flags (its
    # traces-preview flag, from GET /dev), not a workaround.
    info = ui_queries.feature_info(probe.devserver.url)
    preview = ui_queries.traces_preview(info)
    try:
        ui_run, query_error = ui_queries.run(probe.api, run.id, preview=preview), None
    except RuntimeError as exc:
        ui_run, query_error = {}, str(exc)[:600]
    # One row per step, its attempts under it, as the run page rolls the trace up.
    rows = ui_queries.rollup_steps(ui_run)
    steps = {row["name"]: row for row in rows}
    total = round(sum(i["amount_eur"] for i in invoices) * USD_PER_EUR, 2)
    expected = {
        "fetch-invoices": invoices,
        "convert-currency": total,
        "store-totals": {"total_usd": total, "invoices": 3.0},
    }

    timing: dict[str, Any] = {}
    for name in OB03_STEPS:
        span = steps.get(name) or {}
        shown = (_parse_time(span.get("startedAt")), _parse_time(span.get("endedAt")))
        ran = probe.effect_values(f"ran:{name}")
        actual = (min(r["start"] for r in ran), max(r["end"] for r in ran)) if ran else None
        timing[name] = {
            "shown ms": round((shown[1] - shown[0]) * 1000) if all(shown) else None,  # type: ignore[operator]
            "ran ms": round((actual[1] - actual[0]) * 1000) if actual else None,
            "covers": bool(
                actual
                and shown[0] is not None
                and shown[1] is not None
                and shown[0] - _SLACK_S <= actual[0]
                and actual[1] <= shown[1] + _SLACK_S
            ),
        }
    probe.check(
        "timeline",
        t("the history shows every step in order, with start and end times that match its run"),
        run.status == "COMPLETED"
        and [row["name"] for row in rows] == OB03_STEPS
        and all(timing[name]["covers"] for name in OB03_STEPS),
        observed={
            "preview (the UI's traces-preview flag)": preview,
            "query error": query_error,
            "steps": [row["name"] for row in rows],
            "timing": timing,
        },
        run_ids=[run.id],
    )
    outputs = {}
    for name in OB03_STEPS:
        output_id = (steps.get(name) or {}).get("outputID")
        result = ui_queries.trace_result(probe.api, output_id) if output_id else {}
        outputs[name] = _json_value(result.get("data"))
    probe.check(
        "step-outputs",
        t("each step's output in the history is the value the step returned"),
        outputs == expected,
        observed=outputs,
        expected=str(expected),
        run_ids=[run.id],
    )
    trigger = ui_queries.trigger(probe.api, run.id)
    payload = _json_value((trigger.get("payloads") or [None])[0]) or {}
    probe.check(
        "run-input",
        t("the history shows the run's input (the triggering event's data)"),
        payload.get("data", {}).get("invoices") == invoices,
        observed=payload,
        run_ids=[run.id],
    )
    convert = steps.get("convert-currency") or {}
    attempts = convert.get("childrenSpans") or []
    errors = []
    for attempt in attempts:
        if attempt.get("status") == "FAILED" and attempt.get("outputID"):
            error = ui_queries.trace_result(probe.api, attempt["outputID"]).get("error") or {}
            errors.append(error.get("message"))
    probe.check(
        "retried-attempts",
        t("a retried step shows each attempt, and each failed attempt's error message"),
        [a.get("status") for a in attempts] == ["FAILED", "FAILED", "COMPLETED"]
        and errors == [f"exchange-rate service unavailable (attempt {n})" for n in (1, 2)]
        and len(probe.effect_values("ran:convert-currency")) == 3,
        observed={
            "attempts": [a.get("status") for a in attempts],
            "attempt count shown": convert.get("attempts"),
            "errors": errors,
            "executions": len(probe.effect_values("ran:convert-currency")),
        },
        run_ids=[run.id],
    )
    _render_history(probe, run.id)


def _render_history(probe: Probe, run_id: str) -> None:
    """Render the run's page in headless Chromium (default flags) and look for each step."""
    description = t("the run's page, rendered by headless Chromium, shows every step of the run")
    binary = find_chromium()
    page = httpx.get(f"{probe.devserver.url}/", timeout=10)
    if binary is None or not _ui_assets(page.text):
        reason = (
            t("no Chromium found: install Debian's chromium or set SUITE_CHROMIUM")
            if binary is None
            else t("the dev server serves a placeholder page instead of its UI (built without it)")
        )
        probe.not_run("rendered-history", description, reason)
        return
    url = f"{probe.devserver.url}/run?runID={run_id}"
    probe.say("rendering the run's page in headless Chromium")
    try:
        dom, error = Chromium(binary, timeout_s=probe.bound(30)).dom(url), None
    except BrowserError as exc:
        dom, error = "", str(exc)
    shown = [name for name in OB03_STEPS if name in dom]
    probe.check(
        "rendered-history",
        description,
        shown == OB03_STEPS,
        observed={
            "url": url,
            "steps shown": shown,
            "a failed attempt's error shown": "exchange-rate service unavailable" in dom,
            "DOM bytes": len(dom),
            "error": error,
        },
        expected=", ".join(OB03_STEPS),
        run_ids=[run_id],
    )


@history.rubric
def _(ev: Evidence) -> Rating:
    # Judged on what the UI shows with its default flags: its own queries, and its page.
    if not ev.passed("timeline"):
        return Rating(
            stars=1 if ev.failed("step-outputs") else 2,
            reason=t("the history does not show the run's steps as they ran"),
            drivers=["timeline", "step-outputs"],
        )
    if ev.failed("rendered-history"):
        return Rating(
            stars=2,
            reason=t(
                "the UI's queries return the run's steps, but its rendered run page does not "
                "show them"
            ),
            drivers=["timeline", "rendered-history"],
        )
    if not ev.passed("step-outputs") or not ev.passed("run-input"):
        return Rating(
            stars=3,
            reason=t("the timeline is right, but inputs or outputs cannot be inspected"),
            drivers=["step-outputs", "run-input"],
        )
    if not ev.passed("retried-attempts"):
        return Rating(
            stars=4,
            reason=t("steps, timings, input and outputs are shown; retried attempts are not"),
            drivers=["retried-attempts"],
        )
    drivers = ["timeline", "step-outputs", "run-input", "retried-attempts", "rendered-history"]
    if not ev.passed("rendered-history"):
        return Rating(
            stars=4,
            reason=t(
                "the UI's queries (default flags) return each step with its real timing, the "
                "input, every output and each attempt of a retried step with its error; the "
                "rendered page could not be looked at here"
            ),
            drivers=drivers,
        )
    return Rating(
        stars=5,
        reason=t(
            "the UI's run page, rendered with its default flags, shows every step; its queries "
            "return each step's real timing, the input, every output, and each attempt of a "
            "retried step with its error"
        ),
        drivers=drivers,
    )


# ═══ OB-04 OpenTelemetry ═══════════════════════════════════════════════════════════════════════
# What the SDK offers natively, then patterns.otel_tracing's middleware on a checkout whose
# payment step fails once: one span per run and per step attempt, checked in an in-memory
# exporter.

span_exporter = InMemorySpanExporter()
tracing = tracer_provider(span_exporter, service_name="durability-suite")
try:
    _requested_exporter = exporter_from_env()
except ValueError as exc:
    print(f"error: {exc}", file=sys.stderr)
    raise SystemExit(2) from None
if _requested_exporter is not None:
    # Batched: a slow or absent collector must not hold up the app's answers to Inngest.
    tracing.add_span_processor(BatchSpanProcessor(_requested_exporter))


class CheckoutStarted(BaseModel):
    order_id: str
    card_declines: int = 0


@inngest_client.create_function(
    fn_id="ob04-checkout",
    trigger=inngest.TriggerEvent(event="ob04/checkout.started"),
    middleware=[tracing_middleware(tracing)],
    retries=2,
)
async def checkout(ctx: inngest.Context) -> dict[str, str]:
    order = CheckoutStarted.model_validate(ctx.event.data)

    async def reserve_stock() -> str:
        return f"reservation-{order.order_id}"

    async def charge_card() -> str:
        if ctx.attempt < order.card_declines:
            raise RuntimeError(f"card declined (attempt {ctx.attempt})")
        return f"charge-{order.order_id}"

    async def ship() -> str:
        return f"shipment-{order.order_id}"

    reservation = await ctx.step.run("reserve-stock", reserve_stock)
    charge = await ctx.step.run("charge-card", charge_card)
    shipment = await ctx.step.run("ship", ship)
    return {"reservation": reservation, "charge": charge, "shipment": shipment}


@inngest_client.create_function(
    fn_id="ob04-refund",
    trigger=inngest.TriggerEvent(event="ob04/refund.requested"),
    middleware=[tracing_middleware(tracing)],
    retries=0,
)
async def refund(ctx: inngest.Context) -> None:
    async def call_bank() -> None:
        raise RuntimeError("bank rejected the refund")

    await ctx.step.run("call-bank", call_bank)


def _sdk_otel_support() -> dict[str, Any]:
    """What the installed Python SDK ships for OpenTelemetry: files that mention it, and its
    experimental modules (where integrations live)."""
    package = Path(inngest.__file__).parent
    mentions = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "opentelemetry" in path.read_text(errors="replace")
    )
    experimental = sorted(p.stem for p in (package / "experimental").iterdir() if p.stem[0] != "_")
    return {"files importing opentelemetry": mentions, "experimental modules": experimental}


def _spans_of(run_id: str) -> list[ReadableSpan]:
    return [
        s
        for s in span_exporter.get_finished_spans()
        if (s.attributes or {}).get("inngest.run.id") == run_id
    ]


@suite.item("OB-04", functions=[checkout, refund], timeout=25)
def otel(probe: Probe) -> None:
    native = _sdk_otel_support()
    probe.check(
        "sdk-native-otel",
        t("the installed Python SDK ships OpenTelemetry support"),
        bool(native["files importing opentelemetry"]),
        observed={**native, "sdk": importlib.metadata.version("inngest")},
        run_ids=[],
    )
    probe.document(
        "ts-only",
        t(
            "Inngest's OpenTelemetry integration (Extended Traces, extendedTracesMiddleware) is "
            "documented for the TypeScript SDK only"
        ),
        "https://www.inngest.com/docs/examples/open-telemetry",
    )

    span_exporter.clear()
    run = probe.trigger(
        "ob04/checkout.started",
        {"order_id": probe.tag, "card_declines": 1},
        timeout=30 + probe.devserver.retry_allowance(1),
    )
    spans = _spans_of(run.id)
    by_name: dict[str, list[ReadableSpan]] = {}
    for span in spans:
        by_name.setdefault(span.name, []).append(span)
    runs = by_name.get(checkout.id, [])
    run_span = runs[0] if len(runs) == 1 else None
    summary = {name: [s.status.status_code.name for s in group] for name, group in by_name.items()}
    probe.check(
        "one-run-span",
        t("one span for the run: kind SERVER, named after the function, status OK"),
        run_span is not None
        and run.status == "COMPLETED"
        and run_span.kind is SpanKind.SERVER
        and run_span.status.status_code is StatusCode.OK
        and run_span.context.span_id == run_span_id(run.id),
        observed=summary,
        run_ids=[run.id],
    )
    steps = [s for s in spans if s.name.startswith("step.")]
    probe.check(
        "parent-child",
        t("every step span is a child of the run span, in the run's trace"),
        bool(steps)
        and all(
            s.parent is not None
            and s.parent.span_id == run_span_id(run.id)
            and s.context.trace_id == run_trace_id(run.id)
            for s in steps
        ),
        observed={s.name: f"parent {s.parent.span_id:016x}" if s.parent else None for s in steps},
        run_ids=[run.id],
    )
    charges = by_name.get("step.run charge-card", [])
    failed = charges[0] if charges else None
    failed_attributes = dict(failed.attributes or {}) if failed else {}
    probe.check(
        "failed-attempt-error",
        t("the failed attempt's span has status ERROR, error.type and an exception event"),
        [s.status.status_code for s in charges] == [StatusCode.ERROR, StatusCode.OK]
        and failed is not None
        and failed_attributes.get("error.type") == "RuntimeError"
        and any(e.name == "exception" for e in failed.events),
        observed={
            "charge-card spans": [s.status.status_code.name for s in charges],
            "first": {k: str(v) for k, v in failed_attributes.items()},
        },
        run_ids=[run.id],
    )
    probe.check(
        "no-duplicate-memoized",
        t("steps replayed from memoized state get no further spans (one each)"),
        len(by_name.get("step.run reserve-stock", [])) == 1
        and len(by_name.get("step.run ship", [])) == 1,
        observed=summary,
        expected="reserve-stock and ship: 1 span each, although the run re-entered 4 times",
        run_ids=[run.id],
    )
    run_attributes = dict(run_span.attributes or {}) if run_span else {}
    probe.check(
        "semantic-conventions",
        t("spans carry OTel semantic-convention attributes (faas.*, error.type, service.name)"),
        run_span is not None
        and run_attributes.get("faas.invocation_id") == run.id
        and run_attributes.get("faas.trigger") == "pubsub"
        and run_span.resource.attributes.get("service.name") == "durability-suite",
        observed={k: str(v) for k, v in run_attributes.items()},
        run_ids=[run.id],
    )
    dev_steps = list(_step_spans(ui_queries.run(probe.api, run.id, preview=False)))
    created = ulid_time_ns(run.id)
    probe.check(
        "matches-dev-server",
        t("the spans tell the same story as the dev server's trace: same steps, same window"),
        sorted({s.name.removeprefix("step.run ") for s in steps}) == sorted(dev_steps)
        and run_span is not None
        and run_span.start_time == created
        and all(
            (run_span.start_time or 0)
            <= (s.start_time or 0)
            <= (s.end_time or 0)
            <= (run_span.end_time or 0)
            for s in steps
        ),
        observed={"dev server steps": dev_steps, "span steps": sorted({s.name for s in steps})},
        run_ids=[run.id],
    )

    failing = probe.trigger("ob04/refund.requested")
    refund_spans = _spans_of(failing.id)
    failed_runs = [s for s in refund_spans if s.name == refund.id]
    probe.check(
        "failed-run-span",
        t("a run that fails for good ends with a run span of status ERROR"),
        failing.status == "FAILED"
        and len(failed_runs) == 1
        and failed_runs[0].status.status_code is StatusCode.ERROR,
        observed={s.name: s.status.status_code.name for s in refund_spans},
        run_ids=[failing.id],
    )


@otel.rubric
def _(ev: Evidence) -> Rating:
    structure = ["one-run-span", "parent-child", "no-duplicate-memoized", "failed-run-span"]
    detail = ["failed-attempt-error", "semantic-conventions", "matches-dev-server"]
    if all(ev.passed(key) for key in structure + detail):
        pattern = PatternRating(
            module=pattern_module(tracing_middleware),
            pattern=t(
                "an OpenTelemetry middleware on the SDK's middleware API: run and step-attempt "
                "spans whose IDs derive from the run ID"
            ),
            stars=4,
            reason=t(
                "correct spans, parentage, error status and semantic conventions across "
                "re-entries; runs that are cancelled or time out get no run span, and the spans "
                "do not appear in Inngest's own trace view"
            ),
            drivers=structure + detail,
        )
    elif all(ev.passed(key) for key in structure):
        pattern = PatternRating(
            module=pattern_module(tracing_middleware),
            pattern=t("an OpenTelemetry middleware on the SDK's middleware API"),
            stars=3,
            reason=t("spans and parentage are right; some attributes or timings are not"),
            drivers=detail,
        )
    else:
        pattern = PatternRating(
            module=pattern_module(tracing_middleware),
            pattern=t("an OpenTelemetry middleware on the SDK's middleware API"),
            stars=2,
            reason=t("spans are missing, duplicated or wrongly parented"),
            drivers=structure,
        )
    if ev.passed("sdk-native-otel"):
        return Rating(
            stars=3,
            reason=t("the Python SDK ships OpenTelemetry support that needs setting up"),
            drivers=["sdk-native-otel"],
            pattern=pattern,
        )
    return Rating(
        stars=1,
        reason=t(
            "the Python SDK has no OpenTelemetry support (Inngest documents Extended Traces for "
            "TypeScript only): tracing needs a custom middleware"
        ),
        drivers=["sdk-native-otel"],
        advice=t(
            "copy the middleware in patterns/otel_tracing.py into your app and export with "
            "OTLP; derive trace IDs from the run ID so that every request of a run joins one "
            "trace"
        ),
        pattern=pattern,
    )


# ═══ OB-05 Alerts ══════════════════════════════════════════════════════════════════════════════
# A failure handler posts an alert to a webhook (Slack, PagerDuty, an incident tool); a second
# function listens to every function's failure (the inngest/function.failed system event).

# Where alerts go (a Slack or incident-tool webhook in a real deployment).
ALERT_WEBHOOK_ENV = "SUITE_ALERT_WEBHOOK_URL"


class AlertPayload(BaseModel):
    source: str
    function_id: str
    run_id: str
    error: str


async def post_alert(url: str, alert: AlertPayload) -> int:
    """POST the alert to the webhook; the HTTP status. A failed delivery raises, so the step
    that calls this is retried."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(url, json=alert.model_dump())
        response.raise_for_status()
        return response.status_code


class FunctionFailed(BaseModel):
    """The data of the ``inngest/function.failed`` event (and of a failure handler's event)."""

    function_id: str
    run_id: str
    error: dict[str, Any]


async def send_alert(ctx: inngest.Context, source: str) -> None:
    """Turn the failure in ``ctx.event`` into an alert on the configured webhook."""
    url = os.environ.get(ALERT_WEBHOOK_ENV)
    if not url:
        ctx.logger.warning("no %s configured: failure not alerted", ALERT_WEBHOOK_ENV)
        return
    failure = FunctionFailed.model_validate(ctx.event.data)
    alert = AlertPayload(
        source=source,
        function_id=failure.function_id,
        run_id=failure.run_id,
        error=str(failure.error.get("message") or failure.error),
    )
    # A step: if the webhook is down, the delivery is retried without posting twice.
    await ctx.step.run("post-alert", post_alert, url, alert)


async def alert_on_failure(ctx: inngest.Context) -> None:
    await send_alert(ctx, "on_failure")


class SubscriptionRenewal(BaseModel):
    subscription_id: str
    card_valid: bool = True


@inngest_client.create_function(
    fn_id="ob05-renew-subscription",
    trigger=inngest.TriggerEvent(event="ob05/subscription.renewal_due"),
    retries=0,
    on_failure=alert_on_failure,
)
async def renew_subscription(ctx: inngest.Context) -> str:
    renewal = SubscriptionRenewal.model_validate(ctx.event.data)

    async def charge() -> str:
        if not renewal.card_valid:
            raise RuntimeError(f"card expired for subscription {renewal.subscription_id}")
        return f"renewed {renewal.subscription_id}"

    return await ctx.step.run("charge", charge)


@inngest_client.create_function(
    fn_id="ob05-failure-alerts", trigger=inngest.TriggerEvent(event="inngest/function.failed")
)
async def failure_alerts(ctx: inngest.Context) -> None:
    """Every function's failure, in one place (no handler needed on each function)."""
    await send_alert(ctx, "function.failed")


ALERT_SETTLE_S = 3.0  # how long duplicates get to show up


@suite.item("OB-05", functions=[renew_subscription, failure_alerts], timeout=25)
def alerts(probe: Probe) -> None:
    previous = os.environ.get(ALERT_WEBHOOK_ENV)
    try:
        with WebhookReceiver() as hook:
            # The app runs in this process and reads its webhook URL from the environment.
            os.environ[ALERT_WEBHOOK_ENV] = hook.url
            ok = probe.trigger("ob05/subscription.renewal_due", {"subscription_id": "S-ok"})
            failed = probe.trigger(
                "ob05/subscription.renewal_due",
                {"subscription_id": f"S-{probe.tag}", "card_valid": False},
            )
            probe.say("waiting for the alerts")
            hook.wait(2, timeout=probe.bound(30))
            time.sleep(ALERT_SETTLE_S)
            deliveries = hook.deliveries()
    finally:
        if previous is None:
            os.environ.pop(ALERT_WEBHOOK_ENV, None)
        else:
            os.environ[ALERT_WEBHOOK_ENV] = previous
    # The catch-all function alerts for every failing function of the app (other items' too):
    # only the alerts about this probe's runs count here.
    bodies = [
        d.body
        for d in deliveries
        if isinstance(d.body, dict) and d.body.get("run_id") in (failed.id, ok.id)
    ]
    handler = [b for b in bodies if b.get("source") == "on_failure"]
    central = [b for b in bodies if b.get("source") == "function.failed"]
    expected_error = f"card expired for subscription S-{probe.tag}"
    probe.check(
        "handler-alert",
        t("the failure handler's alert reaches the webhook with the run ID and the error"),
        failed.status == "FAILED"
        and len(handler) >= 1
        and handler[0].get("run_id") == failed.id
        and expected_error in str(handler[0].get("error")),
        observed={"alerts": bodies},
        run_ids=[failed.id],
    )
    probe.check(
        "alert-once",
        t("exactly one alert per failure and handler, none for the run that succeeded"),
        len(handler) == 1
        and len(central) <= 1
        and not any(b.get("run_id") == ok.id for b in bodies),
        observed={"on_failure alerts": len(handler), "function.failed alerts": len(central)},
        run_ids=[failed.id, ok.id],
    )
    probe.check(
        "central-alert",
        t("a function listening to inngest/function.failed is told of the failure too"),
        len(central) == 1
        and central[0].get("run_id") == failed.id
        and expected_error in str(central[0].get("error")),
        observed=central,
        run_ids=[failed.id],
    )
    if handler and failed.ended_at:
        delivered = next(d for d in deliveries if isinstance(d.body, dict) and d.body in handler)
        probe.measure(
            "alert-delay",
            round((delivered.received_at - failed.ended_at.timestamp()) * 1000),
            "ms",
            t("from the run's end (dev server's time) to the failure handler's alert arriving"),
        )
    probe.document(
        "cloud-failure-handlers",
        t(
            "Inngest documents failure handlers (onFailure) for sending alerts, and the "
            "inngest/function.failed event to track every function's failures in one place"
        ),
        "https://www.inngest.com/docs/reference/functions/handling-failures",
    )
    probe.document(
        "cloud-datadog-alerts",
        t("with the Datadog integration, alerts can be configured on Inngest's metrics"),
        "https://www.inngest.com/docs/platform/monitor/datadog-integration",
    )


@alerts.rubric
def _(ev: Evidence) -> Rating:
    routes = ["handler-alert", "central-alert"]
    if not any(ev.passed(key) for key in routes):
        return Rating(
            stars=1, reason=t("no alert reached the webhook for a failed run"), drivers=routes
        )
    if not ev.passed("alert-once"):
        return Rating(
            stars=2,
            reason=t("alerts arrive, but duplicated or for runs that did not fail"),
            drivers=["alert-once"],
        )
    if not all(ev.passed(key) for key in routes):
        return Rating(
            stars=3,
            reason=t("failures reach an alert webhook, but only through one of the two routes"),
            drivers=routes,
        )
    return Rating(
        stars=4,
        reason=t(
            "a failure handler and a catch-all inngest/function.failed function each delivered "
            "one alert with the run ID and the error; getting it to a person (Slack, a pager) "
            "is your code"
        ),
        drivers=[*routes, "alert-once"],
        advice=t(
            "alert from one function triggered by inngest/function.failed, posting inside a "
            "step so that a failed delivery is retried"
        ),
    )


# ═══ OB-06 Logging ═════════════════════════════════════════════════════════════════════════════
# A sync of three steps logs at its start (outside any step) through ctx.logger and through a
# plain logging logger, and inside a step. Which lines repeat when the function re-enters, and
# which carry the run and step?

app_logger = logging.getLogger("ob06.contacts")


class ContactsChanged(BaseModel):
    tag: str


@inngest_client.create_function(
    fn_id="ob06-sync-contacts",
    trigger=inngest.TriggerEvent(event="ob06/contacts.changed"),
    middleware=[log_context_middleware()],
)
async def sync_contacts(ctx: inngest.Context) -> int:
    tag = ContactsChanged.model_validate(ctx.event.data).tag
    ctx.logger.info("contact sync started [%s]", tag)
    app_logger.info("contact sync started, plain logging [%s]", tag)

    async def load() -> list[str]:
        return ["ada", "grace"]

    async def push(contacts: list[str]) -> int:
        ctx.logger.info("pushing %d contacts [%s]", len(contacts), tag)
        return len(contacts)

    async def confirm() -> str:
        return "confirmed"

    contacts = await run_step(ctx, "load", load)
    pushed = await run_step(ctx, "push", push, contacts)
    await run_step(ctx, "confirm", confirm)
    return pushed


class _Capture(logging.Handler):
    """Keeps each record's attributes as they were when it was emitted (before any filter)."""

    def __init__(self, *, with_context: bool) -> None:
        super().__init__()
        self.seen: list[dict[str, Any]] = []
        if with_context:
            self.addFilter(RunContextFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append({**record.__dict__, "message": record.getMessage()})


@suite.item("OB-06", functions=[sync_contacts], timeout=15)
def logging_item(probe: Probe) -> None:
    native, patterned = _Capture(with_context=False), _Capture(with_context=True)
    loggers = [logging.getLogger("inngest"), app_logger]  # ctx.logger writes to "inngest"
    previous_level = app_logger.level
    app_logger.setLevel(logging.INFO)
    for logger in loggers:
        logger.addHandler(native)  # first: sees each record before the context filter runs
        logger.addHandler(patterned)
    try:
        run = probe.trigger("ob06/contacts.changed", {"tag": probe.tag})
    finally:
        for logger in loggers:
            logger.removeHandler(native)
            logger.removeHandler(patterned)
        app_logger.setLevel(previous_level)

    def lines(seen: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
        return [r for r in seen if text in r["message"] and probe.tag in r["message"]]

    ctx_start = lines(native.seen, "contact sync started [")
    plain_start = lines(native.seen, "plain logging")
    step_line = lines(native.seen, "pushing 2 contacts")
    requests = 4  # three steps, then the request that returns
    probe.check(
        "ctx-logger-once",
        t("a ctx.logger line outside steps is logged once, though the function re-entered"),
        run.status == "COMPLETED" and len(ctx_start) == 1 and len(step_line) == 1,
        observed={"start line": len(ctx_start), "step line": len(step_line)},
        expected="1 and 1",
        run_ids=[run.id],
    )
    probe.check(
        "plain-logger-repeats",
        t("the same line through a plain logging logger repeats once per request"),
        len(plain_start) == requests,
        observed={"plain start line": len(plain_start)},
        expected=f"{requests} (one per request)",
        run_ids=[run.id],
    )
    native_context = [
        r
        for r in ctx_start + step_line
        if run.id in r["message"] or any(v == run.id for v in r.values())
    ]
    probe.check(
        "native-run-context",
        t("ctx.logger's records carry the run ID (in the line or as a field)"),
        bool(ctx_start) and len(native_context) == len(ctx_start + step_line),
        observed={
            "fields of the start line": sorted(ctx_start[0]) if ctx_start else [],
            "message": ctx_start[0]["message"] if ctx_start else None,
        },
        run_ids=[run.id],
    )
    tagged = lines(patterned.seen, f"[{probe.tag}]")
    step_tagged = lines(patterned.seen, "pushing 2 contacts")
    probe.check(
        "pattern-run-context",
        t(
            "with the log-context middleware and filter, every line of both loggers carries the "
            "run ID, and a line from inside a step its step ID"
        ),
        bool(tagged)
        and all(r.get("inngest_run_id") == run.id for r in tagged)
        and all(r.get("inngest_function_id") == sync_contacts.id for r in tagged)
        and [r.get("inngest_step_id") for r in step_tagged] == ["push"],
        observed=[{k: r.get(k) for k in ("message", *FIELDS)} for r in tagged],
        run_ids=[run.id],
    )


@logging_item.rubric
def _(ev: Evidence) -> Rating:
    pattern = PatternRating(
        module=pattern_module(run_step),
        pattern=t("a log-context middleware, a step wrapper and a logging filter"),
        stars=4 if ev.passed("pattern-run-context") else 2,
        reason=t("every line of any logger carries the run, function, attempt and step")
        if ev.passed("pattern-run-context")
        else t("the pattern did not attach the run context to every line"),
        drivers=["pattern-run-context"],
    )
    if not ev.passed("ctx-logger-once"):
        return Rating(
            stars=1,
            reason=t("ctx.logger repeats or loses lines when the function re-enters"),
            drivers=["ctx-logger-once"],
            pattern=pattern,
        )
    if ev.passed("native-run-context"):
        return Rating(
            stars=4,
            reason=t("ctx.logger logs each line once and says which run wrote it"),
            drivers=["ctx-logger-once", "native-run-context"],
            pattern=pattern,
        )
    repeats = ev.passed("plain-logger-repeats")  # the reason to avoid a module logger
    return Rating(
        stars=3,
        reason=t(
            "ctx.logger logs each line once per run (a plain logger repeats it on every "
            "re-entry), but no line says which run or step wrote it"
        )
        if repeats
        else t(
            "ctx.logger logs each line once per run, but no line says which run or step wrote it"
        ),
        drivers=["ctx-logger-once", "plain-logger-repeats", "native-run-context"],
        advice=t(
            "log through ctx.logger, never a module logger, in function bodies; add the run and "
            "step IDs yourself (a middleware and a logging filter, as in patterns/log_context.py)"
        )
        if repeats
        else t(
            "add the run and step IDs to log lines yourself (a middleware and a logging filter, "
            "as in patterns/log_context.py)"
        ),
        pattern=pattern,
    )


if __name__ == "__main__":
    suite.main()
