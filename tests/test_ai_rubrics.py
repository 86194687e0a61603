"""AI rubrics: hand-made evidence in, stars out (failing and unobservable evidence included)."""

from __future__ import annotations

from types import ModuleType

import pytest

import serve
from conftest import ROOT
from harness.rating.evidence import Evidence, Rating


@pytest.fixture(scope="module")
def ai() -> ModuleType:
    return serve.load_script(ROOT / "11_ai_agent_integration.py")


def grade(
    ai: ModuleType, item: str, keys: list[str], failed: list[str], not_run: list[str] = ()
) -> Rating:
    ev = Evidence()
    for key in keys:
        if key in not_run:
            ev.not_run(key, key, "not observable here")
        else:
            ev.check(key, key, key not in failed)
    return ai.suite.items[item].rate(ev)


def test_every_ai_item_has_a_rubric(ai: ModuleType) -> None:
    assert list(ai.suite.items) == [f"AI-0{n}" for n in range(1, 7)]
    for item in ai.suite.items.values():
        assert item._rubric is not None, item.id


AI01 = ["completes-after-later-failures", "model-called-once", "retries-see-memoized-answer",
        "infer-completes", "infer-called-once"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "not_run", "stars"),
    [
        ([], [], 5),
        ([], ["infer-called-once"], 5),  # a real provider: the dev server's calls are not counted
        (["infer-called-once"], [], 4),
        (["infer-completes"], [], 4),
        (["model-called-once"], [], 2),
        (["retries-see-memoized-answer"], [], 2),
        (["completes-after-later-failures"], [], 1),
    ],
)
def test_ai01_llm_call_as_step(ai, failed, not_run, stars) -> None:
    assert grade(ai, "AI-01", AI01, failed, not_run).stars == stars


AI02 = ["runs-complete", "model-called-once-per-run", "reentries-follow-memoized-answer",
        "one-branch-per-run", "answers-varied"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["answers-varied"], 4),
        (["one-branch-per-run"], 2),
        (["model-called-once-per-run"], 2),
        (["reentries-follow-memoized-answer"], 1),
        (["runs-complete"], 1),
    ],
)
def test_ai02_non_determinism(ai, failed, stars) -> None:
    assert grade(ai, "AI-02", AI02, failed).stars == stars


AI03 = ["approve-path", "reject-path", "timeout-path", "review-matched-to-draft",
        "draft-not-rewritten"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["draft-not-rewritten"], 4),
        (["review-matched-to-draft"], 3),
        (["timeout-path"], 3),
        (["approve-path", "reject-path"], 1),
    ],
)
def test_ai03_human_in_the_loop(ai, failed, stars) -> None:
    assert grade(ai, "AI-03", AI03, failed).stars == stars


AI04 = ["tokens-reach-subscriber", "streams-while-step-runs", "retry-streams-once",
        "realtime-stable"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "stars"),
    [
        ([], 5),
        (["retry-streams-once"], 4),
        (["retry-streams-once", "realtime-stable"], 3),
        (["streams-while-step-runs"], 2),
        (["tokens-reach-subscriber", "realtime-stable"], 2),
    ],
)
def test_ai04_streaming(ai, failed, stars) -> None:
    rating = grade(ai, "AI-04", AI04, failed)
    assert rating.stars == stars
    if stars == 3:
        assert rating.advice is not None


AI05_PATTERN = ["agent-completes", "each-call-a-step", "model-called-once-per-turn"]
AI05 = [*AI05_PATTERN, "tools-offered-through-openai-client", "python-agent-framework",
        "ai-module-stable"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "stars", "pattern_stars"),
    [
        (["python-agent-framework", "ai-module-stable"], 2, 4),
        (["python-agent-framework"], 3, 4),
        (["python-agent-framework", "ai-module-stable", "each-call-a-step"], 2, 2),
        ([], 5, 4),
        (["agent-completes"], 3, 2),
    ],
)
def test_ai05_native_framework_and_the_loop_pattern(ai, failed, stars, pattern_stars) -> None:
    rating = grade(ai, "AI-05", AI05, failed)
    assert rating.stars == stars
    assert rating.pattern is not None and rating.pattern.stars == pattern_stars


AI06 = ["flaky-tool-retried-as-step", "model-not-recalled-on-tool-retry", "other-tools-not-rerun",
        "broken-tool-handled"]  # fmt: skip


@pytest.mark.parametrize(
    ("failed", "not_run", "stars"),
    [
        ([], [], 5),
        # a real model that did not ask for both tools in one turn: neither check observable
        ([], ["flaky-tool-retried-as-step", "other-tools-not-rerun"], 4),
        (["broken-tool-handled"], [], 4),
        (["other-tools-not-rerun"], [], 3),
        (["model-not-recalled-on-tool-retry"], [], 2),
        (["flaky-tool-retried-as-step"], [], 1),
    ],
)
def test_ai06_tool_fault_tolerance(ai, failed, not_run, stars) -> None:
    assert grade(ai, "AI-06", AI06, failed, not_run).stars == stars
