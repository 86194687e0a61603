"""Run a command as on a machine that has never seen an Inngest dev server.

``inngest`` and ``inngest-cli`` are hidden from PATH (each folder that holds one is replaced by a
folder of links to everything else in it), and the variables that point the suite at a dev
server are unset. ``make test`` runs the tests that are not end-to-end this way, so a test that
quietly needs a dev server fails in CI, not on a new user's machine::

    python tests/without_dev_server.py python -m pytest -m "not devserver"
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

HIDDEN = ("inngest", "inngest-cli")
VARIABLES = ("INNGEST_DEV_SERVER_URL", "INNGEST_DEV_SERVER_BIN", "INNGEST_SUITE_SERVER")


def shadow_path(path: str, shadows: Path) -> str:
    """``path`` with every folder that holds a hidden binary replaced by a shadow of it."""
    folders = []
    for number, entry in enumerate(path.split(os.pathsep)):
        folder = Path(entry)
        if not any((folder / name).exists() for name in HIDDEN):
            folders.append(entry)
            continue
        shadow = shadows / str(number)
        shadow.mkdir()
        for child in folder.iterdir():
            if child.name not in HIDDEN:
                (shadow / child.name).symlink_to(child)
        folders.append(str(shadow))
    return os.pathsep.join(folders)


def main(command: list[str]) -> int:
    if not command:
        print(f"usage: {sys.argv[0]} COMMAND [ARG ...]", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="without-dev-server-") as shadows:
        env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
        env["PATH"] = shadow_path(env.get("PATH", ""), Path(shadows))
        # A child, not exec: the shadow folders are removed once it ends.
        return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
