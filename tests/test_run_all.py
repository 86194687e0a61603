"""run_all.py without a dev server: selection, planning, exit codes, the command it builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import run_all
from harness.errors import ExitCode
from harness.servers.devserver import Located

ITEMS = {
    "EX": ["EX-01", "EX-02"],
    "RT": ["RT-01", "RT-02"],
    "PF": ["PF-01"],
}


def scripts() -> list[run_all.Script]:
    made = []
    for number, (category, ids) in enumerate(ITEMS.items(), start=1):
        items = [{"id": i, "name": i, "timeout_s": 60.0} for i in ids]
        made.append(
            run_all.Script(
                Path(f"0{number}_{category.lower()}.py"), category, category == "PF", items
            )
        )
    return made


def test_everything_is_planned_by_default() -> None:
    chosen = run_all.plan(scripts(), [], [])
    assert [s.selected for s in chosen] == list(ITEMS.values())


def test_categories_and_items_select_together() -> None:
    chosen = run_all.plan(scripts(), ["RT"], ["EX-02"])
    assert {s.category: s.selected for s in chosen} == {"EX": ["EX-02"], "RT": ["RT-01", "RT-02"]}


def test_an_item_filter_alone_selects_only_those_items() -> None:
    chosen = run_all.plan(scripts(), [], ["pf-01", "RT-02"])
    assert {s.category: s.selected for s in chosen} == {"RT": ["RT-02"], "PF": ["PF-01"]}


def test_expected_durations_come_from_earlier_results_or_budgets(tmp_path: Path) -> None:
    script = scripts()[0]
    (tmp_path / "01_ex.json").write_text(
        json.dumps({"items": {"EX-01": {"duration_s": 10.0}, "EX-09": {"duration_s": 1}}})
    )
    assert run_all.expected_durations(script, tmp_path) == {"EX-01": 14.0, "EX-02": 60.0}


def test_remaining_time_counts_what_is_left() -> None:
    script = scripts()[1]
    script.selected = ["RT-01", "RT-02"]
    script.expected_s = {"RT-01": 30.0, "RT-02": 50.0}
    assert script.remaining_s(now=0) == 80
    script.done["RT-01"] = {}
    script.current, script.current_started = "RT-02", 100.0
    assert script.remaining_s(now=120.0) == 30
    script.ended = 130.0
    assert script.remaining_s(now=130.0) == 0


def test_the_worst_exit_code_wins() -> None:
    made = scripts()
    for script, code, outcome in zip(
        made, (0, 3, 1), ("ok", "item errors", "fail-close"), strict=True
    ):
        script.exit_code, script.outcome = code, outcome
    assert run_all.worst_exit(made, interrupted=False) == ExitCode.ITEM_ERROR
    made[0].outcome = "hung"
    assert run_all.worst_exit(made, interrupted=False) == ExitCode.CANNOT_RUN
    assert run_all.worst_exit(made, interrupted=True) == ExitCode.INTERRUPTED


def test_the_command_passes_items_and_prerequisites(tmp_path: Path) -> None:
    args = run_all.parse_args(["--item", "EX-02", "--duration", "seconds"])
    args.results_dir = tmp_path
    script = run_all.plan(scripts(), [], ["EX-02"])[0]
    command = run_all.Runner([script], args, tmp_path, console=None).command(script)  # type: ignore[arg-type]
    assert command[command.index("--item") + 1] == "EX-02"
    assert command[command.index("--duration") + 1] == "seconds"
    assert command[command.index("--results-dir") + 1] == str(tmp_path)


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--category", "XX"], "unknown category XX"), (["--item", "EX-99"], "unknown item ID")],
)
def test_bad_selections_are_usage_errors(argv: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        run_all.parse_args(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_jobs_default_to_one_against_an_external_dev_server(monkeypatch) -> None:
    monkeypatch.setenv("INNGEST_DEV_SERVER_URL", "http://127.0.0.1:8288")
    assert run_all.parse_args([]).jobs == 1
    monkeypatch.delenv("INNGEST_DEV_SERVER_URL")
    assert run_all.parse_args([]).jobs > 1


def test_every_real_script_lists_itself_as_json() -> None:
    listed = run_all.list_script(run_all.ROOT / "01_ex_execution_semantics.py")
    assert listed.category == "EX" and [i["id"] for i in listed.items][:2] == ["EX-01", "EX-02"]
    assert listed.runs_alone is False


def test_a_script_that_cannot_list_itself_is_named_and_skipped(tmp_path: Path) -> None:
    from rich.console import Console

    broken = tmp_path / "12_broken.py"
    broken.write_text("raise ImportError('a missing dependency')\n")
    console = Console(record=True, width=200)
    scripts, names = run_all.list_scripts(
        [run_all.ROOT / "01_ex_execution_semantics.py", broken], console
    )
    assert [s.category for s in scripts] == ["EX"] and names == ["12_broken.py"]
    assert "a missing dependency" in console.export_text()


def test_a_whole_run_ends_with_the_temporal_comparison_alone(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(run_all.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr("harness.temporal.server.find_binary", lambda: "/opt/temporal")
    script, why_not = run_all.temporal_comparison(tmp_path)
    assert why_not is None
    assert script is not None and script.runs_alone and script.path.name == "compare_temporal.py"
    assert script.command and str(tmp_path) in script.command
    assert script.budget_s > run_all.TEMPORAL_BUDGET_S


def test_a_temporal_comparison_that_cannot_run_says_why(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(run_all.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr("harness.temporal.server.find_binary", lambda: None)
    script, why_not = run_all.temporal_comparison(tmp_path)
    assert script is None and why_not and "temporal CLI" in why_not
    monkeypatch.setattr(run_all.importlib.util, "find_spec", lambda name: None)
    script, why_not = run_all.temporal_comparison(tmp_path)
    assert script is None and why_not and "temporal extra" in why_not


# --- before anything starts ------------------------------------------------------------------
def hide_every_dev_server(monkeypatch, tmp_path: Path) -> None:
    """A machine with no dev server: no URL, no binary, an npx that cannot install the CLI."""
    for variable in ("INNGEST_DEV_SERVER_URL", "INNGEST_DEV_SERVER_BIN", "INNGEST_SUITE_SERVER"):
        monkeypatch.delenv(variable, raising=False)
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "npx").write_text("#!/bin/sh\nexit 1\n")
    (bare / "npx").chmod(0o755)
    monkeypatch.setenv("PATH", str(bare))


def test_no_dev_server_stops_the_run_before_anything_starts(tmp_path: Path, monkeypatch) -> None:
    hide_every_dev_server(monkeypatch, tmp_path)
    results = tmp_path / "results"
    results.mkdir()
    (results / "run.json").write_text("{}")
    listed: list[object] = []
    monkeypatch.setattr(run_all, "list_scripts", lambda *a: listed.append(a) or ([], []))
    code = run_all.main(["--results-dir", str(results), "--no-report"])
    assert code == ExitCode.CANNOT_RUN
    assert listed == [], "no script may be listed or started without a dev server"
    assert (results / "run.json").read_text() == "{}"


def test_a_found_binary_is_handed_to_every_script(tmp_path: Path, monkeypatch) -> None:
    hide_every_dev_server(monkeypatch, tmp_path)
    binary = tmp_path / "bin" / "inngest"
    binary.write_text("#!/bin/sh\nexit 0\n")
    binary.chmod(0o755)
    console = run_all.Console(record=True, width=200)
    assert run_all.locate_server(console) == {
        "INNGEST_DEV_SERVER_BIN": str(binary),
        "INNGEST_SUITE_SERVER": "dev",
    }
    assert run_all.locate_server(console, "self-hosted")["INNGEST_SUITE_SERVER"] == "self-hosted"


def test_a_self_hosted_run_needs_a_binary_not_a_url(tmp_path: Path, monkeypatch) -> None:
    hide_every_dev_server(monkeypatch, tmp_path)
    monkeypatch.setattr(
        run_all, "locate", lambda log: Located("url", url="http://127.0.0.1:1", info={})
    )
    with pytest.raises(run_all.SetupError, match="INNGEST_DEV_SERVER_BIN"):
        run_all.locate_server(run_all.Console(record=True), "self-hosted")


def test_the_server_comes_from_the_option_else_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("INNGEST_SUITE_SERVER", raising=False)
    assert run_all.parse_args([]).server == "dev"
    assert run_all.parse_args(["--server", "self-hosted"]).server == "self-hosted"
    monkeypatch.setenv("INNGEST_SUITE_SERVER", "self-hosted")
    assert run_all.parse_args([]).server == "self-hosted"


def test_self_hosted_results_go_beside_the_dev_servers_in_a_folder_of_their_own(
    tmp_path: Path,
) -> None:
    assert run_all.results_dir_for(tmp_path, "dev") == tmp_path
    assert run_all.results_dir_for(tmp_path, "self-hosted") == tmp_path / "self-hosted"


def test_what_the_machine_lacks_is_said_once_with_the_items(monkeypatch) -> None:
    made = scripts()
    made[0].items[1]["needs"] = ["PostgreSQL", "Redis"]
    made[1].items[0]["needs"] = ["Chromium"]
    for script in made:
        script.selected = [i["id"] for i in script.items]
    monkeypatch.setattr(run_all, "missing_needs", lambda wanted: [run_all.Need.POSTGRESQL])
    console = run_all.Console(record=True, width=200)
    assert run_all.announce_missing(made, console) == ["EX-02"]
    text = console.export_text()
    assert text.count("not on this machine") == 1
    assert "PostgreSQL (apt-get install -y postgresql)" in text and "EX-02" in text


# --- the closing table ---------------------------------------------------------------------
def test_the_closing_table_tells_rated_now_from_kept(tmp_path: Path) -> None:
    script = scripts()[0]  # EX-01, EX-02
    script.selected = ["EX-01", "EX-02"]
    script.done = {"EX-01": {"stars": 4}, "EX-02": {"stars": None}}
    saved = {
        "items": {
            "EX-01": {"rating": {"stars": 4}, "started_at": "2026-12-04T10:00:00Z"},
            "EX-02": {"rating": {"stars": 2}, "started_at": "2026-11-30T09:00:00Z"},
        }
    }
    (tmp_path / f"{script.path.stem}.json").write_text(json.dumps(saved))
    counts = run_all.tally(script, tmp_path)
    assert (counts.rated, counts.good, counts.unmeasured) == (1, 1, 0)
    assert counts.kept_text() == "1 from 2026-11-30"


def test_a_script_that_never_ran_shows_only_kept_or_unrated(tmp_path: Path) -> None:
    script = scripts()[1]  # RT-01, RT-02; no progress events at all
    script.selected = ["RT-01", "RT-02"]
    saved = {"items": {"RT-01": {"rating": {"stars": 5}, "started_at": "2026-12-01T00:00:00Z"}}}
    (tmp_path / f"{script.path.stem}.json").write_text(json.dumps(saved))
    counts = run_all.tally(script, tmp_path)
    assert counts.rated == 0 and counts.unmeasured == 1
    assert counts.kept_text() == "1 from 2026-12-01"


def test_an_item_not_applicable_on_the_server_is_counted_apart(tmp_path: Path) -> None:
    script = scripts()[0]  # EX-01, EX-02
    script.selected = ["EX-01", "EX-02"]
    script.done = {"EX-01": {"stars": 4}, "EX-02": {"stars": None, "status": "not applicable"}}
    counts = run_all.tally(script, tmp_path)
    assert (counts.rated, counts.unmeasured, counts.not_applicable) == (1, 0, 1)
    console = run_all.Console(record=True, width=200)
    run_all.Runner([script], run_all.parse_args([]), tmp_path, console).item_finished(
        script, {"item": "EX-02", "stars": None, "status": "not applicable", "duration_s": 0.0}
    )
    assert "EX-02 Side Effect Guarantee not applicable on this server" in console.export_text()
