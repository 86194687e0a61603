"""Declaring items and running a category script.

A category script reads as a list of items::

    suite = Suite(__file__, Category.EX)

    @suite.item("EX-01", functions=[progress_workflow])
    def progress_guarantee(probe: Probe) -> None:
        ...                                    # drive real runs, record checks

    @progress_guarantee.rubric
    def _(evidence: Evidence) -> Rating:       # evidence in, stars out
        ...

    if __name__ == "__main__":
        suite.main()

Everything else (dev server, app, sync, waiting, saving, printing) happens here.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, get_args

import inngest
from rich.console import Console

from harness.errors import ExitCode, ProbeTimeout, SetupError
from harness.host import ports, validate
from harness.host.ports import free_port
from harness.i18n import Msg
from harness.probing import flow
from harness.probing.app import AppHost
from harness.probing.health import InfrastructureFailure, Watchdog, app_watch, devserver_watch
from harness.probing.ledger import Ledger, effect_key, side_effects
from harness.probing.preflight import run_preflight
from harness.rating import output
from harness.rating.catalog import CatalogItem, Category, Prerequisites, lookup
from harness.rating.evidence import (
    Evidence,
    ItemResult,
    ItemStatus,
    NotApplicable,
    Rating,
    SourceRef,
    utcnow,
)
from harness.rating.needs import Need
from harness.rating.results import ResultsFile, ResultsNotSaved, Session, load, results_dir_for
from harness.rating.results import save as save_results
from harness.servers import devserver as devserver_module
from harness.servers import selfhosted
from harness.servers.api import RUN_APPEARS_WITHIN_S, DevServerAPI, Run
from harness.servers.devserver import DevServer, discover, fetch_info
from harness.servers.selfhosted import (
    DEV,
    SELF_HOSTED,
    SERVER_ENV,
    SERVER_KINDS,
    SelfHostedError,
    SelfHostedPool,
    SelfHostedServer,
    launch,
    server_kind,
)

ProbeFn = Callable[["Probe"], None]
RubricFn = Callable[[Evidence], Rating]
Functions = list[inngest.Function[Any]]

SCRIPT_OF: dict[Category, str] = {
    Category.EX: "01_ex_execution_semantics.py",
    Category.RT: "02_rt_retry_timeout.py",
    Category.WF: "03_wf_workflow_primitives.py",
    Category.SG: "04_sg_signals_events.py",
    Category.VR: "05_vr_versioning.py",
    Category.CP: "06_cp_compensation.py",
    Category.PF: "07_pf_performance.py",
    Category.OP: "08_op_operations.py",
    Category.OB: "09_ob_observability.py",
    Category.DX: "10_dx_developer_experience.py",
    Category.AI: "11_ai_agent_integration.py",
}


# The environment variables every category script reads (checked before anything starts).
EVERY_SCRIPT_READS = (*selfhosted.ENV_CHECKS, *devserver_module.ENV_CHECKS, *ports.ENV_CHECKS)


class Item:
    """One catalog item as a script implements it: its functions, probe and rubric."""

    def __init__(
        self,
        entry: CatalogItem,
        probe: ProbeFn,
        functions: Functions,
        timeout: float,
        script: Path | None = None,
        needs: Sequence[Need] = (),
        self_hosted_timeout: float | None = None,
    ) -> None:
        self.entry = entry
        self.needs = tuple(needs)
        self.script = script
        self.probe = probe
        self.functions = functions
        self.timeout = timeout
        self.self_hosted_timeout = self_hosted_timeout or timeout
        self._rubric: RubricFn | None = None

    def budget_on(self, server: str) -> float:
        """The item's time budget against ``server`` (a kind from harness.servers.selfhosted)."""
        return self.timeout if server == DEV else self.self_hosted_timeout

    @property
    def id(self) -> str:
        return self.entry.id

    def rubric(self, fn: RubricFn) -> RubricFn:
        """Decorator: the function that turns this item's evidence into stars."""
        self._rubric = fn
        return fn

    def rate(self, evidence: Evidence) -> Rating:
        if self._rubric is None:
            raise NotImplementedError(f"{self.id} has no rubric")
        return self._rubric(evidence)


class Probe:
    """What an item's probe works with: the dev server, the app, the ledger and its evidence."""

    def __init__(
        self,
        item: Item,
        api: DevServerAPI,
        app: AppHost,
        devserver: DevServer,
        ledger: Ledger,
        progress: Callable[[str], None],
        artifacts_dir: Path | None = None,
        servers: SelfHostedPool | None = None,
    ) -> None:
        self.item = item
        self.servers = servers  # self-hosted servers this invocation may start (self_hosted())
        self.api = api
        self.app = app
        self.devserver = devserver
        self.ledger = ledger
        self.evidence = Evidence()
        # Recording evidence reads as the probe's own verbs: probe.check(...), probe.measure(...)
        self.check = self.evidence.check
        self.not_run = self.evidence.not_run
        self.measure = self.evidence.measure
        self.document = self.evidence.document
        self.tag = uuid.uuid4().hex[:8]  # makes this probe's ledger keys and event data unique
        self._progress = progress
        self._budget = item.budget_on(devserver.kind)
        self._deadline = time.monotonic() + self._budget
        self._artifacts_dir = artifacts_dir

    def artifact(self, name: str) -> Path:
        """Where to write a file that belongs with the results (a screenshot, say): next to the
        results file, or in the run's temporary directory when results are not saved."""
        directory = self._artifacts_dir or self.app.workdir
        directory.mkdir(parents=True, exist_ok=True)
        return directory / name

    def new_scenario(self) -> str:
        """Start a fresh namespace of ledger keys (and event tags) for the next scenario."""
        self.tag = uuid.uuid4().hex[:8]
        return self.tag

    def log_mark(self) -> tuple[int, int]:
        """A position in the app's and the dev server's logs, for :meth:`logs_since`."""
        return len(self.app.log_text()), len(self.devserver.log_text())

    def logs_since(self, mark: tuple[int, int]) -> list[str]:
        """Log lines written since ``mark``, each prefixed with "app:" or "dev server:"."""
        app = self.app.log_text()[mark[0] :].splitlines()
        dev = self.devserver.log_text()[mark[1] :].splitlines()
        return [f"app: {line}" for line in app] + [f"dev server: {line}" for line in dev]

    @contextlib.contextmanager
    def devserver_options(self, **options: Any) -> Iterator[None]:
        """Run the block against the owned dev server restarted with other options (fields of
        ``DevServerOptions``, e.g. ``retry_interval_s=None`` for the default backoff), then
        restore the previous ones. Runs in flight are lost at each restart. Raises
        RuntimeError for an external dev server: check ``probe.devserver.owned`` first."""
        previous = self.devserver.options
        self.devserver.restart(wipe=True, **options)
        self.app.sync(self.api)
        try:
            yield
        finally:
            self.devserver.restart(wipe=True, **asdict(previous))
            self.app.sync(self.api)

    def self_hosted(
        self, kind: str = SELF_HOSTED
    ) -> contextlib.AbstractContextManager[SelfHostedServer]:
        """Run the block against a self-hosted server (``inngest start`` on PostgreSQL + Redis,
        or with ``kind="self-hosted-sqlite"`` on its own defaults); see
        :func:`on_self_hosted`. Raises SelfHostedUnavailable where PostgreSQL or Redis is not
        installed: record ``not_run`` with its ``command``."""
        return on_self_hosted(self, self.servers, kind)

    def not_applicable(self, reason: Msg) -> NoReturn:
        """End the probe: its item cannot apply on this server (``reason`` says why, e.g. it
        checks the dev server's own CLI and the script runs against ``inngest start``). The
        item gets no rating; it is never rated from another server's evidence."""
        raise NotApplicable(reason)

    def say(self, message: str) -> None:
        """Show what the probe is doing now in the progress display."""
        self._progress(f"{self.item.id} · {message}")

    # time
    def remaining(self) -> float:
        return max(0.0, self._deadline - time.monotonic())

    def bound(self, timeout: float) -> float:
        """``timeout`` clamped to what is left of this item's time budget."""
        if self.remaining() <= 0:
            raise ProbeTimeout(f"{self.item.id} used up its {self._budget:.0f}s budget")
        return min(timeout, self.remaining())

    # runs
    def key(self, name: str) -> str:
        """The ledger key under which functions record ``name`` for this probe's events."""
        return effect_key(self.tag, name)

    def send(
        self, name: str, data: dict[str, Any] | None = None, *, event_id: str | None = None
    ) -> str:
        return self.api.send(name, {"tag": self.tag, **(data or {})}, event_id=event_id)

    def run_of(self, *event_ids: str, timeout: float = 20.0) -> str:
        """The ID of the (first) run that any of ``event_ids`` started."""
        return self.api.wait_for_runs(list(event_ids), timeout=self.bound(timeout))[0].id

    def wait(
        self, run_id: str, *, timeout: float = 60.0, appear_within: float = RUN_APPEARS_WITHIN_S
    ) -> Run:
        """Wait for the run to finish. ``appear_within``: how long the server may still answer
        "not found" for a run it has just named before that counts (RunNotFound)."""
        self.say(f"waiting for run {run_id[-8:]} to finish")
        return self.api.wait_for_run(
            run_id, timeout=self.bound(timeout), appear_within=appear_within
        )

    def wait_or_last(self, run_id: str, *, timeout: float = 60.0) -> Run:
        """Like :meth:`wait`, but a run still not final after ``timeout`` comes back as it
        stands: for checks where a run that never ends is a finding, not a broken probe."""
        try:
            return self.wait(run_id, timeout=timeout)
        except ProbeTimeout:
            if self.remaining() <= 0:  # the item's budget is spent: that still ends the probe
                raise
            return self.api.with_output(self.api.get_run(run_id))

    def trigger(
        self, name: str, data: dict[str, Any] | None = None, *, timeout: float = 60.0
    ) -> Run:
        """Send an event, then wait for the run it starts to finish."""
        return self.wait(self.run_of(self.send(name, data)), timeout=timeout)

    def wait_for_step(self, run_id: str, step: str, *, timeout: float = 30.0) -> bool:
        """Wait until the run's trace shows a step called ``step`` (e.g. a sleep under way)."""
        self.say(f"waiting for run {run_id[-8:]} to reach {step!r}")
        return self.api.wait_for_step(run_id, step, timeout=self.bound(timeout))

    def send_burst(
        self, name: str, payloads: Sequence[dict[str, Any]], *, spacing_s: float = 0.0
    ) -> flow.Burst:
        """Send one event per payload (tagged like :meth:`send`): all at one instant, or one
        every ``spacing_s`` seconds. The burst records when each event was sent."""
        self.say(f"sending {len(payloads)} x {name}")
        tagged = [{"tag": self.tag, **payload} for payload in payloads]
        return flow.send_burst(self.api, name, tagged, spacing_s=spacing_s)

    def function_runs(
        self,
        fn: inngest.Function[Any],
        *,
        since: float,
        count: int,
        timeout: float = 60.0,
        settle: float = 0.0,
    ) -> list[Run]:
        """Every run of ``fn`` queued since ``since`` (``time.time()``), once at least ``count``
        exist and all are final, after ``settle`` quiet seconds (see harness.probing.flow)."""
        self.say(f"waiting for {count} run(s) of {fn.id}")
        return flow.wait_for_function_runs(
            self.api, fn.id, since=since, count=count, timeout=self.bound(timeout), settle=settle
        )

    def wait_for_effect(self, name: str, count: int = 1, *, timeout: float = 30.0) -> bool:
        self.say(f"waiting for {name!r} (x{count})")
        return self.ledger.wait_for(self.key(name), count, timeout=self.bound(timeout))

    def effects(self, name: str) -> int:
        """How many times ``name`` really executed for this probe's events."""
        return self.ledger.count(self.key(name))

    def effect_values(self, name: str) -> list[Any]:
        return self.ledger.values(self.key(name))


class Suite:
    def __init__(
        self,
        script: str,
        category: Category,
        *,
        runs_alone: bool = False,
        environment: Sequence[validate.EnvCheck] = (),
    ) -> None:
        """``runs_alone``: the whole run (run_all.py) must not run other scripts beside this one,
        because its measurements need the machine to themselves (performance).
        ``environment``: checks of the environment variables this script's items read, beyond
        the dev server's (``harness.host.validate``); they run before anything starts."""
        self.script = Path(script).resolve()
        self.category = category
        self.runs_alone = runs_alone
        self.environment = tuple(environment)
        self.items: dict[str, Item] = {}
        self.server = DEV  # what run() runs against: --server / $INNGEST_SUITE_SERVER

    def describe(self) -> dict[str, Any]:
        """What ``--list --json`` prints: the script's items and budgets, for tools."""
        return {
            "script": self.script.name,
            "category": self.category.name,
            "runs_alone": self.runs_alone,
            "items": [
                {
                    "id": i.id,
                    "name": i.entry.name,
                    "timeout_s": i.timeout,
                    "timeout_self_hosted_s": i.self_hosted_timeout,
                    "fail_close": i.entry.fail_close,
                    "original_stars": i.entry.original_stars,
                    "needs": [str(need) for need in i.needs],
                }
                for i in self.items.values()
            ],
        }

    def item(
        self,
        item_id: str,
        *,
        functions: Functions,
        timeout: float = 180.0,
        needs: Sequence[Need] = (),
        self_hosted_timeout: float | None = None,
    ) -> Callable[[ProbeFn], Item]:
        """Declare an item; ``needs``: what some of its checks need beyond a dev server (they
        are recorded as not run without it, and run_all.py says so up front).
        ``self_hosted_timeout``: the budget against ``inngest start`` where the same work takes
        longer there (PostgreSQL and Redis instead of memory); ``timeout`` otherwise."""
        entry = lookup(item_id)
        if entry.category is not self.category:
            raise ValueError(f"{item_id} is not in category {self.category.name}")

        def declare(probe: ProbeFn) -> Item:
            item = Item(entry, probe, functions, timeout, self.script, needs, self_hosted_timeout)
            self.items[entry.id] = item
            return item

        return declare

    def functions(self) -> Functions:
        """Every function the script's items serve by default (each once)."""
        seen: dict[int, inngest.Function[Any]] = {}
        for item in self.items.values():
            for fn in item.functions:
                seen.setdefault(id(fn), fn)
        return list(seen.values())

    def select(self, requested: Sequence[str]) -> list[Item]:
        """The items to run; SetupError for IDs that are unknown or belong to another script."""
        if not requested:
            return list(self.items.values())
        chosen: list[Item] = []
        for raw in requested:
            try:
                entry = lookup(raw)
            except KeyError as exc:
                raise SetupError(str(exc.args[0])) from None
            if entry.id not in self.items:
                owner = SCRIPT_OF[entry.category]
                raise SetupError(f"{entry.id} ({entry.name}) is evaluated by {owner}, not here")
            chosen.append(self.items[entry.id])
        return chosen

    def main(self, argv: list[str] | None = None) -> NoReturn:
        sys.exit(run(self, argv))


def add_prerequisite_options(parser: argparse.ArgumentParser) -> None:
    """``--duration`` … ``--language``: the workload the ratings assume (README, "Prerequisites").

    Defaults are the original evaluation's. They decide which fail-close items apply.
    """
    group = parser.add_argument_group(
        "prerequisite parameters (the workload assumed; they decide which fail-close items apply)"
    )
    defaults = Prerequisites()
    for name, field in Prerequisites.model_fields.items():
        choices = list(get_args(field.annotation)) or None
        value_type: Callable[[str], Any] = str
        if field.annotation is int:
            bounds = [m.ge for m in field.metadata if hasattr(m, "ge")]  # Field(ge=…)
            value_type = validate.whole_number(int(bounds[0]) if bounds else 0)
        group.add_argument(
            f"--{name.replace('_', '-')}",
            dest=f"prereq_{name}",
            type=value_type,
            choices=choices,
            default=getattr(defaults, name),
            help="default: %(default)s",
        )


def prerequisites_from(args: argparse.Namespace) -> Prerequisites:
    return Prerequisites(
        **{name: getattr(args, f"prereq_{name}") for name in Prerequisites.model_fields}
    )


def _parse_args(suite: Suite, argv: list[str] | None) -> argparse.Namespace:
    ids = ", ".join(suite.items)
    parser = validate.ArgumentParser(
        prog=suite.script.name,
        description=f"Verify Inngest's {suite.category.value} items ({ids}) against a dev server.",
        epilog=(
            "exit codes: 0 all rated and fail-close items pass; 1 a fail-close item rated below "
            "3 stars; 2 cannot run (bad input, no dev server, busy port, rejected sync, the dev "
            "server or app died mid-run, or the results file could not be written: then it is "
            "in the temp folder the message names); 3 an item's probe errored; 130 interrupted "
            "(Ctrl-C or "
            "SIGTERM). Dev server: see README, 'Getting a dev server'."
        ),
    )
    parser.add_argument(
        "--item", action="append", default=[], metavar="ID",
        help="run only this item (repeatable or comma-separated, e.g. --item EX-01,EX-03)",
    )  # fmt: skip
    parser.add_argument("--list", action="store_true", help="list the items and exit")
    parser.add_argument("--json", action="store_true", help="print results as JSON on stdout")
    parser.add_argument(
        "--verbose", "-v", action="store_true",
        help="print the full traceback of an item's unexpected error (always saved in results)",
    )  # fmt: skip
    parser.add_argument(
        "--results-dir", type=Path, default=suite.script.parent / "results",
        help="where results/<script>.json is written (default: %(default)s); a run against "
        "another server than the dev server writes to a folder named after it inside "
        "(results/self-hosted/<script>.json)",
    )  # fmt: skip
    parser.add_argument("--no-save", action="store_true", help="do not write the results file")
    parser.add_argument(
        "--no-preflight", action="store_true",
        help="skip the check of the server with a known run before rating (results record it)",
    )  # fmt: skip
    parser.add_argument(
        "--progress", type=Path, metavar="FILE",
        help="append progress events as JSON lines to FILE (what run_all.py reads)",
    )  # fmt: skip
    parser.add_argument(
        "--server", choices=SERVER_KINDS, default=None,
        help=f"what to run against: {DEV} (default), {SELF_HOSTED} (inngest start on PostgreSQL "
        f"+ Redis the suite starts), self-hosted-sqlite (inngest start on SQLite and its "
        f"built-in Redis); default: ${SERVER_ENV} or {DEV}",
    )  # fmt: skip
    add_prerequisite_options(parser)
    args = parser.parse_args(argv)
    try:
        args.item = validate.id_list("--item", args.item)
    except validate.BadInput as exc:
        parser.error(str(exc))
    return args


def _check_input(suite: Suite, args: argparse.Namespace) -> tuple[list[Item], str, ResultsFile]:
    """Everything a run needs from its options and environment, refused (BadInput, SetupError)
    before anything starts: the items, the server kind and the results to add to."""
    selected = suite.select(args.item)
    validate.check_environment((*EVERY_SCRIPT_READS, *suite.environment))
    kind = server_kind(args.server)
    args.results_dir = results_dir_for(args.results_dir, kind)
    path = _results_path(suite, args)
    if not args.no_save:
        validate.writable_dir("--results-dir", args.results_dir)
    if args.progress is not None:
        validate.appendable_file("--progress", args.progress)
    try:
        results = load(path, suite.script.name, suite.category.value)
    except OSError as exc:  # saving would replace what it holds
        raise validate.BadInput(
            f"--results-dir {args.results_dir}: cannot read {path.name} ({exc.strerror or exc}); "
            "allowed: a directory whose results file is readable"
        ) from None
    return selected, kind, results


def _results_path(suite: Suite, args: argparse.Namespace) -> Path:
    return args.results_dir / f"{suite.script.stem}.json"


@dataclass
class Environment:
    """What the items of one invocation run against."""

    api: DevServerAPI
    app: AppHost
    devserver: DevServer
    watchdog: Watchdog
    artifacts_dir: Path | None = None  # where probes write files kept with the results
    servers: SelfHostedPool | None = None
    preflight: dict[str, Any] | None = None  # what the preflight read (None: skipped)


def _terminate_as_interrupt(_signum: int, _frame: FrameType | None) -> None:
    # SIGTERM (timeout, a CI cancel, kill) ends a run as Ctrl-C does: children stopped,
    # what was measured saved.
    raise KeyboardInterrupt


def run(suite: Suite, argv: list[str] | None = None) -> int:
    args = _parse_args(suite, argv)
    console = Console(stderr=True)
    if args.list:
        if args.json:
            sys.stdout.write(json.dumps(suite.describe(), ensure_ascii=False) + "\n")
        else:
            output.item_list(Console(), [(i.entry, i.timeout) for i in suite.items.values()])
        return ExitCode.OK
    try:
        selected, kind, results = _check_input(suite, args)
    except SetupError as exc:
        return validate.refuse(suite.script.name, exc)
    events = ProgressEvents(args.progress, console)
    path = _results_path(suite, args)
    started = utcnow()
    session = Session(
        id=f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:4]}",
        started_at=started,
        argv=sys.argv,
        prerequisites=prerequisites_from(args),
    )
    measured: list[str] = []

    def save() -> None:
        if not args.no_save:  # ResultsNotSaved names where the results went instead
            save_results(path, results.to_json())

    def record_not_run(items: list[Item], why: str) -> None:
        for item in items:
            results.record(_not_run(item, session.id, why))
        save()

    previous_sigterm = signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        suite.server = kind
        with _environment(suite, console, preflight=not args.no_preflight) as env:
            env.artifacts_dir = None if args.no_save else args.results_dir
            session.dev_server = {**env.devserver.describe(), "preflight": env.preflight}
            results.sessions[session.id] = session
            with env.watchdog.watching(), console.status("starting") as status:
                for item in selected:
                    env.watchdog.current_item = item.id
                    events.emit("start", item=item.id, budget_s=item.budget_on(kind))
                    result = _run_item(item, env, session.id, status.update)
                    results.record(result)
                    measured.append(item.id)
                    save()
                    shown_result = results.items[item.id]
                    events.emit(
                        "done",
                        item=item.id,
                        status=str(result.status),
                        stars=result.stars,
                        kept=shown_result.stars if shown_result.not_remeasured else None,
                        duration_s=result.duration_s,
                        error=result.error,
                    )
                    output.item_done(console, shown_result, verbose=args.verbose)
    except InfrastructureFailure as exc:
        failure = exc.failure
        events.emit("failure", message=failure.message())
        console.print(f"[red]cannot go on:[/] {failure.message()}")
        try:
            record_not_run([i for i in selected if i.id not in measured], failure.not_run_reason())
        except ResultsNotSaved as unsaved:
            return _unsaved(unsaved, selected, measured)
        _report_kept(console, results, session.id)
        console.print("results measured before the failure are saved")
        return ExitCode.CANNOT_RUN
    except ResultsNotSaved as exc:
        events.emit("failure", message=str(exc))
        return _unsaved(exc, selected, measured)
    except SetupError as exc:  # before the first item, or mid-run (say, a binary deleted)
        print(f"cannot run: {exc}", file=sys.stderr)
        if measured and not args.no_save:
            print(f"results measured before this are saved in {path}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]; results measured so far are saved")
        return ExitCode.INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)

    shown = ResultsFile(
        script=results.script,
        category=results.category,
        sessions={k: v for k, v in results.sessions.items()},
        items={item.id: results.items[item.id] for item in selected},
    )
    if args.json:
        sys.stdout.write(shown.to_json(session.prerequisites))
    else:
        output.results_table(Console(), shown, session.prerequisites, verbose=args.verbose)
        if not args.no_save:
            console.print(f"results saved to {path}")
    summary = shown.summary(session.prerequisites)
    unmeasured_now = [
        r
        for r in shown.items.values()
        if (r.rating is None and r.status is not ItemStatus.NOT_APPLICABLE)
        or r.not_remeasured is not None
    ]
    if unmeasured_now:
        return ExitCode.ITEM_ERROR
    return ExitCode.OK if summary.fail_close_passed else ExitCode.FAIL_CLOSE


def _unsaved(problem: ResultsNotSaved, selected: list[Item], measured: list[str]) -> int:
    """Say where the results went instead of the results folder, and what was not measured.
    Plain print: a path must not be wrapped or read as markup."""
    print(f"cannot go on: {problem}", file=sys.stderr)
    rest = [i.id for i in selected if i.id not in measured]
    if rest:
        print(f"not measured: {', '.join(rest)}", file=sys.stderr)
    return ExitCode.CANNOT_RUN


class ProgressEvents:
    """JSON lines about items starting and finishing, for a tool that watches the run."""

    def __init__(self, path: Path | None, console: Console | None = None) -> None:
        self._path = path
        self._console = console

    def emit(self, event: str, **fields: Any) -> None:
        if self._path is None:
            return
        line = json.dumps({"event": event, "at": time.time(), **fields}, ensure_ascii=False)
        try:
            with self._path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        except OSError as exc:  # progress is for watching; it must not cost a measurement
            if self._console:
                self._console.print(f"progress events stop: cannot append to {self._path}: {exc}")
            self._path = None


def _report_kept(console: Console, results: ResultsFile, session: str) -> None:
    kept = [
        r.id
        for r in results.items.values()
        if r.not_remeasured and r.not_remeasured.session == session
    ]
    if kept:
        console.print(
            f"earlier ratings kept, marked as not re-measured in this session: {', '.join(kept)}"
        )


@contextlib.contextmanager
def _environment(
    suite: Suite, console: Console, *, preflight: bool = True
) -> Iterator[Environment]:
    """Dev server (or the self-hosted server ``suite.server`` names) + app + ledger for one
    invocation, torn down afterwards whatever happens."""
    kind = suite.server
    with tempfile.TemporaryDirectory(prefix="inngest-suite-") as tmp:
        workdir = Path(tmp)
        side_effects.use(workdir / "ledger.sqlite")
        app = AppHost(suite.script, sys.modules[_module_name(suite)], workdir, free_port())
        devserver: DevServer | None = None
        api: DevServerAPI | None = None
        servers = SelfHostedPool(workdir / "self-hosted", app.url)
        try:
            if kind == DEV:
                with console.status("finding a dev server"):
                    devserver = discover(
                        app.url, workdir / "devserver", log=lambda m: console.print(m)
                    )
                api = DevServerAPI(devserver.url)
            else:
                with console.status(f"starting a {kind} server"):
                    devserver = launch(kind, app.url, workdir / kind, log=console.print)
                api = devserver.api()
            described = f"({devserver.source})"
            if isinstance(devserver, SelfHostedServer):
                described = f"(inngest start on {devserver.backend()}; {devserver.source})"
            console.print(f"{devserver.name} {devserver.version} at {devserver.url} {described}")
            app.start(suite.functions(), devserver.url, devserver.app_keys())
            with console.status("syncing the app"):
                synced = app.sync(api)
            console.print(f"synced {len(synced)} function(s) from {app.url}")
            checked = None
            if preflight:
                with console.status("checking the server with a known run"):
                    report = run_preflight(api, devserver.app_keys(), fetch_info(api.url) or {})
                console.print(
                    f"preflight passed: a known run read back right ({', '.join(report.reads)})"
                )
                checked = report.describe()
            watchdog = Watchdog(devserver_watch(devserver), app_watch(app))
            yield Environment(api, app, devserver, watchdog, servers=servers, preflight=checked)
        finally:
            app.stop()
            if api:
                api.close()
            servers.stop_all()
            if devserver:
                devserver.stop()


def _module_name(suite: Suite) -> str:
    for name, module in sys.modules.items():
        if (
            getattr(module, "__file__", None)
            and Path(module.__file__ or "").resolve() == suite.script
        ):
            return name
    raise RuntimeError(f"{suite.script} is not imported")


def _source_of(item: Item) -> SourceRef | None:
    if item.script is None:
        return None
    functions: dict[str, int] = {}
    for fn in item.functions:
        handler = getattr(fn, "_handler", None)
        code = getattr(handler, "__code__", None)
        functions[fn.id] = code.co_firstlineno if code else 0
    return SourceRef(
        script=item.script.name,
        probe=item.probe.__name__,
        line=item.probe.__code__.co_firstlineno,
        functions=functions,
    )


def _result(item: Item, session: str, **fields: Any) -> ItemResult:
    return ItemResult(
        id=item.id,
        name=item.entry.name,
        category=item.entry.category.value,
        original_stars=item.entry.original_stars,
        fail_close=item.entry.fail_close,
        session=session,
        **fields,
    )


def _not_run(item: Item, session: str, why: str) -> ItemResult:
    return _result(
        item, session, status=ItemStatus.NOT_RUN, evidence=Evidence(), error=why,
        started_at=utcnow(), duration_s=0.0,
    )  # fmt: skip


def _run_item(
    item: Item, env: Environment, session: str, progress: Callable[[str], None]
) -> ItemResult:
    probe = Probe(
        item, env.api, env.app, env.devserver, side_effects, progress,
        artifacts_dir=env.artifacts_dir, servers=env.servers,
    )  # fmt: skip
    started, clock = utcnow(), time.monotonic()
    probe.say("starting")
    rating: Rating | None = None
    error: str | None = None
    trace: str | None = None
    not_applicable: Msg | None = None
    try:
        item.probe(probe)
        rating = item.rate(probe.evidence)
    except (SetupError, KeyboardInterrupt):
        raise
    except NotApplicable as exc:
        not_applicable = exc.reason
    except ProbeTimeout as exc:
        env.watchdog.raise_if_failed()  # a wait that ran out because the server died
        error = f"timed out: {exc}"
    except Exception as exc:
        env.watchdog.raise_if_failed()  # e.g. "connection refused" from a dead dev server
        error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        trace = traceback.format_exc()
    return _result(
        item, session,
        status=(
            ItemStatus.RATED
            if rating
            else ItemStatus.NOT_APPLICABLE
            if not_applicable
            else ItemStatus.ERROR
        ),
        rating=rating,
        not_applicable=not_applicable,
        evidence=probe.evidence,
        error=error,
        traceback=trace,
        started_at=started,
        duration_s=round(time.monotonic() - clock, 2),
        source=_source_of(item),
    )  # fmt: skip


@contextlib.contextmanager
def on_self_hosted(
    probe: Probe, pool: SelfHostedPool | None, kind: str = SELF_HOSTED
) -> Iterator[SelfHostedServer]:
    """Run the block with ``probe`` pointed at a self-hosted server of ``kind``.

    If the script already runs against one (``--server``), that one is used as it is. Otherwise
    the pool's server is started (or reused), the app is served in production mode against it
    and synced, and ``probe.api``/``probe.devserver`` are swapped for the block; afterwards the
    app goes back to the dev server. Raises SelfHostedUnavailable when PostgreSQL or Redis is not
    installed (record a not-run check), SelfHostedError when a part fails to start.
    """
    current = probe.devserver
    if isinstance(current, SelfHostedServer) and current.kind == kind:
        yield current
        return
    if pool is None:
        raise SelfHostedError("no self-hosted servers can be started in this context")
    server = pool.get(kind)
    previous_api, previous_keys = probe.api, probe.app.keys
    api = server.api()
    probe.app.retarget(server.url, server.app_keys())
    try:
        probe.app.sync(api)
        probe.api, probe.devserver = api, server
        yield server
    except Exception as exc:
        code = server.exit_code()
        if code is not None:
            raise SelfHostedError(
                f"{server.exit_description()} (code {code}) during the check: {exc}\n"
                f"{server.log_tail()}"
            ) from exc
        raise
    finally:
        probe.api, probe.devserver = previous_api, current
        api.close()
        probe.app.retarget(current.url, previous_keys)
