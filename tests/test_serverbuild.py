"""Reading what an Inngest binary was built with, from synthetic binaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.servers import serverbuild
from harness.servers.serverbuild import NOTE_ENV, describe_binary, summary

SOURCE_ID = b"2026-01-09 17:27:48 " + b"b2" * 32
BUILD_INFO = b"path\tgithub.com/inngest/inngest/cmd\nmod\tgithub.com/inngest/inngest\t(devel)\t\n"


def binary(tmp_path: Path, *parts: bytes) -> str:
    path = tmp_path / "inngest"
    path.write_bytes(b"\x7fELF\x00junk\x01" + b"".join(parts) + b"\x00more")
    serverbuild._read.cache_clear()
    return str(path)


def test_a_stand_in_driver_and_embedded_sqlite_are_named(tmp_path: Path) -> None:
    path = binary(
        tmp_path,
        BUILD_INFO,
        b"dep\tgithub.com/mattn/go-sqlite3\tv1.14.16\t\n",
        b"dep\tmodernc.org/sqlite\tv1.46.1\t\n",
        b"\x013.51.2\x00\x00\x00\x00" + SOURCE_ID,
    )
    described = describe_binary(path)
    assert described["sqlite_driver"] == "github.com/mattn/go-sqlite3 v1.14.16"
    assert described["stand_in_driver"] is True
    assert described["sqlite_version"] == "3.51.2 (embedded)"
    assert described["sqlite_source_id"] == SOURCE_ID.decode()
    assert "stand-in" in summary(described) and "3.51.2" in summary(described)


def test_the_release_driver_is_not_a_stand_in(tmp_path: Path) -> None:
    path = binary(tmp_path, BUILD_INFO, b"dep\tmodernc.org/sqlite\tv1.46.1\t\n", SOURCE_ID)
    described = describe_binary(path)
    assert described["sqlite_driver"] == "modernc.org/sqlite v1.46.1"
    assert described["stand_in_driver"] is False
    assert described["sqlite_version"] is None  # no version beside the source ID: say nothing
    assert described["sqlite_source_id"] == SOURCE_ID.decode()


def test_what_cannot_be_read_stays_unknown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NOTE_ENV, "built from the v1.43.0 tag")
    described = describe_binary(binary(tmp_path, b"nothing useful"))
    assert described["sqlite_driver"] is None and described["sqlite_version"] is None
    assert summary(described) == "built from the v1.43.0 tag"
    assert describe_binary(None) == {"binary": None, "note": "built from the v1.43.0 tag"}
    assert describe_binary(str(tmp_path / "missing"))["sqlite_driver"] is None
