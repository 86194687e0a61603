"""The catalog's fixed facts: items, categories, fail-close rules and lookup."""

from __future__ import annotations

from collections import Counter

import pytest

from harness.rating.catalog import ITEMS, STAR_LABELS, CatalogItem, Category, items_in, lookup

EXPECTED_COUNTS = {
    "EX": 7,
    "RT": 4,
    "WF": 6,
    "SG": 4,
    "VR": 4,
    "CP": 4,
    "PF": 3,
    "OP": 7,
    "OB": 6,
    "DX": 7,
    "AI": 6,
}


def test_catalog_has_58_items() -> None:
    assert len(ITEMS) == 58


def test_there_are_11_categories() -> None:
    assert len(Category) == 11
    assert {c.name for c in Category} == set(EXPECTED_COUNTS)


def test_items_per_category() -> None:
    counts = Counter(item.id.split("-")[0] for item in ITEMS.values())
    assert dict(counts) == EXPECTED_COUNTS
    for category in Category:
        assert len(items_in(category)) == EXPECTED_COUNTS[category.name]


def test_item_keys_match_item_ids() -> None:
    assert all(key == item.id for key, item in ITEMS.items())


def test_fail_close_items() -> None:
    fail_close = {item.id: item.fail_close for item in ITEMS.values() if item.fail_close}
    assert fail_close == {
        "EX-01": "always",
        "EX-03": "always",
        "RT-01": "always",
        "OP-02": "always",
        "VR-01": "duration >= minutes",
    }


def test_original_stars_on_scale() -> None:
    for item in ITEMS.values():
        assert 1 <= item.original_stars <= 5, item.id
        assert item.original_stars in STAR_LABELS


@pytest.mark.parametrize("given", ["ex-03", "EX-03", "  Ex-03  ", "\tex-03\n"])
def test_lookup_is_case_insensitive_and_strips(given: str) -> None:
    item = lookup(given)
    assert item.id == "EX-03"
    assert item.name == "Idempotency / Deduplication"


def test_lookup_unknown_id_raises_key_error_naming_it() -> None:
    with pytest.raises(KeyError) as excinfo:
        lookup("ZZ-99")
    assert "ZZ-99" in str(excinfo.value.args[0])


def test_category_derives_from_id_prefix() -> None:
    assert CatalogItem("OB-02", "Metrics", 4).category is Category.OB
    assert CatalogItem("AI-01", "x", 1).category is Category.AI
    assert lookup("vr-01").category is Category.VR
    for item in ITEMS.values():
        assert item.category.name == item.id[:2]


def test_items_in_ex_in_order() -> None:
    ex = items_in(Category.EX)
    assert [item.id for item in ex] == [f"EX-0{n}" for n in range(1, 8)]
    assert all(item.category is Category.EX for item in ex)
