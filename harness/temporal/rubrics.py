"""The Temporal comparison's pure part: rubrics, the original report's claims, and the table.

Nothing here talks to a server or imports the Temporal SDK: the probes
(:mod:`harness.temporal.probes`) record evidence, and the functions below turn it into stars
(the same 1-5 scale and the same kind of ordered conditions as the Inngest rubrics), into the
cells of the report's "Temporal and Inngest" table, and into a verdict on whether a measured cell
disagrees with what the original report's Temporal column said. All of it is unit-tested with
hand-made evidence.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.i18n import Msg, t
from harness.rating.evidence import Evidence, MissingEvidenceError, Rating
from harness.temporal.comparison import (
    DOCUMENTED_ROWS,
    Cell,
    ComparisonRow,
    OriginalClaim,
    TemporalResult,
)

# --- the items -----------------------------------------------------------------------------------
# The Temporal counterpart of each Inngest item the comparison measures, in run order.
ITEM_NAMES: dict[str, Msg] = {
    "DX-03": t("Temporal dev server: start-up and first workflow"),
    "EX-01": t("Temporal: progress after a worker is SIGKILLed mid-activity"),
    "RT-01": t("Temporal: retry policy (attempts and gaps)"),
    "RT-04": t("Temporal: heartbeat timeout detecting a dead worker"),
    "EX-06": t("Temporal: non-determinism error on replay after a code change (EX-06/VR-02)"),
    "VR-01": t("Temporal: versioning a running workflow with workflow.patched"),
    "DX-07": t("Temporal: Replayer on a history fetched from the server"),
    "SG-04": t("Temporal: query handler answer and latency"),
    "PF-01": t("Temporal: step latency of sequential activities"),
    "PF-02": t("Temporal: fan-out throughput"),
    "DX-04": t("Temporal: time skipping in tests"),
}


def rate_progress(ev: Evidence) -> Rating:
    """EX-01: does a workflow resume from its last completed activity after a worker crash?"""
    if not ev.passed("completes-after-crash"):
        return Rating(
            stars=1,
            reason=t("the workflow did not finish after its worker was killed"),
            drivers=["completes-after-crash"],
        )
    if not ev.passed("completed-activity-not-rerun"):
        return Rating(
            stars=2,
            reason=t("the workflow finished, but a completed activity ran again after the crash"),
            drivers=["completed-activity-not-rerun"],
        )
    if not (ev.passed("interrupted-activity-retried") and ev.passed("later-activities-once")):
        return Rating(
            stars=3,
            reason=t(
                "progress was kept, but the interrupted or later activities ran an unexpected "
                "number of times"
            ),
            drivers=["interrupted-activity-retried", "later-activities-once"],
        )
    return Rating(
        stars=5,
        reason=t(
            "after a SIGKILL of the worker mid-activity a new worker replayed the history and "
            "went on: completed activities were not run again, only the interrupted one"
        ),
        drivers=[
            "completes-after-crash",
            "completed-activity-not-rerun",
            "interrupted-activity-retried",
        ],
    )


def rate_retries(ev: Evidence) -> Rating:
    """RT-01: do attempts and the gaps between them follow the retry policy?"""
    if not ev.passed("recovers-after-retries"):
        return Rating(
            stars=1,
            reason=t("an activity that fails a few times did not succeed through retries"),
            drivers=["recovers-after-retries"],
        )
    if not ev.passed("attempts-as-configured"):
        return Rating(
            stars=2,
            reason=t("the number of attempts did not follow the retry policy"),
            drivers=["attempts-as-configured"],
        )
    if not ev.passed("gaps-follow-policy"):
        return Rating(
            stars=3,
            reason=t("attempts were right, but the gaps between them did not follow the policy"),
            drivers=["gaps-follow-policy"],
        )
    if not (ev.passed("exhausted-attempts-fail") and ev.passed("non-retryable-stops")):
        return Rating(
            stars=4,
            reason=t(
                "retries followed the policy, but running out of attempts or a non-retryable "
                "error did not end the activity as documented"
            ),
            drivers=["exhausted-attempts-fail", "non-retryable-stops"],
        )
    return Rating(
        stars=5,
        reason=t(
            "attempts and exponential gaps followed the retry policy; running out of attempts "
            "failed the workflow with the cause, and a non-retryable error stopped at once"
        ),
        drivers=[
            "attempts-as-configured",
            "gaps-follow-policy",
            "exhausted-attempts-fail",
            "non-retryable-stops",
        ],
    )


def rate_heartbeat(ev: Evidence) -> Rating:
    """RT-04: does a heartbeat timeout detect a dead worker sooner, and carry progress over?"""
    if not ev.passed("both-complete"):
        return Rating(
            stars=1,
            reason=t("the long activities did not complete after their worker was killed"),
            drivers=["both-complete"],
        )
    if not ev.passed("heartbeat-detects-dead-worker"):
        return Rating(
            stars=2,
            reason=t("the heartbeat timeout did not detect the dead worker within its bound"),
            drivers=["heartbeat-detects-dead-worker"],
        )
    if not ev.passed("heartbeat-faster-than-timeout"):
        return Rating(
            stars=3,
            reason=t("heartbeats did not detect the dead worker sooner than the activity timeout"),
            drivers=["heartbeat-faster-than-timeout"],
        )
    if not ev.passed("progress-carried-to-retry"):
        return Rating(
            stars=4,
            reason=t("the dead worker was detected quickly, but the retry started from scratch"),
            drivers=["progress-carried-to-retry"],
        )
    return Rating(
        stars=5,
        reason=t(
            "the heartbeat timeout detected the killed worker within seconds, far sooner than "
            "the activity timeout, and the retry resumed from the last reported progress"
        ),
        drivers=[
            "heartbeat-detects-dead-worker",
            "heartbeat-faster-than-timeout",
            "progress-carried-to-retry",
        ],
    )


def rate_nondeterminism(ev: Evidence) -> Rating:
    """EX-06/VR-02: is a breaking code change under a running workflow caught, and harmless?"""
    if ev.failed("new-code-had-no-effect"):
        return Rating(
            stars=1,
            reason=t("changed code ran its new steps against a history it does not match"),
            drivers=["new-code-had-no-effect"],
        )
    if not ev.passed("nde-detected"):
        return Rating(
            stars=2,
            reason=t("a breaking code change under a running workflow was not detected"),
            drivers=["nde-detected"],
        )
    if not ev.passed("workflow-kept-running"):
        return Rating(
            stars=3,
            reason=t("the breaking change was detected, but the workflow did not stay running"),
            drivers=["workflow-kept-running"],
        )
    if not (ev.passed("rollback-completes") and ev.passed("error-names-the-change")):
        return Rating(
            stars=4,
            reason=t(
                "the breaking change was detected and blocked, but the error did not name it or "
                "going back to the old code did not finish the workflow"
            ),
            drivers=["error-names-the-change", "rollback-completes"],
        )
    return Rating(
        stars=5,
        reason=t(
            "replaying the history through changed code failed the workflow task with a "
            "non-determinism error naming the mismatch; the workflow waited without side "
            "effects, and going back to the old code finished it"
        ),
        drivers=[
            "nde-detected",
            "error-names-the-change",
            "workflow-kept-running",
            "rollback-completes",
        ],
    )


def rate_patching(ev: Evidence) -> Rating:
    """VR-01: does workflow.patched keep running workflows on the old path?"""
    if not ev.passed("old-run-completes-on-new-code"):
        return Rating(
            stars=1,
            reason=t("a workflow started on version 1 did not finish on version 2's code"),
            drivers=["old-run-completes-on-new-code"],
        )
    if not (ev.passed("old-run-keeps-old-path") and ev.passed("no-nde-for-old-run")):
        return Rating(
            stars=2,
            reason=t("the patch did not keep the running workflow on its old path"),
            drivers=["old-run-keeps-old-path", "no-nde-for-old-run"],
        )
    if not ev.passed("new-run-takes-new-path"):
        return Rating(
            stars=3,
            reason=t("old workflows were safe, but a new workflow did not take the new path"),
            drivers=["new-run-takes-new-path"],
        )
    if not ev.passed("patch-marker-only-in-new-run"):
        return Rating(
            stars=4,
            reason=t("both paths ran as intended, but the histories did not show which one"),
            drivers=["patch-marker-only-in-new-run"],
        )
    return Rating(
        stars=5,
        reason=t(
            "behind workflow.patched a running workflow finished on the new code along the old "
            "path without a non-determinism error, and a new workflow took the new path (its "
            "history marks the patch)"
        ),
        drivers=[
            "old-run-completes-on-new-code",
            "old-run-keeps-old-path",
            "no-nde-for-old-run",
            "new-run-takes-new-path",
        ],
    )


def rate_replay(ev: Evidence) -> Rating:
    """DX-07: can a history from the server be replayed locally against code?"""
    if not ev.passed("same-code-replays"):
        return Rating(
            stars=1,
            reason=t("a history fetched from the server did not replay against its own code"),
            drivers=["same-code-replays"],
        )
    if not ev.passed("changed-code-flagged"):
        return Rating(
            stars=2,
            reason=t("the Replayer did not flag a code change that breaks the history"),
            drivers=["changed-code-flagged"],
        )
    if not (ev.passed("history-json-round-trip") and ev.passed("cli-export-replays")):
        return Rating(
            stars=4,
            reason=t(
                "replay works on a history fetched in-process, but an exported history did not"
            ),
            drivers=["history-json-round-trip", "cli-export-replays"],
        )
    if not ev.passed("patched-code-replays"):
        return Rating(
            stars=4,
            reason=t("replay flags breaking changes, but also a change made safe with a patch"),
            drivers=["patched-code-replays"],
        )
    return Rating(
        stars=5,
        reason=t(
            "a history fetched from the server and one exported with the CLI replayed locally "
            "against the same code, the Replayer flagged the breaking change and accepted the "
            "patched one"
        ),
        drivers=[
            "same-code-replays",
            "changed-code-flagged",
            "cli-export-replays",
            "patched-code-replays",
        ],
    )


def rate_query(ev: Evidence) -> Rating:
    """SG-04: does a query answer from the live state of a running workflow?"""
    if not ev.passed("answers-while-running"):
        return Rating(
            stars=1,
            reason=t("a running workflow did not answer queries"),
            drivers=["answers-while-running"],
        )
    if not ev.passed("answers-are-live"):
        return Rating(
            stars=3,
            reason=t("the workflow answered, but not from its live state"),
            drivers=["answers-are-live"],
        )
    if not ev.passed("answers-after-completion"):
        return Rating(
            stars=4,
            reason=t("live answers while running, but none once the workflow had finished"),
            drivers=["answers-after-completion"],
        )
    return Rating(
        stars=5,
        reason=t(
            "a query handler answered from the live state of the running workflow, and from "
            "its final state after it finished"
        ),
        drivers=["answers-while-running", "answers-are-live", "answers-after-completion"],
    )


def rate_time_skipping(ev: Evidence) -> Rating:
    """DX-04: can a test skip a workflow's timers, and through what?"""
    if ev.passed("test-server-v1") and ev.passed("v2-skips-timers"):
        return Rating(
            stars=5,
            reason=t("both the test server and the dev server skipped a workflow's timers"),
            drivers=["test-server-v1", "v2-skips-timers"],
        )
    if not (ev.passed("v2-skips-timers") or ev.passed("test-server-v1")):
        return Rating(
            stars=1,
            reason=t("no time skipping ran here"),
            drivers=["v2-skips-timers", "test-server-v1"],
        )
    if ev.passed("v2-skips-timers") and not ev.failed("v2-marked-experimental"):
        return Rating(
            stars=4,
            reason=t(
                "the dev server skipped a day's sleep and a week's wait in seconds, through an "
                "API the SDK marks experimental; the established test server could not run here"
            ),
            drivers=["v2-skips-timers", "v2-marked-experimental", "test-server-v1"],
        )
    return Rating(
        stars=5,
        reason=t("a workflow's timers were skipped through a stable API"),
        drivers=["v2-skips-timers", "test-server-v1", "v2-marked-experimental"],
    )


def rate_local_dev(ev: Evidence) -> Rating:
    """DX-03: one command to a working local server and a first completed workflow."""
    if not ev.passed("server-starts"):
        return Rating(
            stars=1,
            reason=t("the dev server did not start within its bound"),
            drivers=["server-starts"],
        )
    if not ev.passed("first-workflow-completes"):
        return Rating(
            stars=2,
            reason=t("the dev server started, but a first workflow did not complete"),
            drivers=["first-workflow-completes"],
        )
    if not ev.passed("ui-serves"):
        return Rating(
            stars=4,
            reason=t("server and first workflow work; the UI was not shown to answer"),
            drivers=["ui-serves"],
        )
    return Rating(
        stars=5,
        reason=t(
            "one command started a server with persistence and a UI within seconds, and a "
            "first workflow completed on it"
        ),
        drivers=["server-starts", "first-workflow-completes", "ui-serves"],
    )


RUBRICS: dict[str, Callable[[Evidence], Rating]] = {
    "DX-03": rate_local_dev,
    "EX-01": rate_progress,
    "RT-01": rate_retries,
    "RT-04": rate_heartbeat,
    "EX-06": rate_nondeterminism,
    "VR-01": rate_patching,
    "DX-07": rate_replay,
    "SG-04": rate_query,
    "DX-04": rate_time_skipping,
}  # PF-01 and PF-02 are figures, held against the Inngest figures, not stars


# --- the table -----------------------------------------------------------------------------------
ORIGINAL_STEP_MS = 4  # the original report: "~10-50ms per step vs Temporal's ~4ms"
# What the original report's "Temporal vs Inngest" table (and its step-latency note) said of
# Temporal, in this suite's words; stars where it gave stars.
ORIGINAL: dict[str, OriginalClaim] = {
    "execution-model": OriginalClaim(text=t("event sourcing and replay")),
    "determinism": OriginalClaim(text=t("strict: the whole workflow")),
    "time-skipping": OriginalClaim(stars=5, text=t("built in")),
    "heartbeat": OriginalClaim(stars=5, text=t("native")),
    "versioning": OriginalClaim(stars=5, text=t("Build ID routing")),
    "local-replay": OriginalClaim(stars=5, text=t("WorkflowReplayer")),
    "local-dev": OriginalClaim(stars=5, text=t("start-dev")),
    "step-latency": OriginalClaim(text=t("about {ms} ms per step", ms=ORIGINAL_STEP_MS)),
}
# A measured per-step latency within this factor of the original's figure agrees with it.
LATENCY_AGREEMENT_FACTOR = 2.0

NOT_MEASURED = Cell(basis="not measured", text=t("not measured in this run"))

# Rows that only a measurement can fill: figures, or aspects the original table did not have.
MEASURED_ROWS: list[ComparisonRow] = [
    ComparisonRow(
        key="retries",
        aspect=t("Retry policy"),
        inngest_items=["RT-01"],
        temporal=NOT_MEASURED,
    ),
    ComparisonRow(
        key="step-latency",
        aspect=t("Step latency"),
        inngest_items=["PF-01"],
        temporal=NOT_MEASURED,
    ),
    ComparisonRow(
        key="fan-out",
        aspect=t("Fan-out throughput"),
        inngest_items=["PF-02"],
        temporal=NOT_MEASURED,
    ),
]

# Which Temporal results stand behind each row; the first one's stars are the cell's stars.
ROW_ITEMS: dict[str, list[str]] = {
    "execution-model": ["EX-01"],
    "determinism": ["EX-06"],
    "time-skipping": ["DX-04"],
    "heartbeat": ["RT-04"],
    "versioning": ["VR-01", "EX-06"],
    "local-replay": ["DX-07"],
    "query": ["SG-04"],
    "local-dev": ["DX-03"],
    "retries": ["RT-01"],
    "step-latency": ["PF-01"],
    "fan-out": ["PF-02"],
}


def _s(value: float) -> str:
    return f"{value:.1f}"


def _ms(value: float) -> str:
    return f"{value:.1f}" if value >= 1 else f"{value:.3f}"


def _figure(key: str, ev: dict[str, Evidence]) -> Msg:
    """The text of a measured cell, with its figures; MissingEvidenceError when one is missing."""
    if key == "execution-model":
        e = ev["EX-01"]
        return t(
            "after a SIGKILL of the worker mid-activity the workflow finished {seconds} s later "
            "on a new worker: completed activities ran once, the interrupted one again "
            "(attempt {attempt}); its history holds {events} events",
            seconds=_s(e.value("crash-to-completion")),
            attempt=int(e.value("retry-attempt")),
            events=int(e.value("history-events")),
        )
    if key == "determinism":
        e = ev["EX-06"]
        return t(
            "code changed under a running workflow failed its next workflow task with a "
            "non-determinism error {seconds} s after the signal; the workflow kept running "
            "with no side effect from the new code, and the old code finished it",
            seconds=_s(e.value("signal-to-nde")),
        )
    if key == "time-skipping":
        e = ev["DX-04"]
        return t(
            "a workflow that sleeps a day and then waits a week finished in {seconds} s of wall "
            "time ({days} days of workflow time) on the dev server with per-workflow time "
            "skipping (an experimental API); the classic test server is a separate download "
            "and did not run here",
            seconds=_s(e.value("skipped-wall-time")),
            days=f"{e.value('virtual-days'):.0f}",
        )
    if key == "heartbeat":
        e = ev["RT-04"]
        return t(
            "an activity on a SIGKILLed worker was retried {detect} s after the kill with a "
            "{timeout} s heartbeat timeout (without heartbeats: {plain} s, when its "
            "start-to-close timeout ran out), resuming from row {row} of {rows}",
            detect=_s(e.value("detection-with-heartbeat")),
            timeout=_s(e.value("heartbeat-timeout")),
            plain=_s(e.value("detection-without-heartbeat")),
            row=int(e.value("resumed-from-row")),
            rows=int(e.value("rows")),
        )
    if key == "versioning":
        ev["VR-01"].get("old-run-completes-on-new-code")
        return t(
            "behind workflow.patched a workflow started on version 1 finished on version 2's "
            "code along the old path, and a new workflow took the new path; Worker Versioning "
            "(Build IDs) was not exercised here"
        )
    if key == "local-replay":
        e = ev["DX-07"]
        return t(
            "the Replayer replayed a history fetched from the server ({events} events, also "
            "exported with `temporal workflow show`) in {ms} ms and flagged the breaking change "
            "with a non-determinism error",
            events=int(e.value("history-events")),
            ms=_ms(e.value("replay-time")),
        )
    if key == "query":
        e = ev["SG-04"]
        return t(
            "a query handler answered from the live state of a running workflow: p50 {p50} ms, "
            "p95 {p95} ms over {n} queries; after it finished, {closed} ms",
            p50=_ms(e.value("query-latency-p50")),
            p95=_ms(e.value("query-latency-p95")),
            n=int(e.value("queries")),
            closed=_ms(e.value("closed-query-latency")),
        )
    if key == "local-dev":
        e = ev["DX-03"]
        return t(
            "`temporal server start-dev` (SQLite file, UI) listened {start} s after it was "
            "spawned; a first workflow completed {first} s after it was started",
            start=_s(e.value("server-start")),
            first=_s(e.value("first-workflow")),
        )
    if key == "retries":
        e = ev["RT-01"]
        return t(
            "{attempts} attempts with gaps of {gaps} s for a policy of {expected} s; running "
            "out of attempts failed the workflow, a non-retryable error stopped at once",
            attempts=int(e.value("attempts")),
            gaps=_gaps(e, "measured"),
            expected=_gaps(e, "expected"),
        )
    if key == "step-latency":
        e = ev["PF-01"]
        return t(
            "per sequential activity p50 {p50} ms (p95 {p95}, p99 {p99}; n={n}), of which "
            "p50 {overhead} ms from one step's end to the next one's start; per local activity "
            "p50 {local} ms; the same step work in-process p50 {baseline} ms",
            p50=_ms(e.value("activity-step-p50")),
            p95=_ms(e.value("activity-step-p95")),
            p99=_ms(e.value("activity-step-p99")),
            n=int(e.value("activity-step-samples")),
            overhead=_ms(e.value("step-overhead-p50")),
            local=_ms(e.value("local-step-p50")),
            baseline=_ms(e.value("in-process-step-p50")),
        )
    if key == "fan-out":
        e = ev["PF-02"]
        return t(
            "{runs} workflows of one activity: {runs_per_s} workflows/s; one workflow with "
            "{width} parallel activities: {steps_per_s} activities/s",
            runs=int(e.value("largest-run-count")),
            runs_per_s=f"{e.value('workflows-per-s-largest'):.0f}",
            width=int(e.value("largest-width")),
            steps_per_s=f"{e.value('parallel-steps-per-s-largest'):.0f}",
        )
    raise MissingEvidenceError(f"no measured cell for row {key!r}")


def _gaps(ev: Evidence, which: str) -> str:
    values = [m.value for m in ev.measurements if m.key.startswith(f"retry-gap-{which}-")]
    if not values:
        raise MissingEvidenceError(f"no retry-gap-{which}-* measurements")
    return " / ".join(f"{v:.2f}" for v in values)


def measured_cell(key: str, results: dict[str, TemporalResult]) -> Cell | None:
    """The row's cell from the Temporal results behind it; None when they were not measured."""
    ids = ROW_ITEMS.get(key, [])
    if not ids or any(
        i not in results or results[i].status != "measured" for i in ids[:1]
    ):  # the first result carries the figures and stars
        return None
    evidence = {i: results[i].evidence for i in ids if i in results}
    try:
        text = _figure(key, evidence)
    except MissingEvidenceError:
        return None
    first = results[ids[0]]  # its checks decided the cell: its rating's drivers, or every check
    keys = (
        first.rating.drivers
        if first.rating
        else [c.key for c in first.evidence.checks if c.outcome != "not run"]
    )
    checks = [f"{first.id} {k}" for k in keys]
    return Cell(
        basis="measured",
        text=text,
        checks=checks,
        stars=first.rating.stars if first.rating else None,
        items=[i for i in ids if i in results],
    )


def compare_with_original(
    row: ComparisonRow, results: dict[str, TemporalResult]
) -> tuple[bool | None, Msg | None]:
    """Whether a measured cell disagrees with the original report's Temporal column, and why."""
    original = row.original
    cell = row.temporal
    if original is None or cell.basis != "measured":
        return None, None
    if original.stars is not None and cell.stars is not None:
        if cell.stars == original.stars:
            return False, None
        return True, t(
            "measured {measured}★ where the original report gave {original}★",
            measured=cell.stars,
            original=original.stars,
        )
    if row.key == "step-latency":
        p50 = results["PF-01"].evidence.value("step-overhead-p50")
        low = ORIGINAL_STEP_MS / LATENCY_AGREEMENT_FACTOR
        high = ORIGINAL_STEP_MS * LATENCY_AGREEMENT_FACTOR
        if low <= p50 <= high:
            return False, None
        return True, t(
            "measured p50 {p50} ms of overhead per activity step where the original report "
            "said about {ms} ms (agreement: within a factor of {factor})",
            p50=_ms(p50),
            ms=ORIGINAL_STEP_MS,
            factor=f"{LATENCY_AGREEMENT_FACTOR:g}",
        )
    return None, None


def assemble(results: dict[str, TemporalResult]) -> list[ComparisonRow]:
    """Every row of the table: measured cells where the results allow, documented otherwise."""
    rows = []
    for template in [*DOCUMENTED_ROWS, *MEASURED_ROWS]:
        row = template.model_copy(deep=True)
        row.original = ORIGINAL.get(row.key)
        cell = measured_cell(row.key, results)
        if cell is not None:
            row.temporal = cell
        elif row.temporal.basis == "not measured":
            errors = [
                f"{i}: {r.error}"
                for i in ROW_ITEMS.get(row.key, [])
                if (r := results.get(i)) and r.error
            ]
            if errors:
                row.temporal = Cell(
                    basis="not measured",
                    text=t("not measured: {errors}", errors="; ".join(errors)),
                )
        row.differs, row.differs_why = compare_with_original(row, results)
        rows.append(row)
    return rows
