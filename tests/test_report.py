"""The report generator: from results files to REPORT.md / REPORT_ja.md, and the drift check."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import ROOT
from harness.i18n import t
from harness.rating.catalog import ITEMS, Prerequisites, lookup
from harness.rating.evidence import (
    Evidence,
    ItemResult,
    ItemStatus,
    NotRemeasured,
    PatternRating,
    Rating,
    SourceRef,
)
from harness.rating.results import ResultsFile, Session, write_atomically
from harness.report import render as report

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SCRIPTS = {
    "EX": "01_ex_execution_semantics.py",
    "RT": "02_rt_retry_timeout.py",
    "OB": "09_ob_observability.py",
    "PF": "07_pf_performance.py",
    "VR": "05_vr_versioning.py",
    "DX": "10_dx_developer_experience.py",
}


def result(item_id: str, stars: int | None, **rating: object) -> ItemResult:
    entry = lookup(item_id)
    evidence = Evidence()
    evidence.check("ok", t("the thing happened"), True, run_ids=["01RUN"])
    evidence.check("bad", t("the other thing happened"), False, observed={"count": 3})
    evidence.not_run("skip", t("a cluster check"), t("one machine"))
    evidence.measure("latency", 12.5, "ms", t("the p50 of {n} runs", n=50))
    evidence.document("cloud", t("the cloud has regions"), "https://example.invalid/docs")
    return ItemResult(
        id=entry.id,
        name=entry.name,
        category=entry.category.value,
        status=ItemStatus.RATED if stars else ItemStatus.ERROR,
        rating=Rating(stars=stars, reason=t("as measured"), drivers=["ok"], **rating)
        if stars
        else None,
        original_stars=entry.original_stars,
        fail_close=entry.fail_close,
        evidence=evidence,
        error=None if stars else "RuntimeError: boom",
        started_at=NOW,
        duration_s=3.0,
        session="s1",
        source=SourceRef(
            script=SCRIPTS[entry.category.name],
            probe="probe_fn",
            line=42,
            functions={"fn-id": 30},
        ),
    )


def write_results(directory: Path, *items: ItemResult, prerequisites: Prerequisites | None = None):
    by_script: dict[str, ResultsFile] = {}
    for item in items:
        script = SCRIPTS[lookup(item.id).category.name]
        doc = by_script.setdefault(script, ResultsFile(script=script, category=item.category))
        doc.sessions["s1"] = Session(
            id="s1",
            started_at=NOW,
            argv=[script],
            dev_server={"version": "1.43.0", "owned": True, "options": {"retry_interval_s": 1}},
            prerequisites=prerequisites or Prerequisites(),
        )
        doc.record(item)
    for script, doc in by_script.items():
        write_atomically(directory / script.replace(".py", ".json"), doc.to_json())


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "results").mkdir()
    return tmp_path


def generate(tree: Path) -> tuple[str, str]:
    report.generate(tree / "results", tree)
    return (tree / "REPORT.md").read_text(), (tree / "REPORT_ja.md").read_text()


def test_an_empty_results_dir_says_nothing_is_measured(tree: Path) -> None:
    en, ja = generate(tree)
    assert "No item has been measured yet." in en
    assert "まだどの項目も測定していない。" in ja
    assert not (tree / "report").exists()


def test_ratings_reasons_evidence_and_links_are_shown(tree: Path) -> None:
    write_results(tree / "results", result("EX-01", 5), result("EX-04", 3))
    en, _ = generate(tree)
    assert "**Overall: ★★★★☆ Production ready**" in en  # mean of 5 and 3
    assert "| [EX-04](#ex-04) State Persistence | **★★★☆☆** | ★★★★★ | as measured |" in en
    assert "#### EX-04 State Persistence" in en and '<a id="ex-04"></a>' in en
    assert "✔ the thing happened" in en and "✘ the other thing happened" in en
    assert '`{"count": 3}`' in en  # a failed check shows what was observed
    assert "not run: one machine" in en
    assert "`latency` = 12.5 ms — the p50 of 50 runs" in en
    assert "[documented, not executed](https://example.invalid/docs)" in en
    assert "[`probe_fn`](01_ex_execution_semantics.py#L42)" in en
    assert "[`fn-id`](01_ex_execution_semantics.py#L30)" in en
    assert "Not measured yet: 56 items" in en


def _figures(markdown: str) -> list[str]:
    """The table cells that hold figures (numbers, stars, IDs), in order."""
    cells = [c.strip() for line in markdown.splitlines() if line.startswith("|")
             for c in line.strip("|").split("|")]  # fmt: skip
    return [c for c in cells if re.fullmatch(r"[-\d.,★☆—]+|[A-Z]{2}-\d\d", c)]


def test_both_languages_carry_the_same_numbers(tree: Path) -> None:
    write_results(tree / "results", result("EX-01", 5), result("EX-04", 3), result("RT-01", 2))
    en, ja = generate(tree)
    assert re.findall(r"[★☆]+", en) == re.findall(r"[★☆]+", ja)
    assert _figures(en) == _figures(ja) and len(_figures(en)) > 50
    assert "総合評価" in ja and "Overall" not in ja


def test_the_committed_reports_carry_the_same_numbers() -> None:
    en, ja = (ROOT / "REPORT.md").read_text(), (ROOT / "REPORT_ja.md").read_text()
    assert re.findall(r"[★☆]+", en) == re.findall(r"[★☆]+", ja)
    assert _figures(en) == _figures(ja)


def test_a_failed_fail_close_item_caps_the_overall_rating(tree: Path) -> None:
    write_results(tree / "results", result("EX-01", 5), result("EX-02", 5), result("RT-01", 2))
    en, ja = generate(tree)
    assert "**Overall: ★★☆☆☆ Experimental**" in en
    assert "The fail-close rule capped the overall rating" in en
    assert "| RT-01 Retry Strategy | always | ★★☆☆☆ | ★★★★★ | **FAIL** |" in en
    assert "**不合格**" in ja


def test_an_unmeasured_fail_close_item_gives_no_verdict(tree: Path) -> None:
    write_results(tree / "results", result("EX-01", 5), result("EX-03", None))
    en, _ = generate(tree)
    assert (
        "| EX-03 Idempotency / Deduplication | always | — | ★★★★★ | not measured: no verdict |"
        in en
    )
    assert "The fail-close rule capped" not in en


def test_which_fail_close_items_apply_follows_the_prerequisites(tree: Path) -> None:
    write_results(tree / "results", result("EX-01", 5), prerequisites=Prerequisites())
    assert "VR-01 Workflow Versioning" in generate(tree)[0].split("## Appendix: fail-close")[1]
    write_results(
        tree / "results", result("EX-01", 5), prerequisites=Prerequisites(duration="seconds")
    )
    fail_close = generate(tree)[0].split("## Appendix: fail-close")[1].split("##")[0]
    assert "VR-01" not in fail_close
    assert "| Duration | seconds | minutes to hours |" in generate(tree)[0]


def test_patterns_advice_and_kept_ratings_are_reported(tree: Path) -> None:
    pattern = PatternRating(pattern=t("a replay check"), stars=4, reason=t("it catches renames"))
    kept = result("EX-05", 3, advice=t("keep step IDs stable"), pattern=pattern)
    kept.not_remeasured = NotRemeasured(session="s2", status=ItemStatus.ERROR, error="boom")
    write_results(tree / "results", kept)
    en, _ = generate(tree)
    assert "With the pattern (a replay check): ★★★★☆ — it catches renames" in en
    assert "1. Keep step IDs stable ([EX-05](#ex-05) Determinism Constraints, ★★★☆☆)" in en
    assert en.count("keep step IDs stable") == 1  # the action; the evidence repeats it once
    assert en.count("Advice: keep step IDs stable") == 1
    assert "Not re-measured in session s2 (error: boom)" in en


def test_charts_are_drawn_and_record_their_data(tree: Path) -> None:
    write_results(tree / "results", result("EX-01", 5))
    en, _ = generate(tree)
    for name in ("stars-by-category.png", "items-original-vs-measured.png"):
        assert (tree / "report" / name).read_bytes().startswith(b"\x89PNG")
        assert f"![](report/{name})" in en


def test_drift_is_found_in_reports_and_charts(tree: Path) -> None:
    write_results(tree / "results", result("EX-01", 5))
    generate(tree)
    assert report.drift(tree / "results", tree) == []
    write_results(tree / "results", result("EX-01", 4))
    problems = report.drift(tree / "results", tree)
    assert any("REPORT.md" in p for p in problems) and any("REPORT_ja.md" in p for p in problems)
    assert any("stars-by-category.png" in p for p in problems)


def test_an_unreadable_results_file_is_named_not_fatal(tree: Path) -> None:
    (tree / "results" / "02_rt_retry_timeout.json").write_text("{not json")
    en, _ = generate(tree)
    assert "A results file could not be read: 02_rt_retry_timeout.json" in en


def test_the_committed_reports_are_exactly_what_the_results_say() -> None:
    """CI's drift check: regenerate from the committed results and compare."""
    assert report.drift(ROOT / "results", ROOT) == []


def test_report_cli_check_mode(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import report as report_cli

    shutil.copytree(ROOT / "results", tree / "results", dirs_exist_ok=True)
    monkeypatch.setattr(report_cli, "ROOT", tree)
    assert report_cli.main(["--results-dir", str(tree / "results"), "--check"]) == 1
    assert report_cli.main(["--results-dir", str(tree / "results")]) == 0
    assert report_cli.main(["--results-dir", str(tree / "results"), "--check"]) == 0
    assert report_cli.main(["--results-dir", str(tree / "nowhere")]) == 2


def test_the_temporal_comparison_is_labelled_and_takes_inngest_from_the_results(
    tree: Path,
) -> None:
    import compare_temporal

    write_results(tree / "results", result("EX-05", 3))
    assert compare_temporal.main(["--results-dir", str(tree / "results"), "--documented-only"]) == 0
    en, ja = generate(tree)
    section = en.split("## Temporal and Inngest")[1].split("\n## ")[0]
    assert "| Determinism |" in section and "[EX-05](#ex-05) ★★★☆☆" in section
    assert "[DX-04](#dx-04) —" in section  # not measured: a dash, never a made-up rating
    assert section.count("[documented, not executed](https://") == 8
    assert "ドキュメント記載（未実行）" in ja.split("## Temporal と Inngest")[1]


def test_a_screenshot_kept_with_the_results_is_shown_beside_its_check(tree: Path) -> None:
    item = result("OB-01", 3)
    item.evidence.check("screenshot", t("a screenshot of the run page"), True,
                        observed={"file": "ob01-run.png", "pixels": "1400x1000"})  # fmt: skip
    write_results(tree / "results", item)
    en, ja = generate(tree)
    assert (
        "![screenshot](results/ob01-run.png)" in en and "![screenshot](results/ob01-run.png)" in ja
    )


def test_pf01_raw_samples_become_the_step_latency_chart(tree: Path) -> None:
    item = result("PF-01", 4)
    item.evidence.measure("step-overhead:default-tick", 150.0, "ms", samples=[140.0, 150.0, 160.0])
    item.evidence.measure("step-overhead:low-tick", 10.0, "ms", samples=[9.0, 10.0, 12.0])
    write_results(tree / "results", item)
    en, _ = generate(tree)
    assert (tree / "report" / "step-latency.png").read_bytes().startswith(b"\x89PNG")
    assert "![](report/step-latency.png)" in en
    assert report.drift(tree / "results", tree) == []


def _line_of(markdown: str, prefix: str) -> int:
    return next(n for n, line in enumerate(markdown.splitlines(), 1) if line.startswith(prefix))


@pytest.mark.parametrize(
    ("name", "overall", "table"),
    [
        ("REPORT.md", "**Overall:", "## All 58 items"),
        ("REPORT_ja.md", "**総合評価:", "## 全 58 項目"),
    ],
)
def test_the_committed_reports_put_the_decision_first(name: str, overall: str, table: str) -> None:
    """The verdict and the summary's findings within 40 lines, the table of all items before 80."""
    markdown = (ROOT / name).read_text()
    lines = markdown.splitlines()
    findings = [n for n, line in enumerate(lines, 1) if line.startswith("- **[")]
    assert _line_of(markdown, overall) <= 40
    assert findings and findings[0] <= 40 and len([n for n in findings if n <= 40]) >= 3
    assert _line_of(markdown, table) < 80
    for item_id in ITEMS:
        assert f"#### {item_id} " in markdown  # headings carry names


# English unit words right after a number (inside code spans they are code, not prose).
_ENGLISH_UNIT = re.compile(
    r"(?<![\w-])\d[\d.,]*\s?(?:events?|steps?|runs?|attempts?|lines|names|chunks|functions|languages|features|"
    r"executions|re-entries|bytes|workflows?|activities|queries|seconds?|minutes?|hours?|days?)(?![\w-])"
)


def _prose(markdown: str) -> list[str]:
    """The lines as prose: code spans stand as a neutral word (so that the words around them
    stay apart), links and tags go."""
    links = r"!\[[^\]]*\]\([^)]*\)|\]\([^)]*\)|<[^>]*>"
    return [re.sub(links, "", re.sub(r"`[^`]*`", "CODE", line)) for line in markdown.splitlines()]


def test_the_committed_japanese_report_follows_the_glossary() -> None:
    from harness import i18n

    japanese = re.compile(r"[ぁ-んァ-ヶ一-龠]")
    # Table cells and lines apart: a text with no Japanese at all is a missing translation, which
    # test_i18n reports; here the Japanese ones are read.
    cells = [c for line in _prose((ROOT / "REPORT_ja.md").read_text()) for c in line.split("|")]
    for line in (c for c in cells if japanese.search(c)):
        for rule in i18n.forbidden("ja"):
            assert not rule.wrong.search(line), (rule.wrong.pattern, line)
        assert not _ENGLISH_UNIT.search(line), line


def test_the_committed_japanese_report_names_checks_in_words() -> None:
    """Check IDs appear only where the report lists drivers (and in the Temporal basis cells)."""
    keys: set[str] = set()
    for path in (ROOT / "results").glob("*.json"):
        document = json.loads(path.read_text())
        for item in (document.get("items") or {}).values():
            keys |= {c["key"] for c in item["evidence"]["checks"] if re.search(r"[-:]", c["key"])}
    for line in _prose((ROOT / "REPORT_ja.md").read_text()):
        if line.startswith(("- 判定に使ったチェック", "|")):
            continue
        found = [k for k in keys if re.search(rf"(?<![\w:/-]){re.escape(k)}(?![\w:/-])", line)]
        assert not found, (found, line)


def test_every_measured_unit_is_in_the_catalogue() -> None:
    units = set()
    for path in (ROOT / "results").glob("*.json"):
        document = json.loads(path.read_text())
        items = (document.get("items") or {}).values()
        units |= {m["unit"] for item in items for m in item["evidence"]["measurements"]}
    assert units - set(report.UNIT_TEMPLATES) == set()


def test_a_reason_that_lists_check_keys_names_the_checks(tree: Path) -> None:
    item = result("EX-07", 3)
    item.rating = Rating(stars=3, reason=t("edge values change: {checks}", checks="bad"))
    write_results(tree / "results", item)
    en, _ = generate(tree)
    assert "edge values change: “the other thing happened” did not hold" in en


def test_a_pattern_with_a_module_links_its_code_in_both_reports(tree: Path) -> None:
    module = "patterns/circuit_breaker.py"
    pattern = PatternRating(
        pattern=t("a replay check"), stars=4, reason=t("it catches renames"), module=module
    )
    write_results(tree / "results", result("RT-03", 2, pattern=pattern))
    en, ja = generate(tree)
    link = f"[`{module}`]({module})"
    assert f"A pattern built and tested here reaches ★★★★☆: a replay check, in {link}." in en
    assert f"With the pattern (a replay check), in {link}: ★★★★☆ — it catches renames" in en
    assert f"コードは {link}" in ja


# --- the self-hosted server beside the dev server --------------------------------------------
def not_applicable(item_id: str) -> ItemResult:
    return result(item_id, None).model_copy(
        update={
            "status": ItemStatus.NOT_APPLICABLE,
            "error": None,
            "not_applicable": t("checks the dev server's own CLI"),
        }
    )


def production_tree(tree: Path, *, deployment: str = "serverless-cloud") -> None:
    """Dev server: EX-01 ★5, EX-04 ★5, RT-01 ★5; self-hosted: EX-01 ★5, EX-04 ★3 (its "bad"
    check passed on the dev server), RT-01 ★2, and EX-02 not applicable."""
    write_results(tree / "results", result("EX-01", 5), result("EX-04", 5), result("RT-01", 5))
    dev_ex04 = result("EX-04", 5)
    dev_ex04.evidence.check("bad", t("the other thing happened"), True)
    write_results(tree / "results", result("EX-01", 5), dev_ex04, result("RT-01", 5))
    write_results(
        tree / "results" / "self-hosted",
        result("EX-01", 5),
        not_applicable("EX-02"),
        result("EX-04", 3),
        result("RT-01", 2),
        prerequisites=Prerequisites(deployment=deployment),  # type: ignore[arg-type]
    )


def test_without_self_hosted_results_the_report_has_no_self_hosted_column(tree: Path) -> None:
    write_results(tree / "results", result("EX-01", 5))
    en, ja = generate(tree)
    assert "| Item | Measured | Original |" in en and "Self-hosted" not in en
    assert "セルフホスト" not in ja
    assert "production server differs" not in en
    assert "--deployment self-hosted" not in en


def test_self_hosted_ratings_stand_beside_the_dev_servers_and_differences_are_listed(
    tree: Path,
) -> None:
    production_tree(tree)
    en, ja = generate(tree)
    assert "| Item | Dev server | Self-hosted | Original |" in en
    assert "| [EX-01](#ex-01) Progress Guarantee | ★★★★★ | ★★★★★ | ★★★★★ |" in en
    assert "| [EX-04](#ex-04) State Persistence | ★★★★★ | **★★★☆☆** | ★★★★★ |" in en
    assert "| [EX-02](#ex-02) Side Effect Guarantee | — | not applicable |" in en
    assert "| [EX-03](#ex-03) Idempotency / Deduplication | — | not measured |" in en
    differences = en.split("## Where the production server differs from the dev server")[1]
    differences = differences.split("\n## ")[0]
    assert "3 of 58 items rated there, 1 not applicable" in differences
    assert "EX-01" not in differences  # the same on both
    assert "Same stars, different checks" not in differences
    assert "self-hosted: not applicable (checks the dev server's own CLI)" in differences
    assert "**[EX-04](#ex-04) State Persistence** dev server ★★★★★, self-hosted ★★★☆☆" in (
        differences
    )
    # The check behind EX-04's difference, and only that one (the others are the same).
    behind = "the other thing happened <sub>`bad`</sub>: dev server ✔ passed, self-hosted ✘ failed"
    assert behind in differences
    assert "<sub>`ok`</sub>" not in differences
    # By default the verdict stays the dev server's (no fail-close failure from RT-01 ★2).
    assert "The verdict uses the ratings measured on the dev server" in en
    assert "The fail-close rule capped" not in en
    assert "セルフホスト" in ja and "本番サーバー" in ja


def test_deployment_self_hosted_makes_the_self_hosted_ratings_decide(tree: Path) -> None:
    production_tree(tree, deployment="self-hosted")
    en, ja = generate(tree)
    assert "prerequisite `--deployment self-hosted`): the overall rating" in en
    assert "**Overall: ★★☆☆☆ Experimental**" in en  # RT-01 ★2 fails the fail-close rule
    assert "| RT-01 Retry Strategy | always | ★★☆☆☆ | ★★★★★ | **FAIL** |" in en
    assert re.findall(r"[★☆]+", en) == re.findall(r"[★☆]+", ja)


def test_deployment_self_hosted_without_self_hosted_results_says_the_dev_server_decides(
    tree: Path,
) -> None:
    write_results(
        tree / "results",
        result("EX-01", 5),
        prerequisites=Prerequisites(deployment="self-hosted"),
    )
    en, _ = generate(tree)
    assert "there are no results from the self-hosted server" in en
    assert "**Overall: ★★★★★" in en


def test_performance_figures_of_both_servers_stand_side_by_side(tree: Path) -> None:
    write_results(tree / "results", result("PF-01", 4))
    write_results(tree / "results" / "self-hosted", result("PF-01", 4))
    en, ja = generate(tree)
    assert "Every item measured on both servers is rated the same on both." in en
    table = en.split("### Performance on both servers")[1]
    assert "| PF-01 `latency` | 12.5 ms | 12.5 ms |" in table
    assert "| PF-01 `latency` | 12.5 ms | 12.5 ms |" in ja


def test_the_same_stars_from_different_checks_are_listed_apart(tree: Path) -> None:
    write_results(tree / "results", result("EX-01", 5))
    production = result("EX-01", 5)
    production.evidence.check("bad", t("the other thing happened"), True)
    write_results(tree / "results" / "self-hosted", production)
    en, _ = generate(tree)
    section = en.split("### Same stars, different checks")[1].split("\n## ")[0]
    assert "[EX-01](#ex-01) Progress Guarantee ★★★★★" in section
    assert "<sub>`bad`</sub>: dev server ✘ failed, self-hosted ✔ passed" in section


def test_items_whose_gap_one_pattern_module_closes_make_one_action(tree: Path) -> None:
    module = "patterns/history_replay.py"

    def replayed(item_id: str) -> ItemResult:
        pattern = PatternRating(pattern=t("a replay check"), stars=4, reason=t("ok"), module=module)
        return result(item_id, 2, pattern=pattern, advice=t("replay recorded histories in CI"))

    write_results(tree / "results", replayed("VR-02"), replayed("DX-07"), result("EX-05", 3))
    en, _ = generate(tree)
    actions = en.split("## The ten actions that matter most")[1].split("\n## ")[0]
    numbered = [line for line in actions.splitlines() if re.match(r"\d+\. ", line)]
    replay = [line for line in numbered if "Replay recorded histories in CI" in line]
    assert len(replay) == 1 and "[VR-02]" in replay[0] and "[DX-07]" in replay[0]
