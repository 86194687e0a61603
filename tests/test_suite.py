"""The runner: item declaration and selection, error handling, exit codes, saving as it goes.

The dev server and app are replaced by stubs, so these run in milliseconds.
"""

from __future__ import annotations

import contextlib
import errno
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness import suite as suite_module
from harness.errors import ExitCode, ProbeTimeout, SetupError
from harness.i18n import t
from harness.probing.health import Failure, Watchdog, Watched
from harness.rating import results as results_module
from harness.rating.catalog import Category
from harness.rating.evidence import Evidence, Rating
from harness.suite import Environment, Probe, Suite


def make_suite(behaviours: dict[str, Any]) -> Suite:
    """A suite whose items behave as told: a star count to rate with, an exception to raise,
    or a callable to run first (then rated 5)."""
    suite = Suite(__file__, Category.EX)
    for item_id, behaviour in behaviours.items():

        def probe(probe: Probe, behaviour: Any = behaviour) -> None:
            if isinstance(behaviour, BaseException):
                raise behaviour
            if callable(behaviour):
                behaviour()
            probe.check("ran", t("the probe ran"), True, run_ids=["01RUN"])

        def rubric(ev: Evidence, behaviour: Any = behaviour) -> Rating:
            stars = 5 if callable(behaviour) else behaviour
            return Rating(stars=stars, reason=t("as told"), drivers=["ran"])

        suite.item(item_id, functions=[])(probe).rubric(rubric)
    return suite


class Health:
    """What the stub environment's watchdog sees; a test can make a component die."""

    def __init__(self) -> None:
        self.failure: Failure | None = None

    def watched(self) -> Watched:
        return Watched("dev server", lambda: self.failure)


@pytest.fixture
def health() -> Health:
    return Health()


@pytest.fixture(autouse=True)
def stub_environment(monkeypatch: pytest.MonkeyPatch, health: Health) -> None:
    @contextlib.contextmanager
    def environment(suite: Suite, console: Any, **_: Any) -> Iterator[Environment]:
        devserver = SimpleNamespace(
            describe=lambda: {"version": "stub"}, log_text=lambda: "", kind="dev"
        )
        app = SimpleNamespace(log_text=lambda: "")
        watchdog = Watchdog(health.watched(), interval=0.05)
        yield Environment(SimpleNamespace(), app, devserver, watchdog)  # type: ignore[arg-type]

    monkeypatch.setattr(suite_module, "_environment", environment)


def run(suite: Suite, tmp_path: Path, *args: str) -> int:
    return suite_module.run(suite, ["--results-dir", str(tmp_path), *args])


def saved(tmp_path: Path) -> dict[str, Any]:
    return json.loads((tmp_path / f"{Path(__file__).stem}.json").read_text())


def test_all_rated_and_fail_close_good_exits_0(tmp_path: Path) -> None:
    assert run(make_suite({"EX-01": 5, "EX-02": 2}), tmp_path) == ExitCode.OK
    items = saved(tmp_path)["items"]
    assert [items[i]["rating"]["stars"] for i in ("EX-01", "EX-02")] == [5, 2]


def test_fail_close_item_below_three_stars_exits_1(tmp_path: Path) -> None:
    assert run(make_suite({"EX-01": 2}), tmp_path) == ExitCode.FAIL_CLOSE
    assert saved(tmp_path)["summary"]["fail_close_passed"] is False


def test_probe_errors_are_recorded_without_a_rating_and_exit_3(tmp_path: Path) -> None:
    suite = make_suite(
        {"EX-01": 5, "EX-02": RuntimeError("probe broke"), "EX-03": ProbeTimeout("run X hung")}
    )
    assert run(suite, tmp_path) == ExitCode.ITEM_ERROR
    items = saved(tmp_path)["items"]
    assert items["EX-01"]["status"] == "rated"
    assert items["EX-02"]["status"] == "error" and "probe broke" in items["EX-02"]["error"]
    assert "\n" not in items["EX-02"]["error"]  # one line; the traceback is kept apart
    assert "Traceback" in items["EX-02"]["traceback"]
    assert items["EX-03"]["error"] == "timed out: run X hung"
    assert items["EX-03"]["rating"] is None


def test_the_terminal_shows_one_line_per_error_and_the_traceback_only_when_verbose(
    tmp_path: Path, capsys
) -> None:
    run(make_suite({"EX-02": RuntimeError("probe broke")}), tmp_path)
    assert "Traceback" not in capsys.readouterr().err
    run(make_suite({"EX-02": RuntimeError("probe broke")}), tmp_path, "--verbose")
    assert "Traceback" in capsys.readouterr().err


def test_an_errored_fail_close_item_is_unmeasured_not_failed(tmp_path: Path, capsys) -> None:
    assert run(make_suite({"EX-01": RuntimeError("broke")}), tmp_path) == ExitCode.ITEM_ERROR
    summary = saved(tmp_path)["summary"]
    assert summary["fail_close"] == {}
    assert summary["fail_close_unmeasured"] == ["EX-01"]
    out = capsys.readouterr().out
    assert "not measured" in out and "FAIL" not in out


def test_a_rerun_that_cannot_measure_keeps_the_earlier_rating(tmp_path: Path, capsys) -> None:
    run(make_suite({"EX-01": 5}), tmp_path)
    first_session = saved(tmp_path)["items"]["EX-01"]["session"]
    assert run(make_suite({"EX-01": RuntimeError("broke")}), tmp_path) == ExitCode.ITEM_ERROR
    item = saved(tmp_path)["items"]["EX-01"]
    assert item["rating"]["stars"] == 5 and item["session"] == first_session
    assert item["not_remeasured"]["status"] == "error"
    assert "broke" in item["not_remeasured"]["error"]
    assert item["not_remeasured"]["session"] in saved(tmp_path)["sessions"]
    assert "not re-measured" in capsys.readouterr().err


def test_a_dead_dev_server_ends_the_run_at_once_with_one_message(
    tmp_path: Path, capsys, health: Health
) -> None:
    def die_then_wait() -> None:
        health.failure = Failure("dev server", "the dev server exited", -9, "last words")
        time.sleep(30)  # a long wait inside a probe: the watchdog must interrupt it

    run(make_suite({"EX-01": 5}), tmp_path)  # an earlier measurement of EX-01
    suite = make_suite({"EX-01": 4, "EX-02": die_then_wait, "EX-03": 5})
    clock = time.monotonic()
    assert run(suite, tmp_path) == ExitCode.CANNOT_RUN
    assert time.monotonic() - clock < 5
    err = capsys.readouterr().err
    assert err.count("the dev server exited") == 1 and "during EX-02" in err
    assert "exit code -9" in err and "last words" in err and "Traceback" not in err
    items = saved(tmp_path)["items"]
    assert items["EX-01"]["rating"]["stars"] == 4 and items["EX-01"]["status"] == "rated"
    assert items["EX-02"]["status"] == "not run"
    assert items["EX-02"]["error"] == "not run: the dev server failed during EX-02"
    assert items["EX-03"]["status"] == "not run" and items["EX-03"]["rating"] is None


def test_a_dead_dev_server_never_overwrites_an_earlier_rating(tmp_path: Path, health) -> None:
    run(make_suite({"EX-03": 5}), tmp_path)

    def die() -> None:
        health.failure = Failure("dev server", "the dev server exited", 1, "")
        time.sleep(30)

    assert run(make_suite({"EX-02": die, "EX-03": 5}), tmp_path) == ExitCode.CANNOT_RUN
    item = saved(tmp_path)["items"]["EX-03"]
    assert item["rating"]["stars"] == 5 and item["status"] == "rated"
    assert item["not_remeasured"]["status"] == "not run"


def test_an_exception_caused_by_a_dead_server_is_reported_as_the_server(
    tmp_path: Path, health
) -> None:
    def die_and_fail() -> None:
        health.failure = Failure("dev server", "the dev server exited", 1, "")
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    assert run(make_suite({"EX-02": die_and_fail}), tmp_path) == ExitCode.CANNOT_RUN
    assert saved(tmp_path)["items"]["EX-02"]["status"] == "not run"


def test_setup_error_mid_run_keeps_what_was_measured(tmp_path: Path) -> None:
    suite = make_suite({"EX-01": 5, "EX-02": SetupError("dev server vanished"), "EX-03": 5})
    assert run(suite, tmp_path) == ExitCode.CANNOT_RUN
    assert list(saved(tmp_path)["items"]) == ["EX-01"]


def test_item_filter_runs_only_the_named_items(tmp_path: Path, capsys) -> None:
    suite = make_suite({"EX-01": 5, "EX-02": 4, "EX-03": 3})
    assert run(suite, tmp_path, "--item", "ex-03,EX-01", "--json") == ExitCode.OK
    printed = json.loads(capsys.readouterr().out)
    assert sorted(printed["items"]) == ["EX-01", "EX-03"]


@pytest.mark.parametrize(
    ("item", "message"),
    [("EX-99", "unknown item ID"), ("RT-01", "02_rt_retry_timeout.py"), ("EX-05", "not here")],
)
def test_bad_item_filters_exit_2(tmp_path: Path, capsys, item: str, message: str) -> None:
    assert run(make_suite({"EX-01": 5}), tmp_path, "--item", item) == ExitCode.CANNOT_RUN
    assert message in capsys.readouterr().err
    assert not (tmp_path / f"{Path(__file__).stem}.json").exists()


def test_no_save_writes_nothing(tmp_path: Path) -> None:
    assert run(make_suite({"EX-01": 5}), tmp_path, "--no-save") == ExitCode.OK
    assert list(tmp_path.iterdir()) == []


def test_declaring_an_item_of_another_category_is_refused() -> None:
    with pytest.raises(ValueError, match="not in category EX"):
        Suite(__file__, Category.EX).item("RT-01", functions=[])


def test_an_item_without_a_rubric_cannot_be_rated() -> None:
    item = Suite(__file__, Category.EX).item("EX-01", functions=[])(lambda probe: None)
    with pytest.raises(NotImplementedError):
        item.rate(Evidence())


def test_functions_are_served_once_even_when_items_share_them() -> None:
    suite = Suite(__file__, Category.EX)
    shared, other = object(), object()
    suite.item("EX-01", functions=[shared])(lambda probe: None)
    suite.item("EX-02", functions=[shared, other])(lambda probe: None)
    assert suite.functions() == [shared, other]


# --- nothing measured is lost when the results folder fails mid-run ---------------------------
@pytest.fixture
def temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system's temporary folder, as far as fallback files are concerned."""
    folder = tmp_path / "system-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def fallback_items(temp_folder: Path) -> dict[str, Any]:
    (fallback,) = temp_folder.glob(f"{Path(__file__).stem}-unsaved-*.json")
    items: dict[str, Any] = json.loads(fallback.read_text())["items"]
    return items


def test_a_results_folder_that_becomes_unwritable_mid_run_loses_nothing(
    tmp_path: Path, temp_folder: Path, capsys
) -> None:
    results = tmp_path / "results"

    def replace_the_folder_with_a_file() -> None:
        shutil.rmtree(results)
        results.write_text("in the way\n")

    suite = make_suite({"EX-01": 5, "EX-02": replace_the_folder_with_a_file, "EX-03": 5})
    assert run(suite, results) == ExitCode.CANNOT_RUN  # not 1 or 3: nothing about Inngest
    err = capsys.readouterr().err
    (fallback,) = temp_folder.glob("*")
    assert f"cannot write {results}" in err and str(fallback) in err
    assert "is no longer a directory" in err
    assert "not measured: EX-03" in err and "Traceback" not in err
    items = fallback_items(temp_folder)
    assert [items[i]["rating"]["stars"] for i in ("EX-01", "EX-02")] == [5, 5]
    assert "EX-03" not in items


def test_a_full_disk_mid_run_saves_to_the_temp_folder(
    tmp_path: Path, temp_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    writes: list[Path] = []

    def full_after_the_first(path: Path, text: str) -> None:
        writes.append(path)
        if len(writes) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        original(path, text)

    original = results_module.write_atomically
    monkeypatch.setattr(results_module, "write_atomically", full_after_the_first)
    assert run(make_suite({"EX-01": 5, "EX-02": 1}), tmp_path) == ExitCode.CANNOT_RUN
    assert "No space left on device" in capsys.readouterr().err
    assert list(saved(tmp_path)["items"]) == ["EX-01"]  # the last good save stays
    assert fallback_items(temp_folder)["EX-02"]["rating"]["stars"] == 1


def test_when_even_the_temp_folder_fails_the_results_go_to_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-folder"))
    results = tmp_path / "results"
    suite = make_suite({"EX-01": 4})
    monkeypatch.setattr(
        results_module, "write_atomically", lambda path, text: _raise(OSError(errno.EROFS, "ro"))
    )
    assert run(suite, results) == ExitCode.CANNOT_RUN
    captured = capsys.readouterr()
    assert "printed on stdout" in captured.err
    assert json.loads(captured.out)["items"]["EX-01"]["rating"]["stars"] == 4


def test_a_lost_progress_file_costs_no_measurement(tmp_path: Path, capsys) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()

    def remove_the_logs() -> None:
        shutil.rmtree(logs)

    suite = make_suite({"EX-01": remove_the_logs, "EX-02": 5})
    progress = str(logs / "events.jsonl")
    assert run(suite, tmp_path, "--progress", progress) == ExitCode.OK
    assert "progress events stop" in capsys.readouterr().err
    assert sorted(saved(tmp_path)["items"]) == ["EX-01", "EX-02"]


def _raise(exc: BaseException) -> None:
    raise exc


def _not_applicable_here() -> None:
    raise suite_module.NotApplicable(t("checks the dev server's own CLI"))


def test_an_item_that_cannot_apply_is_not_applicable_with_its_reason_and_exits_0(
    tmp_path: Path, capsys
) -> None:
    suite = make_suite({"EX-01": 5, "EX-02": _not_applicable_here})
    assert run(suite, tmp_path) == ExitCode.OK  # an answer, not an error
    document = saved(tmp_path)
    item = document["items"]["EX-02"]
    assert item["status"] == "not applicable" and item["rating"] is None
    assert item["not_applicable"]["id"] == "checks the dev server's own CLI"
    assert "not_applicable" not in document["items"]["EX-01"]  # absent when it applies
    assert document["summary"]["not_applicable"] == ["EX-02"]
    assert document["summary"]["rated"] == 1 and document["summary"]["errors"] == 0
    assert "not applicable" in capsys.readouterr().err


def test_a_not_applicable_fail_close_item_is_neither_failed_nor_unmeasured(
    tmp_path: Path,
) -> None:
    assert run(make_suite({"EX-01": _not_applicable_here}), tmp_path) == ExitCode.OK
    summary = saved(tmp_path)["summary"]
    assert summary["fail_close"] == {} and summary["fail_close_unmeasured"] == []


def test_not_applicable_replaces_an_earlier_rating_instead_of_keeping_it(tmp_path: Path) -> None:
    run(make_suite({"EX-02": 5}), tmp_path)
    run(make_suite({"EX-02": _not_applicable_here}), tmp_path)
    item = saved(tmp_path)["items"]["EX-02"]
    assert item["status"] == "not applicable" and item["rating"] is None
    assert "not_remeasured" not in item or item["not_remeasured"] is None


def test_a_run_against_the_self_hosted_server_saves_in_a_folder_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INNGEST_SUITE_SERVER", "self-hosted")
    assert run(make_suite({"EX-02": 4}), tmp_path) == ExitCode.OK
    assert not (tmp_path / f"{Path(__file__).stem}.json").exists()
    kept = json.loads((tmp_path / "self-hosted" / f"{Path(__file__).stem}.json").read_text())
    assert kept["items"]["EX-02"]["rating"]["stars"] == 4


def test_an_item_may_have_a_longer_budget_against_the_self_hosted_server() -> None:
    suite = make_suite({"EX-01": 5})
    item = suite.item("EX-02", functions=[], timeout=60, self_hosted_timeout=120)(lambda p: None)
    assert item.budget_on("dev") == 60 and item.budget_on("self-hosted") == 120
    assert suite.items["EX-01"].budget_on("self-hosted") == suite.items["EX-01"].timeout
    listed = {i["id"]: i for i in suite.describe()["items"]}
    assert (listed["EX-02"]["timeout_s"], listed["EX-02"]["timeout_self_hosted_s"]) == (60, 120)
