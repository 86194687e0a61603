"""harness.probing.browser, .webhook and .prometheus without a dev server."""

from __future__ import annotations

import math
import stat
import zlib
from pathlib import Path

import httpx
import pytest

from harness.probing import browser
from harness.probing.browser import BrowserError, Chromium, find_chromium, png_size
from harness.probing.prometheus import parse
from harness.probing.webhook import WebhookReceiver
from harness.servers import ui_queries

# --- Prometheus text format ---------------------------------------------------------------------
EXPOSITION = """
# HELP inngest_queue_depth Total depth of all system queues
# TYPE inngest_queue_depth gauge
inngest_queue_depth 3
# TYPE inngest_function_run_ended_total counter
inngest_function_run_ended_total{fn="app-a",status="Completed"} 5
inngest_function_run_ended_total{fn="app-a",status="Failed"} 2
inngest_function_run_ended_total{fn="app-b",status="Completed",note="say \\"hi\\""} 1 1700000000
odd_metric NaN
"""


def test_prometheus_text_is_parsed_into_samples_and_types() -> None:
    exposition = parse(EXPOSITION)
    assert exposition.types == {
        "inngest_queue_depth": "gauge",
        "inngest_function_run_ended_total": "counter",
    }
    assert exposition.names() == {
        "inngest_queue_depth", "inngest_function_run_ended_total", "odd_metric"
    }  # fmt: skip
    assert exposition.total("inngest_queue_depth") == 3
    assert exposition.total("inngest_function_run_ended_total") == 8
    assert exposition.total("inngest_function_run_ended_total", fn="app-a") == 7
    assert exposition.total("inngest_function_run_ended_total", status="Completed") == 6
    assert exposition.total("missing") == 0
    quoted = next(s for s in exposition.samples if s.labels.get("fn") == "app-b")
    assert quoted.labels["note"] == 'say "hi"'
    assert math.isnan(exposition.total("odd_metric"))


def test_prometheus_parse_rejects_other_text() -> None:
    with pytest.raises(ValueError, match="line 1"):
        parse('{"error": "not implemented"}')


# --- webhook receiver ---------------------------------------------------------------------------
def test_webhook_receiver_records_json_and_text() -> None:
    with WebhookReceiver() as hook:
        assert httpx.post(hook.url, json={"run_id": "R1"}).status_code == 200
        httpx.post(hook.url, content=b"plain words")
        deliveries = hook.wait(2, timeout=5)
    assert [d.body for d in deliveries] == [{"run_id": "R1"}, "plain words"]
    assert deliveries[0].path == "/alerts"
    assert deliveries[0].headers["Content-Type"] == "application/json"


def test_webhook_wait_is_bounded() -> None:
    with WebhookReceiver() as hook:
        assert hook.wait(1, timeout=0.1) == []


# --- headless Chromium --------------------------------------------------------------------------
def test_chromium_command_isolates_the_profile_and_stays_offline(tmp_path: Path) -> None:
    command = Chromium("/usr/bin/chromium").command("http://x/run", tmp_path, "--dump-dom")
    assert command[0] == "/usr/bin/chromium" and command[-1] == "http://x/run"
    for flag in ("--headless", "--disable-background-networking", "--disable-component-update"):
        assert flag in command
    assert f"--user-data-dir={tmp_path}" in command
    assert "--virtual-time-budget=8000" in command and "--dump-dom" in command


def fake_browser(tmp_path: Path, script: str) -> str:
    path = tmp_path / "fake-chromium"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_dom_returns_what_chromium_printed(tmp_path: Path) -> None:
    binary = fake_browser(tmp_path, 'echo "<html>run page</html>"\n')
    assert "run page" in Chromium(binary).dom("http://x")


def test_a_failing_or_hanging_chromium_is_a_clear_error(tmp_path: Path) -> None:
    failing = fake_browser(tmp_path, "echo boom >&2; exit 3\n")
    with pytest.raises(BrowserError, match="code 3: boom"):
        Chromium(failing).dom("http://x")
    hanging = fake_browser(tmp_path, "sleep 30\n")
    with pytest.raises(BrowserError, match="did not finish"):
        Chromium(hanging, timeout_s=0.5).dom("http://x")
    silent = fake_browser(tmp_path, "exit 0\n")
    with pytest.raises(BrowserError, match="no screenshot"):
        Chromium(silent).screenshot("http://x", tmp_path / "shot.png")


def test_find_chromium_honours_the_variable(tmp_path: Path, monkeypatch) -> None:
    binary = fake_browser(tmp_path, "exit 0\n")
    monkeypatch.setenv(browser.BROWSER_ENV, binary)
    assert find_chromium() == binary
    monkeypatch.setenv(browser.BROWSER_ENV, str(tmp_path / "missing"))
    assert find_chromium() is None
    monkeypatch.delenv(browser.BROWSER_ENV)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert find_chromium() is None


def png(width: int, height: int) -> bytes:
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + len(ihdr).to_bytes(4, "big")
        + chunk
        + zlib.crc32(chunk).to_bytes(4, "big")
    )


def test_png_size_reads_the_header(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(png(1400, 1000))
    assert png_size(path) == (1400, 1000)
    path.write_bytes(b"GIF89a....")
    with pytest.raises(ValueError, match="not a PNG"):
        png_size(path)


def _span(name: str, step: str | None, attempt: int, start: str, end: str, status: str) -> dict:
    return {"name": name, "stepID": step, "attempts": attempt, "startedAt": start,
            "endedAt": end, "status": status, "outputID": f"{name}-{attempt}"}  # fmt: skip


def test_rollup_steps_groups_a_preview_trace_as_the_run_page_does() -> None:
    # What dev server 1.43's preview trace lists: each step twice, a retried step once as a
    # group with its attempts and once per attempt, then the run's finalization.
    grouped = _span("convert", "s2", 2, "t1", "t6", "COMPLETED")
    grouped["childrenSpans"] = [_span("Attempt 0", "s2", 0, "t1", "t2", "FAILED")]
    children = [
        _span("fetch", "s1", 0, "t0", "t1", "COMPLETED"),
        _span("fetch", "s1", 0, "t0", "t1", "COMPLETED"),
        grouped,
        _span("convert", "s2", 0, "t1", "t2", "FAILED"),
        _span("convert", "s2", 1, "t3", "t4", "FAILED"),
        _span("convert", "s2", 2, "t5", "t6", "COMPLETED"),
        _span("Finalization", None, 0, "t7", "t8", "COMPLETED"),
    ]
    rows = ui_queries.rollup_steps({"trace": {"childrenSpans": children}})
    assert [row["name"] for row in rows] == ["fetch", "convert"]
    convert = rows[1]
    assert (convert["startedAt"], convert["endedAt"], convert["status"]) == (
        "t1",
        "t6",
        "COMPLETED",
    )
    assert [a["status"] for a in convert["childrenSpans"]] == ["FAILED", "FAILED", "COMPLETED"]
    assert convert["outputID"] == "convert-2"


def test_rollup_steps_passes_a_step_with_one_attempt_through() -> None:
    step = _span("store", "s3", 0, "t0", "t1", "COMPLETED")
    step["childrenSpans"] = [_span("Attempt 0", "s3", 0, "t0", "t1", "COMPLETED")]
    assert ui_queries.rollup_steps({"trace": {"childrenSpans": [step]}}) == [step]
    assert ui_queries.rollup_steps({}) == []


@pytest.mark.parametrize(
    ("status", "body", "preview"),
    [
        (200, '{"features": {"traces-preview": false}}', False),  # the dev server, flag off
        (200, '{"features": {}}', True),
        (404, "404 page not found\n", True),  # inngest start: the UI falls back to the default
        (200, "<html>", True),
    ],
)
def test_the_ui_feature_flags_fall_back_to_their_defaults_as_the_ui_does(
    monkeypatch: pytest.MonkeyPatch, status: int, body: str, preview: bool
) -> None:
    request = httpx.Request("GET", "http://server.test/dev")
    monkeypatch.setattr(
        ui_queries.httpx,
        "get",
        lambda url, timeout: httpx.Response(status, text=body, request=request),
    )
    assert ui_queries.traces_preview(ui_queries.feature_info("http://server.test")) is preview
