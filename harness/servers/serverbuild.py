"""What an Inngest binary was built with, read from the binary itself, for the results.

The release binary stores its runs in SQLite through ``modernc.org/sqlite`` (SQLite compiled to
Go). A build from source on a machine without that module's per-platform files can stand in
another driver, and such a build once answered differently from the release (see
harness/probing/preflight.py). So every results file says which driver and which SQLite the
server it measured carried:

- the Go build information embedded in every Go binary lists its modules (``dep <path> <ver>``):
  ``github.com/mattn/go-sqlite3`` there means a stand-in driver (the release has none);
- SQLite embedded in the binary leaves its version and source ID side by side; a binary linked
  against the system's libsqlite3 is asked for the version through that library.

``INNGEST_SERVER_BUILD_NOTE`` adds a free-text note of the operator's (how the binary was built),
recorded as it is.
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
import subprocess
from pathlib import Path
from typing import Any

NOTE_ENV = "INNGEST_SERVER_BUILD_NOTE"
RELEASE_DRIVER = "modernc.org/sqlite"
STAND_IN_DRIVER = "github.com/mattn/go-sqlite3"

_DEP = re.compile(rb"dep\t(modernc\.org/sqlite|github\.com/mattn/go-sqlite3)\t(v[^\t\n]+)")
_EMBEDDED = re.compile(rb"(3\.\d+\.\d+)\x00{1,16}(20\d\d-\d\d-\d\d \d\d:\d\d:\d\d [0-9a-f]{64})")
_SOURCE_ID = re.compile(rb"(20\d\d-\d\d-\d\d \d\d:\d\d:\d\d [0-9a-f]{64})")


@functools.cache
def _read(path: str) -> dict[str, Any]:
    """What the binary itself says (read once per path: it is ~100 MB)."""
    described: dict[str, Any] = {
        "sqlite_driver": None,
        "stand_in_driver": None,
        "sqlite_version": None,
        "sqlite_source_id": None,
    }
    try:
        data = Path(path).read_bytes()
    except OSError:
        return described
    deps = {name.decode(): version.decode() for name, version in _DEP.findall(data)}
    if STAND_IN_DRIVER in deps:
        described["sqlite_driver"] = f"{STAND_IN_DRIVER} {deps[STAND_IN_DRIVER]}"
        described["stand_in_driver"] = True
    elif RELEASE_DRIVER in deps:
        described["sqlite_driver"] = f"{RELEASE_DRIVER} {deps[RELEASE_DRIVER]}"
        described["stand_in_driver"] = False
    embedded = _EMBEDDED.search(data)
    if embedded:
        described["sqlite_version"] = f"{embedded.group(1).decode()} (embedded)"
        described["sqlite_source_id"] = embedded.group(2).decode()
    else:
        linked = _linked_sqlite_version(path)
        if linked:
            described["sqlite_version"] = f"{linked} (system library)"
        elif source := _SOURCE_ID.search(data):
            described["sqlite_source_id"] = source.group(1).decode()
    return described


def describe_binary(path: str | None) -> dict[str, Any]:
    """``{"binary", "sqlite_driver", "stand_in_driver", "sqlite_version", "sqlite_source_id",
    "note"}`` for the binary at ``path``; what cannot be read is None."""
    note = os.environ.get(NOTE_ENV) or None
    if not path:
        return {"binary": None, "note": note}
    return {"binary": path, **_read(path), "note": note}


def _linked_sqlite_version(path: str) -> str | None:
    """The version of the libsqlite3 the binary is linked against, if it is."""
    try:
        listing = subprocess.run(
            ["ldd", path], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"libsqlite3\.so\S* => (\S+)", listing)
    if not match:
        return None
    try:
        library = ctypes.CDLL(match.group(1))
        library.sqlite3_libversion.restype = ctypes.c_char_p
        return str(library.sqlite3_libversion().decode())
    except (OSError, AttributeError):
        return None


def summary(described: dict[str, Any]) -> str:
    """One line for people: the driver (and whether it is a stand-in), SQLite, the note."""
    parts = []
    if described.get("sqlite_driver"):
        stand_in = " (a stand-in: not the release build)" if described["stand_in_driver"] else ""
        parts.append(f"SQLite driver {described['sqlite_driver']}{stand_in}")
    if described.get("sqlite_version"):
        parts.append(f"SQLite {described['sqlite_version']}")
    if described.get("note"):
        parts.append(str(described["note"]))
    return "; ".join(parts) or "build unknown"
