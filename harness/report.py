"""REPORT.md and REPORT_ja.md, generated from ``results/*.json`` alone.

Nothing here knows a rating: every star, reason, figure and citation comes from a results file
that a category script wrote, so a report cannot say what the results do not. Both languages are
rendered from the same data by the same code; only the texts differ, and those come from the
bilingual catalogue (harness.i18n). ``python report.py`` writes them; ``--check`` (and a test)
fails when the committed reports are not exactly what the results say.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import charts
from .catalog import (
    GOOD_THRESHOLD,
    ITEMS,
    PREREQUISITE_LABELS,
    PREREQUISITE_VALUES,
    STAR_LABELS,
    CatalogItem,
    Category,
    Prerequisites,
    fail_close_applies,
    items_in,
)
from .comparison import COMPARISON_FILE, Comparison
from .evidence import DOCUMENTED_LABEL, CheckOutcome, ItemResult
from .i18n import N_, Lang, Msg, render, t
from .results import ResultsFile, Session
from .runlog import RunLog

REPORTS: dict[Lang, str] = {"en": "REPORT.md", "ja": "REPORT_ja.md"}
CHART_DIR = "report"
ORIGINAL_OVERALL = 4  # the original report's overall rating
# When an applicable fail-close item is rated below three stars, the overall rating is capped here.
FAIL_CLOSE_CAP = 2

STAR_DEFINITIONS: dict[int, str] = {
    1: N_("missing or broken: it would have to be built from scratch"),
    2: N_("works, with serious limits or traps: a struggle even for a proof of concept"),
    3: N_("the main cases work; edge cases, monitoring or operations need extra work"),
    4: N_("stable and documented: usable in production with minor additions"),
    5: N_("usable in production as it is, with established practice behind it"),
}


# --- the data ------------------------------------------------------------------------------------
@dataclass
class ReportData:
    """Everything a report may say, loaded from a results directory."""

    scripts: dict[str, ResultsFile] = field(default_factory=dict)  # script name -> results
    run: RunLog | None = None
    temporal: Comparison | None = None
    problems: list[str] = field(default_factory=list)  # files that could not be read

    @classmethod
    def load(cls, results_dir: Path) -> ReportData:
        data = cls()
        for path in sorted(results_dir.glob("[01][0-9]_*.json")):
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
                document.pop("summary", None)
                data.scripts[document["script"]] = ResultsFile.model_validate(document)
            except (ValueError, KeyError, ValidationError) as exc:
                data.problems.append(f"{path.name}: {str(exc).splitlines()[0]}")
        comparison = results_dir / COMPARISON_FILE
        if comparison.exists():
            try:
                data.temporal = Comparison.model_validate_json(comparison.read_text("utf-8"))
            except ValidationError as exc:
                data.problems.append(f"{COMPARISON_FILE}: {str(exc).splitlines()[0]}")
        run = results_dir / "run.json"
        if run.exists():
            try:
                data.run = RunLog.model_validate_json(run.read_text(encoding="utf-8"))
            except ValidationError as exc:
                data.problems.append(f"run.json: {str(exc).splitlines()[0]}")
        return data

    @property
    def items(self) -> dict[str, ItemResult]:
        found = {i: r for f in self.scripts.values() for i, r in f.items.items()}
        return {i: found[i] for i in ITEMS if i in found}

    def result(self, item_id: str) -> ItemResult | None:
        return self.items.get(item_id)

    def script_of(self, item_id: str) -> str | None:
        for name, results in self.scripts.items():
            if item_id in results.items:
                return name
        return None

    def sessions(self) -> list[tuple[str, Session]]:
        """(script, session) for every session an item's rating comes from, oldest first."""
        seen = []
        for name, results in self.scripts.items():
            used = {r.session for r in results.items.values()}
            seen += [(name, s) for k, s in results.sessions.items() if k in used]
        return sorted(seen, key=lambda pair: pair[1].started_at)

    def prerequisites(self) -> list[Prerequisites]:
        """The distinct prerequisite parameters the ratings were measured under."""
        distinct: list[Prerequisites] = []
        for _, session in self.sessions():
            if session.prerequisites not in distinct:
                distinct.append(session.prerequisites)
        return distinct or [Prerequisites()]


def overall_rating(data: ReportData) -> tuple[int | None, bool]:
    """The overall stars (mean of the rated items, rounded half up) and whether the fail-close
    rule capped it; None when nothing is rated."""
    rated = [r.stars for r in data.items.values() if r.stars is not None]
    if not rated:
        return None, False
    overall = int(statistics.mean(rated) + 0.5)
    failed = [item for item, stars in fail_close_rows(data) if stars is not None and stars < 3]
    if failed and overall > FAIL_CLOSE_CAP:
        return FAIL_CLOSE_CAP, True
    return overall, False


def fail_close_rows(data: ReportData) -> list[tuple[CatalogItem, int | None]]:
    """The fail-close items that apply to the measured workload, with their stars (or None)."""
    prerequisites = data.prerequisites()[-1]
    return [
        (entry, (data.result(entry.id) or _NO_RESULT).stars)
        for entry in ITEMS.values()
        if fail_close_applies(entry, prerequisites)
    ]


class _NoResult:
    stars = None


_NO_RESULT = _NoResult()


def category_average(data: ReportData, category: Category) -> float | None:
    rated = [
        r.stars for e in items_in(category) if (r := data.result(e.id)) and r.stars is not None
    ]
    return statistics.mean(rated) if rated else None


def original_average(category: Category) -> float:
    return statistics.mean(e.original_stars for e in items_in(category))


# --- markdown ------------------------------------------------------------------------------------
def stars(n: int | None) -> str:
    return "—" if n is None else "★" * n + "☆" * (5 - n)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: float) -> str:
    return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"


class Markdown:
    def __init__(self, lang: Lang) -> None:
        self.lang = lang
        self.lines: list[str] = []

    def __call__(self, text: Msg | str) -> str:
        """A message or catalogue string in this report's language."""
        return render(text, self.lang)

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def heading(self, level: int, text: Msg | str) -> None:
        self.add("", "#" * level + " " + self(text), "")

    def paragraph(self, text: str) -> None:
        self.add("", text, "")

    def table(self, headers: Sequence[Msg | str], rows: Iterable[Sequence[str]]) -> None:
        self.add("", "| " + " | ".join(self(h) for h in headers) + " |")
        self.add("|" + "---|" * len(headers))
        for row in rows:
            self.add("| " + " | ".join(_cell(c) for c in row) + " |")
        self.add("")

    def text(self) -> str:
        body = "\n".join(self.lines).strip("\n") + "\n"
        while "\n\n\n" in body:
            body = body.replace("\n\n\n", "\n\n")
        return body


# --- sections ------------------------------------------------------------------------------------
def render_report(data: ReportData, lang: Lang, chart_files: dict[str, str]) -> str:
    md = Markdown(lang)
    other: Lang = "ja" if lang == "en" else "en"
    md.add("# " + md(t("Inngest durable execution: verification report")))
    md.paragraph(
        md(
            t(
                "Generated by `report.py` from `results/*.json`; do not edit by hand. Every "
                "rating below was computed by the rubric next to its checks in a category "
                "script, from evidence that script produced against a real Inngest dev server "
                "(or, where labelled, from cited documentation). Other language: [{file}]({file}).",
                file=REPORTS[other],
            )
        )
    )
    for problem in data.problems:
        md.paragraph("> ⚠ " + md(t("A results file could not be read: {problem}", problem=problem)))
    _verdict(md, data)
    _environment(md, data)
    _scale(md)
    _prerequisites(md, data)
    _coverage(md, data, chart_files)
    _fail_close(md, data)
    _differences(md, data)
    _findings(md, data)
    _recommendations(md, data)
    _temporal(md, data)
    _items(md, data)
    _reproduce(md)
    return md.text()


def _verdict(md: Markdown, data: ReportData) -> None:
    md.heading(2, t("Verdict"))
    items = data.items
    rated = [r for r in items.values() if r.stars is not None]
    overall, capped = overall_rating(data)
    if overall is None:
        md.paragraph(md(t("No item has been measured yet.")))
        return
    md.paragraph(
        md(
            t(
                "**Overall: {stars} {label}** (the mean of the {rated} rated items, rounded; the "
                "original report: {original}).",
                stars=stars(overall),
                label=render(STAR_LABELS[overall], md.lang),
                rated=len(rated),
                original=stars(ORIGINAL_OVERALL),
            )
        )
    )
    if capped:
        md.paragraph(
            md(
                t(
                    "The fail-close rule capped the overall rating at {cap}: an applicable "
                    "fail-close item is rated below three stars.",
                    cap=stars(FAIL_CLOSE_CAP),
                )
            )
        )
    good = sum(r.good for r in rated)
    differ = [r for r in rated if r.differs_from_original]
    md.paragraph(
        md(
            t(
                "{rated} of {total} items are rated: {good} good (★★★ or more), {not_good} not "
                "good. {differ} ratings differ from the original report ({lower} lower, {higher} "
                "higher).",
                rated=len(rated),
                total=len(ITEMS),
                good=good,
                not_good=len(rated) - good,
                differ=len(differ),
                lower=sum((r.stars or 0) < r.original_stars for r in differ),
                higher=sum((r.stars or 0) > r.original_stars for r in differ),
            )
        )
    )
    missing = [e.category.name for e in ITEMS.values() if e.id not in items]
    if missing:
        codes = ", ".join(dict.fromkeys(missing))
        md.paragraph(
            md(
                t(
                    "Not measured yet: {count} items (categories {codes}). Their scripts have "
                    "not produced results; the overall rating covers the rated items only.",
                    count=len(missing),
                    codes=codes,
                )
            )
        )


def _server_builds(md: Markdown, sessions: list[tuple[str, Session]]) -> None:
    """What the measured server was (harness.serverbuild) and whether it passed the preflight
    (harness.preflight), once per distinct build."""
    builds: dict[tuple[str, str, str, str], list[str]] = {}
    preflights: list[bool | None] = []
    for script, session in sessions:
        server = session.dev_server
        build = server.get("build") or {}
        if build.get("stand_in_driver"):
            origin = md(t("a build from source with a stand-in SQLite driver, not the release"))
        elif build.get("stand_in_driver") is False:
            origin = md(t("the release's SQLite driver"))
        else:
            origin = md(t("build not recorded"))
        key = (
            str(server.get("version", "?")),
            origin,
            str(build.get("sqlite_driver") or "?"),
            str(build.get("sqlite_version") or "?"),
        )
        builds.setdefault(key, []).append(script)
        preflight = server.get("preflight")
        preflights.append(preflight.get("passed") if isinstance(preflight, dict) else None)
    for (version, origin, driver, sqlite), scripts in builds.items():
        md.paragraph(
            md(
                t(
                    "Inngest server {version}: {origin}; SQLite driver {driver}, SQLite {sqlite} "
                    "({count} of the scripts).",
                    version=version,
                    origin=origin,
                    driver=driver,
                    sqlite=sqlite,
                    count=len(set(scripts)),
                )
            )
        )
    notes = sorted(
        {str(n) for _, s in sessions if (n := (s.dev_server.get("build") or {}).get("note"))}
    )
    for note in notes:
        md.paragraph(md(t("Build note recorded with the results: `{note}`.", note=note)))
    checked = [p for p in preflights if p is not None]
    md.paragraph(
        md(
            t(
                "Preflight (one known run read back every way the suite reads runs, before "
                "rating): passed in {passed} of {total} sessions; not run in {skipped}.",
                passed=sum(checked),
                total=len(preflights),
                skipped=len(preflights) - len(checked),
            )
        )
    )


def _flags(session: Session) -> str:
    server = session.dev_server
    if not server.get("owned"):
        return "external"
    options = server.get("options") or {}
    if not options and server.get("start_opts"):
        options = {"retry_interval_s": server["start_opts"].get("retry_interval") or None}
    parts = []
    interval = options.get("retry_interval_s")
    parts.append(f"--retry-interval {interval}" if interval else "default backoff")
    if options.get("tick_ms"):
        parts.append(f"--tick {options['tick_ms']}")
    if options.get("persist"):
        parts.append("--persist")
    return " ".join(parts)


def _environment(md: Markdown, data: ReportData) -> None:
    md.heading(2, t("Test environment"))
    sessions = data.sessions()
    if not sessions:
        md.paragraph(md(t("No results yet.")))
        return
    md.table(
        [
            t("Script"),
            t("Measured at (UTC)"),
            t("Inngest dev server"),
            t("Dev server flags"),
            t("Python SDK"),
            t("Python"),
            t("Cores"),
        ],
        [
            [
                f"`{script}`",
                f"{session.started_at:%Y-%m-%d %H:%M}",
                str(session.dev_server.get("version", "?")),
                f"`{_flags(session)}`",
                f"inngest {session.sdk_version}",
                session.python,
                str(session.cpu_count or "?"),
            ]
            for script, session in sessions
        ],
    )
    platforms = sorted({session.platform for _, session in sessions})
    md.paragraph(md(t("Platform: {platforms}.", platforms="; ".join(platforms))))
    _server_builds(md, sessions)
    md.paragraph(
        md(
            t(
                "The suite starts its own dev server per script with `--retry-interval 1` (linear "
                "1 s retries instead of the default backoff) so that runs finish in bounded time; "
                "items that measure other settings restart it with the flags they need, and their "
                "evidence says so."
            )
        )
    )
    run = data.run
    if run:
        scope = t("the whole suite") if run.complete else t("a partial run")
        mode = (
            t("one script at a time")
            if run.jobs == 1
            else t(
                "up to {jobs} scripts at once, scripts that need the machine alone after them",
                jobs=run.jobs,
            )
        )
        md.paragraph(
            md(
                t(
                    "Last run with `run_all.py`: {scope}, {mode}; {wall:.0f} s of wall time on "
                    "{cores} cores ({started} UTC).",
                    scope=md(scope),
                    mode=md(mode),
                    wall=run.wall_s,
                    cores=run.cpu_count or "?",
                    started=run.started_at.strftime("%Y-%m-%d %H:%M"),
                )
            )
        )
        md.table(
            [t("Script"), t("Items"), t("Time (s)"), t("Exit code"), t("Ran alone")],
            [
                [
                    f"`{s.script}`",
                    str(len(s.items)),
                    f"{s.duration_s:.0f}" if s.duration_s is not None else "—",
                    f"{s.exit_code} ({s.outcome})" if s.exit_code is not None else s.outcome,
                    md(t("yes")) if s.runs_alone else "",
                ]
                for s in run.scripts
            ],
        )


def _scale(md: Markdown) -> None:
    md.heading(2, t("Star scale"))
    md.table(
        [t("Stars"), t("Label"), t("Meaning")],
        [[stars(n), md(STAR_LABELS[n]), md(STAR_DEFINITIONS[n])] for n in STAR_LABELS],
    )
    md.paragraph(
        md(
            t(
                "An item is good at ★★★ or more. Stars come from each item's rubric: ordered "
                "conditions on the checks its probe recorded, worst first. Where the suite builds "
                "a pattern that closes a gap the platform leaves, the pattern is rated separately "
                "and the item's stars stay those of the native feature."
            )
        )
    )


def _prerequisites(md: Markdown, data: ReportData) -> None:
    md.heading(2, t("Prerequisite parameters"))
    md.paragraph(
        md(
            t(
                "The workload the ratings assume (the original evaluation's parameters; each "
                "script takes them as options). They decide which fail-close items apply."
            )
        )
    )
    measured = data.prerequisites()
    default = Prerequisites()
    rows = []
    for name, label in PREREQUISITE_LABELS.items():
        values = [str(getattr(p, name)) for p in measured]
        shown = " / ".join(md(PREREQUISITE_VALUES.get(v, v)) for v in dict.fromkeys(values))
        original = str(getattr(default, name))
        rows.append([md(label), shown, md(PREREQUISITE_VALUES.get(original, original))])
    md.table([t("Parameter"), t("Measured under"), t("Original report")], rows)


def _coverage(md: Markdown, data: ReportData, chart_files: dict[str, str]) -> None:
    md.heading(2, t("Coverage by category"))
    rows = []
    for category in Category:
        entries = items_in(category)
        results = [data.result(e.id) for e in entries]
        rated = [r for r in results if r and r.stars is not None]
        average = category_average(data, category)
        rows.append(
            [
                f"{category.name} {md(category.value)}",
                str(len(entries)),
                str(len(rated)),
                str(sum(r.good for r in rated)),
                str(sum(not r.good for r in rated)),
                str(len(entries) - len(rated)),
                f"{average:.1f}" if average is not None else "—",
                f"{original_average(category):.1f}",
            ]
        )
    md.table(
        [
            t("Category"),
            t("Items"),
            t("Rated"),
            t("Good (★★★+)"),
            t("Not good"),
            t("Not measured"),
            t("Average ★ (measured)"),
            t("Average ★ (original)"),
        ],
        rows,
    )
    if "categories" in chart_files:
        md.paragraph(f"![]({chart_files['categories']})")
        md.paragraph(
            md(
                t(
                    "Average stars per category: grey bars are the original report, blue bars "
                    "the measured ratings (a dash where nothing is measured yet); the dotted line "
                    "is the ★★★ threshold."
                )
            )
        )
    if "items" in chart_files:
        md.paragraph(f"![]({chart_files['items']})")
        md.paragraph(
            md(
                t(
                    "Every item: grey dots are the original report's stars, blue dots the "
                    "measured stars where they agree, orange dots (joined by a line) where they "
                    "differ."
                )
            )
        )


def _fail_close(md: Markdown, data: ReportData) -> None:
    md.heading(2, t("Fail-close items"))
    rows = []
    for entry, item_stars in fail_close_rows(data):
        if item_stars is None:
            verdict = md(t("not measured: no verdict"))
        elif item_stars >= GOOD_THRESHOLD:
            verdict = md(t("pass"))
        else:
            verdict = "**" + md(t("FAIL")) + "**"
        rows.append(
            [
                f"{entry.id} {md(entry.name)}",
                md(entry.fail_close or ""),
                stars(item_stars),
                stars(entry.original_stars),
                verdict,
            ]
        )
    md.table([t("Item"), t("Applies"), t("Measured"), t("Original"), t("Verdict")], rows)
    md.paragraph(
        md(
            t(
                "The rule: every fail-close item that applies to the workload must be rated ★★★ "
                "or more; when one is not, the overall rating is capped at {cap}. An item that "
                "could not be measured gives no verdict either way.",
                cap=stars(FAIL_CLOSE_CAP),
            )
        )
    )


def _differences(md: Markdown, data: ReportData) -> None:
    md.heading(2, t("Where the measurements differ from the original report"))
    differ = [r for r in data.items.values() if r.differs_from_original and r.rating]
    if not differ:
        md.paragraph(md(t("No measured rating differs from the original report.")))
        return
    md.table(
        [t("Item"), t("Original"), t("Measured"), t("Why (from the evidence)")],
        [
            [
                f"[{r.id}](#{r.id.lower()}) {md(r.name)}",
                stars(r.original_stars),
                stars(r.stars),
                md(r.rating.reason) if r.rating else "",
            ]
            for r in differ
        ],
    )


def _findings(md: Markdown, data: ReportData) -> None:
    md.heading(2, t("Key findings"))
    strong = [
        (c, avg) for c in Category if (avg := category_average(data, c)) is not None and avg >= 4
    ]
    if strong:
        md.heading(3, t("Strengths (categories averaging ★★★★ or more)"))
        for category, average in strong:
            md.add(f"- **{category.name} {md(category.value)}**: {average:.1f}")
    weak = [r for r in data.items.values() if r.stars is not None and not r.good]
    if weak:
        md.heading(3, t("Weak points (items below ★★★)"))
        for r in weak:
            reason = md(r.rating.reason) if r.rating else ""
            md.add(f"- **{r.id} {md(r.name)}** {stars(r.stars)}: {reason}")
    patterns = [r for r in data.items.values() if r.rating and r.rating.pattern]
    if patterns:
        md.heading(3, t("Gaps a pattern closes (built and tested here)"))
        for r in patterns:
            assert r.rating and r.rating.pattern
            pattern = r.rating.pattern
            md.add(
                f"- **{r.id} {md(r.name)}**: "
                + md(
                    t(
                        "native {native}, with the pattern ({pattern}) {with_pattern}",
                        native=stars(r.stars),
                        pattern=md(pattern.pattern),
                        with_pattern=stars(pattern.stars),
                    )
                )
            )
    lower = [r for r in data.items.values() if r.stars is not None and r.stars < r.original_stars]
    higher = [r for r in data.items.values() if r.stars is not None and r.stars > r.original_stars]
    if lower or higher:
        md.heading(3, t("Against the original report"))
        if lower:
            ids = ", ".join(f"{r.id} ({r.original_stars}→{r.stars})" for r in lower)
            md.add("- " + md(t("Rated lower than the original: {ids}.", ids=ids)))
        if higher:
            ids = ", ".join(f"{r.id} ({r.original_stars}→{r.stars})" for r in higher)
            md.add("- " + md(t("Rated higher than the original: {ids}.", ids=ids)))


def _recommendations(md: Markdown, data: ReportData) -> None:
    advised = [r for r in data.items.values() if r.rating and r.rating.advice]
    md.heading(2, t("Recommendations"))
    if not advised:
        md.paragraph(md(t("No rubric has advice for the measured items.")))
        return
    md.paragraph(
        md(t("What the evidence suggests a team adopting Inngest should do, weakest items first:"))
    )
    for r in sorted(advised, key=lambda r: (r.stars or 0, list(ITEMS).index(r.id))):
        assert r.rating and r.rating.advice
        md.add(f"- **{r.id} {md(r.name)}** ({stars(r.stars)}): {md(r.rating.advice)}")


def _temporal(md: Markdown, data: ReportData) -> None:
    md.heading(2, t("Temporal and Inngest"))
    comparison = data.temporal
    if comparison is None:
        md.paragraph(md(t("No comparison has been recorded (`python compare_temporal.py`).")))
        return
    if not comparison.measured:
        _temporal_documented(md, comparison, data)
        return
    versions = comparison.server.get("versions") or {}
    if versions:
        md.paragraph(
            md(
                t(
                    "The Temporal side was measured by `compare_temporal.py` against Temporal's "
                    "own dev server: Temporal CLI {cli} (server {server}), Python SDK temporalio "
                    "{sdk}, on {cores} cores; written {at} UTC, the run took {seconds} s.",
                    cli=versions.get("cli", "?"),
                    server=versions.get("server", comparison.temporal_version or "?"),
                    sdk=comparison.sdk_version or "?",
                    cores=comparison.machine.get("cpu_count") or "?",
                    at=comparison.written_at.strftime("%Y-%m-%d %H:%M"),
                    seconds=f"{comparison.duration_s or 0:.0f}",
                )
            )
        )
    rows = []
    for row in comparison.rows:
        cell = row.temporal
        if cell.basis == "documented":
            basis = f"[{md(DOCUMENTED_LABEL)}]({cell.source})"
        elif cell.basis == "measured":
            basis = md(t("measured ({checks})", checks=", ".join(cell.checks)))
        else:
            basis = md(t("not measured"))
        inngest = []
        for item_id in row.inngest_items:
            shown = stars((data.result(item_id) or _NO_RESULT).stars)
            inngest.append(f"[{item_id}](#{item_id.lower()}) {shown}")
        original = row.original
        if original is None:
            said = "—"
        elif original.stars is not None:
            said = f"{stars(original.stars)} {md(original.text)}"
        else:
            said = md(original.text)
        if row.differs is None:
            differs = "—"
        elif row.differs:
            why = f": {md(row.differs_why)}" if row.differs_why else ""
            differs = "**" + md(t("differs")) + "**" + why
        else:
            differs = md(t("agrees"))
        rows.append(
            [
                md(row.aspect),
                md(cell.text),
                stars(cell.stars) if cell.stars is not None else "—",
                basis,
                said,
                differs,
                " · ".join(inngest),
            ]
        )
    md.table(
        [
            t("Aspect"),
            t("Temporal"),
            t("Temporal ★"),
            t("Temporal: basis"),
            t("Original report (Temporal)"),
            t("Against the original"),
            t("Inngest: measured items"),
        ],
        rows,
    )
    md.paragraph(
        md(
            t(
                "The Inngest column is this suite's measured rating of the items named; a dash "
                "means not measured yet. A measured Temporal cell comes from probes run against "
                "Temporal's dev server, rated by rubrics like the Inngest ones (its checks are "
                "listed below); a documented Temporal cell repeats Temporal's documentation and "
                "was not executed here. The original report's Temporal column came from "
                "documentation and reputation."
            )
        )
    )
    if comparison.items:
        _temporal_evidence(md, comparison)


def _temporal_documented(md: Markdown, comparison: Comparison, data: ReportData) -> None:
    """A comparison without measurements: every Temporal cell from documentation."""
    rows = []
    for row in comparison.rows:
        cell = row.temporal
        if cell.basis == "documented":
            basis = f"[{md(DOCUMENTED_LABEL)}]({cell.source})"
        else:
            basis = md(t("measured ({checks})", checks=", ".join(cell.checks)))
        inngest = []
        for item_id in row.inngest_items:
            shown = stars((data.result(item_id) or _NO_RESULT).stars)
            inngest.append(f"[{item_id}](#{item_id.lower()}) {shown}")
        rows.append([md(row.aspect), md(cell.text), basis, " · ".join(inngest)])
    md.table([t("Aspect"), t("Temporal"), t("Temporal: basis"), t("Inngest: measured items")], rows)
    md.paragraph(
        md(
            t(
                "The Inngest column is this suite's measured rating of the items named; a dash "
                "means not measured yet. A documented Temporal cell repeats Temporal's "
                "documentation and was not executed here."
            )
        )
    )


def _temporal_evidence(md: Markdown, comparison: Comparison) -> None:
    md.heading(3, t("Temporal evidence"))
    symbols = {CheckOutcome.PASSED: "✔", CheckOutcome.FAILED: "✘", CheckOutcome.NOT_RUN: "○"}
    for result in comparison.items.values():
        md.heading(4, f"Temporal {result.id}")
        rating = result.rating
        if rating:
            head = f"**{md(result.name)}** — {stars(rating.stars)} {md(STAR_LABELS[rating.stars])}"
        elif result.error:
            head = f"**{md(result.name)}** — " + md(t("no rating: {error}", error=result.error))
        else:
            head = f"**{md(result.name)}** — " + md(t("figures, no stars"))
        md.paragraph(head)
        if rating:
            md.add("- " + md(t("Why: {reason}", reason=md(rating.reason))))
            if rating.drivers:
                md.add("- " + md(t("Decided by: {checks}", checks=", ".join(rating.drivers))))
            md.add("")
        for check in result.evidence.checks:
            line = f"  - {symbols[check.outcome]} {md(check.description)} <sub>`{check.key}`</sub>"
            if check.outcome is CheckOutcome.NOT_RUN and check.reason:
                line += " — " + md(t("not run: {reason}", reason=md(check.reason)))
            elif check.outcome is CheckOutcome.FAILED and check.observed is not None:
                line += " — " + md(t("observed: {value}", value=f"`{_short(check.observed)}`"))
            md.add(line)
        for m in result.evidence.measurements:
            note = f" — {md(m.note)}" if m.note else ""
            md.add(f"  - ≈ `{m.key}` = {_number(m.value)} {m.unit}{note}")
        for fact in result.evidence.facts:
            md.add(f"  - 📄 {md(fact.claim)} — [{md(DOCUMENTED_LABEL)}]({fact.source})")
        if result.source:
            md.add(
                "",
                md(
                    t(
                        "Produced by [`{probe}`]({script}#L{line}) in {duration:.0f} s.",
                        probe=result.source.probe,
                        script=result.source.script,
                        line=result.source.line,
                        duration=result.duration_s,
                    )
                ),
            )
        md.add("")


def _items(md: Markdown, data: ReportData) -> None:
    md.heading(2, t("Every item, with its evidence"))
    symbols = {CheckOutcome.PASSED: "✔", CheckOutcome.FAILED: "✘", CheckOutcome.NOT_RUN: "○"}
    for category in Category:
        md.heading(3, f"{category.name} — {md(category.value)}")
        entries = items_in(category)
        script = next((data.script_of(e.id) for e in entries if data.script_of(e.id)), None)
        if script is None:
            md.paragraph(md(t("Not measured yet: this category's script has no results.")))
            continue
        md.paragraph(md(t("Script: [`{script}`]({script}).", script=script)))
        if category is Category.PF and "step-latency" in chart_files(data):
            md.paragraph(f"![]({chart_files(data)['step-latency']})")
            md.paragraph(
                md(
                    t(
                        "PF-01's raw samples: the overhead each sequential step adds, in ms on a "
                        "log scale; blue at the dev server's default queue tick, orange at "
                        "--tick 10; dashed lines mark the medians."
                    )
                )
            )
        md.table(
            [t("Item"), t("Measured"), t("Original"), t("Basis")],
            [
                [
                    f"[{e.id}](#{e.id.lower()}) {md(e.name)}",
                    stars(r.stars) if (r := data.result(e.id)) else "—",
                    stars(e.original_stars),
                    md(r.basis) if r else md(t("not measured")),
                ]
                for e in entries
            ],
        )
        for entry in entries:
            result = data.result(entry.id)
            md.heading(4, f"{entry.id}")
            if result is None:
                md.paragraph(f"**{md(entry.name)}** — " + md(t("not measured yet")))
                continue
            _item(md, result, symbols)


def _item(md: Markdown, r: ItemResult, symbols: dict[CheckOutcome, str]) -> None:
    label = md(STAR_LABELS[r.stars]) if r.stars else md(t("no rating"))
    head = f"**{md(r.name)}** — {stars(r.stars)} {label}"
    if r.differs_from_original:
        head += " · " + md(t("original report: {stars}", stars=stars(r.original_stars)))
    if r.fail_close:
        head += " · " + md(t("fail-close ({condition})", condition=md(r.fail_close)))
    md.paragraph(head)
    if r.rating:
        md.add("- " + md(t("Why: {reason}", reason=md(r.rating.reason))))
        if r.rating.drivers:
            md.add("- " + md(t("Decided by: {checks}", checks=", ".join(r.rating.drivers))))
        pattern = r.rating.pattern
        if pattern:
            md.add(
                "- "
                + md(
                    t(
                        "With the pattern ({pattern}): {stars} — {reason}",
                        pattern=md(pattern.pattern),
                        stars=stars(pattern.stars),
                        reason=md(pattern.reason),
                    )
                )
            )
        if r.rating.advice:
            md.add("- " + md(t("Advice: {advice}", advice=md(r.rating.advice))))
    else:
        md.add("- " + md(t("No rating: {error}", error=r.error or "")))
    if r.not_remeasured:
        md.add(
            "- "
            + md(
                t(
                    "Not re-measured in session {session} ({status}: {error}); the rating is "
                    "from an earlier session.",
                    session=r.not_remeasured.session,
                    status=str(r.not_remeasured.status),
                    error=r.not_remeasured.error,
                )
            )
        )
    md.add("")
    for check in r.evidence.checks:
        line = f"  - {symbols[check.outcome]} {md(check.description)} <sub>`{check.key}`</sub>"
        if check.outcome is CheckOutcome.NOT_RUN and check.reason:
            line += " — " + md(t("not run: {reason}", reason=md(check.reason)))
        elif check.outcome is CheckOutcome.FAILED and check.observed is not None:
            line += " — " + md(t("observed: {value}", value=f"`{_short(check.observed)}`"))
        md.add(line)
        picture = check.observed.get("file") if isinstance(check.observed, dict) else None
        if isinstance(picture, str) and picture.endswith(".png"):
            md.add(f"    ![{check.key}](results/{picture})")  # a screenshot kept with the results
    for m in r.evidence.measurements:
        note = f" — {md(m.note)}" if m.note else ""
        md.add(f"  - ≈ `{m.key}` = {_number(m.value)} {m.unit}{note}")
    for fact in r.evidence.facts:
        md.add(f"  - 📄 {md(fact.claim)} — [{md(DOCUMENTED_LABEL)}]({fact.source})")
    if r.source:
        functions = ", ".join(
            f"[`{fn}`]({r.source.script}#L{line})" for fn, line in r.source.functions.items()
        )
        md.add(
            "",
            md(
                t(
                    "Produced by [`{probe}`]({script}#L{line}) in `{script}`; functions: "
                    "{functions}. Measured in session {session}, in {duration:.0f} s.",
                    probe=r.source.probe,
                    script=r.source.script,
                    line=r.source.line,
                    functions=functions or "—",
                    session=r.session,
                    duration=r.duration_s,
                )
            ),
        )
    md.add("")


def _reproduce(md: Markdown) -> None:
    md.heading(2, t("Reproducing this report"))
    md.add(
        "",
        "```sh",
        "make suite                                   # "
        + md(t("every category, then both reports")),
        ".venv/bin/python 02_rt_retry_timeout.py      # " + md(t("one category")),
        ".venv/bin/python report.py                   # " + md(t("the reports from results/")),
        "```",
        "",
    )


# --- generating ----------------------------------------------------------------------------------
CHARTS = {
    "categories": "stars-by-category.png",
    "items": "items-original-vs-measured.png",
    "step-latency": "step-latency.png",
}
# The PF-01 measurements whose raw samples the step-latency chart shows, in its colour order.
LATENCY_SERIES = ("step-overhead:default-tick", "step-overhead:low-tick")


def latency_samples(data: ReportData) -> list[list[float]]:
    """PF-01's raw per-step overhead samples (default tick, then low tick), if it kept them."""
    result = data.result("PF-01")
    if result is None:
        return []
    by_key = {m.key: m.samples or [] for m in result.evidence.measurements}
    return [list(by_key[k]) for k in LATENCY_SERIES if by_key.get(k)]


def _chart_rows(
    data: ReportData,
) -> tuple[list[charts.CategoryAverage], list[charts.ItemStars]]:
    categories = [
        charts.CategoryAverage(
            c.name,
            round(original_average(c), 3),
            None if (a := category_average(data, c)) is None else round(a, 3),
        )
        for c in Category
    ]
    items = [
        charts.ItemStars(e.id, e.original_stars, (data.result(e.id) or _NO_RESULT).stars)
        for e in ITEMS.values()
    ]
    return categories, items


def chart_files(data: ReportData) -> dict[str, str]:
    """Chart name -> path relative to the repository root (none before anything is rated)."""
    if not data.items:
        return {}
    files = {name: f"{CHART_DIR}/{file}" for name, file in CHARTS.items()}
    if not latency_samples(data):
        del files["step-latency"]
    return files


def chart_inputs(data: ReportData) -> dict[str, Any]:
    """What each chart is drawn from; a PNG records the hash of it (see charts.data_hash)."""
    categories, items = _chart_rows(data)
    return {
        "categories": [r.__dict__ for r in categories],
        "items": [r.__dict__ for r in items],
        "step-latency": latency_samples(data),
    }


def draw_charts(data: ReportData, root: Path) -> dict[str, str]:
    """Draw the charts into ``root/report``; returns chart name -> path relative to root."""
    files = chart_files(data)
    if files:
        categories, items = _chart_rows(data)
        charts.stars_by_category(categories, root / files["categories"])
        charts.items_original_vs_measured(items, root / files["items"])
    if "step-latency" in files:
        charts.latency_distribution(latency_samples(data), root / files["step-latency"])
    return files


def generate(results_dir: Path, root: Path) -> list[Path]:
    """Write both reports and their charts; returns the paths written."""
    data = ReportData.load(results_dir)
    files = draw_charts(data, root)
    written = [root / p for p in files.values()]
    for lang, name in REPORTS.items():
        path = root / name
        path.write_text(render_report(data, lang, files), encoding="utf-8")
        written.append(path)
    return written


def drift(results_dir: Path, root: Path) -> list[str]:
    """What differs between the committed reports/charts and what the results say."""
    data = ReportData.load(results_dir)
    files = chart_files(data)
    problems = []
    for lang, name in REPORTS.items():
        path = root / name
        if not path.exists() or path.read_text(encoding="utf-8") != render_report(
            data, lang, files
        ):
            problems.append(f"{name} is not what the results say: run `python report.py`")
    if files:
        inputs = chart_inputs(data)
        for name, file in files.items():
            path = root / file
            if not path.exists() or charts.recorded_hash(path) != charts.data_hash(inputs[name]):
                problems.append(f"{file} is not what the results say: run `python report.py`")
    return problems
