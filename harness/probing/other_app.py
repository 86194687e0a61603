"""A second app, served in-process for the length of a block, synced with the same dev server.

Some behaviour only shows between apps (``step.invoke_by_id(app_id=...)`` calls a function of
another app). Functions of that app are declared with a client of its own app ID, e.g.
``serve.make_client(app_id="durability-suite-partner")``; :func:`other_app` serves them on a free
port, syncs them, confirms the dev server registered each one, and stops serving at the end of
the block. The dev server keeps the app listed afterwards (with no one answering at its URL).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import inngest

import serve
from harness.errors import SetupError
from harness.host.ports import free_port
from harness.servers.api import DevServerAPI


@contextlib.contextmanager
def other_app(
    app_id: str,
    functions: list[inngest.Function[Any]],
    api: DevServerAPI,
    *,
    keys: serve.ProductionKeys | None = None,
    timeout: float = 20.0,
) -> Iterator[str]:
    """Serve ``functions`` as app ``app_id`` during the block; yields the app's URL. ``keys``:
    serve in production mode, for a server that signs its requests (``inngest start``)."""
    foreign = [fn.id for fn in functions if not fn.id.startswith(f"{app_id}-")]
    if foreign:
        raise ValueError(f"functions {foreign} were not declared with a client of app {app_id!r}")
    port = free_port()
    server = serve.InProcessServer(serve.build_app(functions, api.url, keys, app_id=app_id), port)
    try:
        server.start()
    except RuntimeError as exc:
        raise SetupError(f"cannot serve app {app_id} on port {port}: {exc}") from exc
    url = f"http://127.0.0.1:{port}{serve.SERVE_PATH}"
    try:
        try:
            response = serve.sync(url)
        except httpx.HTTPError as exc:
            raise SetupError(f"could not sync app {app_id} at {url}: {exc}") from exc
        if response.status_code != 200:
            raise SetupError(
                f"the dev server rejected the sync of app {app_id} (HTTP "
                f"{response.status_code}): {response.text[:300]}"
            )
        expected = {fn.id for fn in functions}
        deadline = time.monotonic() + timeout
        while not expected <= api.function_slugs():
            if time.monotonic() > deadline:
                raise SetupError(f"the dev server did not register app {app_id}'s functions")
            time.sleep(0.2)
        yield url
    finally:
        server.stop()
