"""Evidence for rubric tests: named checks that passed, failed or could not run, plus numbers.

Rubrics look checks up by key, so a check's description is its key here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from harness.rating.evidence import Evidence


def evidence(
    passed: Iterable[str] = (),
    failed: Iterable[str] = (),
    not_run: Iterable[str] = (),
    measurements: Mapping[str, float] | None = None,
    facts: Iterable[str] = (),
) -> Evidence:
    """One check per key named anywhere, in first-seen order: failed if in ``failed``, not run
    if in ``not_run``, passed otherwise. ``passed`` may list every key, failing ones included,
    so a test can write ``evidence(ALL_KEYS, failed=[one])``. ``facts``: keys of documented
    facts (a rubric may branch on what the cited documentation says)."""
    failed, not_run = list(failed), list(not_run)
    ev = Evidence()
    for key in dict.fromkeys([*passed, *failed, *not_run]):
        if key in not_run:
            ev.not_run(key, key, "not observable here")
        else:
            ev.check(key, key, key not in failed)
    for key, value in (measurements or {}).items():
        ev.measure(key, value, "unit")
    for key in facts:
        ev.document(key, key, "https://example.invalid/docs")
    return ev
