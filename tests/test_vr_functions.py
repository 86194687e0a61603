"""VR function logic under the SDK's mocked executor (inngest.experimental.mocked).

Each version of a function is tested on its own here; what happens when one replaces the other
under a run in flight is what 05_vr_versioning.py measures.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import inngest
import pytest
from inngest.experimental import mocked
from pydantic import ValidationError

import serve
from conftest import ROOT
from harness.probing.ledger import effect_key, side_effects


@pytest.fixture(scope="module")
def vr() -> ModuleType:
    return serve.load_script(ROOT / "05_vr_versioning.py")


@pytest.fixture
def client() -> mocked.Inngest:
    return mocked.Inngest(
        app_id="test", is_production=False, serializer=inngest.PydanticSerializer()
    )


def event(name: str, **data: object) -> inngest.Event:
    return inngest.Event(name=name, data={"tag": "t", **data}, ts=1_000)


def executions(name: str) -> int:
    return side_effects.count(effect_key("t", name))


def test_renewal_versions(vr, client, ledger: Path) -> None:
    renewal = event("vr01/renewal.due", subscription_id="s1", grace_s=1)
    assert vr.renew_subscription_v1.id == vr.renew_subscription_v2.id  # an in-place deploy
    v1 = mocked.trigger(vr.renew_subscription_v1, renewal, client)
    assert v1.output == {"charge": "charged by v1", "confirmation": "confirmed by v1"}
    v2 = mocked.trigger(vr.renew_subscription_v2, renewal, client)
    assert v2.output == {"charge": "charged by v2", "confirmation": "confirmed by v2"}
    assert executions("v2:confirm:s1") == 2  # its first attempt fails; v2 allows retries
    assert (vr.renew_subscription_v1._opts.retries, vr.renew_subscription_v2._opts.retries) == (
        0,
        2,
    )


def test_invoice_versions_split_events_at_the_cutover(vr, client) -> None:
    v1, v2 = vr.invoice_v1(5_000), vr.invoice_v2(5_000)
    assert v1.id != v2.id and v2.id.endswith("-v2")
    assert v1._triggers[0].expression == "event.ts < 5000"
    assert v2._triggers[0].expression == "event.ts >= 5000"
    assert vr.invoice_v1()._triggers[0].expression is None  # as first shipped
    request = event("vr01/invoice.requested", invoice_id="i1", review_s=1)
    assert mocked.trigger(v1, request, client).output["issued"] == "issued by v1"
    assert mocked.trigger(v2, request, client).output == {"issued": "issued by v2"}


@pytest.mark.parametrize("fn_name", ["onboard_v1", "onboard_v2_compatible", "onboard_v2_breaking"])
def test_onboarding_versions_complete(vr, client, ledger: Path, fn_name: str) -> None:
    result = mocked.trigger(
        getattr(vr, fn_name), event("vr02/customer.signed_up", customer_id="c1", trial_s=1), client
    )
    assert result.status is mocked.Status.COMPLETED
    assert result.output["account_id"] == "acct-c1"


def test_breaking_onboarding_renames_the_workspace_step(vr, client, ledger: Path) -> None:
    mocked.trigger(
        vr.onboard_v2_breaking,
        event("vr02/customer.signed_up", customer_id="c1", trial_s=1),
        client,
    )
    assert (executions("provision-workspace"), executions("setup-workspace")) == (0, 1)


def test_upload_processors_report_their_version(vr, client, ledger: Path) -> None:
    upload = event("vr03/file.uploaded", file_id="f1")
    v1 = mocked.trigger(vr.upload_processor_v1(5_000), upload, client)
    v2 = mocked.trigger(vr.upload_processor_v2(5_000), upload, client)
    assert v1.output == {"version": 1, "verdict": "clean", "event_ts": 1_000}
    assert v2.output == {"version": 2, "verdict": "clean", "event_ts": 1_000}
    assert side_effects.values(effect_key("t", "processed:f1")) == [1, 2]


OLD = {"tag": "t", "parcel_id": "p", "weight_kg": 2.5, "coupon": "SPRING"}


def test_v2_parcel_model_reads_old_payloads(vr) -> None:
    parcel = vr.ParcelV2.model_validate(OLD)
    assert (parcel.weight, parcel.currency) == (2.5, "EUR")
    assert not hasattr(parcel, "coupon")
    with pytest.raises(ValidationError, match="weight"):
        vr.ParcelV2Strict.model_validate(OLD)


def test_parcel_functions(vr, client, ledger: Path) -> None:
    booked = inngest.Event(name="vr04/parcel.booked", data=OLD)
    v1 = mocked.trigger(vr.ship_parcel_v1, booked, client)
    v2 = mocked.trigger(vr.ship_parcel_v2, booked, client)
    assert v1.output == {"price": vr._price(2.5), "label": "p 2.5kg"}
    assert v2.output == {**v1.output, "currency": "EUR"}


def test_validation_error_is_retried_unless_non_retriable(vr, client, ledger: Path) -> None:
    booked = inngest.Event(name="vr04/parcel.strict", data=OLD)
    strict = mocked.trigger(vr.ship_parcel_strict, booked, client)
    guarded = mocked.trigger(vr.ship_parcel_guarded, booked, client)
    assert strict.status is guarded.status is mocked.Status.FAILED
    assert executions("strict-attempt") == 5  # retried (4 retries by default)
    assert isinstance(guarded.error, inngest.NonRetriableError)
    assert "weight" in str(guarded.error)
