"""DevServerOptions.env: extra environment variables reach an owned dev server's process."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from harness.servers.devserver import DevServer, DevServerOptions, _Ports

# Stands in for the dev server binary: records one variable of its environment, answers GET /dev.
FAKE_BINARY = textwrap.dedent("""
    import json, os, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer
    port = int(sys.argv[sys.argv.index("--port") + 1])
    with open("seen-env.txt", "a") as seen:
        seen.write(os.environ.get("SUITE_TEST_VAR", "<unset>") + "\\n")
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"version": "fake", "startOpts": {}}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *args):
            pass
    HTTPServer(("127.0.0.1", port), Handler).serve_forever()
""")


def test_options_env_is_passed_to_the_process_and_recorded(tmp_path: Path) -> None:
    binary = tmp_path / "fake_inngest.py"
    binary.write_text(FAKE_BINARY)
    ports = _Ports.allocate()
    server = DevServer(
        f"http://127.0.0.1:{ports.http}", "unknown", "test",
        launcher=[sys.executable, str(binary)], serve_url="http://127.0.0.1:1/api/inngest",
        workdir=tmp_path / "work", ports=ports,
    )  # fmt: skip
    try:
        server.start(timeout=20)
        server.restart(env=(("SUITE_TEST_VAR", "on"),))
        assert server.describe()["options"]["env"] == (("SUITE_TEST_VAR", "on"),)
        server.restart(env=())
    finally:
        server.stop()
    seen = (tmp_path / "work" / "seen-env.txt").read_text().split()
    assert seen == ["<unset>", "on", "<unset>"]
    assert DevServerOptions(env=(("A", "1"),)).flags(tmp_path) == ["--retry-interval", "1"]
