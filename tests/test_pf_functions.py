"""PF function logic under the SDK's mocked executor (no server, no timing)."""

from __future__ import annotations

import asyncio
from types import ModuleType

import inngest
import pytest
from inngest.experimental import mocked

import serve
from conftest import ROOT


@pytest.fixture(scope="module")
def pf() -> ModuleType:
    return serve.load_script(ROOT / "07_pf_performance.py")


@pytest.fixture
def client() -> mocked.Inngest:
    return mocked.Inngest(app_id="test", is_production=False)


def event(name: str, **data: object) -> inngest.Event:
    return inngest.Event(name=name, data={"tag": "t", **data})


def test_checksum_chain_matches_the_in_process_computation(pf, client) -> None:
    result = mocked.trigger(
        pf.checksum_chain, event("pf01/checksum.requested", steps=5, block_kib=4), client
    )
    expected, durations = asyncio.run(pf._in_process_chain(5, 4))
    assert result.status is mocked.Status.COMPLETED
    assert result.output == expected and len(expected) == 64
    assert len(durations) == 5 and all(d >= 0 for d in durations)


def test_checksum_chain_steps_depend_on_each_other(pf) -> None:
    first = asyncio.run(pf.checksum_block("seed", 0, 4))
    assert asyncio.run(pf.checksum_block(first, 1, 4)) != asyncio.run(
        pf.checksum_block("other", 1, 4)
    )


def test_acknowledge_and_import_order(pf, client) -> None:
    assert mocked.trigger(pf.acknowledge, event("pf01/ping.sent"), client).output == "ack"
    imported = mocked.trigger(pf.import_order, event("pf02/order.imported", order_id=7), client)
    assert imported.output == 7


def test_resize_images_runs_one_parallel_step_per_image(pf, client) -> None:
    result = mocked.trigger(pf.resize_images, event("pf02/images.uploaded", images=6), client)
    assert result.status is mocked.Status.COMPLETED and result.output == 6


def test_payload_functions_report_what_arrived(pf, client) -> None:
    stored = mocked.trigger(
        pf.store_attachment, event("pf03/attachment.received", attachment="a" * 1000), client
    )
    assert stored.output == 1000
    report = mocked.trigger(pf.render_report, event("pf03/report.requested", characters=5), client)
    assert report.output == 5
