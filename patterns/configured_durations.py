"""Durations read from configuration, scaled down so a test can run a week-long flow.

Problem: a function that sleeps a day and waits a week for an event cannot be exercised end to
end on a real dev server within a test run: Inngest has no time skipping (the SDK's mocked
executor skips sleeps and waits, but runs nothing of the real server's scheduling).

The pattern: every duration the function sleeps or waits is written once, at its production
value, and passed through :func:`scaled`, which multiplies it by a factor read from an
environment variable. Production leaves the variable unset (factor 1: the durations are
untouched); a test sets it (say ``0.00001``: a day becomes about a second) and drives the real
function on a dev server through both endings in seconds.

When to use it: long ``step.sleep``/``sleep_until`` and ``wait_for_event`` timeouts that a test
must exercise on a real server, not only under the mocked executor.

Limits: Inngest takes waits in whole seconds, so a scaled duration is rounded and never shorter
than one second; durations that differ by less than the rounding collapse, so keep the order of
events in a test well apart. The factor is read when the function's code runs, so an app must be
started with the test's environment. Absolute times (``sleep_until`` a date) are not scaled.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta

MIN_WAIT = timedelta(seconds=1)  # the shortest sleep or wait Inngest takes


def time_scale(env_var: str, environ: Mapping[str, str] | None = None) -> float:
    """The factor in ``env_var`` (1 when unset or empty); ValueError naming the variable when
    it is not a positive number."""
    raw = (os.environ if environ is None else environ).get(env_var) or "1"
    try:
        factor = float(raw)
    except ValueError:
        raise ValueError(f"{env_var}={raw!r} is not a number") from None
    if not factor > 0:
        raise ValueError(f"{env_var}={raw!r}: the time scale must be positive")
    return factor


def scaled(
    duration: timedelta, env_var: str, environ: Mapping[str, str] | None = None
) -> timedelta:
    """``duration`` times the factor in ``env_var``: unchanged at factor 1, otherwise rounded
    to whole seconds and at least :data:`MIN_WAIT`."""
    factor = time_scale(env_var, environ)
    if factor == 1:
        return duration
    seconds = round(duration.total_seconds() * factor)
    return max(MIN_WAIT, timedelta(seconds=seconds))
