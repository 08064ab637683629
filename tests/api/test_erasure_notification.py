"""Notification's part of an erasure (UserErased): contact, preferences (phone), the user's
own notifications and the addresses sends went to are gone; others' notifications no longer
name them; a late event cannot bring any of it back; the event is applied once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from tests.api.test_notification import deliver, inbox, new_phone, payment, registered
from tests.support import envelope


@pytest.fixture(autouse=True)
def _fresh_channel_clients(api_env):
    from functions.notification import channels

    channels.reset_clients()
    yield


def erased(user_id: str, event_id: str | None = None) -> dict:
    return envelope(
        "finflow.auth",
        "UserErased",
        {"user_id": user_id, "erased_at": datetime.now(UTC).isoformat()},
        event_id=event_id,
    )


def everything_about(user_id: str, *personal: str) -> list[str]:
    """Every stored record that is the user's or mentions one of `personal` (email, name, phone)."""
    from functions.notification import store

    found = []
    for kind in ("contacts", "preferences", "notifications", "deliveries"):
        for record in store.all_records(kind):
            text = str(record)
            if any(p in text for p in personal):
                found.append(f"{kind}: {text}")
    return found


def test_an_erased_users_personal_data_is_gone_and_others_no_longer_see_their_name(gateway, customer):
    zoe, max_ = customer(name="Zoe Zebra"), customer(name="Max")
    phone = new_phone()
    assert (
        gateway.put(
            "/api/notifications/preferences",
            headers=zoe.headers,
            json={"email": True, "sms": True, "in_app": True, "phone": phone},
        ).status_code
        == 200
    )
    assert deliver(registered(gateway, zoe), registered(gateway, max_)) == {"batchItemFailures": []}
    assert deliver(payment("transfer", "5.00", 500, "USD", frm=zoe, to=max_)) == {"batchItemFailures": []}
    assert any("Zoe Zebra" in n["body"] for n in inbox(gateway, max_))
    assert everything_about(zoe.id, zoe.email, "Zoe Zebra", phone)

    assert deliver(erased(zoe.id)) == {"batchItemFailures": []}

    assert everything_about(zoe.id, zoe.email, "Zoe Zebra", phone) == []
    received = [n for n in inbox(gateway, max_) if n["type"] == "payment_received"]
    assert [n["body"] for n in received] == ["You received $5.00 from a former FinFlow user."]
    assert inbox(gateway, zoe) == []
    prefs = gateway.get("/api/notifications/preferences", headers=zoe.headers).json()
    assert prefs.get("phone") is None


def test_late_events_bring_nothing_back_and_the_erasure_applies_once(gateway, customer):
    from functions.notification import store

    lea = customer(name="Lea Late")
    event = erased(lea.id)
    # the erasure overtakes the registration (events arrive in any order), and comes twice
    assert deliver(event, event) == {"batchItemFailures": []}
    assert deliver(registered(gateway, lea)) == {"batchItemFailures": []}
    assert deliver(
        envelope(
            "finflow.auth",
            "UserKycStatusChanged",
            {
                "user_id": lea.id,
                "kyc_status": "verified",
                "changed_at": datetime.now(UTC).isoformat(),
                "email": lea.email,
                "name": "Lea Late",
            },
        )
    ) == {"batchItemFailures": []}
    assert everything_about(lea.id, lea.email, "Lea Late") == []
    assert inbox(gateway, lea) == []
    assert [e["event_id"] for e in store.erasures(lea.id)] == [event["detail"]["event_id"]]


def test_a_malformed_erasure_is_left_for_retry_not_half_applied(gateway, customer):
    kim = customer(name="Kim Kept")
    assert deliver(registered(gateway, kim)) == {"batchItemFailures": []}
    bad = envelope("finflow.auth", "UserErased", {"user_id": kim.id})  # no erased_at
    with pytest.raises(BatchProcessingError):  # every record failed: Lambda retries the batch
        deliver(bad)
    assert everything_about(kim.id, "Kim Kept")  # untouched
