"""What the rubric guards (tests/test_rubric_guards.py) read: the star values each rubric's
source can return, evidence varied around the committed results, and the checks a script marks
as informational.

A rubric is a pure function of Evidence, so which stars it can return is a question that can
be answered without a server: vary the evidence of the last real run (results/*.json), check by
check and figure by figure, and collect the stars that come out.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from harness.rating.evidence import Check, CheckOutcome, Evidence, Rating

# How far a measured figure is pushed to cross a rubric's thresholds.
SCALES = (0.0, 0.01, 0.1, 0.5, 0.9, 1.1, 2.0, 10.0, 100.0, 10_000.0)


# --- what the source says a rubric can return --------------------------------------------------
@dataclass(frozen=True)
class RubricSource:
    """Per item of one script: the star values its rubric's ``Rating(stars=…)`` calls can give
    (None where one is not a literal or a conditional of literals), and the keys of checks its
    probe marks ``informational=True``."""

    stars: dict[str, set[int] | None]
    informational: set[str]


def _literal_stars(node: ast.expr) -> set[int] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return {node.value}
    if isinstance(node, ast.IfExp):
        body, orelse = _literal_stars(node.body), _literal_stars(node.orelse)
        return None if body is None or orelse is None else body | orelse
    return None


def _calls_named(node: ast.AST, name: str) -> Iterator[ast.Call]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and sub.func.id == name:
            yield sub


def _called_functions(node: ast.AST) -> set[str]:
    return {
        sub.func.id
        for sub in ast.walk(node)
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name)
    }


def read_source(script: Path) -> RubricSource:
    tree = ast.parse(script.read_text(encoding="utf-8"))
    helpers: dict[str, ast.FunctionDef] = {}
    item_of_probe: dict[str, str] = {}
    rubrics: list[tuple[str, ast.FunctionDef]] = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        helpers.setdefault(node.name, node)
        for decorator in node.decorator_list:
            if (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr == "item"
                and decorator.args
                and isinstance(decorator.args[0], ast.Constant)
            ):
                item_of_probe[node.name] = str(decorator.args[0].value)
            if (
                isinstance(decorator, ast.Attribute)
                and decorator.attr == "rubric"
                and isinstance(decorator.value, ast.Name)
            ):
                rubrics.append((decorator.value.id, node))
    stars: dict[str, set[int] | None] = {}
    for probe_name, rubric in rubrics:
        # The rubric and every module-level function it calls, transitively.
        bodies, seen, queue = [rubric], {rubric.name}, list(_called_functions(rubric))
        while queue:
            name = queue.pop()
            if name in helpers and name not in seen:
                seen.add(name)
                bodies.append(helpers[name])
                queue.extend(_called_functions(helpers[name]))
        found: set[int] | None = set()
        for body in bodies:
            for call in _calls_named(body, "Rating"):
                for keyword in call.keywords:
                    if keyword.arg == "stars":
                        literal = _literal_stars(keyword.value)
                        found = None if literal is None or found is None else found | literal
        stars[item_of_probe[probe_name]] = found
    informational = {
        str(call.args[0].value)
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "check"
        and call.args
        and isinstance(call.args[0], ast.Constant)
        and any(
            k.arg == "informational" and isinstance(k.value, ast.Constant) and k.value.value
            for k in call.keywords
        )
    }
    return RubricSource(stars=stars, informational=informational)


# --- evidence around the committed results ----------------------------------------------------
def committed_evidence(results: Path) -> dict[str, Evidence]:
    """Each item's evidence from a committed results file (items that were rated)."""
    data = json.loads(results.read_text(encoding="utf-8"))
    return {
        item_id: Evidence.model_validate(item["evidence"])
        for item_id, item in data.get("items", {}).items()
        if item.get("status") == "rated"
    }


def _with_outcomes(ev: Evidence, outcomes: dict[str, CheckOutcome]) -> Evidence:
    checks = [
        Check.model_validate(
            {**c.model_dump(), "outcome": outcomes.get(c.key, c.outcome), "reason": c.reason}
        )
        for c in ev.checks
    ]
    return Evidence(checks=checks, measurements=list(ev.measurements), facts=list(ev.facts))


def flipped(ev: Evidence, key: str) -> Evidence:
    """``ev`` with check ``key`` passed if it failed and failed otherwise."""
    outcome = ev.get(key).outcome
    new = CheckOutcome.FAILED if outcome is CheckOutcome.PASSED else CheckOutcome.PASSED
    return _with_outcomes(ev, {key: new})


def all_set(ev: Evidence, outcome: CheckOutcome) -> Evidence:
    return _with_outcomes(ev, {c.key: outcome for c in ev.checks})


def variants(ev: Evidence) -> Iterator[Evidence]:
    """The committed evidence, every check passed, every check failed; each of those with one
    check flipped or not run, with a fact left out, and with a figure scaled or missing; and
    the committed evidence with any two checks flipped."""
    keys = [c.key for c in ev.checks]
    bases = [ev, all_set(ev, CheckOutcome.PASSED), all_set(ev, CheckOutcome.FAILED)]
    for base in bases:
        yield base
        for key in keys:
            yield flipped(base, key)
            yield _with_outcomes(base, {key: CheckOutcome.NOT_RUN})
        for fact in base.facts:
            yield base.model_copy(update={"facts": [f for f in base.facts if f is not fact]})
        for index, measurement in enumerate(base.measurements):
            others = base.measurements[:index] + base.measurements[index + 1 :]
            yield base.model_copy(update={"measurements": others})
            for scale in SCALES:
                scaled = measurement.model_copy(update={"value": measurement.value * scale})
                yield base.model_copy(update={"measurements": [*others, scaled]})
    for i, first in enumerate(keys):
        for second in keys[i + 1 :]:
            yield flipped(flipped(ev, first), second)


def outcome(rating: Rating) -> tuple[object, ...]:
    """What a reader of the report sees of a rating: stars, reason, advice, pattern."""
    pattern = rating.pattern
    return (
        rating.stars,
        rating.reason,
        rating.advice,
        (pattern.stars, pattern.reason) if pattern else None,
    )


def rate_or_none(module: ModuleType, item: str, ev: Evidence) -> Rating | None:
    """The item's rating, or None where the rubric cannot rate that evidence (it asked for a
    figure the evidence does not have, say)."""
    try:
        rating: Rating = module.suite.items[item].rate(ev)
    except (KeyError, ValueError, TypeError, ZeroDivisionError):
        return None
    return rating
