"""patterns.configured_durations: production durations untouched, test durations scaled."""

from __future__ import annotations

from datetime import timedelta

import pytest

from patterns.configured_durations import MIN_WAIT, scaled, time_scale

DAY, WEEK = timedelta(days=1), timedelta(days=7)
ENV = "APP_TIME_SCALE"


def test_unset_or_one_leaves_durations_untouched() -> None:
    assert scaled(DAY, ENV, {}) == DAY
    assert scaled(timedelta(milliseconds=1500), ENV, {ENV: ""}) == timedelta(milliseconds=1500)
    assert scaled(WEEK, ENV, {ENV: "1"}) == WEEK


def test_a_test_scale_turns_a_day_into_a_second_in_whole_seconds() -> None:
    environ = {ENV: "0.00001"}
    assert scaled(DAY, ENV, environ) == timedelta(seconds=1)
    assert scaled(WEEK, ENV, environ) == timedelta(seconds=6)
    assert scaled(timedelta(minutes=5), ENV, environ) == MIN_WAIT  # never under a second


def test_the_process_environment_is_read_when_none_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV, "0.5")
    assert time_scale(ENV) == 0.5 and scaled(timedelta(seconds=10), ENV) == timedelta(seconds=5)


@pytest.mark.parametrize("raw", ["fast", "0", "-1"])
def test_a_bad_scale_names_the_variable(raw: str) -> None:
    with pytest.raises(ValueError, match=ENV):
        time_scale(ENV, {ENV: raw})
