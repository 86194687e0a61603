"""Errors that end a run with a clear message and a documented exit code (see README)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAIL_CLOSE = 1  # the suite ran, and a fail-close item rated below the threshold
    CANNOT_RUN = 2  # bad usage or environment: unknown item, no dev server, busy port, bad sync
    ITEM_ERROR = 3  # some item's probe broke, so it has no rating
    INTERRUPTED = 130


class SetupError(Exception):
    """The suite cannot run here; the message says what is wrong and how to fix it."""

    exit_code = ExitCode.CANNOT_RUN


class ProbeTimeout(Exception):
    """A bounded wait ran out (a run never finished, a ledger entry never came)."""
