"""patterns.history_replay: recorded history in, named incompatibilities out.

Most tests replay ``fixtures/replay-checkout-v1.json``, a history recorded from a real dev server
run of ``replay_subjects.checkout_v1``, against changed code; no server is needed.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import inngest
import pytest
import replay_subjects as subjects
from inngest._internal import transforms

from common import echo, inngest_client
from conftest import ROOT
from patterns import history_replay as replay_module
from patterns.history_replay import (
    History,
    ProblemKind,
    RecordedError,
    RecordedStep,
    ReplayError,
    StepKind,
    replay,
)

FIXTURE = ROOT / "tests" / "fixtures" / "replay-checkout-v1.json"


@pytest.fixture(scope="module")
def history() -> History:
    return History.load(FIXTURE)


def kinds(report: replay_module.ReplayReport) -> list[ProblemKind]:
    return [p.kind for p in report.problems]


# --- the fixture itself ---------------------------------------------------------------------------
def test_fixture_holds_every_kind_of_step(history: History) -> None:
    assert history.function_id == subjects.checkout_v1.id
    assert history.status == "COMPLETED"
    assert [(s.id, s.kind) for s in history.steps] == [
        ("reserve-stock", StepKind.RUN),
        ("quote", StepKind.RUN),
        ("apply-coupon", StepKind.RUN),
        ("charge", StepKind.RUN),
        ("notify", StepKind.RUN),
        ("notify", StepKind.RUN),
        ("cool-off", StepKind.SLEEP),
        ("await-review", StepKind.WAIT_FOR_EVENT),
    ]
    coupon = history.steps[2]
    assert coupon.status == "FAILED" and coupon.error and coupon.error.message == "coupon expired"
    # A reused step ID is keyed "notify", then "notify:1", as the SDK hashes them.
    assert [s.hashed_id for s in history.steps[4:6]] == [
        transforms.hash_step_id("notify"),
        transforms.hash_step_id("notify:1"),
    ]
    assert history.steps[5].label == "'notify' (call 2)"
    assert history.events[0]["data"] == {"order_id": "o-1", "items": 3}


def test_save_and_load_round_trip(history: History, tmp_path: Path) -> None:
    path = history.save(tmp_path / "nested" / "h.json")
    assert History.load(path) == history
    assert json.loads(path.read_text())["steps"][0]["id"] == "reserve-stock"


@pytest.mark.parametrize(
    "content", ["not json", '{"steps": []}', '{"format": 99, "function_id": "f", "run_id": "r", '
    '"status": "COMPLETED", "events": [], "steps": []}'],
)  # fmt: skip
def test_load_rejects_what_is_not_a_history(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=r"bad\.json"):
        History.load(path)


# --- compatible code passes -----------------------------------------------------------------------
def test_the_recorded_code_replays_cleanly(history: History) -> None:
    report = replay(subjects.checkout_v1, history)
    assert report.ok and report.problems == [] and report.completed
    assert report.reached == [s.id for s in history.steps]
    assert report.output == history.output  # the same result, from recorded outputs only
    report.assert_compatible()


def test_a_compatible_change_passes_and_no_step_handler_runs(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    async def spy(*args: Any) -> str:
        calls.append("charge")
        return "live call"

    monkeypatch.setattr(subjects, "_charge_with_logging", spy)
    report = replay(subjects.checkout_compatible, history)
    assert report.ok, report.summary()
    assert calls == []  # the charge came from the history, not from the handler
    assert report.output["receipt"] == "charged 30 EUR"
    assert any("added ['version']" in note for note in report.notes)  # said, but not a failure


# --- breaking changes fail, naming the step -------------------------------------------------------
def test_renamed_step_is_named_with_the_recorded_one(history: History) -> None:
    report = replay(subjects.checkout_renamed, history)
    assert not report.ok
    (problem,) = report.problems
    assert problem.kind is ProblemKind.UNRECORDED_STEP and problem.step == "price-quote"
    assert "'quote'" in problem.message and "new work" in problem.message
    with pytest.raises(ReplayError, match="price-quote"):
        report.assert_compatible()


def test_reordered_steps_are_named(history: History) -> None:
    report = replay(subjects.checkout_reordered, history)
    assert kinds(report) == [ProblemKind.REORDERED]
    assert report.problems[0].step == "reserve-stock"
    assert "after 'quote'" in report.problems[0].message


def test_removed_call_of_a_reused_step_is_named(history: History) -> None:
    report = replay(subjects.checkout_removed, history)
    assert kinds(report) == [ProblemKind.NOT_REACHED]  # and nothing after it is "reordered"
    assert "'notify' (call 2)" in report.problems[0].message


def test_added_step_is_named(history: History) -> None:
    report = replay(subjects.checkout_added, history)
    assert kinds(report) == [ProblemKind.UNRECORDED_STEP]
    assert report.problems[0].step == "fraud-check"
    assert report.reached == ["reserve-stock", "quote"]


def test_step_appended_after_a_finished_history_is_named(history: History) -> None:
    @subjects.checkout()
    async def with_receipt(ctx: inngest.Context) -> None:
        await subjects.checkout_v1._handler(ctx)
        await ctx.step.run("send-receipt", echo, "sent")

    report = replay(with_receipt, history)
    assert kinds(report) == [ProblemKind.UNRECORDED_STEP]
    assert "after the last recorded step" in report.problems[0].message


def test_changed_output_shape_is_caught_at_the_step(history: History) -> None:
    report = replay(subjects.checkout_new_quote_shape, history)
    (problem,) = report.problems
    assert problem.kind is ProblemKind.OUTPUT_REJECTED and problem.step == "quote"
    assert "amount_cents" in problem.message and '"amount": 30' in problem.message
    assert "\n" not in problem.message


def test_code_reading_a_field_the_recording_lacks_is_caught(history: History) -> None:
    (problem,) = replay(subjects.checkout_reads_new_field, history).problems
    assert problem.kind is ProblemKind.OUTPUT_REJECTED and problem.step == "reserve-stock"
    assert "KeyError" in problem.message and "warehouse" in problem.message


def test_step_id_reused_for_another_kind_of_step(history: History) -> None:
    report = replay(subjects.checkout_sleep_became_step, history)
    assert report.problems[0].kind is ProblemKind.KIND_CHANGED
    assert "'quote' was a run step" in report.problems[0].message


def test_new_event_schema_rejects_the_recorded_event(history: History) -> None:
    (problem,) = replay(subjects.checkout_new_event_schema, history).problems
    assert problem.kind is ProblemKind.EVENT_REJECTED and problem.step is None
    assert "customer_id" in problem.message


def test_an_old_payload_can_be_tried_on_new_code(history: History) -> None:
    event = inngest.Event(
        name="replay/checkout.requested", data={"order_id": "o-1", "items": 3, "customer_id": "c"}
    )
    report = replay(subjects.checkout_new_event_schema, history, event)
    assert ProblemKind.EVENT_REJECTED not in kinds(report)


def test_allowed_kinds_are_reported_but_do_not_fail(history: History) -> None:
    report = replay(subjects.checkout_reordered, history, allow={"reordered"})
    assert report.ok and kinds(report) == [ProblemKind.REORDERED]
    assert "(allowed)" in report.summary()


def test_no_longer_catching_a_recorded_step_error_is_named() -> None:
    history = _history(
        [_step("apply-coupon", error=RecordedError(name="ValueError", message="expired"))]
    )

    @subjects.checkout()
    async def strict(ctx: inngest.Context) -> None:
        await ctx.step.run("apply-coupon", echo, None)  # the recorded error is raised here

    (problem,) = replay(strict, history).problems
    assert problem.kind is ProblemKind.OUTPUT_REJECTED and problem.step == "apply-coupon"
    assert "recorded error ValueError: expired" in problem.message


# --- hand-made histories: runs in flight, parallel steps, sync functions --------------------------
def _step(step_id: str, output: Any = None, *, call: int = 0, kind: StepKind = StepKind.RUN,
          error: RecordedError | None = None) -> RecordedStep:  # fmt: skip
    hashed = transforms.hash_step_id(step_id if call == 0 else f"{step_id}:{call}")
    status = "FAILED" if error else "COMPLETED"
    return RecordedStep(id=step_id, hashed_id=hashed, kind=kind, status=status, output=output,
                        error=error)  # fmt: skip


def _history(steps: list[RecordedStep], status: str = "COMPLETED", output: Any = None) -> History:
    return History(
        function_id=subjects.checkout_v1.id, run_id="01TEST", status=status, steps=steps,
        events=[{"name": "replay/checkout.requested", "data": {"order_id": "o", "items": 1}}],
        output=output,
    )  # fmt: skip


def test_run_in_flight_needs_only_its_prefix(history: History) -> None:
    in_flight = history.model_copy(update={"status": "RUNNING", "steps": history.steps[:3]})
    report = replay(subjects.checkout_v1, in_flight)
    assert report.ok, report.summary()
    assert report.reached == ["reserve-stock", "quote", "apply-coupon"]
    assert any("go on with step 'charge'" in note for note in report.notes)
    # A rename further on is invisible to this run, but one inside its prefix is not.
    assert replay(subjects.checkout_renamed, in_flight).problems[0].step == "price-quote"


@inngest_client.create_function(
    fn_id="replay-parallel", trigger=inngest.TriggerEvent(event="replay/parallel")
)
async def fan_out(ctx: inngest.Context) -> list[int]:
    first = await ctx.step.run("first", echo, 0)
    pair = await ctx.group.parallel(
        (lambda: ctx.step.run("left", echo, 1), lambda: ctx.step.run("right", echo, 2))
    )
    return [first, *pair]


def test_parallel_steps_may_finish_in_any_order() -> None:
    steps = [_step("first", 0), _step("right", 2), _step("left", 1)]  # right finished first
    report = replay(fan_out, _history(steps, output=[0, 1, 2]))
    assert report.ok, report.summary()
    assert report.output == [0, 1, 2]


def test_parallel_step_before_its_predecessor_is_reordered() -> None:
    steps = [_step("left", 1), _step("first", 0), _step("right", 2)]
    report = replay(fan_out, _history(steps))
    assert kinds(report) == [ProblemKind.REORDERED]


@inngest_client.create_function(fn_id="replay-sync", trigger=inngest.TriggerEvent(event="r/s"))
def sync_function(ctx: inngest.ContextSync) -> str:
    ctx.step.sleep("pause", timedelta(seconds=1))
    return str(ctx.step.run("greet", lambda: "hello"))


def test_sync_functions_replay_too() -> None:
    history = _history([_step("pause", kind=StepKind.SLEEP), _step("greet", "recorded hello")])
    report = replay(sync_function, history)
    assert report.ok and report.output == "recorded hello"


def test_history_without_an_event_is_refused() -> None:
    with pytest.raises(ValueError, match="no triggering event"):
        replay(fan_out, _history([]).model_copy(update={"events": []}))


# --- command line ---------------------------------------------------------------------------------
def test_cli_check_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    subject = ROOT / "tests" / "replay_subjects.py"
    assert replay_module.main(["check", f"{subject}:checkout_compatible", str(FIXTURE)]) == 0
    assert replay_module.main(["check", f"{subject}:checkout_renamed", str(FIXTURE)]) == 1
    assert "price-quote" in capsys.readouterr().out
    assert replay_module.main(["check", f"{subject}:no_such_function", str(FIXTURE)]) == 2
    assert replay_module.main(["check", f"{subject}:checkout_v1", str(subject)]) == 2
    assert "not a readable run history" in capsys.readouterr().err
