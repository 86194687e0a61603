"""harness.selfhosted with a stand-in binary: flags, readiness, secrets kept out of records."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from harness.errors import SetupError
from harness.selfhosted import self_hosted_server

FAKE = textwrap.dedent("""
    import json, os, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer
    args = sys.argv[1:]
    assert args[0] == "start", args
    port = int(args[args.index("--port") + 1])
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"args": args, "flag": os.environ.get("SUITE_FLAG")}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *a):
            pass
    HTTPServer(("127.0.0.1", port), Handler).serve_forever()
""")


def test_self_hosted_server_starts_answers_and_stops(tmp_path: Path) -> None:
    script = tmp_path / "fake_inngest.py"
    script.write_text(FAKE)
    with self_hosted_server(
        [sys.executable, str(script)], tmp_path / "work", env={"SUITE_FLAG": "on"}
    ) as server:
        seen = httpx.get(f"{server.url}/health").json()
        url = server.url
    assert seen["flag"] == "on"
    args = seen["args"]
    assert args[args.index("--event-key") + 1] == server.event_key
    assert args[args.index("--signing-key") + 1] == server.signing_key
    assert len(server.signing_key) == 64  # hex, as `inngest start` requires
    assert "<signing key>" in server.command and server.signing_key not in server.command
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{url}/health", timeout=1)  # stopped


def test_a_server_that_exits_is_a_setup_error(tmp_path: Path) -> None:
    with (
        pytest.raises(SetupError, match="exited with code 3"),
        self_hosted_server(["/bin/sh", "-c", "exit 3", "x"], tmp_path),
    ):
        pass
