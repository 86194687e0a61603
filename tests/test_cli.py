"""The category script's command line: help, listing, bad input and a missing dev server.

These run the real script in a subprocess and need no dev server.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import ROOT, run_script

SCRIPT = ROOT / "01_ex_execution_semantics.py"


def run_ex(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_script(SCRIPT, *args, env=env, timeout=60)


def test_help_documents_filters_and_exit_codes() -> None:
    result = run_ex("--help")
    assert result.returncode == 0
    for text in ("--item", "--json", "--list", "exit codes", "EX-01"):
        assert text in result.stdout


def test_list_shows_the_seven_items_without_a_dev_server() -> None:
    result = run_ex("--list")
    assert result.returncode == 0
    for n in range(1, 8):
        assert f"EX-0{n}" in result.stdout


def test_unknown_item_is_a_usage_error() -> None:
    result = run_ex("--item", "EX-99")
    assert result.returncode == 2
    assert "unknown item ID 'EX-99'" in result.stderr
    assert "Traceback" not in result.stderr


def test_item_of_another_category_names_its_script() -> None:
    result = run_ex("--item", "rt-01")
    assert result.returncode == 2
    assert "02_rt_retry_timeout.py" in result.stderr


def test_no_dev_server_exits_2_with_instructions(tmp_path: Path) -> None:
    # No URL, no binary, and a PATH on which neither inngest nor npx can be found.
    env = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    env["PATH"] = str(tmp_path)
    result = run_ex("--item", "EX-01", "--results-dir", str(tmp_path), env=env)
    assert result.returncode == 2
    assert "No Inngest dev server" in result.stderr
    assert "INNGEST_DEV_SERVER_BIN" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.json"))  # nothing measured, nothing written


def test_unreachable_url_falls_through_to_the_next_source(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INNGEST_")}
    env.update(PATH=str(tmp_path), INNGEST_DEV_SERVER_URL="http://127.0.0.1:9")
    result = run_ex("--item", "EX-01", env=env)
    assert result.returncode == 2
    assert "does not answer GET /dev" in result.stderr
