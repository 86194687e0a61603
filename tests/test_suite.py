"""The runner: item declaration and selection, error handling, exit codes, saving as it goes.

The dev server and app are replaced by stubs, so these run in milliseconds.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness import suite as suite_module
from harness.catalog import Category
from harness.errors import ExitCode, ProbeTimeout, SetupError
from harness.evidence import Evidence, Rating
from harness.suite import Probe, Suite


def make_suite(behaviours: dict[str, Any]) -> Suite:
    """A suite whose items behave as told: a star count to rate with, or an exception to raise."""
    suite = Suite(__file__, Category.EX)
    for item_id, behaviour in behaviours.items():

        def probe(probe: Probe, behaviour: Any = behaviour) -> None:
            if isinstance(behaviour, BaseException):
                raise behaviour
            probe.check("ran", "the probe ran", True, run_ids=["01RUN"])

        def rubric(ev: Evidence, behaviour: Any = behaviour) -> Rating:
            return Rating(stars=behaviour, reason="as told", drivers=["ran"])

        suite.item(item_id, functions=[])(probe).rubric(rubric)
    return suite


@pytest.fixture(autouse=True)
def stub_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    @contextlib.contextmanager
    def environment(suite: Suite, console: Any) -> Iterator[tuple[Any, Any, Any]]:
        devserver = SimpleNamespace(describe=lambda: {"version": "stub"}, log_text=lambda: "")
        yield SimpleNamespace(), SimpleNamespace(log_text=lambda: ""), devserver

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
    assert items["EX-03"]["error"] == "timed out: run X hung"
    assert items["EX-03"]["rating"] is None


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
