"""The shared FastAPI app that serves the suite's Inngest functions at ``/api/inngest``.

Category scripts start this app themselves on a free port. Run it directly to serve every
category's functions, e.g. to browse them in the dev server UI::

    inngest dev --no-discovery -u http://127.0.0.1:8000/api/inngest   # in one terminal
    python serve.py --port 8000                                       # in another

The harness also runs ``python serve.py --script … --functions …`` as a child process when an
item needs an app process it can kill (SIGKILL) and start again.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import fastapi
import httpx
import inngest
import inngest.fast_api
import uvicorn

from harness.host import validate

APP_ID = "durability-suite"
SERVE_PATH = "/api/inngest"
ROOT = Path(__file__).resolve().parent
SCRIPT_GLOB = "[01][0-9]_*.py"
DEFAULT_DEV_SERVER = "http://127.0.0.1:8288"
SIGNING_KEY_ENV = "INNGEST_SIGNING_KEY"
EVENT_KEY_ENV = "INNGEST_EVENT_KEY"
URL_ENV = "INNGEST_DEV_SERVER_URL"
ENV_CHECKS = (
    validate.url_variable(URL_ENV),
    # Either alone would silently serve in development mode.
    validate.needs_variable(SIGNING_KEY_ENV, EVENT_KEY_ENV, "production mode needs both"),
    validate.needs_variable(EVENT_KEY_ENV, SIGNING_KEY_ENV, "production mode needs both"),
)

Functions = list[inngest.Function[Any]]


class ProductionKeys(NamedTuple):
    """What an app needs to run in production mode against a self-hosted server: the server's
    signing key (requests are signed and verified) and an event key it accepts."""

    signing_key: str
    event_key: str

    @classmethod
    def from_env(cls) -> ProductionKeys | None:
        """The SDK's own variables, INNGEST_SIGNING_KEY and INNGEST_EVENT_KEY, if both are set."""
        signing_key, event_key = os.environ.get(SIGNING_KEY_ENV), os.environ.get(EVENT_KEY_ENV)
        return cls(signing_key, event_key) if signing_key and event_key else None


def make_client(
    dev_server_url: str | None = None,
    keys: ProductionKeys | None = None,
    *,
    app_id: str = APP_ID,
) -> inngest.Inngest:
    """The suite's Inngest client. Step outputs go through Pydantic, so models round-trip.

    With ``keys`` the client is in production mode: it verifies the signature of every request
    and signs its responses (the server at ``dev_server_url`` is then ``inngest start``).
    """
    return inngest.Inngest(
        app_id=app_id,
        is_production=keys is not None,
        signing_key=keys.signing_key if keys else None,
        event_key=keys.event_key if keys else None,
        api_base_url=dev_server_url,
        event_api_base_url=dev_server_url,
        serializer=inngest.PydanticSerializer(),
        logger=logging.getLogger("inngest"),
    )


def build_app(
    functions: Functions,
    dev_server_url: str,
    keys: ProductionKeys | None = None,
    *,
    app_id: str = APP_ID,
) -> fastapi.FastAPI:
    """A FastAPI app serving ``functions``, syncing with the server at ``dev_server_url``."""
    app = fastapi.FastAPI(title="Inngest durability suite")
    client = make_client(dev_server_url, keys, app_id=app_id)
    inngest.fast_api.serve(app, client, functions, serve_path=SERVE_PATH)
    return app


# --- finding the functions of category scripts --------------------------------------------------
def category_scripts() -> list[Path]:
    return sorted(ROOT.glob(SCRIPT_GLOB))


def load_script(path: Path) -> ModuleType:
    """Import a category script by path (its name starts with a digit) without running it."""
    name = path.stem if path.stem.isidentifier() else f"script_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def functions_of(module: ModuleType, names: list[str] | None = None) -> Functions:
    """The functions a script serves by default, or the module attributes called ``names``."""
    if names:
        missing = [n for n in names if not isinstance(getattr(module, n, None), inngest.Function)]
        if missing:
            raise LookupError(f"{module.__name__} has no Inngest function(s) {missing}")
        return [getattr(module, n) for n in names]
    suite = getattr(module, "suite", None)
    if suite is None:
        raise LookupError(f"{module.__name__} declares no `suite`")
    return list(suite.functions())


def attribute_names(module: ModuleType, functions: Functions) -> list[str]:
    """The module attribute names under which ``functions`` are defined (for a child process)."""
    by_identity = {id(v): k for k, v in vars(module).items() if isinstance(v, inngest.Function)}
    try:
        return [by_identity[id(fn)] for fn in functions]
    except KeyError:
        raise LookupError(
            f"a function is not a module-level attribute of {module.__name__}"
        ) from None


# --- running the app -----------------------------------------------------------------------------
class InProcessServer:
    """uvicorn on a background thread of this process."""

    def __init__(self, app: fastapi.FastAPI, port: int) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="inngest-app", daemon=True)

    def start(self, timeout: float = 15.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the app server did not start (is the port in use?)")
            time.sleep(0.02)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)


def sync(serve_url: str, timeout: float = 30.0) -> httpx.Response:
    """Ask the app to register itself with its dev server (what "Sync" in the UI does)."""
    return httpx.put(serve_url, timeout=timeout)


def main(argv: list[str] | None = None) -> int:
    parser = validate.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=validate.whole_number(1, 65535), default=8000)
    parser.add_argument(
        "--dev-server-url",
        default=os.environ.get(URL_ENV) or DEFAULT_DEV_SERVER,
        help=f"dev server to sync with (default: ${URL_ENV} or {DEFAULT_DEV_SERVER})",
    )
    parser.add_argument("--script", type=Path, action="append", help="serve only this script")
    parser.add_argument("--functions", help="comma-separated function attribute names (one script)")
    parser.add_argument("--no-sync", action="store_true", help="do not sync at start-up")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.functions.split(",") if n.strip()] if args.functions else None
    if args.functions is not None and not names:
        parser.error("--functions is empty; allowed: function attribute names, comma-separated")
    if names and len(set(names)) != len(names):
        parser.error("--functions names a function more than once; name each once")
    if names and len(args.script or []) != 1:
        parser.error("--functions needs exactly one --script")
    try:
        validate.check_environment(ENV_CHECKS)
        validate.url("--dev-server-url", args.dev_server_url)
        for path in args.script or []:
            validate.existing_file("--script", path)
    except validate.BadInput as exc:
        return validate.refuse(parser.prog, exc)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    scripts = args.script or category_scripts()
    functions: Functions = []
    try:
        for path in scripts:
            functions += functions_of(load_script(path.resolve()), names)
    except LookupError as exc:
        return validate.refuse(parser.prog, validate.BadInput(f"--script/--functions: {exc}"))

    # Production mode (a self-hosted server) when the SDK's key variables are both set.
    keys = ProductionKeys.from_env()
    server = InProcessServer(build_app(functions, args.dev_server_url, keys), args.port)
    try:
        server.start()
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    serve_url = f"http://127.0.0.1:{args.port}{SERVE_PATH}"
    print(f"serving {len(functions)} function(s) at {serve_url}", flush=True)
    if not args.no_sync:
        try:
            response = sync(serve_url)
            print(f"sync with {args.dev_server_url}: HTTP {response.status_code}", flush=True)
        except httpx.HTTPError as exc:
            print(f"sync with {args.dev_server_url} failed: {exc}", flush=True)
    try:
        while server.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
