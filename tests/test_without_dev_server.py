"""The wrapper that runs the unit tests as on a machine without a dev server hides exactly
the inngest binaries and the variables that point at a dev server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRAPPER = ROOT / "tests" / "without_dev_server.py"


def test_inngest_is_hidden_and_everything_else_stays(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in ("inngest", "inngest-cli", "redis-server"):
        (tools / name).write_text("#!/bin/sh\nexit 0\n")
        (tools / name).chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}",
        "INNGEST_DEV_SERVER_URL": "http://127.0.0.1:8288",
        "INNGEST_DEV_SERVER_BIN": str(tools / "inngest"),
    }
    code = (
        "import os, shutil; "
        "print(shutil.which('inngest'), shutil.which('inngest-cli'), "
        "bool(shutil.which('redis-server')), os.environ.get('INNGEST_DEV_SERVER_URL'), "
        "os.environ.get('INNGEST_DEV_SERVER_BIN'))"
    )
    answer = subprocess.run(
        [sys.executable, str(WRAPPER), sys.executable, "-c", code],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert answer.stdout.split() == ["None", "None", "True", "None", "None"]


def test_the_exit_code_is_the_command_s(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(WRAPPER), sys.executable, "-c", "exit(7)"])
    assert done.returncode == 7
