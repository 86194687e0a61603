"""Rendering results for people (rich tables); JSON output is ResultsFile.to_json."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.rating.catalog import STAR_LABELS, CatalogItem, Prerequisites
from harness.rating.evidence import DOCUMENTED_LABEL, CheckOutcome, ItemResult, ItemStatus
from harness.rating.results import ResultsFile


def stars(n: int | None) -> str:
    return "—" if n is None else "★" * n + "☆" * (5 - n)


def _verdict(result: ItemResult) -> Text:
    if result.status is ItemStatus.NOT_APPLICABLE:
        return Text("NOT APPLICABLE", style="dim")
    if result.rating is None:
        return Text("NOT RUN" if result.status is ItemStatus.NOT_RUN else "ERROR", style="bold red")
    text = Text(
        f"{stars(result.stars)} {STAR_LABELS[result.rating.stars]}",
        style="green" if result.good else "yellow",
    )
    if result.differs_from_original:
        text.append(f" (original report: {stars(result.original_stars)})", style="dim")
    if result.not_remeasured:
        text.append(" (kept from an earlier session: not re-measured)", style="yellow")
    return text


def _evidence(result: ItemResult) -> Text:
    text = Text()
    symbols = {CheckOutcome.PASSED: ("✔", "green"), CheckOutcome.FAILED: ("✘", "red")}
    for check in result.evidence.checks:
        symbol, style = symbols.get(check.outcome, ("○", "dim"))
        text.append(f"  {symbol} ", style=style)
        text.append(str(check.description))
        if check.outcome is CheckOutcome.NOT_RUN:
            text.append(f" (not run: {check.reason})", style="dim")
        elif check.outcome is CheckOutcome.FAILED and check.observed is not None:
            text.append(f"\n      observed: {_short(check.observed)}", style="dim")
        text.append("\n")
    for m in result.evidence.measurements:
        text.append(f"  ≈ {m.key} = {m.value:g} {m.unit}\n", style="cyan")
    for fact in result.evidence.facts:
        text.append(f"  📄 {fact.claim} [{DOCUMENTED_LABEL}: {fact.source}]\n", style="magenta")
    return text


def _short(value: object, limit: int = 200) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def item_done(console: Console, result: ItemResult, *, verbose: bool = False) -> None:
    if result.not_remeasured:
        note = result.not_remeasured
        console.print(
            f"[red]✘ {result.id} {result.name}: {note.status}[/] — {note.error}; "
            f"the earlier rating {stars(result.stars)} is kept, marked as not re-measured"
        )
        return
    if result.status is ItemStatus.NOT_APPLICABLE:
        console.print(f"- {result.id} {result.name}: not applicable — {result.not_applicable}")
        return
    if result.rating is None:
        console.print(f"[red]✘ {result.id} {result.name}: {result.status}[/] — {result.error}")
        if verbose and result.traceback:
            console.print(Text(result.traceback, style="dim"))
        return
    console.print(
        f"{'[green]✔' if result.good else '[yellow]▲'} {result.id} {result.name}[/] "
        f"{stars(result.stars)} ({result.duration_s:.1f}s)"
    )


def results_table(
    console: Console,
    results: ResultsFile,
    prerequisites: Prerequisites | None = None,
    *,
    verbose: bool = False,
) -> None:
    """A summary table, then each item's reason and evidence (readable at 80 columns)."""
    table = Table(title=f"{results.category} — {results.script}")
    for column in ("Item", "Name", "Stars", "Original", "Basis"):
        table.add_column(column, no_wrap=column != "Name")
    for result in results.items.values():
        name = Text(result.name)
        if result.fail_close:
            name.append(" [fail-close]", style="bold")
        original = Text(stars(result.original_stars), style="dim")
        if result.differs_from_original:
            original.stylize("bold yellow")
        table.add_row(result.id, name, _verdict_stars(result), original, result.basis)
    console.print(table)

    for result in results.items.values():
        console.print()
        heading = Text(f"{result.id} {result.name} — ", style="bold")
        heading.append_text(_verdict(result))
        console.print(heading)
        if result.rating:
            console.print(Text(f"why: {result.rating.reason}"))
            if result.rating.drivers:
                console.print(Text(f"decided by: {', '.join(result.rating.drivers)}", style="dim"))
            pattern = result.rating.pattern
            if pattern:
                where = f", in {pattern.module}" if pattern.module else ""
                console.print(
                    Text(
                        f"pattern ({pattern.pattern}){where}: {stars(pattern.stars)} — "
                        f"{pattern.reason}"
                    )
                )
            if result.rating.advice:
                console.print(Text(f"advice: {result.rating.advice}", style="cyan"))
        if result.status is ItemStatus.NOT_APPLICABLE:
            console.print(Text(f"not applicable: {result.not_applicable}", style="dim"))
        elif result.not_remeasured or result.rating is None:
            note = result.not_remeasured
            console.print(
                Text(
                    f"{result.status if note is None else note.status}: "
                    f"{result.error if note is None else note.error}",
                    style="red",
                )
            )
            if verbose and result.traceback:
                console.print(Text(result.traceback, style="dim"))
        console.print(_evidence(result))

    summary = results.summary(prerequisites)
    console.print(
        f"{summary.rated} rated: {summary.good} good (★★★+), {summary.not_good} not good"
        + (f", {summary.errors} errored" if summary.errors else "")
        + (f", {summary.not_run} not run" if summary.not_run else "")
        + (f", {len(summary.not_applicable)} not applicable" if summary.not_applicable else "")
    )
    if summary.kept_from_earlier:
        kept = ", ".join(summary.kept_from_earlier)
        console.print(f"[yellow]not re-measured in this session (earlier rating kept): {kept}[/]")
    if summary.differ_from_original:
        differing = ", ".join(summary.differ_from_original)
        console.print(f"differs from the original report: {differing}")
    if summary.fail_close:
        state = "[green]pass[/]" if summary.fail_close_passed else "[red]FAIL[/]"
        detail = ", ".join(f"{k} {stars(v)}" for k, v in summary.fail_close.items())
        console.print(f"fail-close items: {state} ({detail})")
    if summary.fail_close_unmeasured:
        unmeasured = ", ".join(summary.fail_close_unmeasured)
        console.print(f"[red]fail-close items not measured (no verdict): {unmeasured}[/]")


def _verdict_stars(result: ItemResult) -> Text:
    if result.status is ItemStatus.NOT_APPLICABLE:
        return Text("n/a", style="dim")
    if result.rating is None:
        return Text(str(result.status), style="bold red")
    text = Text(stars(result.stars), style="green" if result.good else "yellow")
    if result.not_remeasured:
        text.append(" (kept)", style="yellow")
    return text


def item_list(console: Console, items: list[tuple[CatalogItem, float]]) -> None:
    table = Table(title="Items")
    for column in ("ID", "Name", "Fail-close", "Time budget", "Original"):
        table.add_column(column)
    for entry, timeout in items:
        table.add_row(
            entry.id,
            entry.name,
            entry.fail_close or "",
            f"{timeout:.0f}s",
            stars(entry.original_stars),
        )
    console.print(table)
