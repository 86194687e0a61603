"""What an item needs from the machine beyond a dev server, and whether this machine has it.

Items declare their needs (``@suite.item(..., needs=SELF_HOSTED_NEEDS)``); ``--list --json``
carries them, and run_all.py checks them all once, before anything starts, so that a whole run
says up front which items will be "not run" for want of what, instead of each script finding
out on its own.
"""

from __future__ import annotations

import shutil
from enum import StrEnum


class Need(StrEnum):
    POSTGRESQL = "PostgreSQL"
    REDIS = "Redis"
    CHROMIUM = "Chromium"
    # A binary the suite can start itself (a dev server given only as a URL is not enough).
    INNGEST_BINARY = "inngest binary"


# What starting ``inngest start`` on PostgreSQL + Redis takes (harness.servers.selfhosted).
SELF_HOSTED_NEEDS = (Need.POSTGRESQL, Need.REDIS, Need.INNGEST_BINARY)

REMEDY: dict[Need, str] = {
    Need.POSTGRESQL: "apt-get install -y postgresql",
    Need.REDIS: "apt-get install -y redis-server",
    Need.CHROMIUM: "apt-get install -y chromium",
    Need.INNGEST_BINARY: "set INNGEST_DEV_SERVER_BIN or put inngest on PATH "
    "(README, 'Getting a dev server')",
}


def available(need: Need) -> bool:
    """Whether this machine has ``need`` now."""
    # Imported here: these modules import much of the harness, and this one is imported early.
    if need is Need.POSTGRESQL:
        from harness.servers.selfhosted import postgres_bin_dir

        return postgres_bin_dir() is not None
    if need is Need.REDIS:
        return shutil.which("redis-server") is not None
    if need is Need.CHROMIUM:
        from harness.probing.browser import find_chromium

        return find_chromium() is not None
    from harness.errors import SetupError
    from harness.servers.devserver import _binary

    try:
        return _binary() is not None
    except SetupError:  # INNGEST_DEV_SERVER_BIN names something that is not executable
        return False


def missing(needs: set[Need]) -> list[Need]:
    """The needs this machine lacks, in a stable order."""
    return [need for need in Need if need in needs and not available(need)]
