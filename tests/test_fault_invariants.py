"""The fault campaign's invariant checkers on synthetic histories: a clean history passes every
one, and each known violation is found by the checker meant for it (and named in data)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from harness.faults import invariants
from harness.faults.history import FaultWindow, Final, History, Send, StepRecord
from harness.faults.schedule import APP_FAULTS, SERVER_FAULTS, FaultKind, make_schedule

STEPS = ("reserve", "charge", "ship")


def _run(
    order: str, run_id: str, t0: float, *, values: dict[str, str] | None = None
) -> list[StepRecord]:
    """The step records of one clean run: each step starts, then returns its value."""
    records: list[StepRecord] = []
    previous = None
    for i, step in enumerate(STEPS):
        value = (values or {}).get(step, f"{step}-{run_id}")
        t = t0 + i
        common = {"order_key": order, "run_id": run_id, "step": step, "attempt": 0, "pid": 1}
        records.append(StepRecord(0, phase="start", t=t, seen_prev=previous, **common))
        records.append(
            StepRecord(0, phase="done", t=t + 0.5, value=value, seen_prev=previous, **common)
        )
        previous = value
    return records


def _clean() -> History:
    steps = _run("o1", "r1", 10.0) + _run("o2", "r2", 20.0)
    sends = [Send("o1", "o1-1", 9.0, True, "e1"), Send("o2", "o2-1", 19.0, True, "e2")]
    finals = [
        Final("o1", "r1", "COMPLETED", {s: f"{s}-r1" for s in STEPS}),
        Final("o2", "r2", "COMPLETED", {s: f"{s}-r2" for s in STEPS}),
    ]
    return History(steps, sends, [FaultWindow(0, "app-kill", 11.2, 11.8)], finals, STEPS)


def _violated(history: History) -> dict[str, int]:
    return {o.key: o.total_violations for o in invariants.check_all(history) if not o.holds}


def test_a_clean_history_holds_every_invariant() -> None:
    assert _violated(_clean()) == {}


def test_a_lost_run_and_a_stuck_run_are_found() -> None:
    history = _clean()
    lost = replace(history, sends=[*history.sends, Send("o3", "o3-1", 30.0, True, "e3")])
    assert _violated(lost) == {"every-run-final": 1}
    stuck = replace(
        history, finals=[history.finals[0], replace(history.finals[1], status="RUNNING")]
    )
    found = invariants.every_run_final(stuck)
    assert found.total_violations == 1 and found.violations[0]["run"] == "r2"


def test_a_failed_run_is_found_with_its_output() -> None:
    history = _clean()
    failed = replace(history.finals[1], status="FAILED", output={"error": "boom"})
    outcome = invariants.every_run_completes(replace(history, finals=[history.finals[0], failed]))
    assert outcome.violations == [
        {"order": "o2", "run": "r2", "status": "FAILED", "output": {"error": "boom"}}
    ]


def test_a_second_run_for_one_order_is_found() -> None:
    history = _clean()
    twice = replace(
        history,
        steps=history.steps + _run("o1", "r1b", 40.0),
        sends=[*history.sends, Send("o1", "o1-2", 39.0, True, "e9")],
    )
    outcome = invariants.one_run_per_order(twice)
    assert outcome.total_violations == 1
    assert outcome.violations[0]["runs"] == ["r1", "r1b"]


def test_an_earlier_step_computed_again_after_a_later_one_began_is_found() -> None:
    history = _clean()
    again = StepRecord(0, "o1", "r1", "reserve", "start", 1, 2, 12.5)
    outcome = invariants.no_recompute_after_progress(
        replace(history, steps=[*history.steps, again])
    )
    assert outcome.total_violations == 1
    assert outcome.violations[0]["step"] == "reserve" and outcome.violations[0]["after"] == "charge"


def test_a_repeat_before_progress_is_no_violation_and_is_explained_by_a_fault() -> None:
    history = _clean()
    # charge (started at 11.0) runs again at 11.9, after the app was killed at 11.2
    again = StepRecord(0, "o1", "r1", "charge", "start", 1, 2, 11.9, seen_prev="reserve-r1")
    repeated = replace(history, steps=[*history.steps, again])
    assert _violated(repeated) == {}
    figures = invariants.repeats(repeated)
    assert (figures.repeats, figures.explained, figures.unexplained) == (1, 1, [])
    unexplained = replace(repeated, faults=[])
    assert len(invariants.repeats(unexplained).unexplained) == 1


def test_a_completed_run_with_a_step_that_never_did_its_work_is_found() -> None:
    history = _clean()
    no_ship = [r for r in history.steps if not (r.run_id == "r2" and r.step == "ship")]
    outcome = invariants.at_least_once(replace(history, steps=no_ship))
    assert outcome.violations == [{"run": "r2", "steps_without_work": ["ship"]}]


def test_an_output_no_step_returned_and_a_later_step_that_saw_another_value_are_found() -> None:
    history = _clean()
    wrong = replace(history.finals[0], output={**history.finals[0].output, "charge": "charge-x"})
    outcome = invariants.outputs_agree(replace(history, finals=[wrong, history.finals[1]]))
    # the output's charge is no value charge returned, and ship saw another one
    assert outcome.total_violations == 2
    assert {v["step"] for v in outcome.violations} == {"charge", "ship"}


def test_a_run_in_flight_at_a_server_restart_that_never_completes_is_found() -> None:
    history = _clean()
    restart = FaultWindow(1, "server-kill", 20.6, 25.0)  # o2 is between its steps then
    lost = replace(
        history,
        faults=[*history.faults, restart],
        finals=[history.finals[0], replace(history.finals[1], status="RUNNING")],
    )
    outcome = invariants.nothing_lost_across_server_restarts(lost)
    assert outcome.checked == 1 and outcome.violations == [{"order": "o2", "statuses": ["RUNNING"]}]
    kept = replace(lost, finals=history.finals)
    assert invariants.nothing_lost_across_server_restarts(kept).holds


def test_recovery_is_measured_from_a_fault_s_end_to_the_next_step_record() -> None:
    assert invariants.recovery_times(_clean()) == [0.2]  # fault ends 11.8, charge done at 12.0


def test_history_round_trips_through_json_lines() -> None:
    history = _clean()
    assert History.from_jsonl(list(history.to_jsonl())) == history


@pytest.mark.parametrize("seed", [1, 7, 123])
def test_the_schedule_is_a_function_of_its_seed(seed: int) -> None:
    kinds = [*APP_FAULTS, *SERVER_FAULTS]
    first = make_schedule(seed, 300, kinds, mean_gap_s=0.6)
    assert first == make_schedule(seed, 300, kinds, mean_gap_s=0.6)
    assert first != make_schedule(seed + 1, 300, kinds, mean_gap_s=0.6)
    assert all(a.at_s + a.hold_s <= b.at_s for a, b in itertools.pairwise(first))
    assert {f.kind for f in first} == set(kinds)  # every kind is drawn over 300 s


def test_the_dev_server_schedule_has_no_server_faults() -> None:
    faults = make_schedule(5, 300, list(APP_FAULTS), mean_gap_s=0.6)
    assert faults and not {f.kind for f in faults} & {FaultKind.SERVER_KILL, FaultKind.SERVER_TERM}


def test_an_acknowledged_order_without_a_run_says_when_the_server_stopped_after_it() -> None:
    history = _clean()
    lost = replace(
        history,
        sends=[*history.sends, Send("o3", "o3-1", 30.0, True, "e3")],
        faults=[*history.faults, FaultWindow(1, "server-kill", 30.2, 31.5)],
    )
    violation = invariants.every_run_final(lost).violations[0]
    assert violation == {
        "order": "o3",
        "found": "no run",
        "acknowledged_at": 30.0,
        "next_server_fault": "server-kill",
        "seconds_after_acknowledged": 0.2,
    }
