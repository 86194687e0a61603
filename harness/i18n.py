"""Texts a report shows, in English and Japanese, from one gettext catalogue.

Every text that reaches a report (check descriptions, rubric reasons, measurement notes,
documented claims, item names, the report's own headings) is written once, in English, as a
literal marked for extraction:

* ``t("the run completes after {n} retries", n=3)`` makes a :class:`Msg`: the English template
  (which is also the gettext msgid) plus its parameters. Parameters are data (IDs, numbers,
  check keys) and are never translated; anything that needs translating is its own message.
* A parameter can itself be a message, or a list of them, for wording that needs translating
  inside a sentence (``t("faults: {faults}", faults=[t("REST cancel answers 404"), …])``); a
  list is joined with the language's own separator (Japanese 「、」).
* ``N_("Progress Guarantee")`` marks a plain string (catalogue data) for extraction and returns
  it unchanged; :func:`translate` looks it up later.

Japanese lives in ``locales/ja/LC_MESSAGES/<domain>.po``: one domain per category script and one,
``harness``, for everything else, so that work on different scripts never edits the same file.
``python -m harness.i18n update`` extracts the marked literals (with Babel, the ecosystem's tool
for gettext catalogues) and adds new msgids to the right ``.po`` file; ``python -m harness.i18n
check`` lists what has no Japanese yet, and any translation that uses a rendering the glossary
(``locales/ja/GLOSSARY.md``) rules out, as listed in ``locales/ja/forbidden.toml``. The tests run
the same check.
"""

from __future__ import annotations

import argparse
import ast
import re
import string
import sys
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
LANGUAGES = ("en", "ja")
Lang = Literal["en", "ja"]
MARKERS = ("t", "N_")  # the call names extraction looks for
HARNESS_DOMAIN = "harness"

Scalar = str | int | float | bool | None


def placeholders(template: str) -> set[str]:
    """The ``{name}`` fields a template uses (format specs such as ``{x:.1f}`` included)."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


class Msg(BaseModel):
    """A text to show: an English template (the msgid) and the data it is filled with."""

    model_config = ConfigDict(frozen=True)

    id: str
    params: dict[str, Param] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_plain_string(cls, value: Any) -> Any:
        # Results written before texts became messages held plain strings.
        return {"id": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _params_fill_template(self) -> Msg:
        wanted = {name.split(".")[0].split("[")[0] for name in placeholders(self.id)}
        if wanted != set(self.params):
            raise ValueError(
                f"message {self.id!r} needs parameters {sorted(wanted)}, got {sorted(self.params)}"
            )
        return self

    def render(self, lang: Lang = "en") -> str:
        template = translate(self.id, lang)
        if not self.params:
            return template
        return template.format(**{k: render_param(v, lang) for k, v in self.params.items()})

    @computed_field  # type: ignore[prop-decorator]
    @property
    def text(self) -> str:
        """The English rendering, saved beside the template for readers of the JSON."""
        return self.render("en")

    def __str__(self) -> str:
        return self.render("en")


# A parameter: data (IDs, numbers, keys; never translated), wording that is (a message), or a
# list of either, joined with the language's LIST_SEPARATOR.
Param = Scalar | Msg | Sequence[Msg | Scalar]
Msg.model_rebuild()


def render_param(value: Param, lang: Lang) -> Scalar:
    """A parameter as the template receives it: messages rendered in ``lang``, lists joined."""
    if isinstance(value, Msg):
        return value.render(lang)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return translate(LIST_SEPARATOR, lang).join(str(render_param(v, lang)) for v in value)
    return value


def t(template: str, /, **params: Param) -> Msg:
    """A message to show in a report; ``template`` must be a string literal (it is extracted)."""
    return Msg(id=template, params=params)


def N_(text: str) -> str:  # gettext's conventional name for a no-op marker
    """Mark a plain string for extraction; translate it with :func:`translate` when shown."""
    return text


# A list's separator, a catalogue entry so that Japanese can use its own (「、」).
LIST_SEPARATOR = N_(", ")


# --- the catalogue -------------------------------------------------------------------------------
@cache
def catalogue(lang: str) -> dict[str, str]:
    """msgid -> translation for ``lang``, merged from every domain's ``.po`` file."""
    if lang == "en":
        return {}
    from babel.messages.pofile import read_po

    merged: dict[str, str] = {}
    for path in sorted((LOCALES / lang / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle):
                if message.id and isinstance(message.id, str) and message.string:
                    merged[message.id] = str(message.string)
    return merged


def translate(text: str, lang: str = "en") -> str:
    """``text`` (a msgid) in ``lang``; English when there is no translation."""
    return catalogue(lang).get(text, text) if lang != "en" else text


def render(value: Msg | str | None, lang: Lang = "en") -> str:
    """A message or a marked string, rendered in ``lang``."""
    if value is None:
        return ""
    return value.render(lang) if isinstance(value, Msg) else translate(value, lang)


# --- extraction and checks -----------------------------------------------------------------------
@dataclass(frozen=True)
class Found:
    msgid: str
    domain: str
    path: Path
    line: int


TEMPORAL_DOMAIN = "compare_temporal"


def domain_of(path: Path, root: Path = ROOT) -> str:
    """Category scripts have a domain each; so has the Temporal comparison (its command line
    and the ``harness/temporal`` package); everything else shares ``harness``."""
    path, root = path.resolve(), root.resolve()
    if path.parent == root and path.stem[:2].isdigit():
        return path.stem
    if (path.parent == root and path.stem == TEMPORAL_DOMAIN) or path.is_relative_to(
        root / "harness" / "temporal"
    ):
        return TEMPORAL_DOMAIN
    return HARNESS_DOMAIN


def sources(root: Path = ROOT) -> list[Path]:
    """The files whose marked texts can reach a report (tests are not among them)."""
    found = [*sorted(root.glob("[01][0-9]_*.py")), *sorted((root / "harness").rglob("*.py"))]
    found += [p for p in sorted(root.glob("*.py")) if p not in found and p.name != "conftest.py"]
    return found


def extract(paths: Iterable[Path], root: Path = ROOT) -> Iterator[Found]:
    """Every marked literal in ``paths`` (files of the checkout at ``root``), with Babel's
    Python extractor."""
    from babel.messages.extract import extract_from_file

    keywords: dict[str, None] = dict.fromkeys(MARKERS)
    for path in paths:
        for line, msgid, _comments, _context in extract_from_file("python", path, keywords):
            if isinstance(msgid, str) and msgid:
                yield Found(msgid, domain_of(path, root), path, line)


def _marker_calls(paths: Iterable[Path]) -> Iterator[tuple[Path, str, ast.Call]]:
    """Every call of ``t``/``N_`` in ``paths``: the file, the marker's name, the call."""
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in MARKERS
            ):
                yield path, node.func.id, node


def _literal(call: ast.Call) -> str | None:
    """The call's first argument when it is a string literal."""
    first = call.args[0] if call.args else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def non_literal_markers(paths: Iterable[Path]) -> list[str]:
    """Calls of ``t``/``N_`` whose first argument is not a string literal (not extractable)."""
    return [
        f"{path.name}:{call.lineno}: {name}() needs a literal"
        for path, name, call in _marker_calls(paths)
        if _literal(call) is None
    ]


def unextracted(paths: Iterable[Path]) -> list[str]:
    """Marked literals that Babel's extractor misses (e.g. a ``t()`` written inside the
    arguments of another ``t()``): they would never reach a catalogue."""
    paths = list(paths)
    extracted = {f.msgid for f in extract(paths)}
    return [
        f"{path.name}:{call.lineno}: not extracted (move it out of the enclosing call): {literal!r}"
        for path, _, call in _marker_calls(paths)
        if (literal := _literal(call)) is not None and literal not in extracted
    ]


def po_path(domain: str, lang: str = "ja", root: Path = ROOT) -> Path:
    return root / "locales" / lang / "LC_MESSAGES" / f"{domain}.po"


def untranslated(msgids: Iterable[str], lang: str = "ja") -> list[str]:
    known = catalogue(lang)
    return sorted({m for m in msgids if m not in known})


def placeholder_mismatches(lang: str = "ja") -> list[str]:
    """Translations whose ``{fields}`` differ from their msgid's (they would fail to render)."""
    return [
        f"{msgid!r} -> {text!r}"
        for msgid, text in catalogue(lang).items()
        if placeholders(msgid) != placeholders(text)
    ]


@dataclass(frozen=True)
class Forbidden:
    """A rendering the glossary rules out (locales/<lang>/forbidden.toml) and what to write."""

    wrong: re.Pattern[str]
    preferred: str


def forbidden(lang: str = "ja") -> list[Forbidden]:
    path = LOCALES / lang / "forbidden.toml"
    if not path.exists():
        return []
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("forbidden", [])
    return [Forbidden(re.compile(e["wrong"]), e["preferred"]) for e in entries]


def forbidden_renderings(lang: str = "ja") -> list[str]:
    """Translations that use a rendering the glossary forbids, with the term to use instead."""
    rules = forbidden(lang)
    return [
        f"{msgid!r} -> {text!r}: {match.group(0)!r} should be {rule.preferred!r}"
        for msgid, text in catalogue(lang).items()
        for rule in rules
        if (match := rule.wrong.search(text))
    ]


def _messages_in(document: Any) -> Iterator[str]:
    if isinstance(document, dict):
        if set(document) == {"id", "params", "text"}:
            yield document["id"]
            yield from _messages_in(document["params"])  # a parameter can be a message
            return
        for value in document.values():
            yield from _messages_in(value)
    elif isinstance(document, list):
        for value in document:
            yield from _messages_in(value)


def results_texts(root: Path = ROOT) -> set[str]:
    """The msgids the committed results show (messages saved in ``results/**/*.json``)."""
    import json

    found: set[str] = set()
    for path in sorted((root / "results").rglob("*.json")):
        found.update(_messages_in(json.loads(path.read_text(encoding="utf-8"))))
    return found


STALE_NOTE = "only in the committed results: dropped once they are measured again"


def update(root: Path = ROOT, lang: str = "ja") -> dict[str, int]:
    """Add newly marked msgids to each domain's ``.po`` and drop ones no source uses any more.

    Existing translations are kept; new entries get an empty translation to fill in. A text no
    source marks any more but the committed results still show keeps its translation (with a
    note) until the results are measured again, so that the report stays bilingual meanwhile.
    Returns the number of untranslated entries per domain.
    """
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    by_domain: dict[str, list[Found]] = {}
    for found in extract(sources(root), root):
        by_domain.setdefault(found.domain, []).append(found)
    shown = results_texts(root)
    missing: dict[str, int] = {}
    for domain, entries in sorted(by_domain.items()):
        path = po_path(domain, lang, root)
        old: Mapping[str, str] = {}
        if path.exists():
            with path.open("rb") as handle:
                old = {
                    str(m.id): str(m.string)
                    for m in read_po(handle)
                    if m.id and isinstance(m.id, str)
                }
        catalog = Catalog(locale=lang, domain=domain, project="inngest-durability-suite")
        for found in entries:
            location = (found.path.relative_to(root).as_posix(), found.line)
            if found.msgid in catalog:
                catalog[found.msgid].locations.append(location)
                continue
            flags = ["python-brace-format"] if placeholders(found.msgid) else []
            # A text that moved to another domain's file keeps its translation.
            translation = old.get(found.msgid) or catalogue(lang).get(found.msgid, "")
            catalog.add(found.msgid, translation, locations=[location], flags=flags)
        for msgid, translation in old.items():
            if msgid not in catalog and translation and msgid in shown:
                flags = ["python-brace-format"] if placeholders(msgid) else []
                catalog.add(msgid, translation, auto_comments=[STALE_NOTE], flags=flags)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(
                handle,
                catalog,
                width=100,
                omit_header=True,
                sort_output=False,
                include_lineno=False,
            )
        missing[domain] = sum(1 for m in catalog if m.id and not m.string)
    catalogue.cache_clear()
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.i18n", description=__doc__)
    parser.add_argument("command", choices=["update", "check"])
    args = parser.parse_args(argv)
    if args.command == "update":
        for domain, count in update().items():
            print(f"{po_path(domain).relative_to(ROOT)}: {count} untranslated")
        return 0
    problems = non_literal_markers(sources())
    problems += unextracted(sources())
    problems += [f"no Japanese: {m!r}" for m in untranslated(f.msgid for f in extract(sources()))]
    problems += [f"placeholders differ: {m}" for m in placeholder_mismatches()]
    problems += [f"glossary: {m}" for m in forbidden_renderings()]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
