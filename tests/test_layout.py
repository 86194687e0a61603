"""The harness's layout: subpackages that depend on each other in one direction, no module
import cycles, and a docstring that says what each subpackage is for."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from conftest import ROOT

HARNESS = ROOT / "harness"
# Lower layers never import higher ones (the top-level modules errors and i18n are the base,
# suite sits on everything).
LAYERS = [
    *("errors", "i18n", "host", "servers", "probing", "replay", "rating", "faults", "temporal"),
    "report",
    "suite",
]


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The harness modules ``path`` imports (TYPE_CHECKING imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import (write harness.… in full)"
            if node.module == "harness" or node.module.startswith("harness."):
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("harness."))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module(p): p for p in HARNESS.rglob("*.py")}
    return {
        name: {m for m in _imports(path) if m in modules} - {name} for name, path in modules.items()
    }


def _layer(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def test_no_module_import_cycle() -> None:
    graph = _graph()
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if dep.endswith("__init__") or dep == "harness":
                continue
            assert state.get(dep) != 1, " -> ".join([*trail, node, dep])
            if dep not in state:
                visit(dep, [*trail, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


def test_subpackages_depend_downwards_only() -> None:
    wrong = []
    for module, deps in _graph().items():
        if module == "harness":
            continue
        layer = _layer(module)
        assert layer in LAYERS, f"{module}: not in a layer; add it to LAYERS or a package"
        for dep in deps:
            if _layer(dep) in LAYERS and LAYERS.index(_layer(dep)) > LAYERS.index(layer):
                wrong.append(f"{module} imports {dep}")
    assert wrong == []


def test_every_subpackage_says_what_it_is_for() -> None:
    packages = [p.parent.name for p in HARNESS.glob("*/__init__.py")]
    assert sorted(packages) == sorted(n for n in LAYERS if (HARNESS / n).is_dir())
    for name in packages:
        doc = importlib.import_module(f"harness.{name}").__doc__
        assert doc and doc.strip().endswith(".") and len(doc.strip().splitlines()) == 1, name
