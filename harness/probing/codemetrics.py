"""Measuring code the way a reviewer would, for DX-01 (SDK design) and DX-06 (learning curve).

* :func:`function_patterns` reads Python source with :mod:`ast` and, for every Inngest function
  (a ``def`` decorated with ``<client>.create_function(...)``), counts its lines and lists the
  SDK names it uses: ``inngest.X`` attributes, ``step.X`` / ``group.X`` calls, ``ctx.X``
  attributes and the ``create_function`` options it sets.
* :func:`check_types` runs mypy ``--strict`` on a source text and returns its errors and the
  types it revealed (``reveal_type(...)`` lines), so a probe can ask the type checker what the
  SDK's API really returns.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

_REVEALED = re.compile(r':(\d+): note: Revealed type is "(.*)"$')
_ERROR = re.compile(r":(\d+): error: (.*)$")


@dataclass(frozen=True)
class FunctionPattern:
    """One Inngest function as written: where it is, how long, which SDK names it uses."""

    script: str
    name: str
    lines: int  # from the decorator to the end of the function, blank lines included
    sdk_names: frozenset[str]


def _chain(node: ast.AST) -> list[str]:
    """``a.b.c`` -> ["a", "b", "c"]; [] when the chain does not start at a plain name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return []


def _is_create_function(decorator: ast.expr) -> bool:
    return (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr == "create_function"
    )


def _sdk_names(node: ast.AST, ctx_name: str | None) -> set[str]:
    names: set[str] = set()
    # Only whole chains count: in ctx.step.ai.infer, ctx.step.ai is not a name of its own.
    inner = {id(n.value) for n in ast.walk(node) if isinstance(n, ast.Attribute)}
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and _is_create_function(sub):
            names.update(f"create_function({kw.arg})" for kw in sub.keywords if kw.arg)
        if not isinstance(sub, ast.Attribute) or id(sub) in inner:
            continue
        chain = _chain(sub)
        if len(chain) < 2:
            continue
        if chain[0] == "inngest":
            names.add(".".join(chain[:2]))
        elif ctx_name and chain[0] == ctx_name:
            if chain[1] in ("step", "group") and len(chain) >= 3:
                # step.ai.infer is one name; step.run is another
                names.add(".".join(chain[1:4] if chain[2] == "ai" else chain[1:3]))
            elif chain[1] not in ("step", "group"):
                names.add(f"ctx.{chain[1]}")
    return names


def function_patterns(paths: list[Path]) -> list[FunctionPattern]:
    """Every Inngest function defined in ``paths`` (nested definitions included)."""
    found: list[FunctionPattern] = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            decorators = [d for d in node.decorator_list if _is_create_function(d)]
            if not decorators:
                continue
            ctx_name = node.args.args[0].arg if node.args.args else None
            start = min(d.lineno for d in decorators)
            names = _sdk_names(node, ctx_name)
            found.append(
                FunctionPattern(
                    script=path.name,
                    name=node.name,
                    lines=(node.end_lineno or node.lineno) - start + 1,
                    sdk_names=frozenset(names),
                )
            )
    return found


def module_sdk_names(source: str) -> set[str]:
    """The SDK names a whole program uses: its functions' names (as :func:`function_patterns`
    counts them) plus the module-level ``inngest.X`` ones (client, serve handler)."""
    tree = ast.parse(source)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
            _is_create_function(d) for d in node.decorator_list
        ):
            names |= _sdk_names(node, node.args.args[0].arg if node.args.args else None)
    return names | _sdk_names(tree, None)


@dataclass(frozen=True)
class ProgramSize:
    """How big a whole program is: non-blank lines (imports and serving included) and the SDK
    names it uses (:func:`module_sdk_names`)."""

    lines: int
    sdk_names: frozenset[str]


def program_size(source: str) -> ProgramSize:
    return ProgramSize(
        lines=sum(1 for line in source.splitlines() if line.strip()),
        sdk_names=frozenset(module_sdk_names(source)),
    )


_CODE_BLOCK = re.compile(r"```py(?:thon)?\n(.*?)```", re.DOTALL)


def readme_program(distribution: str = "inngest") -> str | None:
    """The first complete program (one that serves functions) in an installed package's README,
    as its metadata carries it; None when the README has none."""
    # The README is the body of the METADATA file, after its headers.
    metadata = importlib.metadata.distribution(distribution).read_text("METADATA") or ""
    for block in _CODE_BLOCK.findall(metadata):
        if "create_function" in block and ".serve(" in block:
            return str(block)
    return None


@dataclass(frozen=True)
class PatternSummary:
    functions: int
    median_lines: float
    max_lines: int
    median_names: float
    names: frozenset[str]  # every SDK name used by any of them


def summarize(patterns: list[FunctionPattern]) -> PatternSummary:
    if not patterns:
        raise ValueError("no Inngest functions found to measure")
    return PatternSummary(
        functions=len(patterns),
        median_lines=statistics.median(p.lines for p in patterns),
        max_lines=max(p.lines for p in patterns),
        median_names=statistics.median(len(p.sdk_names) for p in patterns),
        names=frozenset().union(*(p.sdk_names for p in patterns)),
    )


@dataclass
class TypeCheck:
    """mypy's verdict on a source text: its errors, and each ``reveal_type`` by line number."""

    errors: list[str] = field(default_factory=list)
    revealed: dict[int, str] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)


def mypy_available() -> bool:
    try:
        import mypy.api  # noqa: F401
    except ImportError:
        return False
    return True


def check_types(source: str, workdir: Path, *, timeout: float = 120.0) -> TypeCheck:
    """Type-check ``source`` (as ``probe_module.py`` in ``workdir``) with ``mypy --strict``."""
    workdir.mkdir(parents=True, exist_ok=True)
    module = workdir / "probe_module.py"
    module.write_text(source, encoding="utf-8")
    command = [
        sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--hide-error-context",
        "--no-color-output", "--cache-dir", str(workdir / ".mypy_cache"), str(module),
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    result = TypeCheck(command=command)
    for line in done.stdout.splitlines():
        if match := _REVEALED.search(line):
            result.revealed[int(match.group(1))] = match.group(2)
        elif match := _ERROR.search(line):
            result.errors.append(f"line {match.group(1)}: {match.group(2)}")
    if done.returncode not in (0, 1):  # 2: mypy itself failed (bad flags, crash)
        raise RuntimeError(f"mypy failed (exit {done.returncode}): {done.stderr.strip()[:500]}")
    return result


def sdk_modules_named(word: str, package: str = "inngest") -> list[str]:
    """Modules of the installed ``package`` whose dotted name contains ``word``, found on disk
    (nothing is imported; some SDK modules need optional dependencies to import)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise LookupError(f"{package} is not installed")
    root = Path(spec.origin).parent
    found: list[str] = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        dotted = ".".join(parts)
        if word in dotted and not parts[-1].endswith("_test"):
            found.append(dotted)
    return found
