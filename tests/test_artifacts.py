"""probe.artifact(): files kept with the results go next to the results file (or to the run's
temporary directory with --no-save)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness import suite as suite_module
from harness.i18n import t
from harness.probing.health import Watchdog
from harness.rating.catalog import Category
from harness.rating.evidence import Evidence, Rating
from harness.suite import Environment, Probe, Suite


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    app_dir = tmp_path / "app-workdir"

    @contextlib.contextmanager
    def environment(suite: Suite, console: Any, **_: Any) -> Iterator[Environment]:
        devserver = SimpleNamespace(
            describe=lambda: {"version": "stub"}, log_text=lambda: "", kind="dev"
        )
        app = SimpleNamespace(log_text=lambda: "", workdir=app_dir)
        watchdog = Watchdog(interval=0.05)
        yield Environment(SimpleNamespace(), app, devserver, watchdog)  # type: ignore[arg-type]

    monkeypatch.setattr(suite_module, "_environment", environment)
    return app_dir


def writing_suite(written: list[Path]) -> Suite:
    suite = Suite(__file__, Category.EX)

    def probe(probe: Probe) -> None:
        path = probe.artifact("shot.png")
        path.write_bytes(b"png")
        written.append(path)
        probe.check("wrote", t("the probe ran"), True, run_ids=["01RUN"])

    def rubric(ev: Evidence) -> Rating:
        return Rating(stars=5, reason=t("as told"), drivers=["wrote"])

    suite.item("EX-02", functions=[])(probe).rubric(rubric)
    return suite


def test_artifacts_go_next_to_the_results(tmp_path: Path, workdir: Path) -> None:
    written: list[Path] = []
    results = tmp_path / "results"
    suite_module.run(writing_suite(written), ["--results-dir", str(results)])
    assert written == [results / "shot.png"] and written[0].read_bytes() == b"png"


def test_with_no_save_artifacts_stay_in_the_temporary_directory(
    tmp_path: Path, workdir: Path
) -> None:
    written: list[Path] = []
    results = tmp_path / "results"
    suite_module.run(writing_suite(written), ["--results-dir", str(results), "--no-save"])
    assert written == [workdir / "shot.png"]
    assert not results.exists()
