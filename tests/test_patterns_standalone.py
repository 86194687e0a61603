"""Every module under patterns/ stands alone: a reader copies it without the suite's plumbing.

Parsed, not imported: an import of the harness, common, serve or a category script anywhere in
the file (at the top, inside a function, relative or absolute) fails the test.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

PATTERNS = sorted((ROOT / "patterns").glob("*.py"))
SCRIPTS = {p.stem for p in ROOT.glob("[01][0-9]_*.py")}
FORBIDDEN = {"harness", "common", "serve", "run_all", "report", "compare_temporal", *SCRIPTS}


def imported_modules(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: only a sibling pattern is allowed
                names.append(f"patterns.{node.module or ''}")
            else:
                names.append(node.module or "")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.append(str(node.args[0].value))
    return names


def test_there_are_patterns() -> None:
    assert len(PATTERNS) >= 10


@pytest.mark.parametrize("path", PATTERNS, ids=lambda p: p.name)
def test_a_pattern_imports_none_of_the_suite(path: Path) -> None:
    bad = [n for n in imported_modules(path) if n.split(".")[0] in FORBIDDEN]
    assert not bad, f"{path.name} imports the suite's own modules {bad}"


@pytest.mark.parametrize("path", PATTERNS, ids=lambda p: p.name)
def test_a_pattern_says_what_it_solves_when_to_use_it_and_its_limits(path: Path) -> None:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    if path.name == "__init__.py":
        assert doc
        return
    for heading in ("Problem", "When to use it", "Limits"):
        assert f"{heading}:" in doc, f"{path.name}'s docstring has no {heading!r}"


def test_the_guard_catches_an_import_of_the_suite(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text(
        "import inngest\ndef f():\n    from harness.servers.api import DevServerAPI\n"
        "    import importlib\n    importlib.import_module('common')\n"
    )
    assert imported_modules(sample) == ["inngest", "harness.servers.api", "importlib", "common"]
