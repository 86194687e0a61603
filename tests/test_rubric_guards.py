"""Guards on every category script's rubrics and probes, without a server.

1. Every star a rubric can return is returned for some evidence: the values its
   ``Rating(stars=…)`` calls can give (read from the source) equal the values reached by varying
   the committed results' evidence (tests/rubric_reach.py) plus the few examples below. A
   branch no evidence reaches fails here; remove it or give the evidence that reaches it.
2. Every check matters, or says it does not: flipping it (passed <-> failed) changes the item's
   stars, reason, advice or pattern rating for some evidence, or the probe records it with
   ``informational=True``.
3. A run that does not end is never turned into a probe error where a check reads whether it
   ended: a run bound from ``probe.wait(...)`` (which raises when the run does not finish) must
   not then be asked ``.final``; use ``probe.wait_or_last`` and let the rubric rate it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from rubric_evidence import evidence
from rubric_reach import (
    all_set,
    committed_evidence,
    flipped,
    outcome,
    rate_or_none,
    read_source,
    variants,
)

import serve
from conftest import ROOT
from harness.rating.evidence import CheckOutcome, Evidence

SCRIPTS = sorted(ROOT.glob("[01][0-9]_*.py"))

# Rubrics whose stars are computed, not written as literals: what they can return.
DECLARED_STARS: dict[str, set[int]] = {
    "PF-01": {1, 2, 3, 4, 5},  # stars from the per-step overhead's band
}

# Evidence for branches the committed results cannot reach, because those results were
# written before the probe recorded what the rubric now reads. Drop an entry once results/
# are regenerated and the guard passes without it.
DX02_PROBED = ["python-core-primitives", "docs-match-installed-sdk"]
SG01 = ["batch-send-starts-one-run-each", "send-event-returns-ids", "returned-ids-lead-to-runs",
        "signal-resumes-waiting-run", "signal-reaches-only-its-run",
        "signal-before-wait-delivered", "signal-after-step-delivered", "sender-told-undelivered",
        "python-sdk-wait-for-signal"]  # fmt: skip
OB02 = ["dev-metrics-endpoint", "run-counters-by-default", "latency-histograms",
        "run-counters-flagged", "self-hosted-metrics"]  # fmt: skip
OB03 = ["timeline", "step-outputs", "run-input", "retried-attempts", "rendered-history"]
EXAMPLES: dict[str, list[Evidence]] = {
    "DX-02": [
        evidence(
            DX02_PROBED,
            ["python-has-typescript-features"],
            measurements={"python-lacks-typescript-features": 3},
            facts=["python-gaps-unprobed"],
        ),
        evidence(
            [*DX02_PROBED, "python-has-typescript-features"],
            measurements={"python-lacks-typescript-features": 0},
        ),
    ],
    "DX-06": [
        evidence(
            ["minimal-program-runs", "minimal-program-small"],
            measurements={"minimal-program-lines": 11, "minimal-program-sdk-names": 8},
            facts=["rule:side-effects-in-steps", "rule:stable-step-ids"],
        ),
        # One rule to learn: what an SDK whose only rule is "side effects in steps" would get.
        evidence(
            ["minimal-program-runs", "minimal-program-small"],
            measurements={"minimal-program-lines": 11, "minimal-program-sdk-names": 8},
            facts=["rule:side-effects-in-steps"],
        ),
    ],
    # The run page failing out of the box with the flag as a workaround (what the build with a
    # stand-in SQLite driver showed); a faithful server passes, so the probe no longer records
    # the workaround's checks.
    "OB-01": [
        evidence(
            [
                "ui-served",
                "ui-step-output-query",
                "ui-trigger-query",
                "ui-runs-list-query",
                "ui-run-query:traces-preview=false",
                "ui-renders-run:traces-preview=false",
            ],
            failed=["ui-run-query", "ui-renders-run"],
        )
    ],
    # SG-01 now rates signalling running runs; the committed results predate those checks.
    "SG-01": [
        evidence(SG01),
        evidence(SG01, ["signal-before-wait-delivered"]),
        evidence(SG01, ["signal-before-wait-delivered", "sender-told-undelivered"]),
        evidence(SG01, ["signal-reaches-only-its-run"]),
        evidence(SG01, ["python-sdk-wait-for-signal"]),
    ],
    # Written before OB-02 checked latency histograms and OB-03 rendered its run page.
    "OB-02": [evidence(OB02)],
    "OB-03": [evidence(OB03)],
}

# Checks found not to matter and not yet triaged (made to matter or marked informational).
# The guard fails on any check not listed here that does not matter, and on a listed one that
# has come to matter (take it off the list). Empty: keep it so.
UNTRIAGED: set[tuple[str, str]] = set()


@pytest.fixture(scope="module", params=SCRIPTS, ids=[s.stem for s in SCRIPTS])
def script(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


def _module(script: Path) -> ModuleType:
    return serve.load_script(script)


def _committed(script: Path) -> dict[str, Evidence]:
    results = ROOT / "results" / f"{script.stem}.json"
    return committed_evidence(results) if results.exists() else {}


def test_every_star_a_rubric_can_return_is_reached(script: Path) -> None:
    module, source, committed = _module(script), read_source(script), _committed(script)
    problems = []
    for item in module.suite.items:
        declared = source.stars.get(item)
        if declared is None:
            declared = DECLARED_STARS.get(item)
        if declared is None:
            problems.append(f"{item}: stars are not literals; declare them in DECLARED_STARS")
            continue
        reached: set[int] = set()
        samples = [*variants(committed[item])] if item in committed else []
        for ev in [*samples, *EXAMPLES.get(item, [])]:
            rating = rate_or_none(module, item, ev)
            if rating is not None:
                reached.add(rating.stars)
        if reached != declared:
            problems.append(
                f"{item}: the rubric can return {sorted(declared)}, evidence reached "
                f"{sorted(reached)}; unreachable: {sorted(declared - reached)}"
            )
    assert not problems, "\n".join(problems)


def _bases(ev: Evidence, examples: list[Evidence]) -> Iterator[Evidence]:
    yield ev
    yield all_set(ev, CheckOutcome.PASSED)
    yield all_set(ev, CheckOutcome.FAILED)
    for check in ev.checks:
        if check.outcome is not CheckOutcome.NOT_RUN:
            yield flipped(ev, check.key)
    yield from examples


def _matters(module: ModuleType, item: str, key: str, bases: list[Evidence]) -> bool:
    for base in bases:
        if not any(c.key == key and c.outcome is not CheckOutcome.NOT_RUN for c in base.checks):
            continue
        before = rate_or_none(module, item, base)
        after = rate_or_none(module, item, flipped(base, key))
        if before is not None and after is not None and outcome(before) != outcome(after):
            return True
    return False


def test_every_check_matters_or_is_marked_informational(script: Path) -> None:
    module, source, committed = _module(script), read_source(script), _committed(script)
    idle, settled = [], []
    for item, ev in committed.items():
        if item not in module.suite.items:
            continue
        bases = list(_bases(ev, EXAMPLES.get(item, [])))
        for check in ev.checks:
            if check.outcome is CheckOutcome.NOT_RUN:
                continue
            marked = check.informational or check.key in source.informational
            matters = _matters(module, item, check.key, bases)
            listed = (item, check.key) in UNTRIAGED
            if not matters and not marked and not listed:
                idle.append(f"{item} {check.key}")
            if listed and (matters or marked):
                settled.append(f"{item} {check.key}")
    assert not idle, "checks that change no rating; make them matter or informational=True:\n" + (
        "\n".join(idle)
    )
    assert not settled, "take these off UNTRIAGED, they are settled:\n" + "\n".join(settled)


def _waited_names(function: ast.AST) -> set[str]:
    """Names bound from ``<something>.wait(...)`` (not wait_or_last) in one function."""
    names: set[str] = set()
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr == "wait"
        ):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def final_read_after_wait(source: str) -> list[int]:
    """Lines where a run that came from ``probe.wait`` (it raises unless the run ended) is asked
    ``.final``: a check that can never fail, and a stuck run made a probe error."""
    tree = ast.parse(source)
    lines = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        waited = _waited_names(function)
        for node in ast.walk(function):
            if not (isinstance(node, ast.Attribute) and node.attr == "final"):
                continue
            value = node.value
            direct = (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute)
                and value.func.attr == "wait"
            )
            if direct or (isinstance(value, ast.Name) and value.id in waited):
                lines.append(node.lineno)
    return sorted(set(lines))


def test_no_check_asks_a_waited_run_whether_it_ended(script: Path) -> None:
    assert final_read_after_wait(script.read_text(encoding="utf-8")) == []


# --- the guards themselves catch what they are for -------------------------------------------
def test_the_wait_guard_flags_final_after_wait_and_not_after_wait_or_last() -> None:
    bad = "def p(probe):\n    run = probe.wait(r)\n    probe.check('k', 'd', run.final)\n"
    good = "def p(probe):\n    run = probe.wait_or_last(r)\n    probe.check('k', 'd', run.final)\n"
    assert final_read_after_wait(bad) == [3]
    assert final_read_after_wait(good) == []
    assert final_read_after_wait("def p(probe):\n    return probe.wait(r).final\n") == [2]


TOY = """
@suite.item("EX-01", functions=[])
def toy(probe):
    probe.check("shown", "d", True, informational=True)

@toy.rubric
def _(ev):
    if ev.passed("a"):
        return Rating(stars=5, reason=t("a"))
    return helper(ev)

def helper(ev):
    return Rating(stars=2 if ev.passed("b") else 1, reason=t("b"))
"""


def test_the_source_reader_follows_helpers_and_conditionals(tmp_path: Path) -> None:
    path = tmp_path / "01_toy.py"
    path.write_text(TOY, encoding="utf-8")
    source = read_source(path)
    assert source.stars == {"EX-01": {1, 2, 5}}
    assert source.informational == {"shown"}
