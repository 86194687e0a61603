"""OP function logic under the SDK's mocked executor (inngest.experimental.mocked), and the
signed requests OP-01 forges, checked against the SDK's own signature verification.

No server is involved: steps are memoized in memory. These tests pin down what each function
does on its own, so that what a real server adds (or loses across a restart) stands out.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import ModuleType

import httpx
import inngest
import pytest
from inngest._internal import net, server_lib
from inngest.experimental import mocked

import serve
from conftest import ROOT
from harness.probing.ledger import effect_key, side_effects


@pytest.fixture(scope="module")
def op() -> ModuleType:
    return serve.load_script(ROOT / "08_op_operations.py")


@pytest.fixture
def client() -> mocked.Inngest:
    return mocked.Inngest(
        app_id="test", is_production=False, serializer=inngest.PydanticSerializer()
    )


def event(name: str, **data: object) -> inngest.Event:
    return inngest.Event(name=name, data={"tag": "t", **data})


def values(name: str) -> list[object]:
    return side_effects.values(effect_key("t", name))


@pytest.mark.parametrize("fn_name", ["provision_account", "provision_account_over_connect"])
def test_provisioning_is_the_same_workflow_both_ways(op, client, ledger: Path, fn_name) -> None:
    result = mocked.trigger(getattr(op, fn_name), event("op01/x", account_id="a1"), client)
    assert result.status is mocked.Status.COMPLETED
    assert result.output == {"account": "acct-a1", "welcome": "welcome-a1"}
    assert side_effects.count(effect_key("t", "create-account")) == 1


def test_the_connect_function_is_not_served_over_http(op) -> None:
    served = {fn.get_id() for fn in op.suite.functions()}
    assert op.provision_account.get_id() in served
    assert op.provision_account_over_connect.get_id() not in served


def test_issue_invoice_and_approval(op, client, ledger: Path) -> None:
    invoice = mocked.trigger(op.issue_invoice, event("op02/x", invoice_id="i1"), client)
    assert invoice.output == "invoice-i1"
    approval = mocked.trigger(op.await_approval, event("op02/y"), client)
    assert approval.status is mocked.Status.COMPLETED and approval.output == "approved"


@pytest.mark.parametrize("wait_s", [0, 3])
def test_nightly_report_collects_once_with_or_without_the_sleep(op, client, ledger, wait_s) -> None:
    result = mocked.trigger(op.nightly_report, event("op03/x", batch_wait_s=wait_s), client)
    assert result.output == {"rows": "rows-collected", "published": "report-published"}
    assert side_effects.count(effect_key("t", "collect")) == 1


def test_thumbnail_records_its_image(op, client, ledger: Path) -> None:
    result = mocked.trigger(op.make_thumbnail, event("op04/x", image_id=7), client)
    assert result.output == "thumb-7" and values("resize") == [7]


def test_sync_and_render_record_when_they_held_their_slot(op, client, ledger: Path) -> None:
    mocked.trigger(op.sync_customer, event("op04/y", customer_id="c1"), client)
    ((customer, started, ended),) = values("crm-write")
    assert customer == "c1" and ended - started >= op.SYNC_S * 0.9
    mocked.trigger(op.render_report_per_tenant, event("op07/x", tenant_id="quiet"), client)
    ((tenant, started, ended),) = values("render")
    assert tenant == "quiet" and ended - started >= op.RENDER_S * 0.9


def test_concurrency_is_keyed_per_tenant_only_where_meant(op) -> None:
    shared = op.render_report_shared.get_config("http://x").main.concurrency
    keyed = op.render_report_per_tenant.get_config("http://x").main.concurrency
    assert shared[0].key is None and shared[0].limit == 1
    assert keyed[0].key == "event.data.tenant_id" and keyed[0].limit == 1


def test_max_overlap(op) -> None:
    assert op._max_overlap([]) == 0
    assert op._max_overlap([(0, 1), (1, 2), (2, 3)]) == 1  # back to back is not overlapping
    assert op._max_overlap([(0, 2), (1, 3), (1.5, 4)]) == 3


# --- the signatures OP-01 forges are the ones the SDK verifies -----------------------------------
KEY = "ab" * 32


def verify(body: bytes, signature: str | None) -> object:
    headers = {server_lib.HeaderKey.SIGNATURE.value: signature} if signature else {}
    return net.validate_request_sig(
        body=body, headers=headers, mode=server_lib.ServerKind.CLOUD,
        signing_key=KEY, signing_key_fallback=None,
    )  # fmt: skip


def test_forged_signature_matches_the_sdks_algorithm(op) -> None:
    _, body = op._execution_request(op.provision_account)
    now = int(time.time())
    assert verify(body, op._signature(body, KEY, now)) == KEY
    assert isinstance(verify(body, op._signature(body, "cd" * 32, now)), Exception)
    assert isinstance(verify(body, None), Exception)


def test_the_sdk_does_not_check_the_timestamp(op) -> None:
    # Why OP-01's replay check fails: a day-old signature still verifies.
    _, body = op._execution_request(op.provision_account)
    assert verify(body, op._signature(body, KEY, int(time.time()) - 86_400)) == KEY


def test_the_forged_request_is_a_valid_execution_request(op) -> None:
    query, body = op._execution_request(op.provision_account)
    parsed = server_lib.ServerRequest.from_raw(body)
    assert not isinstance(parsed, Exception)
    assert query == f"?fnId={op.provision_account.get_id()}&stepId=step"
    assert json.loads(body)["ctx"]["disable_immediate_execution"] is True


def test_production_endpoint_rejects_unsigned_and_plans_signed(op, ledger: Path) -> None:
    query, body = op._execution_request(op.provision_account)
    with op._production_endpoint(op.provision_account, KEY) as url:
        unsigned = httpx.post(url + query, content=body, timeout=10)
        signed = httpx.post(
            url + query,
            content=body,
            headers={"X-Inngest-Signature": op._signature(body, KEY, int(time.time()))},
            timeout=10,
        )
    assert unsigned.status_code == 401
    assert signed.status_code == 206  # the first step planned, not run
    assert side_effects.count(effect_key("t", "create-account")) == 0
