"""What a person sees: stars, reason, drivers and evidence, readable at 80 columns."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from harness.rating.evidence import Evidence, ItemResult, ItemStatus, PatternRating, Rating
from harness.rating.output import results_table
from harness.rating.results import ResultsFile


def result(item_id: str, rating: Rating | None, evidence: Evidence, **extra: object) -> ItemResult:
    return ItemResult(
        id=item_id,
        name="Some Item",
        category="Execution Semantics",
        status=ItemStatus.RATED if rating else ItemStatus.ERROR,
        rating=rating,
        original_stars=5,
        fail_close="always",
        evidence=evidence,
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        duration_s=1.0,
        session="s",
        **extra,
    )


def render(*results: ItemResult) -> str:
    console = Console(record=True, width=80, color_system=None)
    results_table(
        console, ResultsFile(script="x.py", category="EX", items={r.id: r for r in results})
    )
    return console.export_text()


def test_rated_item_shows_stars_reason_drivers_and_evidence() -> None:
    ev = Evidence()
    ev.check("kept", "progress is kept", True)
    ev.check("lost", "nothing is lost", False, observed={"lost": 3})
    ev.not_run("restart", "survives a restart", "external dev server")
    ev.measure("recovery", 1.5, "s")
    ev.document("ha", "the cloud is replicated", "https://example.test/docs")
    text = render(result("EX-01", Rating(stars=3, reason="because", drivers=["lost"]), ev))
    assert "★★★☆☆" in text and "PoC ready" in text
    assert "(original report: ★★★★★)" in text  # differs from the original
    assert "why: because" in text and "decided by: lost" in text
    assert "✘ nothing is lost" in text and '"lost": 3' in text
    assert "(not run: external dev server)" in text
    assert "recovery = 1.5 s" in text
    assert "documented, not executed:" in text and "https://example.test/docs" in text
    assert "fail-close items: pass" in text  # three stars is good enough
    assert all(len(line) <= 80 for line in text.splitlines())


def test_errored_item_shows_the_error_and_no_stars() -> None:
    text = render(result("EX-02", None, Evidence(), error="timed out: run R was still RUNNING"))
    assert "ERROR" in text and "timed out: run R was still RUNNING" in text
    assert "1 errored" in text


def test_a_rated_pattern_names_its_module() -> None:
    pattern = PatternRating(pattern="a breaker", stars=4, reason="works",
                            module="patterns/circuit_breaker.py")  # fmt: skip
    text = render(result("RT-03", Rating(stars=2, reason="none", pattern=pattern), Evidence()))
    assert "pattern (a breaker), in patterns/circuit_breaker.py: ★★★★☆ — works" in text
