"""The saved results of a category script: ``results/<script>.json``.

The file is rewritten atomically (temporary file + rename) after every item, so a crash or an
interrupt loses nothing that was already measured. Running a subset (``--item``) replaces those
items and keeps the others; each item names the session (environment) it was measured in.
"""

from __future__ import annotations

import json
import os
import platform
import re
import sys
import tempfile
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from harness.errors import SetupError
from harness.rating.catalog import GOOD_THRESHOLD, ITEMS, Prerequisites, fail_close_applies
from harness.rating.evidence import ItemResult, ItemStatus, NotRemeasured
from harness.servers.selfhosted import DEV

SCHEMA_VERSION = 1


class Session(BaseModel):
    """One invocation of a script: where and against what its items were measured."""

    id: str
    started_at: datetime
    argv: list[str]
    python: str = Field(default_factory=lambda: platform.python_version())
    platform: str = Field(default_factory=platform.platform)
    sdk_version: str = Field(default_factory=lambda: version("inngest"))
    cpu_count: int | None = Field(default_factory=os.cpu_count)
    dev_server: dict[str, Any] = Field(default_factory=dict)
    prerequisites: Prerequisites = Field(default_factory=Prerequisites)


class Summary(BaseModel):
    rated: int
    good: int
    not_good: int
    errors: int
    not_run: int  # the infrastructure failed before the item could be measured
    not_applicable: list[str] = Field(default_factory=list)  # items that cannot apply here
    differ_from_original: list[str]
    fail_close: dict[str, int]  # applicable fail-close item -> stars, for those with a rating
    fail_close_unmeasured: list[str]  # applicable fail-close items without a rating
    fail_close_passed: bool  # every *measured* applicable fail-close item is good
    kept_from_earlier: list[str]  # ratings kept because this item could not be re-measured


class ResultsFile(BaseModel):
    schema_version: int = SCHEMA_VERSION
    script: str
    category: str
    sessions: dict[str, Session] = Field(default_factory=dict)
    items: dict[str, ItemResult] = Field(default_factory=dict)

    def record(self, result: ItemResult) -> None:
        """Add or replace an item's result.

        A result that is not a measurement (the probe errored, or the infrastructure failed)
        never replaces an earlier rating: the rating stays, marked as not re-measured. An item
        found not applicable does replace it: that is what this server says about it.
        """
        previous = self.items.get(result.id)
        if result.failed_to_measure and previous is not None and previous.rating is not None:
            note = NotRemeasured(
                session=result.session, status=result.status, error=result.error or ""
            )
            result = previous.model_copy(update={"not_remeasured": note})
        self.items[result.id] = result
        order = list(ITEMS)
        self.items = dict(sorted(self.items.items(), key=lambda kv: order.index(kv[0])))
        # Sessions no item refers to any more are history nobody can read: drop them.
        used = {r.session for r in self.items.values()}
        used |= {r.not_remeasured.session for r in self.items.values() if r.not_remeasured}
        self.sessions = {k: v for k, v in self.sessions.items() if k in used}

    def summary(self, prerequisites: Prerequisites | None = None) -> Summary:
        prerequisites = prerequisites or Prerequisites()
        results = list(self.items.values())
        rated = [r for r in results if r.rating is not None]
        applicable = [r for r in results if fail_close_applies(ITEMS[r.id], prerequisites)]
        fail_close = {r.id: r.rating.stars for r in applicable if r.rating is not None}
        return Summary(
            rated=len(rated),
            good=sum(r.good for r in rated),
            not_good=sum(not r.good for r in rated),
            errors=sum(r.status is ItemStatus.ERROR for r in results),
            not_run=sum(r.status is ItemStatus.NOT_RUN for r in results),
            not_applicable=[r.id for r in results if r.status is ItemStatus.NOT_APPLICABLE],
            differ_from_original=[r.id for r in rated if r.differs_from_original],
            fail_close=fail_close,
            fail_close_unmeasured=[
                r.id
                for r in applicable
                if r.rating is None and r.status is not ItemStatus.NOT_APPLICABLE
            ],
            fail_close_passed=all(s >= GOOD_THRESHOLD for s in fail_close.values()),
            kept_from_earlier=[r.id for r in results if r.not_remeasured],
        )

    def to_json(self, prerequisites: Prerequisites | None = None) -> str:
        document = self.model_dump(mode="json")
        document["summary"] = self.summary(prerequisites).model_dump(mode="json")
        return _inline_number_lists(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


# An indented list of numbers only (raw samples): one number per line would bury the document.
_NUMBER_LIST = re.compile(r"\[(\s*-?[0-9][0-9.eE+-]*(?:,\s*-?[0-9][0-9.eE+-]*)*\s*)\]")


def _inline_number_lists(text: str) -> str:
    """Put lists of plain numbers on one line. Only lists that ``indent`` spread over lines
    are touched: a JSON string never holds a raw newline, so string contents stay as they are."""

    def inline(match: re.Match[str]) -> str:
        inner = match.group(1)
        if "\n" not in inner:
            return match.group(0)
        return "[" + ", ".join(part.strip() for part in inner.split(",")) + "]"

    return _NUMBER_LIST.sub(inline, text)


def results_dir_for(root: Path, server: str) -> Path:
    """Where a script run against ``server`` keeps its results: ``root`` (results/) for the dev
    server, ``root/<server>`` (results/self-hosted/) for another, so that both stay side by
    side in the same schema and the report can set them beside each other."""
    return root if server == DEV else root / server


def load(path: Path, script: str, category: str) -> ResultsFile:
    """The saved results at ``path``, or an empty document when there are none (or unreadable
    as results). OSError when the file is there but cannot be read at all: saving would then
    replace whatever it holds."""
    if path.exists():
        try:
            data = json.loads(path.read_text())
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            data.pop("summary", None)
            loaded = ResultsFile.model_validate(data)
            if loaded.schema_version == SCHEMA_VERSION and loaded.script == script:
                return loaded
        except (ValueError, ValidationError) as exc:
            print(f"warning: ignoring unreadable {path}: {exc}", file=sys.stderr)
    return ResultsFile(script=script, category=category)


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ResultsNotSaved(SetupError):
    """The results could not be written where asked (the folder was removed or made read-only,
    the disk is full). What was measured is in ``fallback`` instead, if even that could be
    written; the run cannot go on (exit code 2)."""

    def __init__(self, message: str, fallback: Path | None) -> None:
        super().__init__(message)
        self.fallback = fallback


def save(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically. If that fails, write it to a new file in the
    system's temporary folder and raise ResultsNotSaved naming it, so that nothing measured is
    lost; if that fails too, print it on stdout as a last resort."""
    try:
        write_atomically(path, text)
        return
    except OSError as exc:
        why = exc.strerror or str(exc)
        if path.parent.exists() and not path.parent.is_dir():  # mkdir's "File exists" misleads
            why = f"{path.parent} is no longer a directory"
        reason = f"cannot write {path} ({why})"
    try:
        handle, name = tempfile.mkstemp(prefix=f"{path.stem}-unsaved-", suffix=path.suffix)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(name, 0o644)  # as readable as the results file it stands in for
    except OSError as exc:
        sys.stdout.write(text)
        sys.stdout.flush()
        raise ResultsNotSaved(
            f"{reason}, nor a copy in {tempfile.gettempdir()} ({exc.strerror or exc}); "
            "the results were printed on stdout instead",
            None,
        ) from None
    raise ResultsNotSaved(
        f"{reason}; what was measured is saved in {name} instead (copy it to {path} once that "
        "folder is writable)",
        Path(name),
    )
