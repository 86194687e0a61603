"""VR — Versioning & migration: what deploying new code does to runs already in flight.

Items VR-01 … VR-04. Each item below is: the Inngest function(s) it runs, the probe that drives
them against a real dev server and records what happened, and the rubric that turns that
evidence into stars. A "deploy" here is a real one: the app at the same URL starts serving other
code and is synced again, while runs sleep. Run ``python 05_vr_versioning.py --help``.
"""

from __future__ import annotations

import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import inngest
from pydantic import AliasChoices, BaseModel, Field, ValidationError

from common import (
    IN_FLIGHT,
    Category,
    Evidence,
    PatternRating,
    Probe,
    Rating,
    Run,
    Suite,
    deployment,
    echo,
    function_records,
    inngest_client,
    pattern_module,
    record_history,
    runs_of,
    runs_started_by,
    side_effects,
    t,
)
from patterns.cutover import Drain, before_cutover, from_cutover
from patterns.cutover import wait_until_drained as drain_gate
from patterns.history_replay import History, replay

suite = Suite(__file__, Category.VR)


def _wait_for_steps(probe: Probe, runs: list[str], step: str) -> None:
    for run_id in runs:
        if not probe.wait_for_step(run_id, step, timeout=20):
            raise RuntimeError(f"run {run_id} never reached {step!r}; cannot deploy during it")


# ═══ VR-01 Workflow versioning ═════════════════════════════════════════════════════════════════
# Two ways to ship a new version while runs sleep. In place: same function ID, new code and a new
# retry setting. Side by side: a "-v2" function ID next to the old one, each taking the events
# on its side of a cutover time. Which code and which configuration do the sleeping runs get?


class RenewalDue(BaseModel):
    tag: str
    subscription_id: str
    grace_s: float


@inngest_client.create_function(
    fn_id="vr01-renew-subscription",
    trigger=inngest.TriggerEvent(event="vr01/renewal.due"),
    retries=0,
)
async def renew_subscription_v1(ctx: inngest.Context) -> dict[str, str]:
    renewal = RenewalDue.model_validate(ctx.event.data)

    async def charge() -> str:
        side_effects.executed(ctx.event, f"v1:charge:{renewal.subscription_id}")
        return "charged by v1"

    async def confirm() -> str:
        side_effects.executed(ctx.event, f"v1:confirm:{renewal.subscription_id}")
        return "confirmed by v1"

    charged = await ctx.step.run("charge-renewal", charge)
    await ctx.step.sleep("grace-period", timedelta(seconds=renewal.grace_s))
    return {"charge": charged, "confirmation": await ctx.step.run("send-confirmation", confirm)}


@inngest_client.create_function(
    fn_id="vr01-renew-subscription",
    trigger=inngest.TriggerEvent(event="vr01/renewal.due"),
    retries=2,  # v2 also allows retries: the new mail provider fails now and then
)
async def renew_subscription_v2(ctx: inngest.Context) -> dict[str, str]:
    renewal = RenewalDue.model_validate(ctx.event.data)

    async def charge() -> str:
        side_effects.executed(ctx.event, f"v2:charge:{renewal.subscription_id}")
        return "charged by v2"

    async def confirm() -> str:
        if side_effects.executed(ctx.event, f"v2:confirm:{renewal.subscription_id}") == 1:
            raise RuntimeError("mail provider busy (first attempt)")
        return "confirmed by v2"

    charged = await ctx.step.run("charge-renewal", charge)
    await ctx.step.sleep("grace-period", timedelta(seconds=renewal.grace_s))
    return {"charge": charged, "confirmation": await ctx.step.run("send-confirmation", confirm)}


class InvoiceRequested(BaseModel):
    tag: str
    invoice_id: str
    review_s: float


def invoice_v1(cutover_ms: int | None = None) -> inngest.Function[dict[str, str]]:
    """The invoicing function as first shipped; with ``cutover_ms`` it only takes the events
    sent before that time, so a ``-v2`` function can take the rest."""
    expression = None if cutover_ms is None else f"event.ts < {cutover_ms}"

    @inngest_client.create_function(
        fn_id="vr01-issue-invoice",
        trigger=inngest.TriggerEvent(event="vr01/invoice.requested", expression=expression),
    )
    async def issue_invoice(ctx: inngest.Context) -> dict[str, str]:
        request = InvoiceRequested.model_validate(ctx.event.data)
        draft = await ctx.step.run("draft", echo, "drafted by v1")
        await ctx.step.sleep("review", timedelta(seconds=request.review_s))
        return {"draft": draft, "issued": await ctx.step.run("issue", echo, "issued by v1")}

    return issue_invoice


def invoice_v2(cutover_ms: int) -> inngest.Function[dict[str, str]]:
    """The rewrite, under its own function ID, for events from the cutover on."""

    @inngest_client.create_function(
        fn_id="vr01-issue-invoice-v2",
        trigger=inngest.TriggerEvent(
            event="vr01/invoice.requested", expression=f"event.ts >= {cutover_ms}"
        ),
    )
    async def issue_invoice(ctx: inngest.Context) -> dict[str, str]:
        InvoiceRequested.model_validate(ctx.event.data)
        return {"issued": await ctx.step.run("issue-and-send", echo, "issued by v2")}

    return issue_invoice


issue_invoice_v1 = invoice_v1()
DEPLOY_SETTLE_S = 5.0  # from starting the deploy to the cutover: the deploy must finish first


RUN_FINISH_WATCH_S = 20.0  # the runs sleep 5 s; unfinished this long after the deploy is stuck


def _resumed_after_deploy(probe: Probe, run: Run) -> bool:
    """The renewal run went on after the in-place deploy and ended as its code decides: its
    memoized charge kept, then COMPLETED with a confirmation (v1 code, or v2 with retries), or
    FAILED by v2's deliberate first-attempt error (v2 code under v1's retries=0). Stuck, lost
    or failed for any other reason is not surviving."""
    output = run.output if isinstance(run.output, dict) else {}
    charge_once = probe.effects("v1:charge:s1") == 1 and probe.effects("v2:charge:s1") == 0
    completed = (
        run.status == "COMPLETED"
        and output.get("charge") == "charged by v1"
        and output.get("confirmation") in ("confirmed by v1", "confirmed by v2")
    )
    failed_by_its_code = (
        run.status == "FAILED"
        and "mail provider busy" in (run.error or "")
        and probe.effects("v2:confirm:s1") >= 1
    )
    return charge_once and (completed or failed_by_its_code)


@suite.item("VR-01", functions=[renew_subscription_v1, issue_invoice_v1], timeout=120)
def workflow_versioning(probe: Probe) -> None:
    renewing = probe.run_of(probe.send("vr01/renewal.due", {"subscription_id": "s1", "grace_s": 5}))
    invoicing = probe.run_of(
        probe.send("vr01/invoice.requested", {"invoice_id": "i1", "review_s": 5})
    )
    _wait_for_steps(probe, [renewing], "grace-period")
    _wait_for_steps(probe, [invoicing], "review")
    before = function_records(probe.api)

    with deployment(probe.app, probe.api) as deploy:
        cutover_ms = int(time.time() * 1000 + DEPLOY_SETTLE_S * 1000)
        probe.say("deploying v2 while both runs sleep")
        deployed_at = time.monotonic()
        new_invoicing = invoice_v2(cutover_ms)
        deploy([renew_subscription_v2, invoice_v1(cutover_ms), new_invoicing])
        if time.monotonic() - deployed_at > DEPLOY_SETTLE_S:
            raise RuntimeError(
                "the deploy took longer than the cutover margin; rerun on a calmer machine"
            )
        after = function_records(probe.api)
        # A run the deploy leaves unfinished is this item's lowest branch, not a probe error.
        renewed = probe.wait_or_last(renewing, timeout=RUN_FINISH_WATCH_S)
        invoiced = probe.wait_or_last(invoicing, timeout=RUN_FINISH_WATCH_S)
        time.sleep(max(0.0, cutover_ms / 1000 - time.time()) + 0.2)
        fresh_renewal = probe.wait_or_last(
            probe.run_of(probe.send("vr01/renewal.due", {"subscription_id": "s2", "grace_s": 0})),
            timeout=RUN_FINISH_WATCH_S,
        )
        fresh_invoice_event = probe.send(
            "vr01/invoice.requested", {"invoice_id": "i2", "review_s": 0}
        )
        fresh_invoices = _finished_runs(probe, fresh_invoice_event)

    renew_slug = renew_subscription_v1.id
    probe.check(
        "sync-bumps-version",
        t("a re-sync gives the function a new version number"),
        after[renew_slug].version > before[renew_slug].version,
        observed={"version before": before[renew_slug].version, "after": after[renew_slug].version},
        informational=True,  # how a deploy shows; what runs do across it is rated
    )
    probe.check(
        "in-flight-run-survives-deploy",
        t(
            "a run sleeping across an in-place deploy goes on within {s:.0f} s and ends as its "
            "code decides",
            s=RUN_FINISH_WATCH_S,
        ),
        _resumed_after_deploy(probe, renewed),
        observed={
            "status": renewed.status,
            "output": renewed.output,
            "error": renewed.error,
            "charge executions (v1, v2)": [
                probe.effects("v1:charge:s1"),
                probe.effects("v2:charge:s1"),
            ],
            "send-confirmation executions (v1, v2)": [
                probe.effects("v1:confirm:s1"),
                probe.effects("v2:confirm:s1"),
            ],
        },
        expected=(
            "charge not repeated; then COMPLETED with a confirmation, or FAILED by v2's "
            "first-attempt error 'mail provider busy' (v2 code under v1's retries=0)"
        ),
        run_ids=[renewing],
    )
    output = renewed.output if isinstance(renewed.output, dict) else {}
    probe.check(
        "in-flight-run-gets-new-code",
        t("after an in-place deploy, the sleeping run's later steps run the new code"),
        probe.effects("v2:confirm:s1") >= 1 and probe.effects("v1:confirm:s1") == 0,
        observed={
            "v1 send-confirmation executions": probe.effects("v1:confirm:s1"),
            "v2 send-confirmation executions": probe.effects("v2:confirm:s1"),
            "charge (memoized)": output.get("charge") or renewed.output,
        },
        run_ids=[renewing],
    )
    probe.check(
        "in-flight-run-keeps-old-config",
        t("the sleeping run keeps the retry setting of the version it started on"),
        renewed.status == "FAILED" and probe.effects("v2:confirm:s1") == 1,
        observed={
            "status": renewed.status,
            "error": renewed.error,
            "v2 send-confirmation attempts": probe.effects("v2:confirm:s1"),
        },
        expected="FAILED after one attempt (v1: retries=0); v2 would retry it (retries=2)",
        run_ids=[renewing],
    )
    probe.check(
        "new-run-gets-new-version",
        t("a run started after the deploy runs the new code with the new configuration"),
        fresh_renewal.status == "COMPLETED"
        and isinstance(fresh_renewal.output, dict)
        and fresh_renewal.output.get("confirmation") == "confirmed by v2"
        and probe.effects("v2:confirm:s2") == 2,
        observed={
            "status": fresh_renewal.status,
            "output": fresh_renewal.output,
            "send-confirmation attempts": probe.effects("v2:confirm:s2"),
        },
        expected="COMPLETED by v2 after one retry (v2: retries=2)",
        run_ids=[fresh_renewal.id],
        informational=True,  # the baseline the in-flight run is compared with
    )
    probe.check(
        "side-by-side-pins-in-flight",
        t("a run of the -v1 function ID finishes on v1 code while -v2 is served beside it"),
        invoiced.status == "COMPLETED"
        and invoiced.output == {"draft": "drafted by v1", "issued": "issued by v1"},
        observed={"status": invoiced.status, "output": invoiced.output},
        run_ids=[invoicing],
    )
    probe.check(
        "side-by-side-routes-new-events",
        t("an event after the cutover starts one run, of the -v2 function only"),
        [(r["function"], r["status"]) for r in fresh_invoices] == [(new_invoicing.id, "COMPLETED")],
        observed=fresh_invoices,
        run_ids=[r["run_id"] for r in fresh_invoices],
    )
    probe.document(
        "runs-resume-on-current-code",
        t(
            "when a run resumes, Inngest uses the current code and reuses completed steps' "
            "results by step ID; for incompatible rewrites the docs recommend a new function "
            "ID with event.ts-based trigger expressions"
        ),
        "https://www.inngest.com/docs/learn/versioning",
    )


def _finished_runs(probe: Probe, event_id: str, settle_s: float = 2.0) -> list[dict[str, str]]:
    """Every run ``event_id`` started (given ``settle_s`` to start them), once each finished."""
    return _finished_runs_of(probe, {"": event_id}, settle_s)[""]


def _finished_runs_of(
    probe: Probe, events: dict[str, str], settle_s: float = 1.0
) -> dict[str, list[dict[str, str]]]:
    """For each named event, every run it started, once each finished. Waits until every event
    has started a run (bounded), then ``settle_s`` more for any further (duplicate) run."""
    deadline = time.monotonic() + probe.bound(20)
    started = {name: runs_started_by(probe.api, e) for name, e in events.items()}
    while not all(started.values()) and time.monotonic() < deadline:
        time.sleep(0.3)
        started = {
            name: runs or runs_started_by(probe.api, events[name]) for name, runs in started.items()
        }
    time.sleep(probe.bound(settle_s))
    return {
        name: [
            {
                "function": slug,
                "status": probe.wait_or_last(run_id, timeout=20).status,
                "run_id": run_id,
            }
            for slug, run_id in sorted(runs_started_by(probe.api, event_id))
        ]
        for name, event_id in events.items()
    }


@workflow_versioning.rubric
def _(ev: Evidence) -> Rating:
    if not ev.passed("in-flight-run-survives-deploy"):
        return Rating(
            stars=1,
            reason=t(
                "a run in flight did not survive a deploy of new code: it did not go on within "
                "{s:.0f} s, repeated a completed step, or ended for another reason than its code",
                s=RUN_FINISH_WATCH_S,
            ),
            drivers=["in-flight-run-survives-deploy"],
        )
    side_by_side = ev.passed("side-by-side-pins-in-flight") and ev.passed(
        "side-by-side-routes-new-events"
    )
    if not side_by_side:
        return Rating(
            stars=2,
            reason=t(
                "runs survive deploys, but a second function ID does not keep old runs on old "
                "code while new events go to the new one: no way to pin a version"
            ),
            drivers=["side-by-side-pins-in-flight", "side-by-side-routes-new-events"],
        )
    if ev.passed("in-flight-run-gets-new-code"):
        mixed = ev.passed("in-flight-run-keeps-old-config")
        return Rating(
            stars=3,
            reason=t(
                "an in-place deploy moves sleeping runs to the new code at their next step, "
                "while they keep the old version's retry setting; keeping old runs on old code "
                "takes a new function ID per version and trigger expressions to split events, "
                "which works"
            )
            if mixed
            else t(
                "an in-place deploy moves sleeping runs to the new code at their next step; "
                "keeping old runs on old code takes a new function ID per version and trigger "
                "expressions to split events, which works"
            ),
            drivers=[
                "in-flight-run-gets-new-code",
                "in-flight-run-keeps-old-config",
                "side-by-side-pins-in-flight",
                "side-by-side-routes-new-events",
            ],
            advice=t(
                "treat every deploy as reaching runs in flight: keep step IDs stable for "
                "compatible changes, replay recorded runs against the new code before deploying "
                "(VR-02), and ship incompatible rewrites under a new function ID"
            ),
        )
    return Rating(
        stars=4,
        reason=t(
            "runs in flight stay on the code they started with, and versions run side by side"
        ),
        drivers=["in-flight-run-gets-new-code", "side-by-side-pins-in-flight"],
    )


# ═══ VR-02 Breaking change detection ═══════════════════════════════════════════════════════════
# A customer onboarding flow is changed in two ways: compatibly (new code inside steps) and
# incompatibly (a step renamed, two swapped). What does Inngest notice when the incompatible
# version is deployed under a sleeping run? Then the missing check: record a finished run's
# history and replay it against each new version before deploying (patterns.history_replay).


class CustomerSignedUp(BaseModel):
    tag: str
    customer_id: str
    trial_s: float


@inngest_client.create_function(
    fn_id="vr02-onboard-customer", trigger=inngest.TriggerEvent(event="vr02/customer.signed_up")
)
async def onboard_v1(ctx: inngest.Context) -> dict[str, Any]:
    customer = CustomerSignedUp.model_validate(ctx.event.data)

    async def create_account() -> dict[str, str]:
        side_effects.executed(ctx.event, "create-account")
        return {"account_id": f"acct-{customer.customer_id}"}

    async def provision_workspace() -> dict[str, str]:
        side_effects.executed(ctx.event, "provision-workspace")
        return {"workspace": f"ws-{customer.customer_id}", "region": "eu"}

    async def assign_manager() -> str:
        return "manager-v1"

    account = await ctx.step.run("create-account", create_account)
    workspace = await ctx.step.run("provision-workspace", provision_workspace)
    manager = await ctx.step.run("assign-manager", assign_manager)
    await ctx.step.sleep("trial", timedelta(seconds=customer.trial_s))
    welcome = await ctx.step.run("send-welcome", echo, f"welcome to {workspace['workspace']}")
    return {**account, **workspace, "manager": manager, "welcome": welcome}


@inngest_client.create_function(
    fn_id="vr02-onboard-customer", trigger=inngest.TriggerEvent(event="vr02/customer.signed_up")
)
async def onboard_v2_compatible(ctx: inngest.Context) -> dict[str, Any]:
    customer = CustomerSignedUp.model_validate(ctx.event.data)

    async def create_account() -> dict[str, str]:
        side_effects.executed(ctx.event, "create-account")
        return {"account_id": f"acct-{customer.customer_id}"}

    async def provision_workspace() -> dict[str, str]:
        # New provisioning code under the same step ID: runs that already provisioned keep
        # their recorded workspace; new runs get the new behaviour.
        side_effects.executed(ctx.event, "provision-workspace")
        return {"workspace": f"ws-{customer.customer_id}", "region": "eu-west"}

    async def assign_manager() -> str:
        return "manager-v2"

    account = await ctx.step.run("create-account", create_account)
    workspace = await ctx.step.run("provision-workspace", provision_workspace)
    manager = await ctx.step.run("assign-manager", assign_manager)
    await ctx.step.sleep("trial", timedelta(seconds=customer.trial_s))
    welcome = await ctx.step.run("send-welcome", echo, f"welcome to {workspace['workspace']}!")
    return {**account, **workspace, "manager": manager, "welcome": welcome}


@inngest_client.create_function(
    fn_id="vr02-onboard-customer", trigger=inngest.TriggerEvent(event="vr02/customer.signed_up")
)
async def onboard_v2_breaking(ctx: inngest.Context) -> dict[str, Any]:
    customer = CustomerSignedUp.model_validate(ctx.event.data)

    async def create_account() -> dict[str, str]:
        side_effects.executed(ctx.event, "create-account")
        return {"account_id": f"acct-{customer.customer_id}"}

    async def setup_workspace() -> dict[str, str]:
        side_effects.executed(ctx.event, "setup-workspace")  # provisions a second workspace
        return {"workspace": f"ws2-{customer.customer_id}", "region": "eu"}

    async def assign_manager() -> str:
        return "manager-v2"

    account = await ctx.step.run("create-account", create_account)
    manager = await ctx.step.run("assign-manager", assign_manager)  # now before the workspace
    workspace = await ctx.step.run("setup-workspace", setup_workspace)  # renamed
    await ctx.step.sleep("trial", timedelta(seconds=customer.trial_s))
    welcome = await ctx.step.run("send-welcome", echo, f"welcome to {workspace['workspace']}")
    return {**account, **workspace, "manager": manager, "welcome": welcome}


_CHANGE_WORDS = ("determinis", "step id", "order", "mismatch", "unexpected step", "not found")


@suite.item("VR-02", functions=[onboard_v1], timeout=40)
def breaking_change_detection(probe: Probe) -> None:
    # A finished run on v1: its history is the fixture the replay check works from.
    finished = probe.trigger("vr02/customer.signed_up", {"customer_id": "c1", "trial_s": 0.5})
    with tempfile.TemporaryDirectory() as tmp:
        fixture = record_history(probe.api, finished.id).save(Path(tmp) / "onboard-v1.json")
        history = History.load(fixture)
    replay_started = time.monotonic()
    reports = {
        "v1": replay(onboard_v1, history),
        "v2-compatible": replay(onboard_v2_compatible, history),
        "v2-breaking": replay(onboard_v2_breaking, history),
    }
    probe.measure(
        "replay-duration",
        round((time.monotonic() - replay_started) * 1000 / len(reports), 1),
        "ms",
        t(
            "mean time to replay the {steps}-step history against one version, in memory",
            steps=len(history.steps),
        ),
    )
    probe.check(
        "replay-passes-compatible",
        t("replaying the recorded run passes for v1 itself and for a compatible change"),
        reports["v1"].ok and reports["v2-compatible"].ok,
        observed={name: reports[name].summary() for name in ("v1", "v2-compatible")},
        run_ids=[finished.id],
    )
    breaking = reports["v2-breaking"]
    named = {p.step for p in breaking.problems}
    probe.check(
        "replay-names-breaking-step",
        t("replaying it against the breaking change fails and names the renamed step"),
        not breaking.ok
        and "setup-workspace" in named
        and any("provision-workspace" in p.message for p in breaking.problems),
        observed=breaking.summary(),
        run_ids=[finished.id],
    )

    # A run in flight when the breaking change is deployed: what does Inngest do, and did the
    # replay of its history (taken just before the deploy) predict it?
    probe.new_scenario()
    sleeping = probe.run_of(
        probe.send("vr02/customer.signed_up", {"customer_id": "c2", "trial_s": 4})
    )
    _wait_for_steps(probe, [sleeping], "trial")
    prediction = replay(onboard_v2_breaking, record_history(probe.api, sleeping))
    mark = probe.log_mark()
    with deployment(probe.app, probe.api) as deploy:
        deploy([onboard_v2_breaking])
        sync_errors = probe.api.app_errors()
        run = probe.wait(sleeping, timeout=30)
    logged = [
        line
        for line in probe.logs_since(mark)
        if any(w in line.lower() for w in ("warn", "error"))
        and any(w in line.lower() for w in _CHANGE_WORDS)
    ]
    output = run.output if isinstance(run.output, dict) else {}
    probe.check(
        "native-flags-at-deploy",
        t("the dev server flags the changed steps when the new code is synced"),
        bool(sync_errors),
        observed={"app errors after sync": sync_errors},
        run_ids=[sleeping],
    )
    probe.check(
        "native-flags-at-run",
        t("the SDK or dev server logs a warning or error about the changed steps"),
        bool(logged),
        observed={"matching log lines": logged[:3]},
        run_ids=[sleeping],
    )
    probe.check(
        "native-no-corruption",
        t("the moved step keeps its own recorded result (results are keyed by step ID)"),
        run.status == "COMPLETED" and output.get("manager") == "manager-v1",
        observed={"status": run.status, "manager": output.get("manager")},
        run_ids=[sleeping],
    )
    rerun = probe.effects("setup-workspace")
    probe.check(
        "native-renamed-step-reruns",
        t("the renamed step runs again as new work: a second workspace is provisioned"),
        rerun == 1 and output.get("workspace") == "ws2-c2",
        observed={"setup-workspace executions": rerun, "workspace": output.get("workspace")},
        run_ids=[sleeping],
    )
    predicted = {p.step for p in prediction.problems}
    probe.check(
        "replay-predicts-in-flight-outcome",
        t("the replay of the in-flight run's history named the step that then ran again"),
        not prediction.ok and "setup-workspace" in predicted and rerun >= 1,
        observed={"prediction": prediction.summary(), "setup-workspace executions": rerun},
        run_ids=[sleeping],
    )
    probe.document(
        "docs-promise-a-warning",
        t("the docs say the SDK logs a warning when the step execution order changes"),
        "https://www.inngest.com/docs/learn/versioning",
    )


@breaking_change_detection.rubric
def _(ev: Evidence) -> Rating:
    pattern = _replay_pattern_rating(ev)
    if not ev.passed("native-no-corruption"):
        return Rating(
            stars=1,
            reason=t("a breaking change went unnoticed and mixed up step results"),
            drivers=["native-no-corruption"],
            pattern=pattern,
        )
    if ev.passed("native-flags-at-deploy"):
        return Rating(
            stars=4,
            reason=t("the dev server flags changed steps when the new code is synced"),
            drivers=["native-flags-at-deploy"],
            pattern=pattern,
        )
    if ev.passed("native-flags-at-run"):
        return Rating(
            stars=3,
            reason=t("a breaking change is reported in the logs when in-flight runs meet it"),
            drivers=["native-flags-at-run"],
            pattern=pattern,
        )
    return Rating(
        stars=2,
        reason=t(
            "nothing detects a breaking change: the sync accepts it, no warning is logged, and "
            "an in-flight run silently runs the renamed step again; results are keyed by step "
            "ID, so moved steps are not mixed up"
        )
        if ev.passed("native-renamed-step-reruns")
        else t(
            "nothing detects a breaking change: the sync accepts it and no warning is logged; "
            "results are keyed by step ID, so moved steps are not mixed up (the renamed step "
            "did not run again as expected: see its check)"
        ),
        drivers=[
            "native-flags-at-deploy",
            "native-flags-at-run",
            "native-renamed-step-reruns",
            "native-no-corruption",
        ],
        advice=t(
            "record the histories of representative runs as fixtures and replay them against "
            "every change in CI with python -m patterns.history_replay check, before deploying"
        ),
        pattern=pattern,
    )


def _replay_pattern_rating(ev: Evidence) -> PatternRating:
    name = t("recorded run histories replayed against new code with the SDK's mocked executor")
    drivers = ["replay-passes-compatible", "replay-names-breaking-step"]
    if not (ev.passed("replay-passes-compatible") and ev.passed("replay-names-breaking-step")):
        return PatternRating(
            module=pattern_module(replay),
            pattern=name,
            stars=2,
            reason=t("the replay check did not tell the compatible change from the breaking one"),
            drivers=drivers,
        )
    if not ev.passed("replay-predicts-in-flight-outcome"):
        return PatternRating(
            module=pattern_module(replay),
            pattern=name,
            stars=3,
            reason=t(
                "the replay check tells compatible from breaking changes, but its prediction "
                "did not match what the in-flight run did"
            ),
            drivers=[*drivers, "replay-predicts-in-flight-outcome"],
        )
    return PatternRating(
        module=pattern_module(replay),
        pattern=name,
        stars=4,
        reason=t(
            "replaying a recorded history passes compatible changes, fails breaking ones naming "
            "the step, and predicted what the dev server then did; it runs in CI without a "
            "server, but rests on the SDK's experimental mocked executor and internals"
        ),
        drivers=[*drivers, "replay-predicts-in-flight-outcome"],
    )


# ═══ VR-03 Migration strategy ══════════════════════════════════════════════════════════════════
# Upload processing moves from v1 to a rewritten v2 while uploads keep coming. v1 keeps the
# events sent before a cutover time, v2 takes the rest (trigger expressions on event.ts, as the
# docs suggest; the pattern is patterns/cutover.py). Every upload must be processed exactly once,
# no run lost, and v1 may only be retired once it has drained: the probe waits for that with a
# runs query and then retires it.


class FileUploaded(BaseModel):
    tag: str
    file_id: str
    settle_s: float = 0.0


UPLOADED = "vr03/file.uploaded"


def upload_processor_v1(cutover_ms: int | None = None) -> inngest.Function[dict[str, Any]]:
    @inngest_client.create_function(
        fn_id="vr03-process-upload",
        trigger=inngest.TriggerEvent(event=UPLOADED)
        if cutover_ms is None
        else before_cutover(UPLOADED, cutover_ms),
    )
    async def process_upload(ctx: inngest.Context) -> dict[str, Any]:
        upload = FileUploaded.model_validate(ctx.event.data)

        async def scan() -> str:
            side_effects.executed(ctx.event, f"processed:{upload.file_id}", 1)
            return "clean"

        verdict = await ctx.step.run("scan", scan)
        await ctx.step.sleep("settle", timedelta(seconds=upload.settle_s))
        await ctx.step.run("store", echo, "stored by v1")
        return {"version": 1, "verdict": verdict, "event_ts": ctx.event.ts}

    return process_upload


def upload_processor_v2(cutover_ms: int) -> inngest.Function[dict[str, Any]]:
    @inngest_client.create_function(
        fn_id="vr03-process-upload-v2",
        trigger=from_cutover(UPLOADED, cutover_ms),
    )
    async def process_upload(ctx: inngest.Context) -> dict[str, Any]:
        upload = FileUploaded.model_validate(ctx.event.data)

        async def scan_and_store() -> str:
            side_effects.executed(ctx.event, f"processed:{upload.file_id}", 2)
            return "clean"

        verdict = await ctx.step.run("scan-and-store", scan_and_store)
        return {"version": 2, "verdict": verdict, "event_ts": ctx.event.ts}

    return process_upload


@inngest_client.create_function(
    fn_id="vr03-legacy-thumbnails", trigger=inngest.TriggerEvent(event="vr03/thumbnail.requested")
)
async def legacy_thumbnails(ctx: inngest.Context) -> str:
    """A function retired in the same deploy while its runs still sleep (the hazard)."""
    await ctx.step.sleep("queue", timedelta(seconds=3))
    return await ctx.step.run("render", echo, "rendered")


def wait_until_drained(probe: Probe, slug: str, *, timeout: float, poll_s: float = 0.25) -> Drain:
    """The drain gate (patterns/cutover.py) on the dev server: the runs query lists the
    function's queued or running runs, each run's own record confirms it."""
    return drain_gate(
        lambda: runs_of(probe.api, slug),
        lambda run_id: probe.api.get_new_run(run_id).status,
        timeout=probe.bound(timeout),
        poll_s=poll_s,
        in_flight=IN_FLIGHT,
    )


class _Sender(threading.Thread):
    """Sends an upload event every ``interval`` s until stopped (uploads keep coming)."""

    def __init__(self, probe: Probe, prefix: str, interval: float = 0.15) -> None:
        super().__init__(daemon=True)
        self.probe, self.prefix, self.interval = probe, prefix, interval
        self.sent: dict[str, str] = {}  # file ID -> event ID
        self.stop = threading.Event()
        self.error: Exception | None = None

    def run(self) -> None:
        while not self.stop.is_set():
            file_id = f"{self.prefix}-{len(self.sent)}"
            try:
                self.sent[file_id] = self.probe.send(
                    "vr03/file.uploaded", {"file_id": file_id, "settle_s": 2}
                )
            except Exception as exc:  # reported by the probe
                self.error = exc
                return
            time.sleep(self.interval)


@suite.item("VR-03", functions=[upload_processor_v1(), legacy_thumbnails], timeout=60)
def migration_strategy(probe: Probe) -> None:
    v1_slug = upload_processor_v1().id
    # Uploads in flight on v1 (sleeping), and runs of a function the deploy will retire.
    sent = {
        f"early-{n}": probe.send("vr03/file.uploaded", {"file_id": f"early-{n}", "settle_s": 9})
        for n in range(3)
    }
    thumbnails = [probe.run_of(probe.send("vr03/thumbnail.requested")) for _ in range(2)]
    _wait_for_steps(probe, [probe.run_of(e) for e in sent.values()], "settle")
    _wait_for_steps(probe, thumbnails, "queue")

    sender = _Sender(probe, "steady")
    with deployment(probe.app, probe.api) as deploy:
        sender.start()
        time.sleep(0.5)
        cutover_ms = int(time.time() * 1000 + DEPLOY_SETTLE_S * 1000)
        probe.say("deploying v1 (before cutover) + v2 (from cutover) while uploads keep coming")
        deployed_at = time.monotonic()
        deploy([upload_processor_v1(cutover_ms), upload_processor_v2(cutover_ms)])
        if time.monotonic() - deployed_at > DEPLOY_SETTLE_S:
            raise RuntimeError(
                "the deploy took longer than the cutover margin; rerun on a calmer machine"
            )
        time.sleep(max(0.0, cutover_ms / 1000 - time.time()) + 1.5)
        sender.stop.set()
        sender.join(10)
        if sender.error:
            raise RuntimeError(f"sending uploads failed: {sender.error}")
        sent.update({file_id: event_id for file_id, event_id in sender.sent.items()})

        drain = wait_until_drained(probe, v1_slug, timeout=30)
        probe.say("v1 drained: retiring it")
        deploy([upload_processor_v2(cutover_ms)])
        late = {
            f"late-{n}": probe.send("vr03/file.uploaded", {"file_id": f"late-{n}"})
            for n in range(2)
        }
        sent.update(late)
        handled = _finished_runs_of(probe, sent)
        thumbnail_runs = [probe.wait(r, timeout=30) for r in thumbnails]

    per_file = {file_id: [r["function"] for r in runs] for file_id, runs in handled.items()}
    processed = {file_id: probe.effect_values(f"processed:{file_id}") for file_id in sent}
    finals = {
        r["run_id"]: probe.api.get_run(r["run_id"]) for runs in handled.values() for r in runs
    }
    run_ids = list(finals)
    probe.check(
        "each-upload-handled-once",
        t(
            "every upload, before, during and after the deploy, was processed by exactly one "
            "version"
        ),
        all(len(runs) == 1 for runs in per_file.values())
        and all(len(versions) == 1 for versions in processed.values()),
        observed={
            "uploads": len(sent),
            "not exactly one run": {f: r for f, r in per_file.items() if len(r) != 1},
            "not processed exactly once": {f: v for f, v in processed.items() if len(v) != 1},
        },
        run_ids=run_ids,
    )
    lost = {run_id: run.status for run_id, run in finals.items() if run.status != "COMPLETED"}
    probe.check(
        "no-run-lost",
        t("every upload's run completed, including v1 runs in flight across both deploys"),
        not lost,
        observed={"runs not completed": lost},
        run_ids=run_ids,
    )
    outputs = [run.output if isinstance(run.output, dict) else {} for run in finals.values()]
    misrouted = [
        o for o in outputs if (o.get("version") == 1) != (int(o.get("event_ts") or 0) < cutover_ms)
    ]
    probe.check(
        "routed-by-cutover",
        t("events sent before the cutover went to v1, later ones to v2"),
        not misrouted and len(outputs) == len(sent),
        observed={
            "v1 runs": sum(1 for o in outputs if o.get("version") == 1),
            "v2 runs": sum(1 for o in outputs if o.get("version") == 2),
            "misrouted": misrouted[:3],
        },
        run_ids=run_ids,
    )
    v1_ends = [
        finals[r["run_id"]].ended_at
        for runs in handled.values()
        for r in runs
        if r["function"] == v1_slug
    ]
    last_v1_end = max((e.timestamp() for e in v1_ends if e), default=None)
    drained_at = drain.drained_at
    probe.check(
        "runs-query-accurate",
        t("the dev server's runs query lists exactly the runs still queued or running"),
        not drain.stale and drained_at is not None,
        observed={
            "listed in flight but finished per their own record": drain.stale,
            "listed per poll (first, last)": [drain.listed[:3], drain.listed[-2:]],
        },
        run_ids=list(drain.stale),
    )
    probe.check(
        "drain-detected",
        t("the drain gate opened only once v1 had no queued or running runs left"),
        max(drain.confirmed, default=0) > 0  # it saw v1 runs in flight, then none
        and drained_at is not None
        and last_v1_end is not None
        and drained_at >= last_v1_end,
        observed={
            "confirmed in flight per poll (first, last)": [
                drain.confirmed[:3],
                drain.confirmed[-2:],
            ],
            "gate opened - last v1 run end (s)": None
            if drained_at is None or last_v1_end is None
            else round(drained_at - last_v1_end, 2),
        },
        run_ids=run_ids,
    )
    if drained_at is not None and last_v1_end is not None:
        probe.measure(
            "drain-detection-delay",
            round(drained_at - last_v1_end, 2),
            "s",
            t(
                "from the last v1 run ending (its REST ended_at) to the drain gate opening, "
                "polled every 0.25 s (1 sample)"
            ),
        )
    probe.check(
        "retired-function-keeps-runs",
        t("runs of a function removed by a deploy while they sleep still complete"),
        all(r.status == "COMPLETED" for r in thumbnail_runs),
        observed={r.id: {"status": r.status, "error": r.error} for r in thumbnail_runs},
        expected="COMPLETED; FAILED means retiring a version before it drains loses its runs",
        run_ids=thumbnails,
    )
    probe.document(
        "cutover-pattern",
        t(
            "the docs describe two functions on the same event split by event.ts trigger "
            "expressions, and removing the original once all its runs complete"
        ),
        "https://www.inngest.com/docs/learn/versioning",
    )


@migration_strategy.rubric
def _(ev: Evidence) -> Rating:
    pattern = _migration_pattern_rating(ev)
    if not (ev.passed("each-upload-handled-once") and ev.passed("routed-by-cutover")):
        return Rating(
            stars=1,
            reason=t("splitting events between versions lost or duplicated some"),
            drivers=["each-upload-handled-once", "routed-by-cutover"],
            pattern=pattern,
        )
    if not ev.passed("no-run-lost"):
        return Rating(
            stars=2,
            reason=t("runs in flight were lost while versions were switched"),
            drivers=["no-run-lost"],
            pattern=pattern,
        )
    if ev.passed("retired-function-keeps-runs"):
        return Rating(
            stars=4,
            reason=t(
                "trigger expressions split events exactly once between versions, and retiring "
                "a version does not lose its runs in flight"
            ),
            drivers=["each-upload-handled-once", "no-run-lost", "retired-function-keeps-runs"],
            pattern=pattern,
        )
    return Rating(
        stars=3,
        reason=t(
            "trigger expressions on event.ts split events exactly once and no run was lost; "
            "but nothing drains a version for you: removing a function fails its runs in "
            "flight, so retiring v1 must wait until a runs query shows it drained"
        ),
        drivers=[
            "each-upload-handled-once",
            "routed-by-cutover",
            "no-run-lost",
            "retired-function-keeps-runs",
        ],
        advice=t(
            "migrate with a cutover time in both versions' trigger expressions, and retire the "
            "old function only after a runs query shows none of its runs queued or running"
        ),
        pattern=pattern,
    )


def _migration_pattern_rating(ev: Evidence) -> PatternRating:
    name = t("event.ts cutover in both versions' triggers, retiring v1 behind a drain gate")
    drivers = ["each-upload-handled-once", "no-run-lost", "routed-by-cutover", "drain-detected"]
    if not all(ev.passed(k) for k in drivers[:3]):
        return PatternRating(
            module=pattern_module(drain_gate),
            pattern=name,
            stars=2,
            reason=t("the migration lost, duplicated or misrouted uploads"),
            drivers=drivers,
        )
    if not ev.passed("drain-detected"):
        return PatternRating(
            module=pattern_module(drain_gate),
            pattern=name,
            stars=3,
            reason=t("uploads were split exactly once, but the drain gate was wrong about v1"),
            drivers=drivers,
        )
    return PatternRating(
        module=pattern_module(drain_gate),
        pattern=name,
        stars=4,
        reason=t(
            "every upload was processed once across the switch, v1 runs finished, and the drain "
            "gate opened only after the last v1 run ended; here the gate reads the dev server's "
            "GraphQL runs query, the API its UI uses"
        )
        if ev.passed("runs-query-accurate")
        else t(
            "every upload was processed once across the switch, v1 runs finished, and the drain "
            "gate opened only after the last v1 run ended; but the dev server's GraphQL runs "
            "query (the API its UI uses) listed finished runs as still in flight, so the gate "
            "must confirm each listed run by its own record"
        ),
        drivers=[*drivers, "runs-query-accurate"],
    )


# ═══ VR-04 Schema evolution ════════════════════════════════════════════════════════════════════
# A parcel event gains a field, loses one and renames one. The handler validates payloads with
# Pydantic. Old payloads must keep working (in flight and new), and a payload the code can no
# longer read must fail in a way the user can see.


class ParcelV1(BaseModel):
    tag: str
    parcel_id: str
    weight_kg: float
    coupon: str | None = None
    pickup_s: float = 0.0


class ParcelV2(BaseModel):
    """v2: ``weight_kg`` renamed to ``weight``, ``currency`` added, ``coupon`` dropped."""

    tag: str
    parcel_id: str
    # Still accepts the old name, so payloads sent before the rename keep validating.
    weight: float = Field(validation_alias=AliasChoices("weight", "weight_kg"))
    currency: str = "EUR"  # new field: old payloads get the default
    pickup_s: float = 0.0
    # coupon: removed; Pydantic ignores fields a model does not declare


class ParcelV2Strict(BaseModel):
    """The same rename without the alias: old payloads no longer validate."""

    tag: str
    parcel_id: str
    weight: float
    currency: str = "EUR"


def _price(weight: float) -> float:
    return round(4.5 + 1.2 * weight, 2)


@inngest_client.create_function(
    fn_id="vr04-ship-parcel", trigger=inngest.TriggerEvent(event="vr04/parcel.booked")
)
async def ship_parcel_v1(ctx: inngest.Context) -> dict[str, Any]:
    parcel = ParcelV1.model_validate(ctx.event.data)
    price = await ctx.step.run("quote", echo, _price(parcel.weight_kg))
    await ctx.step.sleep("pickup-window", timedelta(seconds=parcel.pickup_s))
    label = await ctx.step.run("print-label", echo, f"{parcel.parcel_id} {parcel.weight_kg}kg")
    return {"price": price, "label": label}


@inngest_client.create_function(
    fn_id="vr04-ship-parcel", trigger=inngest.TriggerEvent(event="vr04/parcel.booked")
)
async def ship_parcel_v2(ctx: inngest.Context) -> dict[str, Any]:
    parcel = ParcelV2.model_validate(ctx.event.data)
    price = await ctx.step.run("quote", echo, _price(parcel.weight))
    await ctx.step.sleep("pickup-window", timedelta(seconds=parcel.pickup_s))
    label = await ctx.step.run("print-label", echo, f"{parcel.parcel_id} {parcel.weight}kg")
    return {"price": price, "label": label, "currency": parcel.currency}


@inngest_client.create_function(
    fn_id="vr04-ship-parcel-strict", trigger=inngest.TriggerEvent(event="vr04/parcel.strict")
)
async def ship_parcel_strict(ctx: inngest.Context) -> str:
    side_effects.executed(ctx.event, "strict-attempt")
    parcel = ParcelV2Strict.model_validate(ctx.event.data)  # a ValidationError is retried
    return await ctx.step.run("print-label", echo, f"{parcel.parcel_id} {parcel.weight}kg")


@inngest_client.create_function(
    fn_id="vr04-ship-parcel-guarded", trigger=inngest.TriggerEvent(event="vr04/parcel.guarded")
)
async def ship_parcel_guarded(ctx: inngest.Context) -> str:
    side_effects.executed(ctx.event, "guarded-attempt")
    try:
        parcel = ParcelV2Strict.model_validate(ctx.event.data)
    except ValidationError as err:
        # Retrying cannot fix a payload: fail at once, with the validation message.
        raise inngest.NonRetriableError(f"invalid parcel payload: {err}") from err
    return await ctx.step.run("print-label", echo, f"{parcel.parcel_id} {parcel.weight}kg")


OLD_PAYLOAD = {"parcel_id": "p-old", "weight_kg": 2.5, "coupon": "SPRING"}
NEW_PAYLOAD = {"parcel_id": "p-new", "weight": 1.0, "currency": "JPY"}


@suite.item("VR-04", functions=[ship_parcel_v1], timeout=50)
def schema_evolution(probe: Probe) -> None:
    old_run = probe.trigger("vr04/parcel.booked", OLD_PAYLOAD)
    sleeping = probe.run_of(probe.send("vr04/parcel.booked", {**OLD_PAYLOAD, "pickup_s": 4}))
    _wait_for_steps(probe, [sleeping], "pickup-window")
    history = record_history(probe.api, old_run.id)

    with deployment(probe.app, probe.api) as deploy:
        deploy([ship_parcel_v2, ship_parcel_strict, ship_parcel_guarded])
        in_flight = probe.wait(sleeping, timeout=30)
        old_on_new = probe.trigger("vr04/parcel.booked", OLD_PAYLOAD)
        new_on_new = probe.trigger("vr04/parcel.booked", NEW_PAYLOAD)
        strict = probe.trigger(
            "vr04/parcel.strict", OLD_PAYLOAD, timeout=30 + probe.devserver.retry_allowance(4)
        )
        guarded = probe.trigger("vr04/parcel.guarded", OLD_PAYLOAD, timeout=30)

    probe.check(
        "in-flight-old-payload-on-new-code",
        t("a run started with the old payload finishes on the new code"),
        in_flight.status == "COMPLETED"
        and in_flight.output == {"price": _price(2.5), "label": "p-old 2.5kg", "currency": "EUR"},
        observed={"status": in_flight.status, "output": in_flight.output},
        run_ids=[sleeping],
    )
    probe.check(
        "old-payload-on-new-code",
        t("an old payload (renamed field, dropped field, no new field) validates on the new code"),
        old_on_new.status == "COMPLETED"
        and isinstance(old_on_new.output, dict)
        and old_on_new.output.get("currency") == "EUR",
        observed={"status": old_on_new.status, "output": old_on_new.output},
        run_ids=[old_on_new.id],
    )
    probe.check(
        "new-payload-on-new-code",
        t("a new payload validates on the new code"),
        new_on_new.status == "COMPLETED"
        and isinstance(new_on_new.output, dict)
        and new_on_new.output.get("currency") == "JPY",
        observed={"status": new_on_new.status, "output": new_on_new.output},
        run_ids=[new_on_new.id],
    )
    error = strict.error or ""
    probe.check(
        "validation-error-visible",
        t("a payload the code cannot read fails the run, and the run's error names the field"),
        strict.status == "FAILED" and "weight" in error and "ValidationError" in str(strict.output),
        observed={"status": strict.status, "error": error[:300]},
        run_ids=[strict.id],
    )
    attempts = probe.effects("strict-attempt")
    probe.measure(
        "validation-attempts",
        attempts,
        "attempts",
        t("requests a payload validation error got before the run failed (default retries)"),
    )
    probe.check(
        "validation-fails-fast-by-default",
        t("a validation error fails the run at once instead of being retried"),
        attempts == 1,
        observed={"attempts": attempts},
        expected="1; more means the same bad payload was retried",
        run_ids=[strict.id],
    )
    probe.check(
        "non-retriable-validation",
        t("wrapping the validation error in NonRetriableError fails the run after one attempt"),
        guarded.status == "FAILED" and probe.effects("guarded-attempt") == 1,
        observed={"status": guarded.status, "attempts": probe.effects("guarded-attempt")},
        run_ids=[guarded.id],
    )
    rejected = replay(ship_parcel_strict, history.model_copy(update={"function_id": ""}))
    probe.check(
        "replay-catches-schema-break",
        t("replaying a recorded old payload against the strict model flags it before deploying"),
        any(p.kind == "event-rejected" and "weight" in p.message for p in rejected.problems),
        observed=rejected.summary(),
        run_ids=[old_run.id],
    )


@schema_evolution.rubric
def _(ev: Evidence) -> Rating:
    compatible = ["old-payload-on-new-code", "new-payload-on-new-code"]
    if not all(ev.passed(k) for k in compatible):
        return Rating(
            stars=1,
            reason=t("payloads did not validate on new code even with defaults and aliases"),
            drivers=compatible,
        )
    if not ev.passed("in-flight-old-payload-on-new-code"):
        return Rating(
            stars=2,
            reason=t("a run in flight with the old payload failed on the new code"),
            drivers=["in-flight-old-payload-on-new-code"],
        )
    if not ev.passed("validation-error-visible"):
        return Rating(
            stars=3,
            reason=t("schemas evolve, but a payload that fails validation is not clearly reported"),
            drivers=["validation-error-visible"],
        )
    drivers = [
        "in-flight-old-payload-on-new-code",
        *compatible,
        "validation-error-visible",
        "validation-fails-fast-by-default",
    ]
    if ev.passed("validation-fails-fast-by-default"):
        return Rating(
            stars=5,
            reason=t(
                "added, removed and renamed fields work with defaults and aliases, in flight too, "
                "and a payload that cannot validate fails at once with the field named"
            ),
            drivers=drivers,
        )
    guarded, replayed = (
        ev.passed("non-retriable-validation"),
        ev.passed("replay-catches-schema-break"),
    )
    # The advice recommends only the remedies that worked here.
    if guarded and replayed:
        advice = t(
            "evolve payload models additively (defaults for new fields, AliasChoices for "
            "renames), raise NonRetriableError on a ValidationError, and replay recorded events "
            "against new models before deploying"
        )
    elif guarded:
        advice = t(
            "evolve payload models additively (defaults for new fields, AliasChoices for "
            "renames) and raise NonRetriableError on a ValidationError"
        )
    elif replayed:
        advice = t(
            "evolve payload models additively (defaults for new fields, AliasChoices for "
            "renames) and replay recorded events against new models before deploying"
        )
    else:
        advice = t(
            "evolve payload models additively (defaults for new fields, AliasChoices for renames)"
        )
    return Rating(
        stars=4,
        reason=t(
            "added, removed and renamed fields work with Pydantic defaults and aliases, in "
            "flight too, and a failed validation names the field in the run's error; but it is "
            "retried like any error until retries run out"
        )
        if guarded
        else t(
            "added, removed and renamed fields work with Pydantic defaults and aliases, in "
            "flight too, and a failed validation names the field in the run's error; but it is "
            "retried like any error until retries run out, and wrapping it in "
            "NonRetriableError did not stop that"
        ),
        drivers=[*drivers, "non-retriable-validation", "replay-catches-schema-break"],
        advice=advice,
    )


if __name__ == "__main__":
    suite.main()
