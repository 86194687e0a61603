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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.faults.model import CAMPAIGN_FILE, Campaign, CampaignFile, InvariantOutcome
from harness.i18n import LIST_SEPARATOR, N_, Lang, Msg, render, render_param, t
from harness.rating.catalog import (
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
from harness.rating.evidence import (
    DOCUMENTED_LABEL,
    Check,
    CheckOutcome,
    ItemResult,
    ItemStatus,
    PatternRating,
)
from harness.rating.results import ResultsFile, Session, results_dir_for
from harness.rating.runlog import RunLog
from harness.report import charts
from harness.servers.selfhosted import SELF_HOSTED
from harness.temporal.comparison import COMPARISON_FILE, Comparison

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
    campaign: CampaignFile | None = None
    problems: list[str] = field(default_factory=list)  # files that could not be read
    # The same items measured on the production server (inngest start on PostgreSQL + Redis,
    # results/self-hosted/), when there are such results.
    self_hosted: ReportData | None = None

    @classmethod
    def load(cls, results_dir: Path) -> ReportData:
        data = cls._load(results_dir)
        production = cls._load(results_dir_for(results_dir, SELF_HOSTED))
        if production.scripts or production.problems:
            data.self_hosted = production
            data.problems += [f"{SELF_HOSTED}/{problem}" for problem in production.problems]
        return data

    @classmethod
    def _load(cls, results_dir: Path) -> ReportData:
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
        campaign = results_dir / CAMPAIGN_FILE
        if campaign.exists():
            try:
                data.campaign = CampaignFile.model_validate_json(campaign.read_text("utf-8"))
            except ValidationError as exc:
                data.problems.append(f"{CAMPAIGN_FILE}: {str(exc).splitlines()[0]}")
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

    @property
    def deployment(self) -> str:
        """The deployment prerequisite: self-hosted when the latest run on either server was
        given ``--deployment self-hosted``, else the dev server's results' latest value."""
        latest = [self.prerequisites()[-1].deployment]
        if self.self_hosted:
            latest.append(self.self_hosted.prerequisites()[-1].deployment)
        return SELF_HOSTED if SELF_HOSTED in latest else latest[0]

    @property
    def verdict(self) -> ReportData:
        """The results whose ratings the verdict and the fail-close rule use: the self-hosted
        server's when the workload is deployed self-hosted (``--deployment self-hosted``) and
        there are such results, the dev server's otherwise."""
        if self.self_hosted and self.self_hosted.items and self.deployment == SELF_HOSTED:
            return self.self_hosted
        return self


def overall_rating(data: ReportData) -> tuple[int | None, bool]:
    """The overall stars (mean of the rated items, rounded half up) and whether the fail-close
    rule capped it; None when nothing is rated."""
    data = data.verdict
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
    data = data.verdict
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

    def anchor(self, name: str) -> None:
        """A link target that is the same in both languages (headings are not)."""
        self.add("", f'<a id="{name}"></a>')

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
ITEMS_ANCHOR = "all-items"
# How many findings the summary leads with, and how many actions it lists.
FINDINGS_MAX, FINDINGS_MIN = 5, 3
ACTIONS_MAX = 10
CLAUSE_SEPARATOR = N_("; ")
LABELLED = N_("{label}: {value}")
# Two sentences in a row (Japanese needs no space between them).
SENTENCES = N_("{first} {second}")
GROUPED = N_("{group} ({members})")
# Checks named inside a reason, by what they expected.
CHECKS_HELD = N_("{checks} held")
CHECKS_NOT_HELD = N_("{checks} did not hold")
CHECK_QUOTED = N_("“{check}”")
ITEM_STARS = N_("{item}, {stars}")
# Where the appendix's parts start (explicit anchors: headings differ between the languages).
ENVIRONMENT_ANCHOR = "test-environment"
SCALE_ANCHOR = "star-scale"
FAIL_CLOSE_ANCHOR = "fail-close-items"
EVIDENCE_ANCHOR = "evidence"
# A measurement's value with its unit: units are catalogue entries too, so that a Japanese
# report never shows "25 events". A unit missing here falls back to "{value} {unit}" (and a test
# lists it).
UNIT_TEMPLATES: dict[str, str] = {
    "": N_("{value}"),
    "s": N_("{value} s"),
    "ms": N_("{value} ms"),
    "KiB": N_("{value} KiB"),
    "bytes": N_("{value} bytes"),
    "x": N_("{value} times"),
    "load": N_("load {value}"),
    "runs": N_("{value} runs"),
    "runs/s": N_("{value} runs/s"),
    "ms/run": N_("{value} ms/run"),
    "ms/step": N_("{value} ms/step"),
    "steps/s": N_("{value} steps/s"),
    "steps at once": N_("{value} steps at once"),
    "events": N_("{value} events"),
    "lines": N_("{value} lines"),
    "names": N_("{value} names"),
    "chunks": N_("{value} chunks"),
    "functions": N_("{value} functions"),
    "languages": N_("{value} languages"),
    "features": N_("{value} features"),
    "executions": N_("{value} executions"),
    "re-entries": N_("{value} re-entries"),
    "attempts": N_("{value} attempts"),
    "attempt": N_("attempt {value}"),
    "days": N_("{value} days"),
    "row": N_("row {value}"),
    "rows": N_("{value} rows"),
    "samples": N_("{value} samples"),
    "queries": N_("{value} queries"),
    "workflows": N_("{value} workflows"),
    "workflows/s": N_("{value} workflows/s"),
    "activities": N_("{value} activities"),
    "activities/s": N_("{value} activities/s"),
    "ms per unit": N_("{value} ms per unit"),
    "%": N_("{value} %"),
}


def with_unit(md: Markdown, value: float, unit: str) -> str:
    """A measured number and its unit, in the report's language."""
    template = UNIT_TEMPLATES.get(unit)
    if template is None:
        return f"{_number(value)} {unit}".strip()
    return md(template).format(value=_number(value))


def joined(md: Markdown, parts: Iterable[str]) -> str:
    return md(LIST_SEPARATOR).join(parts)


def item_link(entry: CatalogItem | ItemResult, md: Markdown) -> str:
    return f"[{entry.id}](#{entry.id.lower()}) {md(entry.name)}"


def render_reason(md: Markdown, r: ItemResult) -> str:
    """An item's reason, with any list of check keys in it named in words.

    Some rubrics end a reason with the keys of the checks that failed ("…: key-a, key-b"); a
    reader of prose needs what those checks expected, so each key becomes its description (what
    was expected, and that it did not hold). The keys themselves stay in "Decided by".
    """
    if r.rating is None:
        return ""
    reason = r.rating.reason
    checks = {c.key: c for c in r.evidence.checks}
    params: dict[str, Any] = {k: render_param(v, md.lang) for k, v in reason.params.items()}
    for name, value in reason.params.items():
        if not isinstance(value, str):
            continue
        keys = [k.strip() for k in value.split(",")]
        if not keys or not all(k in checks for k in keys):
            continue
        quoted = [md(CHECK_QUOTED).format(check=md(checks[k].description)) for k in keys]
        held = all(checks[k].outcome is CheckOutcome.PASSED for k in keys)
        params[name] = md(CHECKS_HELD if held else CHECKS_NOT_HELD).format(
            checks=joined(md, quoted)
        )
    return md(reason.id).format(**params) if params else md(reason.id)


def render_report(data: ReportData, lang: Lang, chart_files: dict[str, str]) -> str:
    md = Markdown(lang)
    other: Lang = "ja" if lang == "en" else "en"
    md.add("# " + md(t("Inngest durable execution: verification report")))
    md.paragraph(
        md(
            t(
                "Generated by `report.py` from `results/*.json` (do not edit by hand); every "
                "rating was computed from evidence a category script produced against a real "
                "Inngest dev server. Other language: [{file}]({file}).",
                file=REPORTS[other],
            )
        )
    )
    for problem in data.problems:
        md.paragraph("> ⚠ " + md(t("A results file could not be read: {problem}", problem=problem)))
    _summary(md, data)
    _premises(md, data)
    _actions(md, data)
    _all_items(md, data)
    _production_differences(md, data)
    _worked(md, data)
    _watch(md, data)
    _temporal(md, data)
    _campaign(md, data)
    _coverage(md, data, chart_files)
    _fail_close(md, data)
    _environment(md, data)
    _prerequisites(md, data)
    _scale(md)
    _items(md, data, chart_files)
    _reproduce(md)
    return md.text()


def _rank(data: ReportData, r: ItemResult) -> tuple[int, int, int, int]:
    """How much an item matters to an adopter: a failed fail-close item first, then fewer stars,
    then a larger drop from the original report, then catalogue order."""
    failed_fail_close = any(
        entry.id == r.id and (s is not None and s < GOOD_THRESHOLD)
        for entry, s in fail_close_rows(data)
    )
    return (
        0 if failed_fail_close else 1,
        r.stars or 0,
        (r.stars or 0) - r.original_stars,
        list(ITEMS).index(r.id),
    )


def key_findings(data: ReportData) -> list[ItemResult]:
    """The items the summary leads with: those below ★★★, then those rated lower than the
    original report, most important first (at least three when there are that many)."""
    rated = [r for r in data.verdict.items.values() if r.rating]
    weak = sorted((r for r in rated if not r.good), key=lambda r: _rank(data, r))
    lower = sorted(
        (r for r in rated if r.good and r.stars is not None and r.stars < r.original_stars),
        key=lambda r: _rank(data, r),
    )
    chosen = weak[:FINDINGS_MAX]
    if len(chosen) < FINDINGS_MIN:
        chosen += lower[: FINDINGS_MIN - len(chosen)]
    return chosen


def top_actions(data: ReportData) -> list[list[ItemResult]]:
    """The actions that matter most, by the same ranking (★★★★★ items last): each the advice
    of one item, or of several items whose gap the same pattern module closes (one action, not
    the same advice twice)."""
    advised = [r for r in data.verdict.items.values() if r.rating and r.rating.advice]
    actions: list[list[ItemResult]] = []
    by_module: dict[str, list[ItemResult]] = {}
    for r in sorted(advised, key=lambda r: _rank(data, r)):
        assert r.rating
        module = r.rating.pattern.module if r.rating.pattern else None
        if module and module in by_module:
            by_module[module].append(r)
            continue
        action = [r]
        if module:
            by_module[module] = action
        actions.append(action)
    return actions[:ACTIONS_MAX]


def _summary(md: Markdown, data: ReportData) -> None:
    md.heading(2, t("Summary"))
    items = data.verdict.items
    rated = [r for r in items.values() if r.stars is not None]
    overall, capped = overall_rating(data)
    if overall is None:
        md.paragraph(md(t("No item has been measured yet.")))
        return
    md.paragraph(
        md(
            t(
                "**Overall: {stars} {label}**: {meaning} (the mean of the {rated} rated items, "
                "rounded; the original report gave {original}).",
                stars=stars(overall),
                label=render(STAR_LABELS[overall], md.lang),
                meaning=render(STAR_DEFINITIONS[overall], md.lang),
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
    _which_server(md, data)
    good = sum(r.good for r in rated)
    differ = [r for r in rated if r.differs_from_original]
    rows = fail_close_rows(data)
    failed = [e for e, s in rows if s is not None and s < GOOD_THRESHOLD]
    unmeasured = [e for e, s in rows if s is None]
    if failed:
        fail_close = md(
            t(
                "**{failed} of the {count} fail-close items that apply (each must be rated ★★★ "
                "or more, or the overall rating is capped) fail** ({ids}).",
                failed=len(failed),
                count=len(rows),
                ids=joined(md, [f"{e.id} {md(e.name)}" for e in failed]),
            )
        )
    elif unmeasured:
        fail_close = md(
            t(
                "{unmeasured} of the {count} fail-close items that apply (each must be rated ★★★ "
                "or more, or the overall rating is capped) are not measured yet; "
                "the others pass.",
                unmeasured=len(unmeasured),
                count=len(rows),
            )
        )
    else:
        fail_close = md(
            t(
                "All {count} fail-close items that apply (each must be rated ★★★ or more, or the "
                "overall rating is capped) pass ({ids}).",
                count=len(rows),
                ids=joined(md, [f"{e.id} {md(e.name)}" for e, _ in rows]),
            )
        )
    md.paragraph(
        md(
            t(
                "{rated} of {total} items are rated: {good} good (★★★ or more), {not_good} not "
                "good; {differ} differ from the original report ({lower} lower, {higher} "
                "higher). {fail_close}",
                rated=len(rated),
                total=len(ITEMS),
                good=good,
                not_good=len(rated) - good,
                differ=len(differ),
                lower=sum((r.stars or 0) < r.original_stars for r in differ),
                higher=sum((r.stars or 0) > r.original_stars for r in differ),
                fail_close=fail_close,
            )
        )
    )
    missing = [e.category.name for e in ITEMS.values() if e.id not in items]
    if missing:
        md.paragraph(
            md(
                t(
                    "Not measured yet: {count} items (categories {codes}). Their scripts have "
                    "not produced results; the overall rating covers the rated items only.",
                    count=len(missing),
                    codes=joined(md, dict.fromkeys(missing)),
                )
            )
        )
    findings = key_findings(data)
    if findings:
        md.paragraph(md(t("What matters most:")))
        for r in findings:
            md.add("- " + _finding(md, r))


def _finding(md: Markdown, r: ItemResult) -> str:
    """One item as a finding: its stars against the original, and the reason (its consequence)."""
    head = md(
        t(
            "**{item}** {stars} (original report: {original}): {reason}.",
            item=item_link(r, md),
            stars=stars(r.stars),
            original=stars(r.original_stars),
            reason=render_reason(md, r),
        )
    )
    if r.rating and r.rating.pattern:
        head = md(SENTENCES).format(first=head, second=md(pattern_reach(md, r.rating.pattern)))
    return head


def module_link(module: str) -> str:
    """A link to a pattern's module, relative to the report (which sits at the project root)."""
    return f"[`{module}`]({module})"


def pattern_reach(md: Markdown, pattern: PatternRating) -> Msg:
    """The sentence that says what a pattern reaches, with a link to its code when known."""
    if pattern.module:
        return t(
            "A pattern built and tested here reaches {stars}: {pattern}, in {module}.",
            stars=stars(pattern.stars),
            pattern=md(pattern.pattern),
            module=module_link(pattern.module),
        )
    return t(
        "A pattern built and tested here reaches {stars}: {pattern}.",
        stars=stars(pattern.stars),
        pattern=md(pattern.pattern),
    )


def _premises(md: Markdown, data: ReportData) -> None:
    sessions = data.sessions()
    if not sessions:
        return
    md.heading(2, t("Premises and terms"))
    started = min(s.started_at for _, s in sessions)
    last = max(s.started_at for _, s in sessions)
    servers = dict.fromkeys(f"{s.dev_server.get('version', '?')}" for _, s in sessions)
    flags = dict.fromkeys(f"`{_flags(s)}`" for _, s in sessions)
    sdks = dict.fromkeys(f"inngest {s.sdk_version}" for _, s in sessions)
    pythons = dict.fromkeys(s.python for _, s in sessions)
    cores = dict.fromkeys(str(s.cpu_count or "?") for _, s in sessions)
    platforms = dict.fromkeys(s.platform for _, s in sessions)
    measured = data.prerequisites()
    workload = []
    for name, label in PREREQUISITE_LABELS.items():
        values = dict.fromkeys(str(getattr(p, name)) for p in measured)
        shown = " / ".join(md(PREREQUISITE_VALUES.get(v, v)) for v in values)
        workload.append(md(LABELLED).format(label=md(label), value=shown))
    same_as_original = md(
        t("the original report's parameters")
        if measured == [Prerequisites()]
        else t("not the original report's parameters")
    )
    md.paragraph(
        md(
            t(
                "**Premises.** Measured {first} to {last} UTC by {scripts} scripts, each against "
                "its own Inngest dev server {servers} (flags {flags}), with the Python SDK "
                "{sdks} on Python {pythons}, {cores} cores ({platforms}). Workload: {workload} "
                "({same}). Details in [the test environment](#{anchor}).",
                first=f"{started:%Y-%m-%d %H:%M}",
                last=f"{last:%H:%M}" if last.date() == started.date() else f"{last:%Y-%m-%d %H:%M}",
                scripts=len({name for name, _ in sessions}),
                servers=" / ".join(servers),
                flags=" / ".join(flags),
                sdks=" / ".join(sdks),
                pythons=" / ".join(pythons),
                cores=" / ".join(cores),
                platforms="; ".join(platforms),
                workload=md(CLAUSE_SEPARATOR).join(workload),
                same=same_as_original,
                anchor=ENVIRONMENT_ANCHOR,
            )
        )
    )
    md.paragraph(
        md(
            t(
                "**Terms.** *The original report* is the earlier evaluation this suite re-checks: "
                "the 58 items, their categories and its ratings come from it, and it rated from "
                "documentation and reputation rather than by running code. *Stars*: {scale}; an "
                "item is good at ★★★ or more ([the scale](#{scale_anchor})). *Fail-close* items "
                "are the ones a durable-execution platform cannot do without (such as not losing "
                "progress): if one that applies to the workload is rated below ★★★, the overall "
                "rating is capped at {cap}, whatever the mean ([the list](#{fail_close_anchor})).",
                scale=joined(md, [f"{stars(n)} {md(label)}" for n, label in STAR_LABELS.items()]),
                scale_anchor=SCALE_ANCHOR,
                cap=stars(FAIL_CLOSE_CAP),
                fail_close_anchor=FAIL_CLOSE_ANCHOR,
            )
        )
    )


def _actions(md: Markdown, data: ReportData) -> None:
    chosen = top_actions(data)
    if not chosen:
        return
    md.heading(2, t("The ten actions that matter most"))
    md.paragraph(
        md(
            t(
                "From the rubrics' advice, weakest items first; every item's advice is with its "
                "evidence."
            )
        )
    )
    for number, group in enumerate(chosen, 1):
        r = group[0]
        assert r.rating and r.rating.advice
        advice = md(r.rating.advice).rstrip(".。")
        if md.lang == "en":
            advice = advice[:1].upper() + advice[1:]
        items = joined(
            md, [md(ITEM_STARS).format(item=item_link(g, md), stars=stars(g.stars)) for g in group]
        )
        action = t("{advice} ({items})", advice=advice, items=items)
        md.add(f"{number}. {md(action)}")


def _all_items(md: Markdown, data: ReportData) -> None:
    md.anchor(ITEMS_ANCHOR)
    md.heading(2, t("All {count} items", count=len(ITEMS)))
    rows = []
    production = data.self_hosted
    for entry in ITEMS.values():
        r = data.result(entry.id)
        # The production server's stars beside the dev server's, when it was measured.
        beside = [] if production is None else [_self_hosted_cell(md, production, r, entry.id)]
        if r is None or r.rating is None:
            why = (
                md(t("not measured yet"))
                if r is None
                else md(t("no rating: {error}", error=r.error or ""))
            )
            rows.append([item_link(entry, md), "—", *beside, stars(entry.original_stars), why])
            continue
        measured = stars(r.stars)
        if r.differs_from_original:
            measured = f"**{measured}**"
        rows.append(
            [item_link(r, md), measured, *beside, stars(entry.original_stars), render_reason(md, r)]
        )
    measured_headers = (
        [t("Measured")] if production is None else [t("Dev server"), t("Self-hosted")]
    )
    md.table([t("Item"), *measured_headers, t("Original"), t("Why (from the evidence)")], rows)
    md.paragraph(
        md(
            t(
                "Bold stars differ from the original report. Each item's checks, measurements "
                "and sources are in [the evidence](#{anchor}).",
                anchor=EVIDENCE_ANCHOR,
            )
        )
    )


def _worked(md: Markdown, data: ReportData) -> None:
    rated = [r for r in data.items.values() if r.rating]
    best = [r for r in rated if r.stars == 5]
    higher = [r for r in rated if (r.stars or 0) > r.original_stars]
    if not best and not higher:
        return
    md.heading(2, t("What worked"))
    by_category: dict[Category, list[ItemResult]] = {}
    for r in best:
        by_category.setdefault(lookup_category(r), []).append(r)
    if best:
        md.paragraph(
            md(
                t(
                    "{count} items are rated {stars}, usable in production as they are: {items}.",
                    count=len(best),
                    stars=stars(5),
                    items=joined(
                        md,
                        [
                            md(GROUPED).format(
                                group=md(category.value),
                                members=joined(md, [item_link(r, md) for r in rs]),
                            )
                            for category, rs in by_category.items()
                        ],
                    ),
                )
            )
        )
    for r in higher:
        md.add(
            "- "
            + md(
                t(
                    "**{item}** rated higher than the original report ({original} → {stars}): "
                    "{reason}.",
                    item=item_link(r, md),
                    original=stars(r.original_stars),
                    stars=stars(r.stars),
                    reason=render_reason(md, r),
                )
            )
        )


def lookup_category(r: ItemResult) -> Category:
    return ITEMS[r.id].category


def _watch(md: Markdown, data: ReportData) -> None:
    shown = {r.id for r in key_findings(data)}
    actions = {r.id: n for n, group in enumerate(top_actions(data), 1) for r in group}
    watch = [
        r
        for r in data.items.values()
        if r.rating and r.id not in shown and (not r.good or (r.stars or 0) < r.original_stars)
    ]
    if not watch:
        return
    md.heading(2, t("What to watch"))
    md.paragraph(
        md(
            t(
                "Beyond the summary's findings: items below ★★★ or rated lower than the original "
                "report, with what was found and the way around it."
            )
        )
    )
    for r in sorted(watch, key=lambda r: _rank(data, r)):
        assert r.rating
        line = md(
            t(
                "**{item}** {original} → {stars}: {reason}.",
                item=item_link(r, md),
                original=stars(r.original_stars),
                stars=stars(r.stars),
                reason=render_reason(md, r),
            )
            if r.stars != r.original_stars
            else t(
                "**{item}** {stars}, as in the original report: {reason}.",
                item=item_link(r, md),
                stars=stars(r.stars),
                reason=render_reason(md, r),
            )
        )
        if r.rating.pattern:
            then = pattern_reach(md, r.rating.pattern)
        elif r.id in actions:
            then = t("What to do: action {number} above.", number=actions[r.id])
        elif r.rating.advice:
            then = t("What to do: {advice}.", advice=md(r.rating.advice).rstrip(".。"))
        else:
            md.add("- " + line)
            continue
        md.add("- " + md(SENTENCES).format(first=line, second=md(then)))


def _server_builds(md: Markdown, sessions: list[tuple[str, Session]]) -> None:
    """What the measured server was (harness.servers.serverbuild) and whether it passed the
    preflight (harness.probing.preflight), once per distinct build."""
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


def _coverage(md: Markdown, data: ReportData, chart_files: dict[str, str]) -> None:
    md.heading(2, t("Appendix: ratings by category"))
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
    md.anchor(FAIL_CLOSE_ANCHOR)
    md.heading(2, t("Appendix: fail-close items"))
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


def _environment(md: Markdown, data: ReportData) -> None:
    md.anchor(ENVIRONMENT_ANCHOR)
    md.heading(2, t("Appendix: test environment"))
    sessions = data.sessions()
    if not sessions:
        md.paragraph(md(t("No results yet.")))
        return
    # Scripts measured with the same server, flags, SDK, Python and cores share one row.
    groups: dict[tuple[str, ...], list[tuple[str, Session]]] = {}
    for script, session in sessions:
        key = (
            str(session.dev_server.get("version", "?")),
            f"`{_flags(session)}`",
            f"inngest {session.sdk_version}",
            session.python,
            str(session.cpu_count or "?"),
        )
        groups.setdefault(key, []).append((script, session))
    md.table(
        [
            t("Scripts"),
            t("Measured at (UTC)"),
            t("Inngest dev server"),
            t("Dev server flags"),
            t("Python SDK"),
            t("Python"),
            t("Cores"),
        ],
        [
            [
                md(t("all {count}", count=len(group)))
                if len(groups) == 1
                else joined(md, [f"`{script}`" for script, _ in group]),
                _time_span(group),
                *key,
            ]
            for key, group in groups.items()
        ],
    )
    platforms = sorted({session.platform for _, session in sessions})
    md.paragraph(md(t("Platform: {platforms}.", platforms="; ".join(platforms))))
    _server_builds(md, sessions)
    md.paragraph(
        md(
            t(
                "The suite starts its own dev server per script with `--retry-interval 1` (a "
                "fixed 1 s between retries instead of the default backoff) so that runs finish in "
                "bounded time; items that measure other settings restart it with the flags they "
                "need, and their evidence says so."
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


def _time_span(group: list[tuple[str, Session]]) -> str:
    first = min(s.started_at for _, s in group)
    last = max(s.started_at for _, s in group)
    if last == first:
        return f"{first:%Y-%m-%d %H:%M}"
    return f"{first:%Y-%m-%d %H:%M} – {last:%H:%M}"  # noqa: RUF001


def _scale(md: Markdown) -> None:
    md.anchor(SCALE_ANCHOR)
    md.heading(2, t("Appendix: star scale"))
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
    md.heading(2, t("Appendix: prerequisite parameters"))
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


# --- the fault campaign ---------------------------------------------------------------------------
CAMPAIGN_ANCHOR = "fault-campaign"
# What each invariant says, for readers (the keys are harness/faults/invariants.py's).
INVARIANT_NAMES: dict[str, str] = {
    "every-run-final": N_("every order's run reaches a final status: none is lost or stuck"),
    "every-run-completes": N_("every run completes: none fails under the faults"),
    "one-run-per-order": N_(
        "one run per order, though some orders are sent twice (the same event ID, or another "
        "event ID with the same idempotency key)"
    ),
    "no-recompute-after-progress": N_("no step runs again once a later step of its run started"),
    "at-least-once": N_("every step of a completed run does its work at least once"),
    "outputs-agree": N_(
        "each output holds values its steps returned, and later steps see those same values"
    ),
    "nothing-lost-across-server-restarts": N_(
        "runs in flight when the server is stopped complete after it comes back"
    ),
}
# The items whose claims the campaign tests, and the invariants that bear on each.
CAMPAIGN_CITES: dict[str, tuple[str, ...]] = {
    "EX-01": ("every-run-final", "no-recompute-after-progress"),
    "EX-02": ("at-least-once",),
    "EX-03": ("one-run-per-order",),
    "EX-04": ("nothing-lost-across-server-restarts",),
    "CP-02": ("no-recompute-after-progress", "outputs-agree"),
}
FAULT_LABELS: dict[str, str] = {
    "app-kill": N_("app killed"),
    "app-slow": N_("app slowed"),
    "app-reset": N_("connections reset"),
    "app-blackhole": N_("connections blackholed"),
    "server-term": N_("server stopped (SIGTERM)"),
    "server-kill": N_("server killed (SIGKILL)"),
}
SERVER_LABELS: dict[str, str] = {
    "self-hosted": N_("self-hosted (PostgreSQL + Redis)"),
    "dev": N_("dev server"),
}


def _fault_counts(md: Markdown, campaign: Campaign) -> str:
    return joined(
        md,
        [
            md(t("{kind} {count}", kind=md(FAULT_LABELS.get(kind, kind)), count=count))
            for kind, count in sorted(campaign.faults_injected.items())
        ],
    )


def _invariant(campaign: Campaign, key: str) -> InvariantOutcome | None:
    return next((o for o in campaign.invariants if o.key == key), None)


def _invariant_cell(md: Markdown, campaign: Campaign, key: str) -> str:
    outcome = _invariant(campaign, key)
    if outcome is None:
        return md(t("not checked"))
    if outcome.checked == 0:
        return md(t("nothing to check (no case arose)"))
    if outcome.holds:
        return md(t("held ({checked} checked)", checked=outcome.checked))
    first = outcome.violations[0] if outcome.violations else {}
    return md(
        t(
            "**violated in {count} of {checked}**; first: {example}",
            count=outcome.total_violations,
            checked=outcome.checked,
            example="`" + json.dumps(first, ensure_ascii=False)[:160] + "`",
        )
    )


def _campaign(md: Markdown, data: ReportData) -> None:
    md.anchor(CAMPAIGN_ANCHOR)
    md.heading(2, t("Durability under random faults"))
    campaigns = data.campaign.campaigns if data.campaign else {}
    if not campaigns:
        md.paragraph(md(t("No fault campaign has been recorded (`python fault_campaign.py`).")))
        return
    md.paragraph(
        md(
            t(
                "`fault_campaign.py` sends orders to a function of four steps and a sleep while a "
                "seeded schedule injects faults at random times: the app killed with SIGKILL and "
                "started again; its connections from the server slowed, reset or blackholed by a "
                "proxy; on the self-hosted server, the server itself stopped with SIGTERM or "
                "SIGKILL and started again (the dev server keeps runs in memory, so it gets only "
                "the app and network faults). Every side effect is recorded outside the app and "
                "the server; when the faults stop and every run has ended, invariants are checked "
                "on that history, each with the counterexamples it found."
            )
        )
    )
    order = [k for k in SERVER_LABELS if k in campaigns]
    rows: list[list[str]] = []
    figures: list[tuple[Msg, Callable[[Campaign], str]]] = [
        (t("Orders sent (duplicates)"), lambda c: md(t(
            "{orders} ({same_id} again with the same event ID, {same_key} with the same "
            "idempotency key)",
            orders=c.orders,
            same_id=c.duplicate_sends.get("same-event-id", 0),
            same_key=c.duplicate_sends.get("same-idempotency-key", 0),
        ))),
        (t("Faults injected"), lambda c: md(t(
            "{total}: {kinds}", total=c.faults_total,
            kinds=_fault_counts(md, c),
        ))),
        (t("Step executions (repeats)"), lambda c: md(t(
            "{executions} ({repeats} repeats: {explained} after a fault, {unexplained} "
            "without one)",
            executions=c.repeats.executions, repeats=c.repeats.repeats,
            explained=c.repeats.explained, unexplained=c.repeats.unexplained,
        ))),
        (t("Recovery after a fault"), lambda c: md(t(
            "median {p50} s, max {max} s (from the fault's end to the next step of any run, "
            "{n} faults)",
            p50=round(statistics.median(c.recovery_s), 2) if c.recovery_s else "—",
            max=round(max(c.recovery_s), 2) if c.recovery_s else "—",
            n=len(c.recovery_s),
        ))),
        (t("Retries"), lambda c: md(t(
            "{retries} per step, {interval} s apart (the server's --retry-interval)",
            retries=c.retries, interval=c.retry_interval_s,
        ) if c.retry_interval_s else t(
            "{retries} per step, on the server's backoff table", retries=c.retries,
        ))),
        (t("Time"), lambda c: md(t(
            "{duration:.0f} s of faults, {quiescence:.0f} s until every run ended (bound "
            "{bound:.0f} s), {wall:.0f} s in all",
            duration=c.duration_s, quiescence=c.quiescence_s, bound=c.quiescence_bound_s,
            wall=c.wall_s,
        ))),
        (t("Reproduce"), lambda c: md(t(
            "seed {seed}; history [{file}]({file})", seed=c.seed, file=c.history_file,
        ))),
    ]  # fmt: skip
    for label, cell in figures:
        rows.append([md(label), *(cell(campaigns[k]) for k in order)])
    for key, name in INVARIANT_NAMES.items():
        rows.append([md(name), *(_invariant_cell(md, campaigns[k], key) for k in order)])
    md.table([t("Campaign"), *(SERVER_LABELS[k] for k in order)], rows)
    for kind in order:
        _lost_acknowledged(md, kind, campaigns[kind])
        _stuck_runs(md, kind, campaigns[kind])
    md.paragraph(
        md(
            t(
                'A repeat is a step that started again; one "after a fault" had a fault begin '
                "between its previous start and this one (a crash between a step's work and the "
                "saving of its result repeats the step: that is at-least-once, not a violation). "
                "Server: {servers}.",
                servers=joined(
                    md,
                    [
                        f"{md(SERVER_LABELS[k])} {campaigns[k].server.get('version', '?')}"
                        for k in order
                    ],
                ),
            )
        )
    )


def _stuck_runs(md: Markdown, kind: str, campaign: Campaign) -> None:
    """Say what the history shows about runs that never ended."""
    final = _invariant(campaign, "every-run-final")
    stuck = [
        v
        for v in (final.violations if final else [])
        if v.get("status") and "seconds_before_faults_ended" in v
    ]
    if not stuck:
        return
    term = [v for v in stuck if v.get("server_fault_near_it") == "server-term"]
    unfinished = sum(n for k, n in final.tally.items() if k != "no run") if final else 0
    facts = {
        "server": md(SERVER_LABELS.get(kind, kind)),
        "count": max(unfinished, len(stuck)),
        "status": stuck[0]["status"],
        "age": min(float(v["seconds_before_faults_ended"]) for v in stuck),
        "term": len(term),
    }
    md.paragraph(
        md(
            t(
                "{server}: {count} runs had not ended when the wait's bound ran out (status "
                "{status}), although each had finished its last step at least {age} s before the "
                "faults ended; for every one of them the server was stopped with SIGTERM (a "
                "graceful stop) within 2 s of that last step: runs whose last answer reached a "
                "server that was shutting down were left unfinished.",
                **{k: v for k, v in facts.items() if k != "term"},
            )
            if len(term) == len(stuck)
            else t(
                "{server}: {count} runs had not ended when the wait's bound ran out (status "
                "{status}), although each had finished its last step at least {age} s before the "
                "faults ended; for {term} of them the server was stopped with SIGTERM (a graceful "
                "stop) within 2 s of that last step.",
                **facts,
            )
        )
    )


def _lost_acknowledged(md: Markdown, kind: str, campaign: Campaign) -> None:
    """Say what the source shows about orders the server acknowledged and then never ran."""
    final = _invariant(campaign, "every-run-final")
    lost = [
        v
        for v in (final.violations if final else [])
        if v.get("found") == "no run" and "seconds_after_acknowledged" in v
    ]
    if not lost:
        return
    count = final.tally.get("no run", len(lost)) if final else len(lost)
    md.paragraph(
        md(
            t(
                "{server}: {count} orders the server had acknowledged (it answered the send with "
                "an event ID) never started a run, and in each the server was being stopped or "
                "was stopped {max_s} s or less after it answered. `inngest start` hands events "
                "from its event API to the part that starts runs through an in-memory stream by "
                "default (`eventstream` is `inmemory` in pkg/cuedefs/config/config.cue at "
                "v1.43.0, read in the source), so an event acknowledged but not yet taken from "
                "that stream is lost when the process dies. A producer cannot tell: its send "
                "succeeded.",
                server=md(SERVER_LABELS.get(kind, kind)),
                count=count,
                max_s=max(float(v["seconds_after_acknowledged"]) for v in lost),
            )
        )
    )


def _campaign_citation(md: Markdown, item_id: str, campaign: CampaignFile | None) -> list[str]:
    """Bullet lines for an item whose claim the fault campaign tests (none if none does): one
    line, then one nested line per server and invariant."""
    keys = CAMPAIGN_CITES.get(item_id)
    if not keys or campaign is None or not campaign.campaigns:
        return []
    lines = [
        "- "
        + md(t("Under random faults ([the fault campaign](#{anchor})):", anchor=CAMPAIGN_ANCHOR))
    ]
    for kind in (k for k in SERVER_LABELS if k in campaign.campaigns):
        found = campaign.campaigns[kind]
        for key in keys:
            lines.append(
                "  - "
                + md(
                    t(
                        "{server}, {faults} faults: {invariant}: {outcome}",
                        server=md(SERVER_LABELS[kind]),
                        faults=found.faults_total,
                        invariant=md(INVARIANT_NAMES[key]),
                        outcome=_invariant_cell(md, found, key),
                    )
                )
            )
    return lines


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
            basis = md(t("measured ({checks})", checks=joined(md, [f"`{c}`" for c in cell.checks])))
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
            basis = md(t("measured ({checks})", checks=joined(md, [f"`{c}`" for c in cell.checks])))
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


SYMBOLS = {CheckOutcome.PASSED: "✔", CheckOutcome.FAILED: "✘", CheckOutcome.NOT_RUN: "○"}


def _evidence_summary(md: Markdown, evidence: Any) -> str:
    """What a collapsed evidence block holds, counted."""
    checks = evidence.checks
    return md(
        t(
            "Evidence: {checks} checks ({passed} passed, {failed} failed, {not_run} not run), "
            "{measurements} measurements, {facts} documented facts",
            checks=len(checks),
            passed=sum(c.outcome is CheckOutcome.PASSED for c in checks),
            failed=sum(c.outcome is CheckOutcome.FAILED for c in checks),
            not_run=sum(c.outcome is CheckOutcome.NOT_RUN for c in checks),
            measurements=len(evidence.measurements),
            facts=len(evidence.facts),
        )
    )


def _evidence_lines(md: Markdown, evidence: Any) -> None:
    for check in evidence.checks:
        line = f"- {SYMBOLS[check.outcome]} {md(check.description)} <sub>`{check.key}`</sub>"
        if check.outcome is CheckOutcome.NOT_RUN and check.reason:
            line += " — " + md(t("not run: {reason}", reason=md(check.reason)))
        elif check.outcome is CheckOutcome.FAILED and check.observed is not None:
            line += " — " + md(t("observed: {value}", value=f"`{_short(check.observed)}`"))
        md.add(line)
        picture = check.observed.get("file") if isinstance(check.observed, dict) else None
        if isinstance(picture, str) and picture.endswith(".png"):
            md.add(f"  ![{check.key}](results/{picture})")  # a screenshot kept with the results
    for m in evidence.measurements:
        note = f" — {md(m.note)}" if m.note else ""
        md.add(f"- ≈ `{m.key}` = {with_unit(md, m.value, m.unit)}{note}")
    for fact in evidence.facts:
        md.add(f"- 📄 {md(fact.claim)} — [{md(DOCUMENTED_LABEL)}]({fact.source})")


def _temporal_evidence(md: Markdown, comparison: Comparison) -> None:
    md.heading(3, t("Temporal evidence"))
    for result in comparison.items.values():
        md.heading(4, f"Temporal {result.id} {md(result.name)}")
        rating = result.rating
        if rating:
            head = f"{stars(rating.stars)} {md(STAR_LABELS[rating.stars])}"
        elif result.error:
            head = md(t("no rating: {error}", error=result.error))
        else:
            head = md(t("figures, no stars"))
        md.paragraph(head)
        if rating:
            md.add("- " + md(t("Why: {reason}", reason=md(rating.reason))))
            if rating.drivers:
                md.add("- " + md(t("Decided by: {checks}", checks=joined(md, rating.drivers))))
            md.add("")
        md.add("<details><summary>" + _evidence_summary(md, result.evidence) + "</summary>", "")
        _evidence_lines(md, result.evidence)
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
        md.add("", "</details>", "")


def _items(md: Markdown, data: ReportData, chart_files: dict[str, str]) -> None:
    md.anchor(EVIDENCE_ANCHOR)
    md.heading(2, t("Appendix: every item's evidence"))
    md.paragraph(
        md(
            t(
                "Each item's stars and reason are in [the table of all items](#{anchor}); here "
                "are the checks that decided them, open each item's evidence to read them.",
                anchor=ITEMS_ANCHOR,
            )
        )
    )
    for category in Category:
        md.heading(3, f"{category.name} — {md(category.value)}")
        entries = items_in(category)
        script = next((data.script_of(e.id) for e in entries if data.script_of(e.id)), None)
        if script is None:
            md.paragraph(md(t("Not measured yet: this category's script has no results.")))
            continue
        md.paragraph(md(t("Script: [`{script}`]({script}).", script=script)))
        if category is Category.PF and "step-latency" in chart_files:
            md.paragraph(f"![]({chart_files['step-latency']})")
            md.paragraph(
                md(
                    t(
                        "PF-01's raw samples: the overhead each sequential step adds, in ms on a "
                        "log scale; blue at the dev server's default queue tick, orange at "
                        "--tick 10; dashed lines mark the medians."
                    )
                )
            )
        for entry in entries:
            result = data.result(entry.id)
            md.anchor(entry.id.lower())
            md.heading(4, f"{entry.id} {md(entry.name)}")
            if result is None:
                md.paragraph(md(t("not measured yet")))
                continue
            _item(md, result, data.campaign)


def _item(md: Markdown, r: ItemResult, campaign: CampaignFile | None = None) -> None:
    label = md(STAR_LABELS[r.stars]) if r.stars else md(t("no rating"))
    head = f"{stars(r.stars)} {label}"
    if r.differs_from_original:
        head += " · " + md(t("original report: {stars}", stars=stars(r.original_stars)))
    if r.fail_close:
        head += " · " + md(t("fail-close ({condition})", condition=md(r.fail_close)))
    head += " · " + md(t("rated from: {basis}", basis=md(r.basis)))
    md.paragraph(head)
    if r.rating:
        if r.rating.drivers:
            md.add("- " + md(t("Decided by: {checks}", checks=joined(md, r.rating.drivers))))
        pattern = r.rating.pattern
        if pattern and pattern.module:
            md.add(
                "- "
                + md(
                    t(
                        "With the pattern ({pattern}), in {module}: {stars} — {reason}",
                        pattern=md(pattern.pattern),
                        module=module_link(pattern.module),
                        stars=stars(pattern.stars),
                        reason=md(pattern.reason),
                    )
                )
            )
        elif pattern:
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
    md.add(*_campaign_citation(md, r.id, campaign))
    md.add("", "<details><summary>" + _evidence_summary(md, r.evidence) + "</summary>", "")
    _evidence_lines(md, r.evidence)
    if r.source:
        functions = joined(
            md, [f"[`{fn}`]({r.source.script}#L{line})" for fn, line in r.source.functions.items()]
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
    md.add("", "</details>", "")


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


# --- the production server beside the dev server --------------------------------------------------
PRODUCTION_ANCHOR = "production-server"


def _self_hosted_cell(
    md: Markdown, production: ReportData, dev: ItemResult | None, item_id: str
) -> str:
    """An item's stars on the self-hosted server: bold where they differ from the dev server's,
    "not applicable" where the item cannot apply there, "—" where it has no rating."""
    r = production.result(item_id)
    if r is None:
        return md(t("not measured"))
    if r.status is ItemStatus.NOT_APPLICABLE:
        return md(t("not applicable"))
    if r.stars is None:
        return "—"
    shown = stars(r.stars)
    return f"**{shown}**" if dev is not None and dev.stars != r.stars else shown


def _which_server(md: Markdown, data: ReportData) -> None:
    """Say whose ratings the verdict uses, when that is a choice (or was asked for)."""
    production = data.self_hosted
    if data.deployment == SELF_HOSTED and data.verdict is production:
        text = t(
            "The workload is deployed self-hosted (prerequisite `--deployment self-hosted`): the "
            "overall rating, the findings and the fail-close rule use the ratings measured on "
            "the self-hosted server (`inngest start` on PostgreSQL + Redis, "
            "`results/self-hosted/`); the dev server's are beside them in [the table of all "
            "items](#{anchor}).",
            anchor=ITEMS_ANCHOR,
        )
    elif data.deployment == SELF_HOSTED:
        text = t(
            "The workload is deployed self-hosted (prerequisite `--deployment self-hosted`), but "
            "there are no results from the self-hosted server (`results/self-hosted/`, from "
            "`run_all.py --server self-hosted`): the verdict rests on the dev server's ratings."
        )
    elif production is not None:
        text = t(
            "The verdict uses the ratings measured on the dev server; those measured on the "
            "self-hosted server (`inngest start` on PostgreSQL + Redis) are beside them in [the "
            "table of all items](#{anchor}), and [where they differ](#{differences}) is listed. "
            "With the prerequisite `--deployment self-hosted` the self-hosted ratings decide.",
            anchor=ITEMS_ANCHOR,
            differences=PRODUCTION_ANCHOR,
        )
    else:
        return
    md.paragraph(md(text))


def _outcome(md: Markdown, check: Check | None) -> str:
    if check is None:
        return "· " + md(t("not recorded"))
    return f"{SYMBOLS[check.outcome]} {md(OUTCOME_LABELS[check.outcome])}"


OUTCOME_LABELS: dict[CheckOutcome, str] = {
    CheckOutcome.PASSED: N_("passed"),
    CheckOutcome.FAILED: N_("failed"),
    CheckOutcome.NOT_RUN: N_("not run"),
}


def production_differences(data: ReportData) -> list[tuple[ItemResult | None, ItemResult]]:
    """(dev server's result, self-hosted server's result) for every item whose rating or
    status differs between the two, in catalogue order."""
    production = data.self_hosted
    if production is None:
        return []
    differing = []
    for item_id, there in production.items.items():
        here = data.result(item_id)
        if here is None or here.stars != there.stars or here.status is not there.status:
            differing.append((here, there))
    return differing


def _production_differences(md: Markdown, data: ReportData) -> None:
    production = data.self_hosted
    if production is None:
        return
    md.anchor(PRODUCTION_ANCHOR)
    md.heading(2, t("Where the production server differs from the dev server"))
    md.paragraph(
        md(
            t(
                "The same probes and rubrics, run against `inngest start` on PostgreSQL + Redis "
                "with a signing key and an event key, the app in production mode "
                "(`run_all.py --server self-hosted`, results in `results/self-hosted/`): "
                "{rated} of {total} items rated there, {not_applicable} not applicable.",
                rated=sum(r.rating is not None for r in production.items.values()),
                total=len(ITEMS),
                not_applicable=sum(
                    r.status is ItemStatus.NOT_APPLICABLE for r in production.items.values()
                ),
            )
        )
    )
    differing = production_differences(data)
    if not differing:
        md.paragraph(md(t("Every item measured on both servers is rated the same on both.")))
    for here, there in differing:
        md.add("- " + _difference_head(md, here, there))
        if there.status is ItemStatus.NOT_APPLICABLE:
            continue
        for check_line in _differing_checks(md, here, there):
            md.add("  - " + check_line)
    md.add("")
    _same_stars_other_checks(md, data, production, [there.id for _, there in differing])
    _performance_beside(md, data, production)


def _same_stars_other_checks(
    md: Markdown, data: ReportData, production: ReportData, listed: list[str]
) -> None:
    """Items rated the same on both servers whose checks nevertheless came out differently."""
    lines = []
    for item_id, there in production.items.items():
        here = data.result(item_id)
        if item_id in listed or here is None or there.rating is None:
            continue
        checks = _differing_checks(md, here, there)
        if checks:
            lines.append("- " + item_link(there, md) + f" {stars(there.stars)}")
            lines += ["  - " + line for line in checks]
    if not lines:
        return
    md.heading(3, t("Same stars, different checks"))
    md.add(*lines, "")


# The items whose figures are set side by side, whatever their stars.
PERFORMANCE_ITEMS = ("PF-01", "PF-02")


def _performance_beside(md: Markdown, data: ReportData, production: ReportData) -> None:
    """PF-01's and PF-02's figures measured on both servers, in one table."""
    rows = []
    for item_id in PERFORMANCE_ITEMS:
        here, there = data.result(item_id), production.result(item_id)
        if here is None or there is None:
            continue
        dev_figures = {m.key: m for m in here.evidence.measurements}
        for m in there.evidence.measurements:
            before = dev_figures.get(m.key)
            if before is None:
                continue
            rows.append(
                [
                    f"{item_id} `{m.key}`",
                    with_unit(md, before.value, before.unit),
                    with_unit(md, m.value, m.unit),
                ]
            )
    if not rows:
        return
    md.heading(3, t("Performance on both servers"))
    md.table([t("Measurement"), t("Dev server"), t("Self-hosted")], rows)
    md.paragraph(
        md(
            t(
                "Each server at its own defaults and at the lower --tick the item sets; how each "
                "figure was measured is with the item's evidence. The self-hosted server keeps "
                "its queue in Redis and its history in PostgreSQL, the dev server in memory."
            )
        )
    )


def _difference_head(md: Markdown, here: ItemResult | None, there: ItemResult) -> str:
    dev_stars = stars(here.stars) if here is not None else md(t("not measured"))
    if there.status is ItemStatus.NOT_APPLICABLE:
        return md(
            t(
                "**{item}** dev server {dev}; self-hosted: not applicable ({reason}).",
                item=item_link(there, md),
                dev=dev_stars,
                reason=md(there.not_applicable) if there.not_applicable else "",
            )
        )
    if there.rating is None:
        return md(
            t(
                "**{item}** dev server {dev}; self-hosted: no rating ({error}).",
                item=item_link(there, md),
                dev=dev_stars,
                error=there.error or "",
            )
        )
    return md(
        t(
            "**{item}** dev server {dev}, self-hosted {production}: {reason}.",
            item=item_link(there, md),
            dev=dev_stars,
            production=stars(there.stars),
            reason=render_reason(md, there),
        )
    )


def _differing_checks(md: Markdown, here: ItemResult | None, there: ItemResult) -> list[str]:
    """The checks behind a difference: those whose outcome is not the same on both servers,
    the self-hosted rating's deciding checks first."""
    dev_checks = {c.key: c for c in here.evidence.checks} if here else {}
    drivers = there.rating.drivers if there.rating else []
    ordered = sorted(
        there.evidence.checks, key=lambda c: (c.key not in drivers, there.evidence.checks.index(c))
    )
    lines = []
    for check in ordered:
        before = dev_checks.get(check.key)
        if before is not None and before.outcome is check.outcome:
            continue
        # A check not run on one server carries only why; say what it checks from the other.
        described = (
            before if before is not None and check.outcome is CheckOutcome.NOT_RUN else check
        )
        line = md(
            t(
                "{check} <sub>`{key}`</sub>: dev server {dev}, self-hosted {production}",
                check=md(described.description),
                key=check.key,
                dev=_outcome(md, before),
                production=_outcome(md, check),
            )
        )
        if check.outcome is CheckOutcome.FAILED and check.observed is not None:
            line += " — " + md(t("observed: {value}", value=f"`{_short(check.observed)}`"))
        elif check.outcome is CheckOutcome.NOT_RUN and check.reason:
            line += " — " + md(check.reason)
        lines.append(line)
    return lines
