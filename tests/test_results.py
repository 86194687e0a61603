"""Saved results: atomic writes, tolerant loading, catalog ordering, sessions and summary."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.errors import ExitCode
from harness.rating.catalog import lookup
from harness.rating.evidence import Evidence, ItemResult, ItemStatus, Rating
from harness.rating.results import (
    SCHEMA_VERSION,
    ResultsFile,
    ResultsNotSaved,
    Session,
    load,
    save,
    write_atomically,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def make_result(item_id: str, stars: int | None, session: str = "s1") -> ItemResult:
    entry = lookup(item_id)
    evidence = Evidence()
    evidence.check("k", "a check", stars is not None and stars >= 3)
    return ItemResult(
        id=entry.id,
        name=entry.name,
        category=entry.category.value,
        status=ItemStatus.RATED if stars is not None else ItemStatus.ERROR,
        rating=Rating(stars=stars, reason="because") if stars is not None else None,
        original_stars=entry.original_stars,
        fail_close=entry.fail_close,
        evidence=evidence,
        error=None if stars is not None else "RuntimeError: boom",
        started_at=NOW,
        duration_s=0.5,
        session=session,
    )


def make_session(session_id: str) -> Session:
    return Session(id=session_id, started_at=NOW, argv=["script.py"])


def results_with(*items: ItemResult) -> ResultsFile:
    doc = ResultsFile(script="01_ex", category="Execution Semantics")
    for item in items:
        doc.sessions.setdefault(item.session, make_session(item.session))
        doc.record(item)
    return doc


def leftovers(directory: Path, keep: str) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name != keep)


# --- write_atomically -----------------------------------------------------------------------
def test_write_atomically_writes_text_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "r.json"
    write_atomically(target, "hello ✓\n")
    assert target.read_text(encoding="utf-8") == "hello ✓\n"
    write_atomically(target, "second")
    assert target.read_text(encoding="utf-8") == "second"
    assert leftovers(target.parent, "r.json") == []


def test_write_atomically_failure_keeps_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "r.json"
    target.write_text("original")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk on fire"):
        write_atomically(target, "new text that must not appear")
    monkeypatch.undo()
    assert target.read_text() == "original"
    assert leftovers(tmp_path, "r.json") == []


# --- load -----------------------------------------------------------------------------------
def test_load_missing_returns_empty(tmp_path: Path) -> None:
    doc = load(tmp_path / "none.json", "01_ex", "Execution Semantics")
    assert doc.script == "01_ex"
    assert doc.category == "Execution Semantics"
    assert doc.items == {}
    assert doc.sessions == {}
    assert doc.schema_version == SCHEMA_VERSION


@pytest.mark.parametrize("text", ["{not json", "", '{"script": 1}', "\x00\xff garbage"])
def test_load_corrupt_returns_empty(tmp_path: Path, text: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(text)
    doc = load(path, "01_ex", "Execution Semantics")
    assert doc.items == {}
    assert doc.script == "01_ex"


@pytest.mark.parametrize("text", ["[]", "null", '"text"'])
def test_load_non_object_json_returns_empty(tmp_path: Path, text: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(text)
    doc = load(path, "01_ex", "Execution Semantics")
    assert doc.items == {}


def test_load_file_of_another_script_returns_empty(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    other = results_with(make_result("EX-01", 4))
    other.script = "02_rt"
    path.write_text(other.to_json())
    doc = load(path, "01_ex", "Execution Semantics")
    assert doc.script == "01_ex"
    assert doc.items == {}
    # The same file does load for its own script (so the emptiness above is the script check).
    assert list(load(path, "02_rt", "x").items) == ["EX-01"]


def test_to_json_has_summary_and_load_round_trips(tmp_path: Path) -> None:
    doc = results_with(make_result("EX-03", 2), make_result("EX-01", 5), make_result("EX-02", None))
    text = doc.to_json()
    parsed = json.loads(text)
    assert parsed["summary"]["rated"] == 2
    assert parsed["summary"]["errors"] == 1
    path = tmp_path / "r.json"
    write_atomically(path, text)
    loaded = load(path, "01_ex", "Execution Semantics")
    assert loaded.items == doc.items
    assert list(loaded.items) == ["EX-01", "EX-02", "EX-03"]
    assert loaded.sessions == doc.sessions


# --- record ---------------------------------------------------------------------------------
def test_record_keeps_catalog_order() -> None:
    doc = results_with(
        make_result("AI-06", 3),
        make_result("EX-03", 3),
        make_result("RT-01", 3),
        make_result("EX-01", 3),
    )
    assert list(doc.items) == ["EX-01", "EX-03", "RT-01", "AI-06"]


def test_running_a_subset_keeps_other_items(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    write_atomically(
        path,
        results_with(make_result("EX-01", 2), make_result("EX-02", 4)).to_json(),
    )
    doc = load(path, "01_ex", "Execution Semantics")
    doc.sessions["s2"] = make_session("s2")
    doc.record(make_result("EX-01", 5, session="s2"))
    assert list(doc.items) == ["EX-01", "EX-02"]
    assert doc.items["EX-01"].stars == 5
    assert doc.items["EX-01"].session == "s2"
    assert doc.items["EX-02"].stars == 4
    assert set(doc.sessions) == {"s1", "s2"}


def test_sessions_no_item_refers_to_are_dropped() -> None:
    doc = results_with(make_result("EX-01", 2, session="old"))
    doc.sessions["new"] = make_session("new")
    doc.sessions["unused"] = make_session("unused")
    doc.record(make_result("EX-01", 4, session="new"))
    assert set(doc.sessions) == {"new"}


# --- summary --------------------------------------------------------------------------------
def test_summary_counts() -> None:
    doc = results_with(
        make_result("EX-02", 4),  # original 4: same
        make_result("EX-04", 2),  # original 5: differs, not good
        make_result("EX-05", 3),  # original 4: differs, good
        make_result("EX-06", None),  # error
    )
    summary = doc.summary()
    assert summary.rated == 3
    assert summary.good == 2
    assert summary.not_good == 1
    assert summary.errors == 1
    assert summary.differ_from_original == ["EX-04", "EX-05"]
    assert summary.fail_close == {}
    assert summary.fail_close_passed is True


def test_fail_close_passes_when_all_fail_close_items_good() -> None:
    summary = results_with(
        make_result("EX-01", 3), make_result("RT-01", 5), make_result("EX-02", 1)
    ).summary()
    assert summary.fail_close == {"EX-01": 3, "RT-01": 5}
    assert summary.fail_close_passed is True


def test_fail_close_fails_on_low_stars() -> None:
    summary = results_with(make_result("EX-01", 5), make_result("VR-01", 2)).summary()
    assert summary.fail_close == {"EX-01": 5, "VR-01": 2}
    assert summary.fail_close_passed is False


def test_errored_fail_close_item_is_unmeasured_not_failed() -> None:
    summary = results_with(make_result("EX-01", 5), make_result("OP-02", None)).summary()
    assert summary.fail_close == {"EX-01": 5}
    assert summary.fail_close_unmeasured == ["OP-02"]
    assert summary.fail_close_passed is True  # no verdict on what was not measured


def test_fail_close_passes_with_no_items_at_all() -> None:
    summary = ResultsFile(script="x", category="y").summary()
    assert summary.fail_close_passed is True
    assert summary.rated == summary.errors == 0


def test_written_results_are_world_readable(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    write_atomically(target, "{}")
    assert target.stat().st_mode & 0o777 == 0o644


def test_save_writes_where_asked(tmp_path: Path) -> None:
    save(tmp_path / "deep" / "x.json", "{}\n")
    assert (tmp_path / "deep" / "x.json").read_text() == "{}\n"


def test_save_falls_back_to_the_temp_folder_and_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    in_the_way = tmp_path / "results"
    in_the_way.write_text("a file where the folder was\n")
    with pytest.raises(ResultsNotSaved) as caught:
        save(in_the_way / "04_sg_signals_events.json", '{"items": {}}\n')
    fallback = caught.value.fallback
    assert fallback is not None and fallback.parent == tmp_path
    assert fallback.name.startswith("04_sg_signals_events-unsaved-")
    assert fallback.read_text() == '{"items": {}}\n'
    assert str(fallback) in str(caught.value)
    assert caught.value.exit_code == ExitCode.CANNOT_RUN


def test_an_unreadable_results_file_is_not_silently_replaced(tmp_path: Path) -> None:
    (tmp_path / "x.json").mkdir()  # a folder where the file should be: it cannot be read
    with pytest.raises(OSError):
        load(tmp_path / "x.json", "x.py", "EX")
