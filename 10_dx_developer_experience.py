"""DX — Developer experience: how it feels to write, run, test and debug Inngest functions.

Items DX-01 … DX-07. Each item below is: the Inngest function(s) it runs, the probe that drives
them against a real dev server (or a second one it starts, or the SDK's mocked executor) and
records what happened, and the rubric that turns that evidence into stars. Run
``python 10_dx_developer_experience.py --help`` for options.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import os
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import inngest
import inngest.experimental.mocked as mocked
from inngest._internal import step_lib
from pydantic import BaseModel

import serve
from common import (
    Category,
    Evidence,
    Msg,
    Need,
    PatternRating,
    Probe,
    Rating,
    Suite,
    inngest_client,
    pattern_module,
    record_history,
    side_effects,
    t,
)
from harness.host.ports import free_port
from harness.probing.codemetrics import (
    check_types,
    function_patterns,
    mypy_available,
    program_size,
    readme_program,
    sdk_modules_named,
    summarize,
)
from harness.servers.api import DevServerAPI, Run
from harness.servers.localdev import (
    PollingDevServer,
    ScratchApp,
    SyncVerdict,
    start_polling_dev_server,
    sync_throwaway_app,
)
from patterns.configured_durations import scaled as scaled_by_env
from patterns.history_replay import History, replay

suite = Suite(__file__, Category.DX)


# ═══ DX-01 SDK design ═══════════════════════════════════════════════════════════════════════════
# Three measurements of the Python SDK's design: how long and how name-hungry the suite's own
# function patterns are; what mypy --strict says the SDK's API returns; and whether the static
# types tell the truth at run time (a Pydantic model returned from a step).


class Receipt(BaseModel):
    order_id: str
    total_cents: int


class ReceiptRequested(BaseModel):
    order_id: str


async def issue_receipt(order_id: str) -> Receipt:
    return Receipt(order_id=order_id, total_cents=4_200)


@inngest_client.create_function(
    fn_id="dx01-receipt-with-output-type",
    trigger=inngest.TriggerEvent(event="dx01/receipt.requested"),
    retries=0,
)
async def receipt_with_output_type(ctx: inngest.Context) -> str:
    order_id = ReceiptRequested.model_validate(ctx.event.data).order_id
    # output_type tells the client's PydanticSerializer how to store and rebuild the model.
    receipt = await ctx.step.run("issue-receipt", issue_receipt, order_id, output_type=Receipt)
    return f"{type(receipt).__name__} {receipt.order_id} {receipt.total_cents}"


@inngest_client.create_function(
    fn_id="dx01-receipt-without-output-type",
    trigger=inngest.TriggerEvent(event="dx01/receipt-untyped.requested"),
    retries=0,
)
async def receipt_without_output_type(ctx: inngest.Context) -> str:
    order_id = ReceiptRequested.model_validate(ctx.event.data).order_id
    # mypy infers Receipt here and accepts the code; whether the SDK can run it is measured.
    receipt = await ctx.step.run("issue-receipt", issue_receipt, order_id)
    return f"{type(receipt).__name__} {receipt.order_id} {receipt.total_cents}"


# What mypy --strict says the SDK returns for the calls the suite's patterns make. Each
# reveal_type line names the type it should reveal; a revealed type containing Any is a gap.
TYPING_PROBE = """\
from __future__ import annotations

import datetime

import inngest
from pydantic import BaseModel

client = inngest.Inngest(
    app_id="typing-probe", is_production=False, serializer=inngest.PydanticSerializer()
)


class Receipt(BaseModel):
    order_id: str


async def make_receipt() -> Receipt:
    return Receipt(order_id="o1")


async def count() -> int:
    return 1


@client.create_function(fn_id="child", trigger=inngest.TriggerEvent(event="c"))
async def child(ctx: inngest.Context) -> int:
    return 1


@client.create_function(fn_id="parent", trigger=inngest.TriggerEvent(event="p"))
async def parent(ctx: inngest.Context) -> str:
    reveal_type(ctx.event.data)  # expect: Mapping[str
    reveal_type(await ctx.step.run("count", count))  # expect: int
    reveal_type(await ctx.step.run("receipt", make_receipt, output_type=Receipt))  # expect: Receipt
    reveal_type(await ctx.step.sleep("nap", datetime.timedelta(days=1)))  # expect: None
    week = datetime.timedelta(days=7)
    reveal_type(await ctx.step.wait_for_event("w", event="e", timeout=week))  # expect: Event | None
    reveal_type(await ctx.step.invoke("invoke", function=child))  # expect: int
    both = (lambda: ctx.step.run("a", count), lambda: ctx.step.run("b", count))
    reveal_type(await ctx.group.parallel(both))  # expect: tuple[int, ...]
    reveal_type(await ctx.step.send_event("send", inngest.Event(name="x")))  # expect: list[str]
    reveal_type(await client.send(inngest.Event(name="x")))  # expect: list[str]
    return "ok"


reveal_type(parent)  # expect: Function[str]
"""

# A typical pattern should stay short and need few SDK names; above these, the API is asking a
# lot of its users (lines from decorator to end, names as codemetrics counts them).
SMALL_PATTERN_LINES = 30
SMALL_PATTERN_NAMES = 10


def _expectations(source: str) -> dict[int, str]:
    """Line of each reveal_type -> the type it should reveal (its ``# expect:`` comment)."""
    return {
        number: line.split("# expect:", 1)[1].strip()
        for number, line in enumerate(source.splitlines(), start=1)
        if "reveal_type(" in line and "# expect:" in line
    }


@suite.item("DX-01", functions=[receipt_with_output_type, receipt_without_output_type], timeout=120)
def sdk_design(probe: Probe) -> None:
    # 1. The suite's own patterns: every Inngest function in every category script.
    scripts = serve.category_scripts()
    patterns = function_patterns(scripts)
    summary = summarize(patterns)
    probe.measure(
        "patterns-measured",
        summary.functions,
        "functions",
        t(
            "Inngest functions found in the category scripts; scripts read: {scripts}",
            scripts=len(scripts),
        ),
    )
    probe.measure(
        "median-lines-per-pattern",
        summary.median_lines,
        "lines",
        t(
            "decorator to end of function, median over the functions (max {most})",
            most=summary.max_lines,
        ),
    )
    probe.measure(
        "median-sdk-names-per-pattern",
        summary.median_names,
        "names",
        t(
            "inngest.X, step.X, ctx.X and create_function options used, median per function; "
            "{total} distinct across all of them",
            total=len(summary.names),
        ),
    )
    probe.check(
        "patterns-small",
        t(
            "a typical pattern fits in {lines} lines and {names} SDK names",
            lines=SMALL_PATTERN_LINES,
            names=SMALL_PATTERN_NAMES,
        ),
        summary.median_lines <= SMALL_PATTERN_LINES and summary.median_names <= SMALL_PATTERN_NAMES,
        observed={
            "median lines": summary.median_lines,
            "median names": summary.median_names,
            "names used": sorted(summary.names),
        },
    )

    # 2. What the type checker says the SDK returns.
    if not mypy_available():
        reason = t("mypy is not installed (it comes with the dev extra: pip install -e .[dev])")
        probe.not_run("strict-clean", t("the SDK's API type-checks under mypy --strict"), reason)
        probe.not_run("types-precise", t("mypy infers a precise type for each SDK call"), reason)
    else:
        with tempfile.TemporaryDirectory(prefix="dx01-mypy-") as tmp:
            started = time.monotonic()
            typed = check_types(TYPING_PROBE, Path(tmp), timeout=probe.bound(90))
            elapsed = time.monotonic() - started
        probe.measure(
            "mypy-s", round(elapsed, 2), "s", t("mypy --strict on the typing probe, cold cache")
        )
        probe.check(
            "strict-clean",
            t("the SDK's API type-checks under mypy --strict"),
            not typed.errors,
            observed=typed.errors or "no errors",
        )
        expected = _expectations(TYPING_PROBE)
        mismatched = {
            line: {"expected": want, "revealed": typed.revealed.get(line)}
            for line, want in expected.items()
            if want not in (typed.revealed.get(line) or "") or "Any" in typed.revealed[line]
        }
        probe.check(
            "types-precise",
            t("mypy infers a precise type (no Any) for each SDK call the patterns use"),
            not mismatched and len(typed.revealed) == len(expected),
            observed=mismatched or {line: typed.revealed[line] for line in sorted(typed.revealed)},
        )

    # 3. Do the static types tell the truth at run time?
    with_type = probe.trigger("dx01/receipt.requested", {"order_id": f"o-{probe.tag}"})
    without_type = probe.trigger("dx01/receipt-untyped.requested", {"order_id": f"o-{probe.tag}"})
    probe.check(
        "output-type-control",
        t("a step returning a Pydantic model with output_type= gives the model back"),
        with_type.status == "COMPLETED" and str(with_type.output).startswith("Receipt "),
        observed={"status": with_type.status, "output": with_type.output},
        run_ids=[with_type.id],
    )
    probe.check(
        "static-types-hold-at-runtime",
        t(
            "code mypy accepts runs: a step returning a Pydantic model without output_type= "
            "gives the model back"
        ),
        without_type.status == "COMPLETED" and str(without_type.output).startswith("Receipt "),
        observed={"status": without_type.status, "output": without_type.output},
        expected="COMPLETED with 'Receipt …' (mypy types the step result as Receipt)",
        run_ids=[without_type.id],
    )


@sdk_design.rubric
def _(ev: Evidence) -> Rating:
    if ev.failed("strict-clean") or ev.failed("types-precise"):
        return Rating(
            stars=3,
            reason=t("the SDK's API has typing gaps under mypy --strict (see the observed types)"),
            drivers=["strict-clean", "types-precise"],
            advice=t("wrap the untyped calls in typed helpers of your own"),
        )
    if not ev.passed("patterns-small"):
        return Rating(
            stars=4,
            reason=t("the API is typed, but typical functions need many lines or SDK names"),
            drivers=["patterns-small"],
        )
    if not ev.passed("static-types-hold-at-runtime"):
        return Rating(
            stars=4,
            reason=t(
                "a small, precisely typed decorator API; but mypy accepts a step that returns "
                "a Pydantic model without output_type=, and that step fails at run time"
            ),
            drivers=["patterns-small", "types-precise", "static-types-hold-at-runtime"],
            # output_type= is advised only where the control run showed it gives the model back.
            advice=t(
                "pass output_type= to every step.run whose handler returns a Pydantic model, "
                "or return plain JSON values (a lint rule or review checklist item catches it)"
            )
            if ev.passed("output-type-control")
            else t(
                "return plain JSON values from steps: here even output_type= did not give the "
                "Pydantic model back"
            ),
        )
    if not (ev.passed("strict-clean") and ev.passed("types-precise")):
        return Rating(
            stars=4,
            reason=t("a small API whose results held at run time; its typing was not checked"),
            drivers=["strict-clean", "types-precise"],
        )
    return Rating(
        stars=5,
        reason=t("a small, precisely typed decorator API whose static types hold at run time"),
        drivers=["patterns-small", "types-precise", "static-types-hold-at-runtime"],
    )


# ═══ DX-02 Language support ════════════════════════════════════════════════════════════════════
# Which SDKs exist and what each supports is documentation; whether the installed Python SDK
# matches the Python column of that table is checked by looking at the SDK itself.

# The feature table of the SDK overview page (see SDK_DOCS), as published: feature ->
# (TypeScript, Python, Go). "beta" counts as available.
SDK_DOCS = "https://www.inngest.com/docs/sdks"
DOCUMENTED_FEATURES: dict[str, tuple[bool, bool, bool]] = {
    "step.run": (True, True, True),
    "sleep / sleep until": (True, True, True),
    "wait for event": (True, True, True),
    "wait for signal": (True, False, True),
    "invoke another function": (True, True, True),
    "send events from a step": (True, True, True),
    "parallel steps": (True, True, True),
    "AI inference step": (True, True, True),
    "step.fetch": (True, False, True),
    "defer": (True, False, False),
    "experiments": (True, False, False),
    "flow control": (True, True, True),
    "cron triggers": (True, True, True),
    "per-function failure handler": (True, True, False),
    "checkpointing": (True, False, True),
    "durable endpoints": (True, False, True),
    "connect workers": (True, True, True),
    "middleware": (True, True, True),
}
CORE_PRIMITIVES = [
    "step.run", "sleep / sleep until", "wait for event", "invoke another function",
    "send events from a step", "parallel steps",
]  # fmt: skip


def python_sdk_has(feature: str) -> bool | None:
    """Whether the installed Python SDK exposes ``feature``; None when no attribute maps to it."""
    step, group = inngest.Step, step_lib.Group
    probes: dict[str, bool] = {
        "step.run": hasattr(step, "run"),
        "sleep / sleep until": hasattr(step, "sleep") and hasattr(step, "sleep_until"),
        "wait for event": hasattr(step, "wait_for_event"),
        "wait for signal": hasattr(step, "wait_for_signal"),
        "invoke another function": hasattr(step, "invoke"),
        "send events from a step": hasattr(step, "send_event"),
        "parallel steps": hasattr(group, "parallel"),
        "AI inference step": hasattr(step, "ai") or _importable("inngest.experimental.ai"),
        "step.fetch": hasattr(step, "fetch"),
        "defer": hasattr(step, "defer"),
        "cron triggers": hasattr(inngest, "TriggerCron"),
        "flow control": all(hasattr(inngest, n) for n in ("Concurrency", "Throttle", "Debounce")),
        "middleware": hasattr(inngest, "Middleware"),
        "per-function failure handler": "on_failure"
        in inspect.signature(inngest.Inngest.create_function).parameters,
        # inngest.connect needs the SDK's optional dependencies to import; it ships either way.
        "connect workers": importlib.util.find_spec("inngest.connect") is not None,
    }
    return probes.get(feature)


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@suite.item("DX-02", functions=[], timeout=30)
def language_support(probe: Probe) -> None:
    probe.document(
        "official-sdks",
        t("Inngest publishes official SDKs for TypeScript, Python and Go, all open source"),
        SDK_DOCS,
    )
    probe.document(
        "typescript-first",
        t("TypeScript gets new features first; the docs' examples are TypeScript by default"),
        SDK_DOCS,
    )
    installed = {f: python_sdk_has(f) for f in DOCUMENTED_FEATURES}
    typescript = [f for f, (ts, _py, _go) in DOCUMENTED_FEATURES.items() if ts]
    # What the installed SDK is seen to lack, by introspection; the rest of the table's
    # TypeScript-only rows have no SDK attribute to look for and stay documented.
    lacking = [f for f in typescript if installed[f] is False]
    unprobed_gaps = [
        f for f in typescript if installed[f] is None and not DOCUMENTED_FEATURES[f][1]
    ]
    if unprobed_gaps:
        probe.document(
            "python-gaps-unprobed",
            t(
                "the SDK feature table lists TypeScript features Python does not have that no "
                "SDK attribute shows: {features}",
                features=", ".join(unprobed_gaps),
            ),
            SDK_DOCS,
        )
    probe.measure(
        "python-lacks-typescript-features",
        len(lacking),
        "features",
        t(
            "features of the cited table's TypeScript column that the installed Python SDK "
            "does not expose (found by introspection)"
        ),
    )
    probe.check(
        "python-has-typescript-features",
        t(
            "the installed Python SDK exposes every TypeScript feature of the cited table that "
            "an SDK attribute can show"
        ),
        not lacking,
        observed={f: installed[f] for f in typescript if installed[f] is not None},
        expected="True for each",
    )

    missing_core = [f for f in CORE_PRIMITIVES if not installed[f]]
    probe.check(
        "python-core-primitives",
        t("the installed Python SDK has every core durable primitive"),
        not missing_core,
        observed={f: installed[f] for f in CORE_PRIMITIVES},
    )
    disagreements = {
        feature: {"documented": DOCUMENTED_FEATURES[feature][1], "installed": has}
        for feature, has in installed.items()
        if has is not None and has != DOCUMENTED_FEATURES[feature][1]
    }
    probe.check(
        "docs-match-installed-sdk",
        t("the documented Python column matches what the installed SDK exposes"),
        not disagreements,
        observed=disagreements or {f: h for f, h in installed.items() if h is not None},
    )


@language_support.rubric
def _(ev: Evidence) -> Rating:
    if not ev.passed("python-core-primitives"):
        return Rating(
            stars=2,
            reason=t("the Python SDK lacks core durable primitives"),
            drivers=["python-core-primitives"],
        )
    if not ev.passed("docs-match-installed-sdk"):
        return Rating(
            stars=3,
            reason=t(
                "the Python SDK has every core primitive, but the documented feature table does "
                "not match what the installed SDK exposes: what Python supports must be found "
                "out by trying"
            ),
            drivers=["python-core-primitives", "docs-match-installed-sdk"],
        )
    documented_only = any(f.key == "python-gaps-unprobed" for f in ev.facts)
    advice = t(
        "check the SDK feature table before choosing Python for a design that needs "
        "signals, step.fetch or checkpointing"
    )
    if not ev.passed("python-has-typescript-features"):
        return Rating(
            stars=4,
            reason=t(
                "Python has every core primitive, and the documented feature table matches the "
                "installed SDK; but the SDK lacks {gaps} features TypeScript has (seen by "
                "introspection), and the table lists more that cannot be probed",
                gaps=int(ev.value("python-lacks-typescript-features")),
            )
            if documented_only
            else t(
                "Python has every core primitive, and the documented feature table matches the "
                "installed SDK; but the SDK lacks {gaps} features TypeScript has (seen by "
                "introspection)",
                gaps=int(ev.value("python-lacks-typescript-features")),
            ),
            drivers=[
                "python-core-primitives",
                "docs-match-installed-sdk",
                "python-has-typescript-features",
            ],
            advice=advice,
        )
    if documented_only:
        return Rating(
            stars=4,
            reason=t(
                "the installed Python SDK exposes every TypeScript feature an attribute can "
                "show, but the documented feature table lists TypeScript-only features beyond "
                "them"
            ),
            drivers=["python-has-typescript-features", "docs-match-installed-sdk"],
            advice=advice,
        )
    return Rating(
        stars=5,
        reason=t(
            "the installed Python SDK has every core primitive and every TypeScript feature of "
            "the documented feature table"
        ),
        drivers=["python-core-primitives", "docs-match-installed-sdk",
                 "python-has-typescript-features"],
    )  # fmt: skip


# ═══ DX-03 Local development ═══════════════════════════════════════════════════════════════════
# From nothing to a first completed run, the way a developer starts: `inngest dev -u <app>` (a
# second dev server the probe starts, polling the app as the CLI does by default), then the app
# (`INNGEST_DEV=… uvicorn main:app`), no manual sync. Then the app restarts with changed code.

MINIMAL_APP = """\
import inngest
import inngest.fast_api
from fastapi import FastAPI

inngest_client = inngest.Inngest(app_id="hello-app")


@inngest_client.create_function(fn_id="hello", trigger=inngest.TriggerEvent(event="demo/hello"))
async def hello(ctx: inngest.Context) -> str:
    async def greet() -> str:
        return f"Hello, {ctx.event.data['name']}!"

    return await ctx.step.run("greet", greet)


app = FastAPI()
inngest.fast_api.serve(app, inngest_client, [hello])
"""

# The same app after an edit: the greeting changed, and a second function was added.
MINIMAL_APP_EDITED = """\
import inngest
import inngest.fast_api
from fastapi import FastAPI

inngest_client = inngest.Inngest(app_id="hello-app")


@inngest_client.create_function(fn_id="hello", trigger=inngest.TriggerEvent(event="demo/hello"))
async def hello(ctx: inngest.Context) -> str:
    async def greet() -> str:
        return f"Hi, {ctx.event.data['name']}!"

    return await ctx.step.run("greet", greet)


@inngest_client.create_function(fn_id="goodbye", trigger=inngest.TriggerEvent(event="demo/bye"))
async def goodbye(ctx: inngest.Context) -> str:
    return f"Bye, {ctx.event.data['name']}!"


app = FastAPI()
inngest.fast_api.serve(app, inngest_client, [hello, goodbye])
"""
POLL_INTERVAL_S = 1  # `inngest dev` polls every 5 s by default (--poll-interval)


def _wait_until(condition: Callable[[], bool], timeout: float, poll: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll)
    return bool(condition())


@dataclasses.dataclass
class ColdStart:
    """One start from nothing: a dev server polling the app's URL, then the app, then a run."""

    devserver: PollingDevServer
    app: ScratchApp
    api: DevServerAPI
    seconds: dict[str, float]
    registered: bool
    first: Run | None

    def stop(self) -> None:
        self.api.close()
        self.app.stop()
        self.devserver.stop()


def _cold_start(probe: Probe, workdir: Path) -> ColdStart:
    app_port = free_port()
    clock = time.monotonic()
    devserver = start_polling_dev_server(
        probe.devserver,
        f"http://127.0.0.1:{app_port}/api/inngest",
        workdir / "devserver",
        poll_interval_s=POLL_INTERVAL_S,
    )
    seconds = {"dev-server-start-s": time.monotonic() - clock}
    app = ScratchApp(workdir / "app", app_port, devserver.url)
    api = DevServerAPI(devserver.url)
    start = ColdStart(devserver, app, api, seconds, False, None)
    try:
        seconds["app-start-s"] = app.start(MINIMAL_APP, timeout=probe.bound(30))
        synced_at = time.monotonic()
        start.registered = _wait_until(
            lambda: "hello-app-hello" in api.function_slugs(), probe.bound(30)
        )
        seconds["auto-sync-s"] = time.monotonic() - synced_at
        if start.registered:
            start.first = _run_once(probe, api, "demo/hello", {"name": "Ada"})
        seconds["nothing-to-first-run-s"] = time.monotonic() - clock
    except BaseException:
        start.stop()
        raise
    return start


def _run_once(probe: Probe, api: DevServerAPI, event: str, data: dict[str, Any]) -> Run:
    runs = api.wait_for_runs([api.send(event, data)], timeout=probe.bound(20))
    return api.wait_for_run(runs[0].id, timeout=probe.bound(30))


COLD_STARTS = 3


@suite.item("DX-03", functions=[], timeout=120, needs=[Need.INNGEST_BINARY])
def local_development(probe: Probe) -> None:
    if probe.devserver.kind != "dev":
        # Every check here starts a dev server of its own from the same binary: on a run
        # against the production server they would rate the dev server again, not it.
        probe.not_applicable(
            t(
                "local development is the dev server's role (inngest dev: auto-discovery, "
                "start-up, restarts); the production server takes no part in it"
            )
        )
    if not probe.devserver.owned:
        raise RuntimeError(
            "DX-03 starts a second dev server from the same binary; with an external dev "
            "server (INNGEST_DEV_SERVER_URL) there is none to start"
        )
    workdir = Path(tempfile.mkdtemp(prefix="dx03-"))
    starts: list[ColdStart] = []
    try:
        for n in range(COLD_STARTS):
            probe.say(f"cold start {n + 1} of {COLD_STARTS}: dev server, app, first run")
            if starts:
                starts[-1].stop()  # one at a time, as on a developer's machine
            starts.append(_cold_start(probe, workdir / f"start-{n}"))
        for key in starts[0].seconds:
            samples = [start.seconds[key] for start in starts if key in start.seconds]
            probe.measure(
                key,
                round(statistics.median(samples), 2),
                "s",
                t(
                    "median of {n} cold starts on this machine (min {low} s, max {high} s); the "
                    "dev server polls the app every {poll} s",
                    n=len(samples),
                    low=round(min(samples), 2),
                    high=round(max(samples), 2),
                    poll=POLL_INTERVAL_S,
                ),
            )
        firsts = [start.first for start in starts]
        probe.check(
            "auto-sync",
            t("the dev server registers the app by itself (no manual sync)"),
            all(start.registered for start in starts),
            observed={"after_s": [round(s.seconds["auto-sync-s"], 2) for s in starts]},
        )
        probe.check(
            "first-run-completes",
            t("the first event runs the function to completion"),
            all(f is not None and f.status == "COMPLETED" and f.output == "Hello, Ada!"
                for f in firsts),
            observed=[{"status": f.status, "output": f.output} if f else "no run" for f in firsts],
            run_ids=[f.id for f in firsts if f],
        )  # fmt: skip
        totals = [start.seconds["nothing-to-first-run-s"] for start in starts]
        probe.check(
            "cold-start-fast",
            t("nothing to a first completed run takes under 30 s"),
            all(f is not None for f in firsts) and max(totals) < 30,
            observed={"seconds": [round(total, 2) for total in totals]},
        )

        # The developer edits the code and restarts the app (what `uvicorn --reload` does).
        last = starts[-1]
        probe.say("restarting the app with changed code")
        restart_s = last.app.start(MINIMAL_APP_EDITED, timeout=probe.bound(30))
        changed_at = time.monotonic()
        resynced = _wait_until(
            lambda: "hello-app-goodbye" in last.api.function_slugs(), probe.bound(30)
        )
        resync_s = time.monotonic() - changed_at
        note = t("one restart with changed code; the dev server polls the app every {poll} s",
                 poll=POLL_INTERVAL_S)  # fmt: skip
        probe.measure("app-restart-s", round(restart_s, 2), "s", note)
        probe.measure("auto-resync-s", round(resync_s, 2), "s", note)
        edited = _run_once(probe, last.api, "demo/hello", {"name": "Ada"})
        probe.check(
            "changed-code-runs",
            t("after the restart, the changed function body runs (same function ID)"),
            edited.status == "COMPLETED" and edited.output == "Hi, Ada!",
            observed={"status": edited.status, "output": edited.output},
            run_ids=[edited.id],
        )
        added = _run_once(probe, last.api, "demo/bye", {"name": "Ada"}) if resynced else None
        probe.check(
            "new-function-auto-synced",
            t("a function added by the edit is registered and runs without a manual sync"),
            added is not None and added.status == "COMPLETED",
            observed={
                "registered": resynced,
                "after_s": round(resync_s, 2),
                "status": added.status if added else None,
            },
            run_ids=[added.id] if added else [],
        )
    finally:
        if starts:
            starts[-1].stop()


@local_development.rubric
def _(ev: Evidence) -> Rating:
    if not ev.passed("first-run-completes"):
        return Rating(
            stars=1,
            reason=t("a fresh dev server and app did not complete a first run"),
            drivers=["first-run-completes"],
        )
    if not (ev.passed("auto-sync") and ev.passed("changed-code-runs")):
        return Rating(
            stars=3,
            reason=t("a first run works, but the app needs manual syncs or restarts by hand"),
            drivers=["auto-sync", "changed-code-runs"],
        )
    if not (ev.passed("new-function-auto-synced") and ev.passed("cold-start-fast")):
        return Rating(
            stars=4,
            reason=t("local runs work, but code changes or start-up are slow to show up"),
            drivers=["new-function-auto-synced", "cold-start-fast"],
        )
    return Rating(
        stars=5,
        reason=t(
            "one binary and one app process: registered without a manual sync, first run in "
            "seconds, code changes picked up by polling"
        ),
        drivers=["auto-sync", "first-run-completes", "new-function-auto-synced", "cold-start-fast"],
    )


# ═══ DX-04 Testing / time skipping ═════════════════════════════════════════════════════════════
# A trial that sleeps a day, then waits up to a week for a payment. How fast can a test exercise
# both endings: with the SDK's mocked executor, and with the real dev server?

TRIAL_DAY = timedelta(days=1)
PAYMENT_WINDOW = timedelta(days=7)
TIME_SCALE_ENV = "DX04_TIME_SCALE"
TEST_TIME_SCALE = 0.00001  # a day passes in about a second, a week in six


def scaled(duration: timedelta) -> timedelta:
    """``duration`` times the factor in DX04_TIME_SCALE (unset in production: factor 1): the
    pattern (patterns/configured_durations.py) that makes long waits testable on a real dev
    server."""
    return scaled_by_env(duration, TIME_SCALE_ENV)


class TrialStarted(BaseModel):
    account_id: str


@inngest_client.create_function(
    fn_id="dx04-trial-conversion",
    trigger=inngest.TriggerEvent(event="dx04/trial.started"),
    retries=0,
)
async def trial_conversion(ctx: inngest.Context) -> dict[str, str]:
    account_id = TrialStarted.model_validate(ctx.event.data).account_id

    async def send_welcome() -> str:
        side_effects.executed(ctx.event, "send-welcome")
        return f"welcome-{account_id}"

    async def activate() -> str:
        side_effects.executed(ctx.event, "activate")
        return "activated"

    async def downgrade() -> str:
        side_effects.executed(ctx.event, "downgrade")
        return "downgraded"

    welcome = await ctx.step.run("send-welcome", send_welcome)
    await ctx.step.sleep("trial-day", scaled(TRIAL_DAY))
    payment = await ctx.step.wait_for_event(
        "await-payment",
        event="dx04/payment.received",
        if_exp="async.data.account_id == event.data.account_id",
        timeout=scaled(PAYMENT_WINDOW),
    )
    if payment is None:  # the week passed without a payment
        outcome = await ctx.step.run("downgrade", downgrade)
    else:
        outcome = await ctx.step.run("activate", activate)
    return {"welcome": welcome, "outcome": outcome}


# Whether a test and the dev server agree on a step that fails for good: the function catches
# the StepError and falls back to another channel.
@inngest_client.create_function(
    fn_id="dx04-notify-with-fallback",
    trigger=inngest.TriggerEvent(event="dx04/notify.requested"),
    retries=0,
)
async def notify_with_fallback(ctx: inngest.Context) -> str:
    async def send_sms() -> str:
        raise ConnectionError("SMS gateway unavailable")

    async def send_email() -> str:
        return "emailed instead"

    try:
        return await ctx.step.run("send-sms", send_sms)
    except inngest.StepError:
        return await ctx.step.run("send-email", send_email)


def _mocked_client() -> mocked.Inngest:
    return mocked.Inngest(
        app_id="dx04-test", is_production=False, serializer=inngest.PydanticSerializer()
    )


@suite.item("DX-04", functions=[trial_conversion, notify_with_fallback], timeout=90)
def testing_time_skipping(probe: Probe) -> None:
    # 1. Unit tests with the SDK's mocked executor: no server, the sleep and the wait are stubbed.
    trial = inngest.Event(
        name="dx04/trial.started", data={"tag": probe.tag, "account_id": f"acct-{probe.tag}"}
    )
    paid = inngest.Event(name="dx04/payment.received", data={"account_id": f"acct-{probe.tag}"})
    timings: dict[str, float] = {}
    results: dict[str, Any] = {}
    stubs: dict[str, dict[str, object]] = {
        "event": {"await-payment": paid},
        "timeout": {"await-payment": mocked.Timeout},
        "stubbed-step": {"await-payment": paid, "send-welcome": "welcome-from-stub"},
    }
    for name, step_stubs in stubs.items():
        started = time.perf_counter()
        results[name] = mocked.trigger(
            trial_conversion, trial, _mocked_client(), step_stubs=step_stubs
        )
        timings[name] = time.perf_counter() - started
    slowest = max(timings.values())
    probe.measure(
        "mocked-run-s",
        round(statistics.median(timings.values()), 4),
        "s",
        t(
            "median of {n} mocked runs (a day's sleep and a week's wait each); slowest {slowest} s",
            n=len(timings),
            slowest=round(slowest, 4),
        ),
    )

    def outcome(name: str) -> Any:
        result = results[name]
        return result.output if result.status is mocked.Status.COMPLETED else str(result.error)

    probe.check(
        "mocked-event-path",
        t("mocked: the payment arrives during the week-long wait (event stub)"),
        isinstance(outcome("event"), dict) and outcome("event").get("outcome") == "activated",
        observed=outcome("event"),
    )
    probe.check(
        "mocked-timeout-path",
        t("mocked: the week-long wait times out (Timeout stub)"),
        isinstance(outcome("timeout"), dict) and outcome("timeout").get("outcome") == "downgraded",
        observed=outcome("timeout"),
    )
    probe.check(
        "mocked-under-a-second",
        t("mocked: a function that sleeps a day and waits a week finishes in under a second"),
        slowest < 1.0,
        observed={name: round(seconds, 4) for name, seconds in timings.items()},
    )
    welcome_runs = probe.effects("send-welcome")
    probe.check(
        "mocked-step-stub",
        t("mocked: a stubbed step returns the stub and its handler does not run"),
        isinstance(outcome("stubbed-step"), dict)
        and outcome("stubbed-step").get("welcome") == "welcome-from-stub"
        and welcome_runs == 2,  # the two runs without the stub
        observed={"output": outcome("stubbed-step"), "send-welcome executions": welcome_runs},
    )
    fields = [f.name for f in dataclasses.fields(results["event"])]
    probe.check(
        "mocked-shows-steps",
        t("mocked: a test can see which steps ran and how long each sleep or wait was set to"),
        any(name not in ("error", "output", "status") for name in fields),
        observed={"result fields": fields},
        expected="a field listing the steps (IDs, sleep durations, wait timeouts)",
    )
    doc = " ".join((mocked.__doc__ or "").split())
    probe.check(
        "mocked-stable",
        t("the mocked executor is a stable, supported API"),
        not re.search(r"not stable|experimental", doc, re.IGNORECASE),
        observed={"module docstring": doc[:200]},
    )
    probe.document(
        "mocked-experimental",
        t(
            "the Python testing guide calls the mocked library experimental: its interface and "
            "behaviour may change without following semantic versioning"
        ),
        "https://www.inngest.com/docs/reference/python/guides/testing",
    )

    notify = inngest.Event(name="dx04/notify.requested", data={"tag": probe.tag})
    in_memory = mocked.trigger(notify_with_fallback, notify, _mocked_client())
    on_server = probe.trigger("dx04/notify.requested")
    probe.check(
        "mocked-faithful-step-failure",
        t(
            "mocked: a step that fails for good reaches the function as a StepError, as on the "
            "dev server"
        ),
        in_memory.status is mocked.Status.COMPLETED and in_memory.output == on_server.output,
        observed={
            "mocked": f"{in_memory.status.value}: {in_memory.output or in_memory.error}",
            "dev server": f"{on_server.status}: {on_server.output}",
        },
        run_ids=[on_server.id],
    )

    # 2. The real dev server: is there a way to skip or shorten a sleep?
    mutations = [
        f["name"]
        for f in probe.api.graphql("query { __schema { mutationType { fields { name } } } }")[
            "__schema"
        ]["mutationType"]["fields"]
    ]
    time_mutations = [
        m for m in mutations if re.search(r"sleep|skip|wake|resume|time|forward", m, re.I)
    ]
    probe.new_scenario()
    os.environ.pop(TIME_SCALE_ENV, None)
    sleeping = probe.run_of(probe.send("dx04/trial.started", {"account_id": f"acct-{probe.tag}"}))
    if not probe.wait_for_step(sleeping, "trial-day", timeout=20):
        raise RuntimeError("the trial never reached its day-long sleep")
    time.sleep(3)
    still = probe.api.get_run(sleeping).status
    probe.api.cancel(sleeping)
    probe.check(
        "devserver-skips-sleep",
        t("the dev server offers a way to skip or shorten a sleep in flight"),
        bool(time_mutations),
        observed={
            "GraphQL mutations": mutations,
            "day-long sleep after 3 s": still,
        },
        expected="a mutation or endpoint that wakes a sleeping run",
        run_ids=[sleeping],
    )
    probe.document(
        "devserver-real-clock",
        t(
            "the dev server's executor schedules a sleep's wake-up at now + duration on the "
            "real clock; no CLI flag, GraphQL mutation or REST v1 route moves that clock or "
            "wakes a sleeping run"
        ),
        "https://github.com/inngest/inngest/blob/main/pkg/execution/executor/executor.go",
    )

    # 3. The pattern: durations from configuration, shortened for the test on a real dev server.
    os.environ[TIME_SCALE_ENV] = str(TEST_TIME_SCALE)
    try:
        probe.new_scenario()
        paying, lapsing = f"acct-pay-{probe.tag}", f"acct-lapse-{probe.tag}"
        started = time.monotonic()
        pay_run = probe.run_of(probe.send("dx04/trial.started", {"account_id": paying}))
        lapse_run = probe.run_of(probe.send("dx04/trial.started", {"account_id": lapsing}))
        if not probe.wait_for_step(pay_run, "await-payment", timeout=20):
            raise RuntimeError("the scaled trial never reached its payment wait")
        probe.send("dx04/payment.received", {"account_id": paying})
        paid_run = probe.wait(pay_run, timeout=30)
        lapsed_run = probe.wait(lapse_run, timeout=30)
        elapsed = time.monotonic() - started
    finally:
        os.environ.pop(TIME_SCALE_ENV, None)
    probe.measure(
        "scaled-paths-s",
        round(elapsed, 2),
        "s",
        t(
            "both endings on the dev server with {env}={scale} (one run each)",
            env=TIME_SCALE_ENV,
            scale=TEST_TIME_SCALE,
        ),
    )
    probe.check(
        "pattern-event-path",
        t("scaled durations: the payment path completes on the real dev server"),
        paid_run.status == "COMPLETED" and _outcome(paid_run.output) == "activated",
        observed={"status": paid_run.status, "output": paid_run.output},
        run_ids=[pay_run],
    )
    probe.check(
        "pattern-timeout-path",
        t("scaled durations: the week-long wait times out in seconds on the real dev server"),
        lapsed_run.status == "COMPLETED" and _outcome(lapsed_run.output) == "downgraded",
        observed={
            "status": lapsed_run.status,
            "output": lapsed_run.output,
            "seconds": round(elapsed, 2),
        },
        run_ids=[lapse_run],
    )


def _outcome(output: Any) -> Any:
    return output.get("outcome") if isinstance(output, dict) else None


def _time_scale_pattern(ev: Evidence) -> PatternRating:
    drivers = ["pattern-event-path", "pattern-timeout-path"]
    if ev.passed("pattern-event-path") and ev.passed("pattern-timeout-path"):
        return PatternRating(
            module=pattern_module(scaled_by_env),
            pattern=t("durations read from configuration, scaled down for integration tests"),
            stars=4,
            reason=t(
                "both endings of a day-plus-week flow ran on the real dev server in seconds; "
                "the test runs scaled durations, not the production ones"
            ),
            drivers=drivers,
        )
    return PatternRating(
        module=pattern_module(scaled_by_env),
        pattern=t("durations read from configuration, scaled down for integration tests"),
        stars=2,
        reason=t("scaled durations did not let both endings run on the dev server"),
        drivers=drivers,
    )


@testing_time_skipping.rubric
def _(ev: Evidence) -> Rating:
    pattern = _time_scale_pattern(ev)
    mocked_paths = ["mocked-event-path", "mocked-timeout-path", "mocked-under-a-second"]
    if not ev.passed("mocked-event-path") or not ev.passed("mocked-under-a-second"):
        return Rating(
            stars=1,
            reason=t("no way was found to test a day-long sleep without waiting a day"),
            drivers=mocked_paths,
            pattern=pattern,
        )
    if not (ev.passed("mocked-timeout-path") and ev.passed("mocked-step-stub")):
        return Rating(
            stars=2,
            reason=t("the mocked executor skips sleeps, but cannot drive every path of a wait"),
            drivers=["mocked-timeout-path", "mocked-step-stub"],
            pattern=pattern,
        )
    gaps = [k for k in ("mocked-shows-steps", "mocked-faithful-step-failure") if not ev.passed(k)]
    if not (ev.passed("mocked-stable") or ev.passed("devserver-skips-sleep")):
        return Rating(
            stars=3,
            reason=t(
                "unit tests skip time: the mocked executor ran a day's sleep and both endings "
                "of a week's wait in milliseconds, with step stubs; but it is experimental and "
                "the dev server cannot skip a sleep; gaps in the mocked executor: {gaps}",
                gaps=", ".join(gaps) or "-",
            ),
            drivers=[*mocked_paths, "mocked-stable", "devserver-skips-sleep", *gaps],
            advice=t(
                "unit-test long flows with inngest.experimental.mocked (vendor its ~300 lines, "
                "as its docstring suggests), and keep a dev server test for failure handling; "
                "read durations from configuration so integration tests can shorten them"
            ),
            pattern=pattern,
        )
    if not (ev.passed("mocked-stable") and ev.passed("devserver-skips-sleep")) or gaps:
        return Rating(
            stars=4,
            reason=t(
                "time skipping works in unit tests; it is experimental, missing on the dev "
                "server, or unfaithful in places"
            ),
            drivers=["mocked-stable", "devserver-skips-sleep", *gaps],
            pattern=pattern,
        )
    return Rating(
        stars=5,
        reason=t("stable time skipping in unit tests and on the dev server"),
        drivers=[*mocked_paths, "mocked-stable", "devserver-skips-sleep"],
        pattern=pattern,
    )


# ═══ DX-05 Error messages / debugging ══════════════════════════════════════════════════════════
# What a developer gets to read: for a step that raises, for a step whose result cannot be
# stored, and for invalid configuration at sync time.


class PaymentDeclined(Exception):
    """A business error a payment provider reports."""


class ChargeRequested(BaseModel):
    card_last4: str


@inngest_client.create_function(
    fn_id="dx05-charge-card",
    trigger=inngest.TriggerEvent(event="dx05/charge.requested"),
    retries=0,
)
async def charge_card(ctx: inngest.Context) -> None:
    card = ChargeRequested.model_validate(ctx.event.data).card_last4

    async def charge() -> None:
        raise PaymentDeclined(f"card ending {card} was declined: insufficient funds")

    await ctx.step.run("charge-card", charge)


# Invalid configuration, each mistake in an app of its own (so each verdict is its own). These
# functions are never served with the suite's app: the probe syncs them one app at a time.
def _invalid_app(case: str) -> inngest.Inngest:
    return inngest.Inngest(app_id=f"dx05-{case}", is_production=False)


_bad_cron_app = _invalid_app("bad-cron")
_duplicate_id_app = _invalid_app("duplicate-id")
_bad_expression_app = _invalid_app("bad-expression")


@_bad_cron_app.create_function(
    fn_id="nightly-report", trigger=inngest.TriggerCron(cron="every day at midnight")
)
async def nightly_report(ctx: inngest.Context) -> None:
    return None


@_duplicate_id_app.create_function(
    fn_id="send-invoice", trigger=inngest.TriggerEvent(event="billing/invoice.created")
)
async def send_invoice(ctx: inngest.Context) -> None:
    return None


@_duplicate_id_app.create_function(  # copy-pasted, ID not changed
    fn_id="send-invoice", trigger=inngest.TriggerEvent(event="billing/invoice.overdue")
)
async def send_reminder(ctx: inngest.Context) -> None:
    return None


@_bad_expression_app.create_function(
    fn_id="vip-orders",
    trigger=inngest.TriggerEvent(event="shop/order.placed", expression="event.data.total >>> 1000"),
)
async def vip_orders(ctx: inngest.Context) -> None:
    return None


@dataclasses.dataclass(frozen=True)
class ConfigCase:
    app: inngest.Inngest
    functions: list[inngest.Function[Any]]
    function_id: str  # as written in code
    problem: str  # a regular expression for words that name the problem


CONFIG_CASES: dict[str, ConfigCase] = {
    "bad-cron": ConfigCase(_bad_cron_app, [nightly_report], "nightly-report", r"cron"),
    "duplicate-id": ConfigCase(
        _duplicate_id_app, [send_invoice, send_reminder], "send-invoice", r"duplicate|already|twice"
    ),
    "bad-expression": ConfigCase(_bad_expression_app, [vip_orders], "vip-orders", r"expression"),
}


def _judge_sync(probe: Probe, case: str, spec: ConfigCase, verdict: SyncVerdict) -> None:
    messages = verdict.messages
    specific = [m for m in messages if m != verdict.body]  # the SDK's answer is generic
    refused = bool(verdict.serve_error or verdict.app_error) or (
        len(verdict.registered) < len(spec.functions)
        and any(re.search(spec.problem, m, re.I) for m in messages)
    )
    observed = {
        "sync answer": f"HTTP {verdict.http_status}: {verdict.body[:200]}",
        "app error": verdict.app_error,
        "dev server log": [line[:300] for line in verdict.dev_server_log[:2]],
        "registered": verdict.registered,
    }
    if verdict.serve_error:
        observed["SDK error"] = verdict.serve_error
    probe.check(
        f"sync:{case}:detected",
        t("invalid configuration ({case}) is reported at sync", case=case),
        refused,
        observed=observed,
    )
    probe.check(
        f"sync:{case}:names-problem",
        t("the message about {case} names the problem", case=case),
        refused and any(re.search(spec.problem, m, re.I) for m in specific),
        observed=specific or messages or "no message",
    )
    slug = f"{spec.app.app_id}-{spec.function_id}"
    probe.check(
        f"sync:{case}:names-function",
        t("the message about {case} names the function", case=case),
        refused and any(spec.function_id in m or slug in m for m in specific),
        observed=specific or messages or "no message",
        expected=f"'{spec.function_id}' in the message",
    )


@suite.item("DX-05", functions=[charge_card, receipt_without_output_type], timeout=90)
def error_messages(probe: Probe) -> None:
    # 1. A step raises a business error.
    run = probe.trigger("dx05/charge.requested", {"card_last4": "4242"})
    output = run.output if isinstance(run.output, dict) else {}
    probe.check(
        "step-error-name-and-message",
        t("the failed run's output carries the exception's class name and message"),
        run.status == "FAILED"
        and output.get("name") == "PaymentDeclined"
        and "card ending 4242 was declined" in str(output.get("message")),
        observed={k: output.get(k) for k in ("name", "message", "code")} or run.output,
        run_ids=[run.id],
    )
    stack = str(output.get("stack") or "")
    probe.check(
        "step-error-stack",
        t("the output carries a Python stack trace pointing at the raising line"),
        Path(__file__).name in stack and "raise PaymentDeclined" in stack,
        observed=stack[-400:] or None,
        run_ids=[run.id],
    )
    step = probe.api.step_result(run.id, "charge-card")
    stored = (step or {}).get("error") or {}
    probe.check(
        "failing-step-identified",
        t("the run's trace names the step that failed, with its error"),
        stored.get("name") == "PaymentDeclined",
        observed=stored or step,
        run_ids=[run.id],
    )

    # 2. A step result the SDK cannot store (the DX-01 typing gap, as a developer meets it).
    untyped = probe.trigger("dx01/receipt-untyped.requested", {"order_id": f"o-{probe.tag}"})
    message = str(untyped.error or "")
    probe.check(
        "unserializable:names-step-and-problem",
        t("the error for an unstorable step result names the step and the problem"),
        "issue-receipt" in message and "serializ" in message.lower(),
        observed=untyped.output,
        run_ids=[untyped.id],
    )
    probe.check(
        "unserializable:names-fix",
        t("the error for an unstorable step result says how to fix it (output_type=)"),
        "output_type" in message,
        observed=message,
        run_ids=[untyped.id],
    )

    # 3. Invalid configuration at sync time.
    for case, spec in CONFIG_CASES.items():
        probe.say(f"syncing an app with {case}")
        keys = probe.devserver.app_keys()  # a self-hosted server signs: production mode
        client = inngest.Inngest(
            app_id=spec.app.app_id,
            is_production=keys is not None,
            signing_key=keys.signing_key if keys else None,
            event_key=keys.event_key if keys else None,
            api_base_url=probe.devserver.url,
            event_api_base_url=probe.devserver.url,
        )
        verdict = sync_throwaway_app(
            probe.api, client, spec.functions, log=probe.devserver.log_text, timeout=probe.bound(10)
        )
        _judge_sync(probe, case, spec, verdict)


@error_messages.rubric
def _(ev: Evidence) -> Rating:
    runtime = ["step-error-name-and-message", "step-error-stack", "failing-step-identified"]
    cases = list(CONFIG_CASES)
    if not ev.passed("step-error-name-and-message"):
        return Rating(
            stars=1,
            reason=t("a failing step's error does not reach the developer"),
            drivers=runtime,
        )
    if not (ev.passed("step-error-stack") and ev.passed("failing-step-identified")):
        return Rating(
            stars=2,
            reason=t("a failing step's error arrives without its stack or its step"),
            drivers=runtime,
        )
    if ev.failed("unserializable:names-step-and-problem"):
        return Rating(
            stars=3,
            reason=t(
                "a raised error arrives complete (class, message, stack, failing step), but the "
                "error for a step result the SDK cannot store names neither the step nor the "
                "problem"
            ),
            drivers=[*runtime, "unserializable:names-step-and-problem"],
        )
    # A step result the SDK cannot store: the error names the step; does it name the fix?
    fix_named = not ev.failed("unserializable:names-fix")
    runtime = [*runtime, "unserializable:names-step-and-problem", "unserializable:names-fix"]
    undetected = [f"sync:{c}:detected" for c in cases if not ev.passed(f"sync:{c}:detected")]
    vague = [f"sync:{c}:names-problem" for c in cases if not ev.passed(f"sync:{c}:names-problem")]
    if undetected or vague:
        return Rating(
            stars=3,
            reason=t(
                "runtime errors are complete (class, message, stack, failing step); but invalid "
                "configuration goes unreported or unexplained: {checks}",
                checks=", ".join(undetected + vague),
            ),
            drivers=[*runtime, *undetected, *vague],
            advice=t(
                "check function IDs for duplicates in a unit test (the SDK keeps the last one "
                "silently), and read the app's error in the dev server UI after each sync: the "
                "sync request answers 200 either way"
            )
            if fix_named
            else t(
                "check function IDs for duplicates in a unit test (the SDK keeps the last one "
                "silently), and read the app's error in the dev server UI after each sync: the "
                "sync request answers 200 either way; give step.run output_type= when a step "
                "returns a Pydantic model (the serialization error does not say so)"
            ),
        )
    unnamed = [
        f"sync:{c}:names-function" for c in cases if not ev.passed(f"sync:{c}:names-function")
    ]
    fix_advice = (
        None
        if fix_named
        else t(
            "give step.run output_type= when a step returns a Pydantic model (the serialization "
            "error does not say so)"
        )
    )
    if unnamed:
        return Rating(
            stars=4,
            reason=t(
                "runtime errors are complete, and invalid configuration is reported with its "
                "cause, but without naming the function"
            ),
            drivers=[*runtime, *unnamed],
            advice=fix_advice,
        )
    return Rating(
        stars=5,
        reason=t("runtime and configuration errors name the function, the step and the cause"),
        drivers=runtime,
        advice=fix_advice,
    )


# ═══ DX-06 Learning curve ══════════════════════════════════════════════════════════════════════
# The smallest complete durable program (MINIMAL_APP, above), served from a file and run: how long
# the file that ran is, how many SDK names it uses. Beside it, the first complete program of the
# installed SDK's own README. What else a reader must know comes from the docs, rule by rule.

MINIMAL_LINES = 20
MINIMAL_NAMES = 10
EXECUTION_DOCS = "https://www.inngest.com/docs/learn/how-functions-are-executed"
PYDANTIC_DOCS = "https://www.inngest.com/docs/reference/python/guides/pydantic"
RULE_PREFIX = "rule:"  # documented facts that are a rule of the execution model to learn
# Each rule in a few words, for the rating's reason (the documented fact says it in full).
RULE_NAMES: dict[str, Msg] = {
    "side-effects-in-steps": t("side effects inside steps"),
    "stable-step-ids": t("step IDs that never change"),
    "pydantic-output-type": t("output_type= on steps that return a Pydantic model"),
}


@suite.item("DX-06", functions=[], timeout=60)
def learning_curve(probe: Probe) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="dx06-"))
    # Against a self-hosted server, configured for production by environment, as documented.
    app = ScratchApp(workdir, free_port(), probe.devserver.url, probe.devserver.app_keys())
    try:
        app.start(MINIMAL_APP, timeout=probe.bound(30))
        synced = serve.sync(app.url).status_code == 200 and _wait_until(
            lambda: "hello-app-hello" in probe.api.function_slugs(), probe.bound(15)
        )
        run = None
        if synced:
            event = probe.api.send("demo/hello", {"name": "Grace"})
            run = probe.wait_or_last(
                probe.api.wait_for_runs([event], timeout=probe.bound(20))[0].id, timeout=30
            )
        ran = run is not None and run.status == "COMPLETED" and run.output == "Hello, Grace!"
        probe.check(
            "minimal-program-runs",
            t("the program runs as written: served, synced, and its first event completes"),
            ran,
            observed={
                "synced": synced,
                "status": run.status if run else None,
                "output": run.output if run else None,
            },
            run_ids=[run.id] if run else [],
        )
        # Measured on the file the app server loaded, so the size is that of a program that ran.
        served = program_size((workdir / "main.py").read_text(encoding="utf-8"))
    finally:
        app.stop()
        for stale in [a for a in probe.api.apps() if a.get("name") == "hello-app"]:
            probe.api.delete_app(str(stale["id"]))

    probe.measure(
        "minimal-program-lines",
        served.lines,
        "lines",
        t("non-blank lines of the file that was served and ran, imports and serving included"),
    )
    probe.measure(
        "minimal-program-sdk-names",
        len(served.sdk_names),
        "names",
        t("SDK names the file that ran uses"),
    )
    probe.check(
        "minimal-program-small",
        t(
            "a complete program that ran fits in {lines} lines and {names} SDK names",
            lines=MINIMAL_LINES,
            names=MINIMAL_NAMES,
        ),
        ran and served.lines <= MINIMAL_LINES and len(served.sdk_names) <= MINIMAL_NAMES,
        observed={"ran": ran, "lines": served.lines, "names": sorted(served.sdk_names)},
        expected=f"ran, at most {MINIMAL_LINES} lines and {MINIMAL_NAMES} names",
    )
    readme = readme_program()
    if readme is not None:
        shown = program_size(readme)
        probe.measure(
            "sdk-readme-program-lines",
            shown.lines,
            "lines",
            t(
                "non-blank lines of the first complete program in the installed SDK's README "
                "(read from the package's metadata, not run)"
            ),
        )

    probe.document(
        "quick-start",
        t(
            "the Python quick start builds a complete app (client, function, trigger, serve "
            "endpoint) in one file and runs it against the dev server"
        ),
        "https://www.inngest.com/docs/getting-started/python-quick-start",
    )
    probe.document(
        f"{RULE_PREFIX}side-effects-in-steps",
        t(
            "the function body re-runs on every step, so side effects and non-determinism "
            "belong inside steps (EX-05 measures this)"
        ),
        EXECUTION_DOCS,
    )
    probe.document(
        f"{RULE_PREFIX}stable-step-ids",
        t(
            "step results are memoized by step ID, so a step's ID must be the same on every "
            "request and across deploys: an ID that changes re-runs its step on every request "
            "without a warning (EX-05, EX-06)"
        ),
        EXECUTION_DOCS,
    )
    probe.document(
        f"{RULE_PREFIX}pydantic-output-type",
        t(
            "a step that returns a Pydantic model needs output_type= (and the client's "
            "PydanticSerializer), because step results travel as JSON; mypy does not flag a "
            "missing one and the step fails at run time (DX-01)"
        ),
        PYDANTIC_DOCS,
    )


@learning_curve.rubric
def _(ev: Evidence) -> Rating:
    if not ev.passed("minimal-program-runs"):
        return Rating(
            stars=2,
            reason=t("the smallest documented-style program did not run as written"),
            drivers=["minimal-program-runs"],
        )
    if not ev.passed("minimal-program-small"):
        return Rating(
            stars=3,
            reason=t("a complete program runs as written, but needs more code than a page"),
            drivers=["minimal-program-runs", "minimal-program-small"],
        )
    rules = [
        RULE_NAMES[f.key.removeprefix(RULE_PREFIX)]
        for f in ev.facts
        if f.key.startswith(RULE_PREFIX)
    ]
    size = {
        "lines": int(ev.value("minimal-program-lines")),
        "names": int(ev.value("minimal-program-sdk-names")),
    }
    if len(rules) > 1:
        return Rating(
            stars=4,
            reason=t(
                "a complete durable program is {lines} lines and {names} SDK names and runs as "
                "written; but the execution model is {count} rules to learn, not one: {rules}",
                **size,
                count=len(rules),
                rules=rules,
            ),
            drivers=["minimal-program-runs", "minimal-program-small"],
            advice=t(
                "learn these rules before the first deploy and make them review checklist items"
            ),
        )
    return Rating(
        stars=5,
        reason=t(
            "a complete durable program is {lines} lines and {names} SDK names, runs as written, "
            "and one rule (side effects inside steps) covers the execution model",
            **size,
        ),
        drivers=["minimal-program-runs", "minimal-program-small"],
    )


# ═══ DX-07 Local replay ════════════════════════════════════════════════════════════════════════
# A refund flow runs on the dev server. Its step history is read back (harness.replay, shared
# with VR-02) and replayed in memory (patterns.history_replay) against the same code, a compatible
# edit, and two edits that break runs in flight. Natively, the dev server can only re-run a run,
# executing it again.


class RefundRequested(BaseModel):
    order_id: str
    amount_cents: int


class Order(BaseModel):
    order_id: str
    paid_cents: int


class OrderWithCurrency(Order):
    currency: str  # a field the recorded history does not have


@inngest_client.create_function(
    fn_id="dx07-refund", trigger=inngest.TriggerEvent(event="dx07/refund.requested"), retries=0
)
async def refund(ctx: inngest.Context) -> dict[str, object]:
    request = RefundRequested.model_validate(ctx.event.data)

    async def load_order() -> dict[str, object]:
        side_effects.executed(ctx.event, "load-order")
        return {"order_id": request.order_id, "paid_cents": 5_000}

    async def issue_refund(cents: int) -> str:
        side_effects.executed(ctx.event, "issue-refund")
        return f"re_{uuid.uuid4().hex[:12]}"  # the provider's ID: different on every call

    order = Order.model_validate(await ctx.step.run("load-order", load_order))
    cents = min(request.amount_cents, order.paid_cents)
    refund_id = await ctx.step.run("issue-refund", issue_refund, cents)
    return {"order_id": order.order_id, "refunded_cents": cents, "refund_id": refund_id}


# A compatible edit: the cap is computed by a helper, the steps are unchanged.
@inngest_client.create_function(
    fn_id="dx07-refund", trigger=inngest.TriggerEvent(event="dx07/refund.requested"), retries=0
)
async def refund_refactored(ctx: inngest.Context) -> dict[str, object]:
    request = RefundRequested.model_validate(ctx.event.data)

    def refundable(order: Order) -> int:
        return min(request.amount_cents, order.paid_cents)

    async def load_order() -> dict[str, object]:
        return {"order_id": request.order_id, "paid_cents": 5_000}

    async def issue_refund(cents: int) -> str:
        return f"re_{uuid.uuid4().hex[:12]}"

    order = Order.model_validate(await ctx.step.run("load-order", load_order))
    refund_id = await ctx.step.run("issue-refund", issue_refund, refundable(order))
    return {"order_id": order.order_id, "refunded_cents": refundable(order), "refund_id": refund_id}


# A breaking edit: the refund step was renamed. Runs in flight would issue a second refund.
@inngest_client.create_function(
    fn_id="dx07-refund", trigger=inngest.TriggerEvent(event="dx07/refund.requested"), retries=0
)
async def refund_renamed_step(ctx: inngest.Context) -> dict[str, object]:
    request = RefundRequested.model_validate(ctx.event.data)

    async def load_order() -> dict[str, object]:
        return {"order_id": request.order_id, "paid_cents": 5_000}

    async def issue_refund(cents: int) -> str:
        return f"re_{uuid.uuid4().hex[:12]}"

    order = Order.model_validate(await ctx.step.run("load-order", load_order))
    cents = min(request.amount_cents, order.paid_cents)
    refund_id = await ctx.step.run("create-refund", issue_refund, cents)
    return {"order_id": order.order_id, "refunded_cents": cents, "refund_id": refund_id}


# A breaking edit: the code now expects a field the recorded step output does not have.
@inngest_client.create_function(
    fn_id="dx07-refund", trigger=inngest.TriggerEvent(event="dx07/refund.requested"), retries=0
)
async def refund_new_field(ctx: inngest.Context) -> dict[str, object]:
    request = RefundRequested.model_validate(ctx.event.data)

    async def load_order() -> dict[str, object]:
        return {"order_id": request.order_id, "paid_cents": 5_000, "currency": "EUR"}

    async def issue_refund(cents: int) -> str:
        return f"re_{uuid.uuid4().hex[:12]}"

    order = OrderWithCurrency.model_validate(await ctx.step.run("load-order", load_order))
    cents = min(request.amount_cents, order.paid_cents)
    refund_id = await ctx.step.run("issue-refund", issue_refund, cents)
    return {
        "order_id": order.order_id,
        "refunded_cents": cents,
        "currency": order.currency,
        "refund_id": refund_id,
    }


@suite.item("DX-07", functions=[refund], timeout=90)
def local_replay(probe: Probe) -> None:
    run = probe.trigger(
        "dx07/refund.requested", {"order_id": f"o-{probe.tag}", "amount_cents": 1_200}
    )
    if run.status != "COMPLETED":
        raise RuntimeError(f"the refund run did not complete ({run.status}): {run.output}")

    # Native: what the dev server offers to "replay" a run is a rerun, which executes it again.
    rerun_id = str(
        probe.api.graphql(
            "mutation Rerun($runID: ULID!) { rerun(runID: $runID) }", {"runID": run.id}
        )["rerun"]
    )
    rerun = probe.wait(rerun_id, timeout=30)
    probe.check(
        "native-rerun-replays",
        t("the dev server's rerun replays the recorded steps without running them again"),
        rerun.status == "COMPLETED" and probe.effects("issue-refund") == 1,
        observed={
            "issue-refund executions": probe.effects("issue-refund"),
            "refund IDs": [run.output.get("refund_id"), (rerun.output or {}).get("refund_id")],
        },
        expected="1 execution (the rerun answered from history)",
        run_ids=[run.id, rerun_id],
    )
    replay_modules = sdk_modules_named("replay")
    probe.check(
        "native-local-replayer",
        t("the Python SDK ships a replayer for recorded runs"),
        bool(replay_modules),
        observed={"inngest modules named *replay*": replay_modules},
    )

    # The pattern: read the history back, replay it in memory against each version of the code.
    history = record_history(probe.api, run.id, timeout=probe.bound(15))
    probe.check(
        "history-recorded",
        t(
            "the run's step history (step IDs, outputs, event, result) reads back from the "
            "dev server"
        ),
        [step.id for step in history.steps] == ["load-order", "issue-refund"]
        and history.output == run.output,
        observed={"steps": [step.id for step in history.steps], "output": history.output},
        run_ids=[run.id],
    )
    with tempfile.TemporaryDirectory(prefix="dx07-") as tmp:
        fixture = History.load(history.save(Path(tmp) / "refund-run.json"))
    executed_before = probe.effects("load-order") + probe.effects("issue-refund")
    started = time.perf_counter()
    same = replay(refund, fixture)
    replay_ms = (time.perf_counter() - started) * 1000
    executed_after = probe.effects("load-order") + probe.effects("issue-refund")
    probe.measure(
        "replay-ms", round(replay_ms, 1), "ms", t("one in-memory replay of the recorded run")
    )
    probe.check(
        "replay-reproduces-result",
        t(
            "replaying the recorded run on the same code reproduces its result without running "
            "a step"
        ),
        same.ok
        and same.completed
        and same.output == run.output
        and executed_after == executed_before,
        observed={
            "summary": same.summary(),
            "output": same.output,
            "steps executed during the replay": executed_after - executed_before,
        },
        run_ids=[run.id],
    )
    compatible = replay(refund_refactored, fixture)
    probe.check(
        "replay-accepts-compatible-edit",
        t("a refactoring that keeps the steps replays cleanly"),
        compatible.ok and compatible.output == run.output,
        observed=compatible.summary(),
    )
    renamed = replay(refund_renamed_step, fixture)
    probe.check(
        "replay-detects-renamed-step",
        t("a renamed step is reported, naming the step"),
        not renamed.ok and any(p.step == "create-refund" for p in renamed.blocking),
        observed=renamed.summary(),
    )
    reshaped = replay(refund_new_field, fixture)
    probe.check(
        "replay-detects-output-shape-change",
        t("code that no longer accepts a recorded step output is reported, naming the step"),
        not reshaped.ok and any(p.step == "load-order" for p in reshaped.blocking),
        observed=reshaped.summary(),
    )
    probe.document(
        "history-source",
        t(
            "the history is read from the dev server's GraphQL API (the one its UI uses); "
            "reading production runs needs the same data from Inngest Cloud, not verified here"
        ),
        "https://github.com/inngest/inngest/blob/main/pkg/coreapi/gql.query.graphql",
    )


def _replay_pattern(ev: Evidence) -> PatternRating:
    drivers = [
        "history-recorded",
        "replay-reproduces-result",
        "replay-accepts-compatible-edit",
        "replay-detects-renamed-step",
        "replay-detects-output-shape-change",
    ]
    if all(ev.passed(k) for k in drivers):
        return PatternRating(
            module=pattern_module(replay),
            pattern=t("recording a run's history and replaying it in memory"),
            stars=4,
            reason=t(
                "a recorded run replays in milliseconds with no step executed: the same code "
                "reproduces its result, a refactoring passes, a renamed step and a changed "
                "output shape are reported by step; it relies on SDK internals pinned to one "
                "SDK version"
            ),
            drivers=drivers,
        )
    return PatternRating(
        module=pattern_module(replay),
        pattern=t("recording a run's history and replaying it in memory"),
        stars=2,
        reason=t("the replay did not reproduce the run or missed a breaking change"),
        drivers=[k for k in drivers if not ev.passed(k)],
    )


@local_replay.rubric
def _(ev: Evidence) -> Rating:
    pattern = _replay_pattern(ev)
    if ev.passed("native-local-replayer") or ev.passed("native-rerun-replays"):
        return Rating(
            stars=4,
            reason=t("recorded runs can be replayed without executing their steps"),
            drivers=["native-local-replayer", "native-rerun-replays"],
            pattern=pattern,
        )
    if ev.passed("history-recorded"):
        return Rating(
            stars=2,
            reason=t(
                "no replayer ships: the dev server's rerun executes every step again (a second "
                "refund), but a run's full step history can be read from its API, so a replay "
                "harness can be built on it"
            ),
            drivers=["native-local-replayer", "native-rerun-replays", "history-recorded"],
            advice=t(
                "record histories of representative runs as JSON fixtures and replay them in "
                "CI against every change with patterns/history_replay.py, before deploying"
            ),
            pattern=pattern,
        )
    return Rating(
        stars=1,
        reason=t("recorded runs can neither be replayed nor read back step by step"),
        drivers=["native-local-replayer", "native-rerun-replays", "history-recorded"],
        pattern=pattern,
    )


if __name__ == "__main__":
    suite.main()
