"""Refusing bad input before anything starts.

Every entry point (the category scripts, run_all.py, report.py, compare_temporal.py, serve.py)
checks its options and the environment variables it reads with these validators, before any
server starts. A refusal is one line that names the option or variable and what is allowed, and
the exit code is 2 ("cannot run"), never a verdict about Inngest.

Modules that read an environment variable declare its check next to the variable's name
(``ENV_CHECKS``), so that an entry point checks exactly what it will read.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

from harness.errors import ExitCode, SetupError

# Raises BadInput (or ValueError) for a bad value; an unset or empty variable always passes.
EnvCheck = Callable[[Mapping[str, str]], object]


class BadInput(SetupError):
    """An option or environment variable has a value the suite cannot use."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line and exit 2, like every other refusal."""

    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.CANNOT_RUN, f"{self.prog}: error: {message} (see --help)\n")


def refuse(prog: str, problem: SetupError) -> int:
    """Print a refusal as one line on stderr; the exit code to return."""
    print(f"{prog}: error: {problem}", file=sys.stderr)
    return problem.exit_code


def _named(name: str, value: object) -> str:
    """How a message names the input: ``--scale -5`` for an option, ``VAR='x'`` for a variable."""
    return f"{name} {value}" if name.startswith("-") else f"{name}={str(value)!r}"


# --- values (argparse ``type=``) ----------------------------------------------------------
def whole_number(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse ``type`` for a whole number in ``minimum`` … ``maximum``."""
    allowed = f"a whole number ≥ {minimum}"
    if maximum is not None:
        allowed = f"a whole number from {minimum} to {maximum}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number; allowed: {allowed}"
            ) from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"{value} is out of range; allowed: {allowed}")
        return value

    return parse


# --- checks after parsing ------------------------------------------------------------------
def id_list(option: str, raw: list[str], allowed: str = "item IDs such as EX-01") -> list[str]:
    """IDs from a repeatable, comma-separated option, upper-cased. Empty when the option was not
    given; BadInput when it was given without any ID (``--item ""`` would otherwise mean "all")
    or names one twice."""
    if not raw:
        return []
    ids = [part.strip().upper() for text in raw for part in text.split(",") if part.strip()]
    if not ids:
        raise BadInput(f"{option} is empty; allowed: {allowed}, comma-separated")
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise BadInput(f"{option} names {', '.join(repeated)} more than once; name each once")
    return ids


def writable_dir(option: str, path: Path) -> Path:
    """A directory a results file can be written to: creates and removes a file there (in the
    nearest existing parent when the directory is still to be made, as saving would)."""
    existing = path.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise BadInput(
            f"{_named(option, path)}: {existing} is not a directory; allowed: a writable directory"
        )
    try:
        handle, probe = tempfile.mkstemp(dir=existing, prefix=".write-check-")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise BadInput(
            f"{_named(option, path)}: cannot write in {existing} ({exc.strerror or exc}); "
            "allowed: a writable directory"
        ) from None
    return path


def readable_dir(option: str, path: Path) -> Path:
    if not path.is_dir() or not os.access(path, os.R_OK | os.X_OK):
        raise BadInput(
            f"{_named(option, path)}: not a readable directory; allowed: a directory of results"
        )
    return path


def appendable_file(option: str, path: Path) -> Path:
    """A file lines can be appended to (created if missing)."""
    if path.is_dir():
        raise BadInput(f"{_named(option, path)}: is a directory; allowed: a file to append to")
    try:
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise BadInput(
            f"{_named(option, path)}: cannot append to it ({exc.strerror or exc}); "
            "allowed: a file in a writable directory"
        ) from None
    return path


def existing_file(option: str, path: Path) -> Path:
    if not path.is_file():
        raise BadInput(f"{_named(option, path)}: no such file; allowed: an existing file")
    return path


def executable(name: str, value: str) -> str:
    """The program's path: ``value`` is a path to an executable file or a name on PATH."""
    found = shutil.which(value)
    if found is None:
        raise BadInput(
            f"{_named(name, value)}: not an executable file; allowed: the path of an executable "
            "program, or its name on PATH"
        )
    return found


def url(name: str, value: str) -> str:
    """An http(s) URL with a host (and, if any, a valid port)."""
    parts = urlsplit(value.strip())
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise BadInput(
            f"{_named(name, value)}: not an http(s) URL with a host; allowed: e.g. "
            "http://127.0.0.1:8288"
        )
    return value.strip()


def one_of(name: str, value: str, allowed: Iterable[str]) -> str:
    choices = list(allowed)
    if value not in choices:
        raise BadInput(f"{_named(name, value)}: unknown; allowed: {', '.join(choices)}")
    return value


# --- environment variables ----------------------------------------------------------------
# An empty variable counts as unset, as everywhere in the suite (``os.environ.get(...) or ...``).
def url_variable(name: str) -> EnvCheck:
    def check(env: Mapping[str, str]) -> None:
        if env.get(name):
            url(name, env[name])

    return check


def executable_variable(name: str) -> EnvCheck:
    def check(env: Mapping[str, str]) -> None:
        if env.get(name):
            executable(name, env[name])

    return check


def directory_variable(name: str) -> EnvCheck:
    """A folder the suite writes in (created if missing)."""

    def check(env: Mapping[str, str]) -> None:
        if env.get(name):
            writable_dir(name, Path(env[name]))

    return check


def choice_variable(name: str, allowed: Iterable[str], *, fold_case: bool = False) -> EnvCheck:
    choices = list(allowed)

    def check(env: Mapping[str, str]) -> None:
        value = env.get(name, "").strip()
        if value:
            one_of(name, value.lower() if fold_case else value, choices)

    return check


def needs_variable(name: str, companion: str, why: str) -> EnvCheck:
    """``name`` set requires ``companion`` set too."""

    def check(env: Mapping[str, str]) -> None:
        if env.get(name) and not env.get(companion):
            raise BadInput(f"{name} is set but {companion} is not; {why}")

    return check


def check_environment(checks: Iterable[EnvCheck], env: Mapping[str, str] | None = None) -> None:
    """Run ``checks`` on the environment; the first bad variable raises BadInput."""
    current = os.environ if env is None else env
    for check in checks:
        try:
            check(current)
        except ValueError as exc:  # patterns.otel_tracing cannot import this module
            raise BadInput(str(exc)) from None
