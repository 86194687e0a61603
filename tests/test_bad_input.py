"""Bad input is refused before anything starts: every option of every entry point and every
environment variable README names, with bad values, the exit code and a fragment of the one-line
message. No server is needed: each entry point runs in this process with whatever would start a
server replaced by a tripwire, so a case that gets past validation fails loudly instead.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import compare_temporal
import report
import run_all
import serve
from conftest import ROOT, run_script
from harness import suite as suite_module
from harness.errors import ExitCode
from harness.suite import Suite

SCRIPTS = sorted(ROOT.glob("[01][0-9]_*.py"))
CANNOT_RUN = ExitCode.CANNOT_RUN

# Every variable README names that the entry points read (OTEL_EXPORTER_OTLP_* by two of them).
README_VARIABLES = (
    "INNGEST_DEV_SERVER_URL",
    "INNGEST_DEV_SERVER_BIN",
    "INNGEST_SUITE_SERVER",
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_MODEL",
    "SUITE_CHROMIUM",
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "TEMPORAL_CLI_BIN",
    "INNGEST_SIGNING_KEY",
    "INNGEST_EVENT_KEY",
    "INNGEST_SUITE_PORT_LOCKS",
    "INNGEST_SERVER_BUILD_NOTE",
)
# Free text: no value to refuse.
ANY_VALUE = {"OPENAI_MODEL", "INNGEST_SERVER_BUILD_NOTE"}
# Upper-case names in README that are not variables.
NOT_VARIABLES = {"LC_MESSAGES", "RUN_ID"}


@dataclass(frozen=True)
class Case:
    argv: list[str]
    fragment: str  # in the one line on stderr
    env: dict[str, str] = field(default_factory=dict)
    code: int = CANNOT_RUN

    def __str__(self) -> str:
        shown = " ".join(self.argv) + "".join(f" {k}={v!r}" for k, v in self.env.items())
        return shown.strip() or "(no options)"


# Placeholders, filled in per test: {own} an item of the script, {other} one of another script,
# {file} an existing regular file, {dir} an existing directory, {plain} a non-executable file.
NOT_A_URL = ("localhost:8288", "not an http(s) URL")
SCRIPT_CASES = [
    Case(["--item", "XX-01"], "unknown item ID 'XX-01'"),
    Case(["--item", "{other}"], "is evaluated by"),
    Case(["--item", ""], "--item is empty"),
    Case(["--item", " , "], "--item is empty"),
    Case(["--item", "{own},{own_lower}"], "more than once"),
    Case(["--item"], "expected one argument"),
    Case(["--list=yes"], "ignored explicit argument"),
    Case(["--json=yes"], "ignored explicit argument"),
    Case(["--verbose=yes"], "ignored explicit argument"),
    Case(["--no-save=yes"], "ignored explicit argument"),
    Case(["--no-preflight=yes"], "ignored explicit argument"),
    Case(["--results-dir", "/proc/nope"], "--results-dir /proc/nope: cannot write"),
    Case(["--results-dir", "{file}"], "is not a directory"),
    Case(["--results-dir", "{file}/below"], "is not a directory"),
    Case(["--results-dir"], "expected one argument"),
    Case(["--progress", "/proc/nope/events.jsonl"], "--progress /proc/nope/events.jsonl"),
    Case(["--progress", "{dir}"], "is a directory"),
    Case(["--server", "cloud"], "argument --server: invalid choice: 'cloud'"),
    Case(["--duration", "forever"], "argument --duration: invalid choice"),
    Case(["--side-effects", "some"], "argument --side-effects: invalid choice"),
    Case(["--deployment", "mainframe"], "argument --deployment: invalid choice"),
    Case(["--scale", "-5"], "argument --scale: -5 is out of range; allowed: a whole number ≥ 1"),
    Case(["--scale", "0"], "argument --scale: 0 is out of range"),
    Case(["--scale", "many"], "argument --scale: 'many' is not a whole number"),
    Case(["--determinism", "random"], "argument --determinism: invalid choice"),
    Case(["--language", "rust"], "argument --language: invalid choice"),
    Case(["--itme", "EX-01"], "unrecognized arguments"),
    Case(
        [],
        "INNGEST_DEV_SERVER_URL='localhost:8288': not an http(s) URL",
        {"INNGEST_DEV_SERVER_URL": "localhost:8288"},
    ),
    Case([], "INNGEST_DEV_SERVER_URL='http://'", {"INNGEST_DEV_SERVER_URL": "http://"}),
    Case([], "not an http(s) URL", {"INNGEST_DEV_SERVER_URL": "http://127.0.0.1:99999"}),
    Case(
        [],
        "INNGEST_DEV_SERVER_BIN='/nope/inngest': not an executable file",
        {"INNGEST_DEV_SERVER_BIN": "/nope/inngest"},
    ),
    Case([], "not an executable file", {"INNGEST_DEV_SERVER_BIN": "{plain}"}),
    Case(
        [],
        "INNGEST_SUITE_SERVER='cloud': unknown; allowed: dev, self-hosted",
        {"INNGEST_SUITE_SERVER": "cloud"},
    ),
    Case(["--server", "dev"], "INNGEST_SUITE_SERVER='x'", {"INNGEST_SUITE_SERVER": "x"}),
    Case(
        [],
        "INNGEST_SUITE_PORT_LOCKS='/proc/nope': cannot write",
        {"INNGEST_SUITE_PORT_LOCKS": "/proc/nope"},
    ),
    Case([], "is not a directory", {"INNGEST_SUITE_PORT_LOCKS": "{file}"}),
]

# Variables only some scripts read.
SCRIPT_SPECIFIC_CASES = {
    "11_ai_agent_integration.py": [
        Case(
            [],
            "OPENAI_BASE_URL='api.openai.com/v1': not an http(s) URL",
            {"OPENAI_BASE_URL": "api.openai.com/v1", "OPENAI_API_KEY": "k"},
        ),
        Case(
            [],
            "OPENAI_BASE_URL is set but OPENAI_API_KEY is not",
            {"OPENAI_BASE_URL": "http://127.0.0.1:1/v1"},
        ),
        Case(
            [],
            "OPENAI_BASE_URL is set but OPENAI_API_KEY is not",
            {"OPENAI_BASE_URL": "http://127.0.0.1:1/v1", "OPENAI_API_KEY": "", "OPENAI_MODEL": "m"},
        ),
    ],
    "09_ob_observability.py": [
        Case(
            [],
            "SUITE_CHROMIUM='/nope/chromium': not an executable file",
            {"SUITE_CHROMIUM": "/nope/chromium"},
        ),
        Case(
            [],
            "OTEL_TRACES_EXPORTER='jaeger': unknown; allowed: otlp, console, none",
            {"OTEL_TRACES_EXPORTER": "jaeger"},
        ),
        Case(
            [],
            "OTEL_EXPORTER_OTLP_ENDPOINT='collector:4318': not an http(s) URL",
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"},
        ),
        Case(
            [],
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT='grpc://x'",
            {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "grpc://x"},
        ),
    ],
}

RUN_ALL_CASES = [
    Case(["--category", "XX"], "unknown category XX"),
    Case(["--category", ""], "--category is empty"),
    Case(["--category", "EX,ex"], "--category names EX more than once"),
    Case(["--category"], "expected one argument"),
    Case(["--item", "EX-99"], "unknown item ID 'EX-99'"),
    Case(["--item", ","], "--item is empty"),
    Case(["--item", "EX-01", "--item", "ex-01"], "--item names EX-01 more than once"),
    Case(["--jobs", "0"], "argument --jobs: 0 is out of range; allowed: a whole number ≥ 1"),
    Case(["--jobs", "two"], "argument --jobs: 'two' is not a whole number"),
    Case(["--results-dir", "/proc/nope"], "--results-dir /proc/nope: cannot write"),
    Case(["--results-dir", "{file}"], "is not a directory"),
    Case(["--no-report=yes"], "ignored explicit argument"),
    Case(["--no-temporal=yes"], "ignored explicit argument"),
    Case(["--server", "cloud"], "argument --server: invalid choice: 'cloud'"),
    Case(["--scale", "-5"], "argument --scale: -5 is out of range"),
    Case(["--duration", "forever"], "argument --duration: invalid choice"),
    Case(["--side-effects", "some"], "argument --side-effects: invalid choice"),
    Case(["--deployment", "mainframe"], "argument --deployment: invalid choice"),
    Case(["--determinism", "random"], "argument --determinism: invalid choice"),
    Case(["--language", "rust"], "argument --language: invalid choice"),
    # Every script's variables, before any script starts.
    Case([], "INNGEST_DEV_SERVER_URL='localhost:8288'", {"INNGEST_DEV_SERVER_URL": NOT_A_URL[0]}),
    Case([], "INNGEST_DEV_SERVER_BIN='/nope'", {"INNGEST_DEV_SERVER_BIN": "/nope"}),
    Case([], "INNGEST_SUITE_SERVER='cloud'", {"INNGEST_SUITE_SERVER": "cloud"}),
    Case([], "OPENAI_BASE_URL='ftp://x'", {"OPENAI_BASE_URL": "ftp://x", "OPENAI_API_KEY": "k"}),
    Case([], "OPENAI_API_KEY is not", {"OPENAI_BASE_URL": "http://127.0.0.1:1/v1"}),
    Case([], "SUITE_CHROMIUM='{plain}'", {"SUITE_CHROMIUM": "{plain}"}),
    Case([], "OTEL_TRACES_EXPORTER='zipkin'", {"OTEL_TRACES_EXPORTER": "zipkin"}),
    Case([], "OTEL_EXPORTER_OTLP_ENDPOINT='4318'", {"OTEL_EXPORTER_OTLP_ENDPOINT": "4318"}),
    Case([], "TEMPORAL_CLI_BIN='/nope/temporal'", {"TEMPORAL_CLI_BIN": "/nope/temporal"}),
    Case([], "INNGEST_SUITE_PORT_LOCKS='{file}'", {"INNGEST_SUITE_PORT_LOCKS": "{file}"}),
]

COMPARE_TEMPORAL_CASES = [
    Case(["--item", "XX-01"], "unknown item(s) XX-01"),
    Case(["--item", ""], "--item is empty"),
    Case(["--item", "EX-01,ex-01"], "--item names EX-01 more than once"),
    Case(["--results-dir", "/proc/nope"], "--results-dir /proc/nope: cannot write"),
    Case(["--results-dir", "{file}", "--documented-only"], "is not a directory"),
    Case(["--list=yes"], "ignored explicit argument"),
    Case(["--no-save=yes"], "ignored explicit argument"),
    Case(["--headless=yes"], "ignored explicit argument"),
    Case(["--documented-only=yes"], "ignored explicit argument"),
    Case(
        [],
        "TEMPORAL_CLI_BIN='/nope/temporal': not an executable file",
        {"TEMPORAL_CLI_BIN": "/nope/temporal"},
    ),
    Case(["--list"], "TEMPORAL_CLI_BIN=", {"TEMPORAL_CLI_BIN": "{plain}"}),
    Case([], "INNGEST_SUITE_PORT_LOCKS=", {"INNGEST_SUITE_PORT_LOCKS": "/proc/nope"}),
]

REPORT_CASES = [
    Case(["--results-dir", "/nowhere"], "--results-dir /nowhere: not a readable directory"),
    Case(["--results-dir", "{file}", "--check"], "not a readable directory"),
    Case(["--check=yes"], "ignored explicit argument"),
    Case(["--results"], "--results-dir"),  # an abbreviation argparse expands, then no value
]

SERVE_CASES = [
    Case(["--port", "0"], "argument --port: 0 is out of range; allowed: a whole number from 1"),
    Case(["--port", "65536"], "argument --port: 65536 is out of range"),
    Case(["--port", "http"], "argument --port: 'http' is not a whole number"),
    Case(["--dev-server-url", "127.0.0.1:8288"], "--dev-server-url 127.0.0.1:8288: not an http"),
    Case(["--script", "/nope.py"], "--script /nope.py: no such file"),
    Case(["--functions", ","], "--functions is empty"),
    Case(["--functions", "a,a", "--script", "{own_script}"], "more than once"),
    Case(["--functions", "a"], "--functions needs exactly one --script"),
    Case(["--functions", "no_such_fn", "--script", "{own_script}"], "no Inngest function(s)"),
    Case(["--no-sync=yes"], "ignored explicit argument"),
    Case([], "INNGEST_DEV_SERVER_URL='localhost'", {"INNGEST_DEV_SERVER_URL": "localhost"}),
    Case(
        [],
        "INNGEST_SIGNING_KEY is set but INNGEST_EVENT_KEY is not",
        {"INNGEST_SIGNING_KEY": "signkey-prod-00"},
    ),
    Case(
        [],
        "INNGEST_EVENT_KEY is set but INNGEST_SIGNING_KEY is not",
        {"INNGEST_EVENT_KEY": "event-key"},
    ),
]


# --- running an entry point in this process, with tripwires where servers would start ----------
@pytest.fixture
def places(tmp_path: Path) -> dict[str, str]:
    plain = tmp_path / "plain-file"
    plain.write_text("not a program\n")
    plain.chmod(stat.S_IRUSR | stat.S_IWUSR)
    (tmp_path / "a-dir").mkdir()
    return {
        "file": str(plain), "plain": str(plain), "dir": str(tmp_path / "a-dir"),
        "own_script": str(ROOT / "04_sg_signals_events.py"),
    }  # fmt: skip


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No README variable from the machine: each case sets only its own."""
    for name in README_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch


def tripwire(what: str) -> Callable[..., Any]:
    def tripped(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError(f"bad input got as far as {what}")

    return tripped


def outcome(
    entry: Callable[[list[str]], int],
    case: Case,
    fill: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str]:
    for name, value in case.env.items():
        monkeypatch.setenv(name, value.format(**fill))
    argv = [arg.format(**fill) for arg in case.argv]
    try:
        code = entry(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def assert_refused(code: int, err: str, case: Case, fill: dict[str, str]) -> None:
    assert code == case.code, f"{case}: exit {code}, stderr: {err!r}"
    assert case.fragment.format(**fill) in err, f"{case}: {err!r}"
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, f"{case}: not one line: {err!r}"


def script_suite(path: Path) -> Suite:
    module = serve.load_script(path)
    suite: Suite = module.suite
    return suite


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name[:5])
@pytest.mark.parametrize("case", SCRIPT_CASES, ids=str)
def test_category_scripts_refuse(
    script: Path, case: Case, places, clean_env, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = script_suite(script)
    own = next(iter(suite.items))
    other = "SG-01" if suite.category.name != "SG" else "EX-01"
    fill = {**places, "own": own, "own_lower": own.lower(), "other": other}
    clean_env.setattr(suite_module, "_environment", tripwire("starting a dev server"))
    code, err = outcome(lambda argv: suite_module.run(suite, argv), case, fill, clean_env, capsys)
    assert_refused(code, err, case, fill)


@pytest.mark.parametrize(
    ("script", "case"),
    [(ROOT / name, case) for name, cases in SCRIPT_SPECIFIC_CASES.items() for case in cases],
    ids=lambda x: x.name[:5] if isinstance(x, Path) else str(x),
)
def test_variables_only_some_scripts_read(
    script: Path, case: Case, places, clean_env, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = script_suite(script)
    clean_env.setattr(suite_module, "_environment", tripwire("starting a dev server"))
    code, err = outcome(lambda argv: suite_module.run(suite, argv), case, places, clean_env, capsys)
    assert_refused(code, err, case, places)


@pytest.mark.parametrize("case", RUN_ALL_CASES, ids=str)
def test_run_all_refuses(case: Case, places, clean_env, capsys) -> None:
    clean_env.setattr(run_all, "list_scripts", tripwire("listing the scripts"))
    clean_env.setattr(run_all.Runner, "run", tripwire("running the scripts"))
    code, err = outcome(run_all.main, case, places, clean_env, capsys)
    assert_refused(code, err, case, places)


@pytest.mark.parametrize("case", COMPARE_TEMPORAL_CASES, ids=str)
def test_compare_temporal_refuses(case: Case, places, clean_env, capsys) -> None:
    clean_env.setattr(compare_temporal, "require", tripwire("looking for Temporal"))
    clean_env.setattr(compare_temporal, "save", tripwire("writing temporal.json"))
    code, err = outcome(compare_temporal.main, case, places, clean_env, capsys)
    assert_refused(code, err, case, places)


@pytest.mark.parametrize("case", REPORT_CASES, ids=str)
def test_report_refuses(case: Case, places, clean_env, capsys) -> None:
    clean_env.setattr(report, "generate", tripwire("writing the reports"))
    clean_env.setattr(report, "drift", tripwire("comparing the reports"))
    code, err = outcome(report.main, case, places, clean_env, capsys)
    assert_refused(code, err, case, places)


@pytest.mark.parametrize("case", SERVE_CASES, ids=str)
def test_serve_refuses(case: Case, places, clean_env, capsys) -> None:
    clean_env.setattr(serve, "InProcessServer", tripwire("serving the app"))
    code, err = outcome(serve.main, case, places, clean_env, capsys)
    assert_refused(code, err, case, places)


def test_the_table_covers_every_option_of_every_entry_point(capsys) -> None:
    """A new option without a bad-input case fails here (options as ``--help`` lists them)."""
    suite = script_suite(SCRIPTS[0])
    entries: dict[str, tuple[Callable[[list[str]], Any], list[Case]]] = {
        "category scripts": (lambda argv: suite_module._parse_args(suite, argv), SCRIPT_CASES),
        "run_all.py": (run_all.parse_args, RUN_ALL_CASES),
        "compare_temporal.py": (compare_temporal._parse, COMPARE_TEMPORAL_CASES),
        "report.py": (report.main, REPORT_CASES),
        "serve.py": (serve.main, SERVE_CASES),
    }
    for entry, (parse, cases) in entries.items():
        with pytest.raises(SystemExit):
            parse(["--help"])
        listed = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", capsys.readouterr().out))
        covered = {arg.split("=")[0] for c in cases for arg in c.argv if arg.startswith("--")}
        missing = listed - covered - {"--help"}
        assert not missing, f"{entry}: no bad-input case for {sorted(missing)}"
    all_cases = [
        *SCRIPT_CASES, *RUN_ALL_CASES, *COMPARE_TEMPORAL_CASES, *SERVE_CASES,
        *(c for cases in SCRIPT_SPECIFIC_CASES.values() for c in cases),
    ]  # fmt: skip
    named = {name for case in all_cases for name in case.env}
    assert set(README_VARIABLES) - ANY_VALUE <= named
    readme = (ROOT / "README.md").read_text()
    in_readme = set(re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", readme)) - NOT_VARIABLES
    assert in_readme <= set(README_VARIABLES), "README names a variable the table does not know"
    family = "OTEL_EXPORTER_OTLP_"  # README names them as OTEL_EXPORTER_OTLP_*
    assert f"{family}*" in readme
    assert [n for n in README_VARIABLES if n not in readme and not n.startswith(family)] == []


# --- the real command line, as a user types it ---------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--item", "SG-03", "--results-dir", "/proc/nope"], "--results-dir /proc/nope"),
        (["--scale", "-5"], "--scale: -5 is out of range"),
    ],
)
def test_a_mistyped_command_line_exits_2_in_one_line(
    argv: list[str], fragment: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in README_VARIABLES}
    env["PATH"] = str(tmp_path)  # no dev server to be found, should the options get that far
    result = run_script(ROOT / "04_sg_signals_events.py", *argv, env=env, timeout=60)
    assert result.returncode == 2
    assert fragment in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
