"""OB rubrics: hand-made evidence in, stars out (failing and unobservable evidence included)."""

from __future__ import annotations

from types import ModuleType

import pytest
from rubric_evidence import evidence

import serve
from conftest import ROOT
from harness.rating.evidence import Evidence, Rating


@pytest.fixture(scope="module")
def ob() -> ModuleType:
    return serve.load_script(ROOT / "09_ob_observability.py")


def rate(ob: ModuleType, item: str, ev: Evidence) -> Rating:
    return ob.suite.items[item].rate(ev)


def without(keys: list[str], *removed: str) -> list[str]:
    return [k for k in keys if k not in removed]


def test_every_ob_item_has_a_rubric_and_the_budgets_fit(ob: ModuleType) -> None:
    assert list(ob.suite.items) == [f"OB-0{n}" for n in range(1, 7)]
    for item in ob.suite.items.values():
        assert item._rubric is not None, item.id
    assert sum(item.timeout for item in ob.suite.items.values()) <= 180  # the script's limit


# --- OB-01 --------------------------------------------------------------------------------------
OB01 = ["ui-served", "ui-run-query", "ui-step-output-query", "ui-trigger-query",
        "ui-runs-list-query", "ui-renders-run", "screenshot"]  # fmt: skip
WORKAROUND = ["ui-run-query:traces-preview=false", "ui-renders-run:traces-preview=false"]


def test_ob01_everything_shown_is_five(ob) -> None:
    assert rate(ob, "OB-01", evidence(OB01)).stars == 5


def test_ob01_without_a_browser_is_four(ob) -> None:
    ev = evidence(without(OB01, "ui-renders-run", "screenshot"), [], ["ui-renders-run"])
    assert rate(ob, "OB-01", ev).stars == 4


def test_ob01_broken_run_page_with_a_working_workaround_is_three(ob) -> None:
    ev = evidence(
        [*without(OB01, "ui-run-query", "ui-renders-run"), *WORKAROUND],
        ["ui-run-query", "ui-renders-run"],
    )
    rating = rate(ob, "OB-01", ev)
    assert rating.stars == 3
    assert "traces-preview=false" in str(rating.advice)


def test_ob01_broken_run_page_without_a_workaround_is_two(ob) -> None:
    ev = evidence(without(OB01, "ui-run-query"), ["ui-run-query", *WORKAROUND])
    assert rate(ob, "OB-01", ev).stars == 2


def test_ob01_missing_data_is_two_and_nothing_at_all_is_one(ob) -> None:
    assert (
        rate(ob, "OB-01", evidence(without(OB01, "ui-trigger-query"), ["ui-trigger-query"])).stars
        == 2
    )
    assert rate(ob, "OB-01", evidence([], ["ui-served", "ui-run-query"])).stars == 1


# --- OB-02 --------------------------------------------------------------------------------------
OB02_BASE = ["dev-metrics-endpoint", "self-hosted-metrics"]


@pytest.mark.parametrize(
    ("passed", "failed", "not_run", "stars"),
    [
        # What dev server 1.43 does: counters only behind the experimental flag, no histograms.
        (["run-counters-flagged"], ["run-counters-by-default", "latency-histograms"], [], 2),
        (["run-counters-flagged", "latency-histograms"], ["run-counters-by-default"], [], 2),
        (["run-counters-by-default", "latency-histograms"], [], [], 5),
        (["run-counters-by-default"], ["latency-histograms"], [], 4),
        ([], ["run-counters-by-default", "run-counters-flagged"], [], 1),  # queue depth only
        ([], ["run-counters-by-default"], ["run-counters-flagged", "latency-histograms"], 1),
    ],
)
def test_ob02_stars(
    ob, passed: list[str], failed: list[str], not_run: list[str], stars: int
) -> None:
    rating = rate(ob, "OB-02", evidence([*OB02_BASE, *passed], failed, not_run))
    assert rating.stars == stars
    assert set(failed) <= set(rating.drivers)


def test_ob02_experimental_counters_say_so_and_advise_the_flag(ob) -> None:
    ev = evidence(
        [*OB02_BASE, "run-counters-flagged"], ["run-counters-by-default", "latency-histograms"]
    )
    rating = rate(ob, "OB-02", ev)
    assert "experimental flag" in str(rating.reason) and "no latency histograms" in str(
        rating.reason
    )
    assert "documented, not executed" in str(rating.reason)  # the cloud is never counted
    assert "INNGEST_EXPERIMENTAL_PROM_METRICS" in str(rating.advice)


def test_ob02_no_endpoint_is_one(ob) -> None:
    nothing = evidence([], ["dev-metrics-endpoint", "self-hosted-metrics"])
    assert rate(ob, "OB-02", nothing).stars == 1


# --- OB-03 --------------------------------------------------------------------------------------
OB03 = ["timeline", "step-outputs", "run-input", "retried-attempts", "rendered-history"]


@pytest.mark.parametrize(
    ("failed", "stars"),
    [([], 5), (["retried-attempts"], 4), (["run-input"], 3), (["step-outputs"], 3),
     (["rendered-history"], 2), (["timeline"], 2), (["timeline", "step-outputs"], 1)],
)  # fmt: skip
def test_ob03_stars(ob, failed: list[str], stars: int) -> None:
    rating = rate(ob, "OB-03", evidence(OB03, failed))
    assert rating.stars == stars
    assert set(failed) <= set(rating.drivers)


def test_ob03_unrendered_page_caps_at_four(ob) -> None:
    rating = rate(ob, "OB-03", evidence(OB03, not_run=["rendered-history"]))
    assert rating.stars == 4 and "could not be looked at" in str(rating.reason)


# --- OB-04 --------------------------------------------------------------------------------------
OB04_PATTERN = ["one-run-span", "parent-child", "no-duplicate-memoized", "failed-run-span",
                "failed-attempt-error", "semantic-conventions", "matches-dev-server"]  # fmt: skip


def test_ob04_native_and_pattern_are_rated_apart(ob) -> None:
    rating = rate(ob, "OB-04", evidence(OB04_PATTERN, ["sdk-native-otel"]))
    assert rating.stars == 1 and rating.pattern is not None and rating.pattern.stars == 4
    assert rating.advice is not None
    native = rate(ob, "OB-04", evidence([*OB04_PATTERN, "sdk-native-otel"]))
    assert native.stars == 3


@pytest.mark.parametrize(
    ("failed", "pattern_stars"),
    [(["semantic-conventions"], 3), (["matches-dev-server"], 3), (["parent-child"], 2),
     (["no-duplicate-memoized"], 2)],
)  # fmt: skip
def test_ob04_pattern_stars(ob, failed: list[str], pattern_stars: int) -> None:
    ev = evidence(without(OB04_PATTERN, *failed), [*failed, "sdk-native-otel"])
    pattern = rate(ob, "OB-04", ev).pattern
    assert pattern is not None and pattern.stars == pattern_stars


# --- OB-05 --------------------------------------------------------------------------------------
OB05 = ["handler-alert", "central-alert", "alert-once"]


@pytest.mark.parametrize(
    ("failed", "stars"),
    [([], 4), (["central-alert"], 3), (["handler-alert"], 3), (["alert-once"], 2),
     (["handler-alert", "central-alert"], 1)],
)  # fmt: skip
def test_ob05_stars(ob, failed: list[str], stars: int) -> None:
    assert rate(ob, "OB-05", evidence(without(OB05, *failed), failed)).stars == stars


# --- OB-06 --------------------------------------------------------------------------------------
def test_ob06_native_and_pattern(ob) -> None:
    found = ["ctx-logger-once", "plain-logger-repeats", "pattern-run-context"]
    rating = rate(ob, "OB-06", evidence(found, ["native-run-context"]))
    assert rating.stars == 3 and rating.pattern is not None and rating.pattern.stars == 4
    with_context = rate(ob, "OB-06", evidence([*found, "native-run-context"]))
    assert with_context.stars == 4
    repeated = rate(ob, "OB-06", evidence(["pattern-run-context"], ["ctx-logger-once"]))
    assert repeated.stars == 1
    broken_pattern = rate(
        ob, "OB-06", evidence(found[:2], ["native-run-context", "pattern-run-context"])
    )
    assert broken_pattern.pattern is not None and broken_pattern.pattern.stars == 2


def test_ob06_warns_off_module_loggers_only_when_they_repeated(ob) -> None:
    found = ["ctx-logger-once", "plain-logger-repeats", "pattern-run-context"]
    repeated = rate(ob, "OB-06", evidence(found, ["native-run-context"]))
    once = rate(ob, "OB-06", evidence(found, ["native-run-context", "plain-logger-repeats"]))
    assert repeated.stars == once.stars == 3
    assert "repeats" in str(repeated.reason) and "never a module logger" in str(repeated.advice)
    assert "repeats" not in str(once.reason) and "module logger" not in str(once.advice)


def test_ui_bundles_are_found_in_the_page(ob) -> None:
    html = '<link rel="modulepreload" href="/assets/index-B.js"/><script src="/assets/a.js">'
    assert ob._ui_assets(html) == ["/assets/a.js", "/assets/index-B.js"]
    assert ob._ui_assets("<html><body>UI not built</body></html>") == []


def test_json_values_from_the_ui_queries_are_decoded(ob) -> None:
    assert ob._json_value('{"data": {"a": 1}}') == {"a": 1}  # a step output
    assert ob._json_value('{"name": "x", "data": {}}') == {"name": "x", "data": {}}  # an event
    assert ob._json_value("not json") == "not json"
    assert ob._json_value(None) is None
