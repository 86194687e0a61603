"""Durability under random faults: ``results/fault_campaign.json``.

Many concurrent runs of a multi-step function (four steps and a sleep) while a seeded scheduler
injects faults at random times: the app SIGKILLed and restarted; a TCP proxy between the server
and the app that delays, resets or blackholes; and, on the self-hosted server (``inngest start``
on PostgreSQL + Redis), the server itself stopped with SIGTERM or SIGKILL and started again (the
dev server keeps runs in memory, so it only gets the app and network faults). Every side effect
is recorded outside the app and the server, in a SQLite history; some orders are sent twice
(the same event ID, or another event ID with the same idempotency key). Faults stop, the
campaign waits (bounded) for every run to end, then checks invariants on the history
(harness/faults/invariants.py) and keeps every counterexample.

    python fault_campaign.py                          # self-hosted: 500 orders, 540 s of faults
    python fault_campaign.py --server dev --runs 150 --duration 120
    python fault_campaign.py --seed 7                 # the same fault schedule as seed 7's

The schedule is a function of the seed and the options, so ``--seed`` replays it; the history
(``results/fault_campaign/<server>-history.jsonl.gz``) is what happened under it.

Exit codes: 0 every invariant held; 1 an invariant was violated (see the counterexamples);
2 cannot run (no inngest binary, PostgreSQL or Redis missing, bad usage); 130 interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gzip
import os
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import inngest

import serve
from harness.errors import ExitCode, SetupError
from harness.faults import history as recorded
from harness.faults.history import History
from harness.faults.invariants import FINAL, check_all, recovery_times, repeats
from harness.faults.model import (
    CAMPAIGN_FILE,
    Campaign,
    CampaignFile,
    InvariantOutcome,
    RepeatFigures,
)
from harness.faults.proxy import FaultProxy, Mode
from harness.faults.schedule import APP_FAULTS, SERVER_FAULTS, Fault, FaultKind, make_schedule
from harness.host import ports, validate
from harness.probing.app import AppHost, AppProcess
from harness.rating.results import write_atomically
from harness.servers.api import DevServerAPI, RunNotFound
from harness.servers.devserver import DevServer, discover
from harness.servers.selfhosted import SELF_HOSTED, SelfHostedServer, launch

ROOT = Path(__file__).resolve().parent

# --- the workload ---------------------------------------------------------------------------------
HISTORY_ENV = "INNGEST_CAMPAIGN_HISTORY"  # where the app's steps record (set for the app process)
ORDER_EVENT = "campaign/order.placed"
STEPS = ("reserve", "charge", "ship", "notify")
RETRIES = 20  # per step; with the server's 1 s retry interval, about 20 s of failures per step
client = serve.make_client()


async def _side_effect(
    order_key: str, run_id: str, step: str, attempt: int, previous: str | None
) -> str:
    """A step's work: recorded before and after, outside the app, with a value that is new on
    every execution (so a recomputed result can be told from a memoized one)."""
    path = Path(os.environ[HISTORY_ENV])
    common: dict[str, Any] = {
        "order_key": order_key, "run_id": run_id, "step": step, "attempt": attempt,
        "pid": os.getpid(), "seen_prev": previous,
    }  # fmt: skip
    await asyncio.to_thread(functools.partial(recorded.record_step, path, phase="start", **common))
    await asyncio.sleep(random.uniform(0.05, 0.4))  # the work takes a while: faults land in it
    value = f"{step}-{uuid.uuid4().hex[:12]}"
    await asyncio.to_thread(
        functools.partial(recorded.record_step, path, phase="done", value=value, **common)
    )
    return value


@client.create_function(
    fn_id="campaign-order",
    trigger=inngest.TriggerEvent(event=ORDER_EVENT),
    retries=RETRIES,
    idempotency="event.data.order_key",
)
async def campaign_order(ctx: inngest.Context) -> dict[str, str]:
    order_key = str(ctx.event.data["order_key"])
    results: dict[str, str] = {}
    previous: str | None = None
    for step in STEPS:
        if step == "ship":
            await ctx.step.sleep("cool-off", timedelta(seconds=1))
        results[step] = await ctx.step.run(
            step,
            functools.partial(_side_effect, order_key, ctx.run_id, step, ctx.attempt, previous),
        )
        previous = results[step]
    return results


# --- the campaign ---------------------------------------------------------------------------------
SERVERS = ("self-hosted", "dev")
DUPLICATE_SHARE = 0.1  # of orders sent again with the same event ID, and again with another ID
SEND_RETRY_S = 0.5
PROGRESS_EVERY_S = 10.0


@dataclass
class Progress:
    sent: int = 0
    failed_sends: int = 0
    duplicates: Counter[str] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)
    error: BaseException | None = None


def _parse(argv: list[str] | None) -> Any:
    parser = validate.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="exit codes: 0 invariants held; 1 a violation; 2 cannot run; 130 interrupted",
    )
    parser.add_argument("--server", choices=SERVERS, default="self-hosted")
    parser.add_argument("--runs", type=validate.whole_number(1, 100_000), default=500,
                        help="orders to send (default 500)")  # fmt: skip
    parser.add_argument("--duration", type=validate.whole_number(10, 3600), default=540,
                        help="seconds of faults (default 540)")  # fmt: skip
    parser.add_argument("--mean-gap", type=float, default=0.3,
                        help="mean of a gap's random part, seconds (default 0.3)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=None, help="fault schedule seed (default: new)")
    parser.add_argument("--quiesce", type=validate.whole_number(10, 3600), default=90,
                        help="bound on the wait for every run to end (default 90 s)")  # fmt: skip
    parser.add_argument("--results-dir", type=Path, default=ROOT / "results")
    parser.add_argument("--no-save", action="store_true", help="print, write no results")
    parser.add_argument(
        "--recheck", action="store_true",
        help="run nothing: check the saved histories again (after a checker changed)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if not 0.05 <= args.mean_gap <= 60:
        parser.error(f"--mean-gap {args.mean_gap}: allowed 0.05 to 60 seconds")
    return args


class CampaignRun:
    def __init__(self, args: Any, workdir: Path, log: Callable[[str], None] = print) -> None:
        self.args = args
        self.workdir = workdir
        self.log = log
        self.seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
        kinds = list(APP_FAULTS) + (list(SERVER_FAULTS) if args.server == "self-hosted" else [])
        self.schedule = make_schedule(self.seed, args.duration, kinds, mean_gap_s=args.mean_gap)
        self.history_path = workdir / "history.sqlite"
        self.progress = Progress()
        self.server: DevServer | None = None
        self.proxy: FaultProxy | None = None
        self.app: AppProcess | None = None
        self._stop = threading.Event()

    # --- set-up --------------------------------------------------------------------------------
    def start(self) -> None:
        recorded.create(self.history_path)
        os.environ[HISTORY_ENV] = str(self.history_path)
        app_port = ports.free_port()
        proxy_port = ports.free_port(exclude=frozenset({app_port}))
        self.proxy = FaultProxy(proxy_port, app_port)
        self.proxy.start()
        proxy_url = f"http://127.0.0.1:{proxy_port}{serve.SERVE_PATH}"
        server_dir = self.workdir / "server"
        if self.args.server == "self-hosted":
            self.server = launch(SELF_HOSTED, proxy_url, server_dir, log=self.log)
        else:
            self.server = discover(proxy_url, server_dir, log=self.log)
        self.log(f"server: {self.server.name} at {self.server.url}; app behind {proxy_url}")
        host = AppHost(Path(__file__).resolve(), sys.modules[__name__], self.workdir, app_port)
        host.dev_server_url = self.server.url
        host.keys = self.server.app_keys()
        self.app = AppProcess(host, [campaign_order])
        self.app.start()
        self._sync(proxy_url)

    def api(self) -> DevServerAPI:
        assert self.server
        if isinstance(self.server, SelfHostedServer):
            return self.server.api()
        return DevServerAPI(self.server.url)

    def _sync(self, proxy_url: str) -> None:
        response = serve.sync(proxy_url)
        if response.status_code != 200:
            raise SetupError(f"the app's sync failed: HTTP {response.status_code} {response.text}")
        wanted = campaign_order.get_id()
        deadline = time.monotonic() + 30
        with contextlib.closing(self.api()) as api:
            while wanted not in api.function_slugs():
                if time.monotonic() > deadline:
                    raise SetupError(f"the server did not register {wanted} within 30 s")
                time.sleep(0.3)

    def stop(self) -> None:
        self._stop.set()
        if self.app:
            self.app.kill()
        if self.proxy:
            self.proxy.stop()
        if self.server:
            self.server.stop()

    # --- the workload's sends ------------------------------------------------------------------
    def _planned_sends(self) -> list[tuple[float, str, str, str]]:
        """(at seconds, order, event ID, why) for every send, first sends spread evenly over
        nine tenths of the fault period, duplicates a few seconds after their original."""
        rng = random.Random(self.seed + 1)
        spread = self.args.duration * 0.9 / self.args.runs
        sends: list[tuple[float, str, str, str]] = []
        for i in range(self.args.runs):
            at = i * spread
            order = f"order-{self.seed}-{i:05d}"
            sends.append((at, order, f"{order}-1", "first"))
            draw = rng.random()
            if draw < DUPLICATE_SHARE:
                sends.append((at + rng.uniform(0.1, 3.0), order, f"{order}-1", "same-event-id"))
            elif draw < 2 * DUPLICATE_SHARE:
                sends.append(
                    (at + rng.uniform(0.1, 3.0), order, f"{order}-2", "same-idempotency-key")
                )
        return sorted(sends)

    def _send_all(self, started: float) -> None:
        try:
            with contextlib.closing(self.api()) as api:
                for at, order, event_id, why in self._planned_sends():
                    self._wait_until(started + at)
                    if self._stop.is_set():
                        return
                    self._send(api, order, event_id)
                    if why != "first":
                        self.progress.duplicates[why] += 1
        except BaseException as exc:  # a thread's error ends the campaign with it
            self.progress.error = exc
            self._stop.set()

    def _send(self, api: DevServerAPI, order: str, event_id: str) -> None:
        """Send until the server takes it, as a producer would (the same event ID each time)."""
        deadline = time.monotonic() + 120
        while not self._stop.is_set():
            try:
                received = api.send(ORDER_EVENT, {"order_key": order}, event_id=event_id)
            except (httpx.HTTPError, RuntimeError) as exc:
                recorded.record_send(self.history_path, order, event_id, error=str(exc)[:200])
                self.progress.failed_sends += 1
                if time.monotonic() > deadline:
                    raise SetupError(f"the server took no event for 120 s: {exc}") from exc
                time.sleep(SEND_RETRY_S)
                continue
            recorded.record_send(self.history_path, order, event_id, received_id=received)
            self.progress.sent += 1
            return

    # --- the faults ----------------------------------------------------------------------------
    def _inject_all(self, started: float) -> None:
        """The schedule in order, each fault its gap after the previous one was healed (restarts
        take real time, so the schedule's nominal times only order the faults); faults that
        would start after the fault period are skipped."""
        try:
            healed = started
            for fault in self.schedule:
                self._wait_until(healed + fault.gap_s)
                if self._stop.is_set():
                    return
                if time.monotonic() - started > self.args.duration:
                    return
                self._inject(fault)
                healed = time.monotonic()
        except BaseException as exc:
            self.progress.error = exc
            self._stop.set()

    def _inject(self, fault: Fault) -> None:
        assert self.app and self.proxy and self.server
        detail = {"hold_s": fault.hold_s, "delay_ms": fault.delay_ms}
        recorded.record_fault_start(self.history_path, fault.index, str(fault.kind), detail)
        kind = fault.kind
        if kind is FaultKind.APP_KILL:
            self.app.kill()
            time.sleep(fault.hold_s)
            self.app.start()
        elif kind in (FaultKind.APP_SLOW, FaultKind.APP_RESET, FaultKind.APP_BLACKHOLE):
            mode = {
                FaultKind.APP_SLOW: Mode.SLOW,
                FaultKind.APP_RESET: Mode.RESET,
                FaultKind.APP_BLACKHOLE: Mode.BLACKHOLE,
            }[kind]
            self.proxy.set_mode(mode, delay_ms=fault.delay_ms)
            time.sleep(fault.hold_s)
            self.proxy.set_mode(Mode.NORMAL)
        else:
            assert isinstance(self.server, SelfHostedServer)
            self.server.stop_server(crash=kind is FaultKind.SERVER_KILL)
            time.sleep(fault.hold_s)
            self.server.restart()
        recorded.record_fault_end(self.history_path, fault.index)
        self.progress.injected[str(kind)] += 1

    def _wait_until(self, moment: float) -> None:
        while not self._stop.is_set() and time.monotonic() < moment:
            time.sleep(min(0.05, max(0.0, moment - time.monotonic())))

    # --- the whole campaign --------------------------------------------------------------------
    def run(self) -> Campaign:
        started_at = datetime.now(UTC)
        wall_start = time.monotonic()
        self.start()
        assert self.server
        self.log(
            f"seed {self.seed}: {len(self.schedule)} faults planned over {self.args.duration} s, "
            f"{self.args.runs} orders"
        )
        started = time.monotonic()
        threads = [
            threading.Thread(target=self._send_all, args=(started,), name="sender"),
            threading.Thread(target=self._inject_all, args=(started,), name="injector"),
        ]
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads):
            for thread in threads:
                thread.join(timeout=PROGRESS_EVERY_S / len(threads))
            self._report_progress(started)
        if self.progress.error is not None:
            raise self.progress.error
        healed = time.monotonic()
        self.log("faults over; waiting for every run to end")
        self._quiesce()
        quiescence = time.monotonic() - healed
        history = recorded.load(self.history_path, STEPS)
        return Campaign(
            server_kind=self.args.server,
            server=self.server.describe(),
            sdk_version=version("inngest"),
            started_at=started_at,
            argv=sys.argv,
            seed=self.seed,
            duration_s=self.args.duration,
            wall_s=round(time.monotonic() - wall_start, 1),
            quiescence_s=round(quiescence, 1),
            quiescence_bound_s=self.args.quiesce,
            orders=len({s.order_key for s in history.sends if s.accepted}),
            sends=sum(1 for s in history.sends if s.accepted),
            duplicate_sends=dict(self.progress.duplicates),
            failed_sends=sum(1 for s in history.sends if not s.accepted),
            runs=len({f.run_id for f in history.finals} | {r.run_id for r in history.steps}),
            faults_planned=len(self.schedule),
            faults_injected=dict(self.progress.injected),
            **_checked(history),
            history_file=f"results/fault_campaign/{self.args.server}-history.jsonl.gz",
            retries=RETRIES,
            retry_interval_s=self.server.options.retry_interval_s,
        )

    def _report_progress(self, started: float) -> None:
        with recorded.connect(self.history_path) as db:
            done = db.execute(
                "SELECT COUNT(DISTINCT run_id) FROM steps WHERE step = ? AND phase = 'done'",
                (STEPS[-1],),
            ).fetchone()[0]
        p = self.progress
        self.log(
            f"  {time.monotonic() - started:5.0f} s: {p.sent} sends ({p.failed_sends} refused), "
            f"{done} runs finished their last step, faults {dict(p.injected)}"
        )

    def _quiesce(self) -> None:
        """Read every order's runs until all are final, bounded by --quiesce; record them."""
        deadline = time.monotonic() + self.args.quiesce
        last_report = 0.0
        with contextlib.closing(self.api()) as api:
            while True:
                finals = self._read_runs(api)
                open_runs = [k for k, runs in finals.items() if not runs or any(
                    status not in FINAL for _, status, _ in runs
                )]  # fmt: skip
                now = time.monotonic()
                if not open_runs or now > deadline:
                    break
                if now - last_report > PROGRESS_EVERY_S:
                    self.log(f"  {len(open_runs)} orders still without a final run")
                    last_report = now
                time.sleep(2.0)
        for order, runs in finals.items():
            for run_id, status, output in runs:
                recorded.record_final(self.history_path, order, run_id, status, output)

    def _read_runs(self, api: DevServerAPI) -> dict[str, list[tuple[str, str, Any]]]:
        history = recorded.load(self.history_path, STEPS)
        run_ids: dict[str, set[str]] = {s.order_key: set() for s in history.sends if s.accepted}
        for record in history.steps:
            run_ids.setdefault(record.order_key, set()).add(record.run_id)
        for send in history.sends:
            if send.received_id:
                for run in api.runs_for_event(send.received_id):
                    run_ids[send.order_key].add(run.id)
        found: dict[str, list[tuple[str, str, Any]]] = {}
        for order, ids in run_ids.items():
            found[order] = []
            for run_id in sorted(ids):
                try:
                    run = api.with_output(api.get_run(run_id))
                except RunNotFound:
                    found[order].append((run_id, "NOT FOUND", None))
                    continue
                found[order].append((run_id, run.status, run.output))
        return found


def _checked(history: History) -> dict[str, Any]:
    """What the checkers read in a history: the Campaign fields they fill."""
    return {
        "invariants": [InvariantOutcome(**o.as_dict()) for o in check_all(history)],
        "repeats": RepeatFigures(**repeats(history).as_dict()),
        "recovery_s": recovery_times(history),
    }


def _history_path(results_dir: Path, campaign: Campaign) -> Path:
    """Where a campaign's history is kept, beside the results file it belongs to."""
    return results_dir / "fault_campaign" / Path(campaign.history_file).name


def _summary(campaign: Campaign) -> list[str]:
    lines = [
        f"{campaign.server_kind}: {campaign.orders} orders, {campaign.runs} runs, "
        f"{campaign.faults_total} faults {campaign.faults_injected} (seed {campaign.seed}), "
        f"{campaign.wall_s:.0f} s",
    ]
    for outcome in campaign.invariants:
        mark = "held" if outcome.holds else f"VIOLATED {outcome.total_violations}x"
        if outcome.checked == 0:
            mark = "nothing to check"
        lines.append(f"  {outcome.key}: {mark} (checked on {outcome.checked})")
        lines += [f"      {v}" for v in outcome.violations[:3]]
    r = campaign.repeats
    lines.append(
        f"  step executions {r.executions}, repeats {r.repeats} ({r.explained} after a fault, "
        f"{r.unexplained} without one)"
    )
    if campaign.recovery_s:
        lines.append(
            f"  recovery after a fault: median {statistics.median(campaign.recovery_s):.2f} s, "
            f"max {max(campaign.recovery_s):.2f} s"
        )
    return lines


def save(results_dir: Path, campaign: Campaign, history_path: Path) -> Path:
    """Add ``campaign`` to the results file (atomically) and keep its history beside it."""
    target = results_dir / CAMPAIGN_FILE
    existing = (
        CampaignFile.model_validate_json(target.read_text(encoding="utf-8"))
        if target.exists()
        else CampaignFile()
    )
    existing.campaigns[campaign.server_kind] = campaign
    history = recorded.load(history_path, STEPS)
    kept = _history_path(results_dir, campaign)
    kept.parent.mkdir(parents=True, exist_ok=True)
    tmp = kept.with_suffix(".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8") as handle:
        for line in history.to_jsonl():
            handle.write(line + "\n")
    os.replace(tmp, kept)
    write_atomically(target, existing.model_dump_json(indent=1) + "\n")
    return target


def recheck(results_dir: Path) -> int:
    """Check every saved campaign's history again with the current checkers; the history is
    the evidence, the checkers only read it."""
    target = results_dir / CAMPAIGN_FILE
    if not target.exists():
        print(f"error: no {target} to check again", file=sys.stderr)
        return ExitCode.CANNOT_RUN
    saved = CampaignFile.model_validate_json(target.read_text(encoding="utf-8"))
    for kind, campaign in saved.campaigns.items():
        with gzip.open(_history_path(results_dir, campaign), "rt", encoding="utf-8") as handle:
            history = History.from_jsonl(list(handle))
        saved.campaigns[kind] = campaign.model_copy(update=_checked(history))
        print("\n".join(_summary(saved.campaigns[kind])))
    write_atomically(target, saved.model_dump_json(indent=1) + "\n")
    return 0 if all(c.holds for c in saved.campaigns.values()) else 1


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.recheck:
        return recheck(args.results_dir)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    with tempfile.TemporaryDirectory(prefix="fault-campaign-") as tmp:
        campaign_run = CampaignRun(args, Path(tmp))
        try:
            campaign = campaign_run.run()
        except SetupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return ExitCode.CANNOT_RUN
        except KeyboardInterrupt:
            print("interrupted: nothing saved", file=sys.stderr)
            return ExitCode.INTERRUPTED
        finally:
            campaign_run.stop()
        for line in _summary(campaign):
            print(line)
        if not args.no_save:
            print(f"saved {save(args.results_dir, campaign, campaign_run.history_path)}")
    return 0 if campaign.holds else 1


if __name__ == "__main__":
    sys.exit(main())
