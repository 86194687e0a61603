"""Deploying other code to the app while runs are in flight, as a real deploy does.

The app keeps its URL; only the functions it serves change: the in-process server stops, starts
again with the new functions, and the app is synced with the dev server (which registers new
functions, updates changed ones and deletes the ones no longer served). Runs in flight meet the
new code at their next step. :func:`deployment` restores the original functions afterwards, so
later items see the script's own app again.

Unlike ``AppHost.run_as_process`` nothing is killed: this is a graceful redeploy, not a crash.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import inngest

from harness.servers.api import DevServerAPI
from serve import ProductionKeys

Functions = list[inngest.Function[Any]]


class _App(Protocol):  # what of AppHost a deploy needs (a protocol, so tests can fake it)
    dev_server_url: str
    keys: ProductionKeys | None  # production mode (a self-hosted server): kept across a deploy

    @property
    def functions(self) -> Functions: ...

    def stop(self) -> None: ...

    def start(
        self, functions: Functions, dev_server_url: str, keys: ProductionKeys | None = None
    ) -> None: ...

    def sync(self, api: DevServerAPI, *, timeout: float = ...) -> set[str]: ...


def redeploy(app: _App, api: DevServerAPI, functions: Functions) -> set[str]:
    """Serve ``functions`` instead of what the app serves now, and sync; returns their IDs."""
    app.stop()
    app.start(functions, app.dev_server_url, app.keys)
    return app.sync(api)


@contextlib.contextmanager
def deployment(app: _App, api: DevServerAPI) -> Iterator[Callable[[Functions], set[str]]]:
    """``with deployment(app, api) as deploy: deploy([v2])`` … the original code is restored
    (and synced) when the block ends, whatever happens in it."""
    original = app.functions
    try:
        yield lambda functions: redeploy(app, api, functions)
    finally:
        redeploy(app, api, original)
