"""The bilingual catalogue: messages, rendering, extraction, and completeness of the Japanese."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from conftest import ROOT
from harness import i18n
from harness.i18n import N_, Msg, t
from harness.rating.catalog import (
    ITEMS,
    PREREQUISITE_LABELS,
    PREREQUISITE_VALUES,
    STAR_LABELS,
    Category,
)
from harness.rating.evidence import Evidence


@pytest.fixture
def japanese(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    table = {"{n} runs finished": "{n} 件の実行が終了した", "hello": "こんにちは"}
    monkeypatch.setattr(i18n, "catalogue", lambda lang: table if lang == "ja" else {})
    return table


def test_a_message_renders_its_parameters_in_each_language(japanese) -> None:
    message = t("{n} runs finished", n=3)
    assert message.render("en") == str(message) == "3 runs finished"
    assert message.render("ja") == "3 件の実行が終了した"


def test_a_text_without_a_translation_falls_back_to_english(japanese) -> None:
    assert t("nobody translated this").render("ja") == "nobody translated this"
    assert i18n.render(N_("hello"), "ja") == "こんにちは"


def test_parameters_must_match_the_template() -> None:
    with pytest.raises(ValidationError, match="needs parameters"):
        t("{n} runs finished")
    with pytest.raises(ValidationError, match="needs parameters"):
        t("no fields here", n=1)
    assert t("{x:.1f} s", x=1.25).render() == "1.2 s"  # format specs are allowed


def test_a_message_survives_json_with_its_english_text_beside_it() -> None:
    evidence = Evidence()
    evidence.check("k", t("{n} runs finished", n=2), True)
    dumped = json.loads(evidence.model_dump_json())
    assert dumped["checks"][0]["description"] == {
        "id": "{n} runs finished",
        "params": {"n": 2},
        "text": "2 runs finished",
    }
    assert Evidence.model_validate(dumped).checks[0].description == t("{n} runs finished", n=2)


def test_a_plain_string_from_older_results_loads_as_a_message() -> None:
    assert Msg.model_validate("old text") == t("old text")


def test_extraction_finds_marked_literals_and_their_domains(tmp_path: Path) -> None:
    script = tmp_path / "05_vr_sample.py"
    script.write_text('from common import t\nx = t("a {n} b", n=1)\ny = t("plain" " joined")\n')
    found = list(i18n.extract([script]))
    assert [f.msgid for f in found] == ["a {n} b", "plain joined"]
    assert {f.domain for f in found} == {"harness"}  # not a top-level script of this checkout


def test_non_literal_markers_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('name = "x"\nt(f"{name} ran")\nt("fine")\nN_(name)\n')
    problems = i18n.non_literal_markers([bad])
    assert len(problems) == 2 and "bad.py:2" in problems[0] and "bad.py:4" in problems[1]


# --- completeness: what a report can show has Japanese --------------------------------------------
def test_every_marked_text_in_the_sources_is_a_literal() -> None:
    assert i18n.non_literal_markers(i18n.sources()) == []


def test_every_marked_text_in_the_sources_has_japanese() -> None:
    missing = i18n.untranslated(f.msgid for f in i18n.extract(i18n.sources()))
    assert missing == [], "run `python -m harness.i18n update` and translate:\n" + "\n".join(
        missing
    )


def test_translations_keep_the_placeholders_of_their_msgid() -> None:
    assert i18n.placeholder_mismatches() == []


def test_catalogue_data_has_japanese() -> None:
    texts = [item.name for item in ITEMS.values()]
    texts += [c.value for c in Category] + list(STAR_LABELS.values())
    texts += list(PREREQUISITE_LABELS.values()) + [
        v for v in PREREQUISITE_VALUES.values() if v[0].islower()
    ]
    assert i18n.untranslated(texts) == []


def test_every_text_in_the_committed_results_has_japanese() -> None:
    texts = list(i18n.results_texts())
    for path in sorted((ROOT / "results").rglob("*.json")):
        document = json.loads(path.read_text())
        names = [item.get("name") for item in document.get("items", {}).values()]
        texts += [name for name in names if isinstance(name, str)]  # messages are found above
    assert i18n.untranslated(texts) == []


def test_a_marked_text_inside_another_marked_call_is_reported(tmp_path: Path) -> None:
    source = tmp_path / "01_x.py"
    source.write_text('t("outer {x}", x=md(t("inner") if a else t("other")))\n')
    problems = i18n.unextracted([source])
    assert len(problems) == 2 and "'inner'" in problems[0] and "'other'" in problems[1]


def test_every_marked_text_in_the_sources_is_extracted() -> None:
    assert i18n.unextracted(i18n.sources()) == []


@pytest.mark.parametrize(
    ("text", "caught"),
    [
        ("再起動しても実行中の実行が完了する", "実行中の実行"),
        ("名前を変えたステップが黙って再実行された", "黙って"),
        ("ステップを名指しする", "名指し"),
        ("実行中の run が完了する", "run"),
        ("失敗した runs を一覧できる", "runs"),
        ("ステップハンドラを書く", "ハンドラ"),
        ("記録済みの実行を再生する", "再生"),
    ],
)
def test_the_glossary_catches_a_wrong_rendering(text: str, caught: str) -> None:
    assert any(
        (m := rule.wrong.search(text)) and m.group(0).strip() == caught
        for rule in i18n.forbidden("ja")
    )


@pytest.mark.parametrize(
    "text",
    [
        "step.run は 1 回だけ実行される",
        "{runs} 実行/秒",
        "GET /v1/runs/<run ID> を読む",
        "Priority(run=event.data.priority) を使う",
        "ハンドラーを書く",
        "進行中の実行がリプレイされる",
    ],
)
def test_the_glossary_leaves_right_renderings_and_code_alone(text: str) -> None:
    assert not any(rule.wrong.search(text) for rule in i18n.forbidden("ja"))


def test_the_catalogues_use_no_rendering_the_glossary_forbids() -> None:
    """`python -m harness.i18n check` in CI: locales/ja/forbidden.toml, see GLOSSARY.md."""
    assert i18n.forbidden_renderings("ja") == []


def test_a_message_parameter_is_rendered_in_the_same_language(japanese) -> None:
    japanese.update({"faults: {faults}": "不具合: {faults}", ", ": "、", "slow": "遅い"})
    message = t("faults: {faults}", faults=[t("hello"), t("slow")])
    assert message.render("en") == "faults: hello, slow"
    assert message.render("ja") == "不具合: こんにちは、遅い"
    assert t("faults: {faults}", faults=t("slow")).render("ja") == "不具合: 遅い"


def test_a_message_with_message_parameters_survives_json() -> None:
    message = t("faults: {faults}", faults=[t("{n} runs finished", n=2), t("slow")])
    loaded = Msg.model_validate_json(message.model_dump_json())
    assert loaded == message and loaded.text == "faults: 2 runs finished, slow"
    assert Msg.model_validate_json(t("x {v}", v="plain").model_dump_json()).params == {"v": "plain"}


def test_update_keeps_a_translation_the_committed_results_still_show(tmp_path: Path) -> None:
    (tmp_path / "01_x.py").write_text('t("still marked")\n', encoding="utf-8")
    po = tmp_path / "locales" / "ja" / "LC_MESSAGES" / "01_x.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid "still marked"\nmsgstr "まだある"\n\n'
        'msgid "only in results"\nmsgstr "結果だけ"\n\n'
        'msgid "gone"\nmsgstr "消える"\n',
        encoding="utf-8",
    )
    (tmp_path / "results").mkdir()
    saved = {"reason": {"id": "only in results", "params": {}, "text": "only in results"}}
    (tmp_path / "results" / "01_x.json").write_text(json.dumps(saved), encoding="utf-8")
    i18n.update(tmp_path)
    text = po.read_text(encoding="utf-8")
    assert "まだある" in text and "結果だけ" in text and i18n.STALE_NOTE in text
    assert "消える" not in text
