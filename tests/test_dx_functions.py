"""DX function logic without a server: the time-skipping tests of DX-04 with the SDK's mocked
executor, the DX-07 replay on a history recorded from a real dev server run, and the data the
other DX probes rely on."""

from __future__ import annotations

import ast
import time
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import inngest
import pytest
from inngest.experimental import mocked

import serve
from conftest import ROOT
from harness.probing.codemetrics import check_types, mypy_available, program_size
from harness.probing.ledger import effect_key, side_effects
from patterns.history_replay import History, ProblemKind, replay

FIXTURE = ROOT / "tests" / "fixtures" / "dx07-refund-run.json"


@pytest.fixture(scope="module")
def dx() -> ModuleType:
    return serve.load_script(ROOT / "10_dx_developer_experience.py")


@pytest.fixture
def client() -> mocked.Inngest:
    return mocked.Inngest(
        app_id="test", is_production=False, serializer=inngest.PydanticSerializer()
    )


def trial(account: str = "acct-1") -> inngest.Event:
    return inngest.Event(name="dx04/trial.started", data={"tag": "t", "account_id": account})


def paid(account: str = "acct-1") -> inngest.Event:
    return inngest.Event(name="dx04/payment.received", data={"account_id": account})


def executions(name: str) -> int:
    return side_effects.count(effect_key("t", name))


# --- DX-04: a day's sleep and a week's wait, tested in milliseconds ------------------------------
def test_trial_activates_when_the_payment_arrives(dx, client, ledger: Path) -> None:
    started = time.perf_counter()
    result = mocked.trigger(
        dx.trial_conversion, trial(), client, step_stubs={"await-payment": paid()}
    )
    assert time.perf_counter() - started < 1.0  # the day's sleep is skipped
    assert result.status is mocked.Status.COMPLETED
    assert result.output == {"welcome": "welcome-acct-1", "outcome": "activated"}
    assert (executions("activate"), executions("downgrade")) == (1, 0)


def test_trial_downgrades_when_the_week_passes(dx, client, ledger: Path) -> None:
    result = mocked.trigger(
        dx.trial_conversion, trial(), client, step_stubs={"await-payment": mocked.Timeout}
    )
    assert result.output == {"welcome": "welcome-acct-1", "outcome": "downgraded"}
    assert (executions("activate"), executions("downgrade")) == (0, 1)


def test_a_stubbed_step_does_not_run(dx, client, ledger: Path) -> None:
    stubs = {"await-payment": paid(), "send-welcome": "from-stub"}
    result = mocked.trigger(dx.trial_conversion, trial(), client, step_stubs=stubs)
    assert result.output == {"welcome": "from-stub", "outcome": "activated"}
    assert executions("send-welcome") == 0


def test_an_unstubbed_wait_cannot_be_simulated(dx, client, ledger: Path) -> None:
    from inngest.experimental.mocked.errors import UnstubbedStepError

    with pytest.raises(UnstubbedStepError):
        mocked.trigger(dx.trial_conversion, trial(), client)


def test_durations_scale_from_configuration(dx, monkeypatch) -> None:
    monkeypatch.delenv(dx.TIME_SCALE_ENV, raising=False)
    assert dx.scaled(timedelta(days=1)) == timedelta(days=1)  # production: unchanged
    monkeypatch.setenv(dx.TIME_SCALE_ENV, str(dx.TEST_TIME_SCALE))
    assert dx.scaled(dx.TRIAL_DAY) == timedelta(seconds=1)
    assert dx.scaled(dx.PAYMENT_WINDOW) == timedelta(seconds=6)
    assert dx.scaled(timedelta(seconds=10)) == timedelta(seconds=1)  # never below a second


# --- DX-07: replaying a recorded run -------------------------------------------------------------
@pytest.fixture(scope="module")
def history() -> History:
    return History.load(FIXTURE)


def test_the_recorded_run_replays_to_its_result_without_running_steps(
    dx, history, ledger: Path
) -> None:
    report = replay(dx.refund, history)
    assert report.ok and report.completed, report.summary()
    assert report.output == history.output  # the provider's refund ID comes from history
    assert report.reached == ["load-order", "issue-refund"]
    assert executions("load-order") == executions("issue-refund") == 0


def test_a_refactoring_replays_cleanly(dx, history) -> None:
    report = replay(dx.refund_refactored, history)
    assert report.ok and report.output == history.output, report.summary()


def test_a_renamed_step_is_named(dx, history) -> None:
    report = replay(dx.refund_renamed_step, history)
    assert not report.ok
    (problem,) = report.blocking
    assert problem.kind is ProblemKind.UNRECORDED_STEP and problem.step == "create-refund"
    assert "'issue-refund'" in problem.message  # the recorded step it replaced


def test_a_new_required_field_in_a_step_output_is_named(dx, history) -> None:
    report = replay(dx.refund_new_field, history)
    assert [(p.kind, p.step) for p in report.blocking] == [
        (ProblemKind.OUTPUT_REJECTED, "load-order")
    ]
    assert "currency" in report.blocking[0].message


# --- DX-01: typing and the run-time gap ----------------------------------------------------------
def test_the_typing_probe_names_an_expected_type_per_reveal(dx) -> None:
    expected = dx._expectations(dx.TYPING_PROBE)
    assert len(expected) == dx.TYPING_PROBE.count("reveal_type(")
    ast.parse(dx.TYPING_PROBE)


@pytest.mark.skipif(not mypy_available(), reason="mypy is not installed")
def test_the_sdk_types_its_api_precisely(dx, tmp_path: Path) -> None:
    result = check_types(dx.TYPING_PROBE, tmp_path)
    assert result.errors == []
    for line, want in dx._expectations(dx.TYPING_PROBE).items():
        assert want in result.revealed[line] and "Any" not in result.revealed[line]


def test_mocked_executor_hides_the_missing_output_type(dx, client) -> None:
    """In memory the model needs no serialization, so the failure the dev server shows (DX-01,
    DX-05) does not happen here: a reason to test on a dev server too."""
    event = inngest.Event(name="x", data={"order_id": "o1"})
    for fn in (dx.receipt_with_output_type, dx.receipt_without_output_type):
        result = mocked.trigger(fn, event, client)
        assert result.output == "Receipt o1 4200"


# --- DX-02, DX-05, DX-06: the data behind the probes ---------------------------------------------
def test_the_installed_sdk_matches_the_documented_python_column(dx) -> None:
    for feature, (_ts, python, _go) in dx.DOCUMENTED_FEATURES.items():
        installed = dx.python_sdk_has(feature)
        assert installed in (None, python), feature
    assert all(dx.python_sdk_has(f) for f in dx.CORE_PRIMITIVES)


def test_failing_charge_keeps_its_exception(dx, client) -> None:
    event = inngest.Event(name="x", data={"card_last4": "4242"})
    result = mocked.trigger(dx.charge_card, event, client)
    assert result.status is mocked.Status.FAILED
    assert isinstance(result.error, dx.PaymentDeclined)


def test_each_invalid_configuration_is_its_own_app(dx) -> None:
    apps = [case.app.app_id for case in dx.CONFIG_CASES.values()]
    assert len(set(apps)) == len(apps)
    duplicate = dx.CONFIG_CASES["duplicate-id"]
    assert {fn.id for fn in duplicate.functions} == {"dx05-duplicate-id-send-invoice"}
    assert not {fn.id for case in dx.CONFIG_CASES.values() for fn in case.functions} & {
        fn.id for fn in dx.suite.functions()
    }  # never served with the suite's app


def test_the_minimal_program_is_small_and_the_edit_adds_a_function(dx) -> None:
    size = program_size(dx.MINIMAL_APP)
    assert size.lines <= dx.MINIMAL_LINES
    assert len(size.sdk_names) <= dx.MINIMAL_NAMES
    assert "goodbye" in dx.MINIMAL_APP_EDITED and "Hi," in dx.MINIMAL_APP_EDITED
    compile(dx.MINIMAL_APP_EDITED, "main.py", "exec")
