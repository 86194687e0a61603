"""Headless Chromium for looking at the dev server's UI: a page's rendered DOM, a screenshot.

Debian's ``chromium`` is used as it is (``apt-get install chromium``); nothing is downloaded.
Chromium runs with a fresh profile in a temporary directory and with its background
networking switched off (updates, sync, field trials): on a closed network those connections
are refused, and they are not part of what is being looked at. ``--virtual-time-budget`` lets
the page's scripts run and its GraphQL requests finish before the DOM is dumped or the
screenshot taken. Every call has a timeout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.host.validate import EnvCheck, executable_variable

BROWSER_ENV = "SUITE_CHROMIUM"
ENV_CHECKS: tuple[EnvCheck, ...] = (executable_variable(BROWSER_ENV),)
BINARY_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",  # runs as root in containers
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


class BrowserError(RuntimeError):
    """Chromium did not produce what was asked (it failed, or ran out of time)."""


def find_chromium() -> str | None:
    """``$SUITE_CHROMIUM`` or the first Chromium/Chrome binary on PATH; None if there is none."""
    named = os.environ.get(BROWSER_ENV)
    if named:
        return shutil.which(named) or (named if os.access(named, os.X_OK) else None)
    for name in BINARY_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass(frozen=True)
class Chromium:
    binary: str
    width: int = 1400
    height: int = 1000
    render_ms: int = 8000  # virtual time the page gets to load its data before the capture
    timeout_s: float = 60.0

    def command(self, url: str, profile: Path, *capture: str) -> list[str]:
        return [
            self.binary,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={self.width},{self.height}",
            f"--virtual-time-budget={self.render_ms}",
            *capture,
            url,
        ]

    def _run(self, url: str, *capture: str, cwd: Path | None = None) -> str:
        with tempfile.TemporaryDirectory(prefix="suite-chromium-") as profile:
            try:
                done = subprocess.run(
                    self.command(url, Path(profile), *capture),
                    capture_output=True,
                    text=True,
                    timeout=self.timeout_s,
                    stdin=subprocess.DEVNULL,
                    cwd=cwd or profile,
                )
            except subprocess.TimeoutExpired as exc:
                raise BrowserError(f"chromium did not finish within {self.timeout_s:g}s") from exc
            except OSError as exc:
                raise BrowserError(f"cannot start {self.binary}: {exc}") from exc
        if done.returncode != 0:
            tail = "\n".join(done.stderr.splitlines()[-5:])
            raise BrowserError(f"chromium exited with code {done.returncode}: {tail}")
        return done.stdout

    def dom(self, url: str) -> str:
        """The page's DOM after its scripts ran (``--dump-dom``)."""
        return self._run(url, "--dump-dom")

    def screenshot(self, url: str, path: Path) -> Path:
        """A PNG of the page at ``path``."""
        path = path.resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        self._run(url, f"--screenshot={path}")
        if not path.exists() or path.stat().st_size == 0:
            raise BrowserError(f"chromium wrote no screenshot to {path}")
        return path


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG, from its IHDR chunk; ValueError if it is not a PNG."""
    header = path.read_bytes()[:24]
    if header[:8] != b"\x89PNG\r\n\x1a\n" or header[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG")
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
