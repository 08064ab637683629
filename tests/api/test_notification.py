"""Notification (D): consumers invoked with SQS batches as Lambda gets them, routes through
the in-process gateway, email and SMS read back from moto (SES, SNS), in-app from the API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from devserver.lambda_runtime import LambdaContext
from tests.support import envelope, service_headers, sqs_batch


@pytest.fixture(autouse=True)
def _fresh_channel_clients(api_env):
    from functions.notification import channels

    channels.reset_clients()  # made on api_env's endpoint, whatever ran before
    yield


# --- helpers -------------------------------------------------------------------------------


def deliver(*envelopes: dict) -> dict:
    from functions.notification.events import handler

    return handler(sqs_batch(*envelopes), LambdaContext("notification-events"))


def registered(gateway, person, **overrides) -> dict:
    """Auth's UserRegistered for `person`, with the data Auth itself carries (GET /me)."""
    me = gateway.get("/api/auth/me", headers=person.headers).json()
    return envelope("finflow.auth", "UserRegistered", {**me, **overrides})


def payment(kind: str, amount: str, amount_minor: int, currency: str, frm=None, to=None) -> dict:
    return envelope(
        "finflow.payment",
        "PaymentCompleted",
        {
            "payment_id": str(uuid.uuid4()),
            "kind": kind,
            "from_wallet_id": str(uuid.uuid4()) if frm else None,
            "to_wallet_id": str(uuid.uuid4()) if to else None,
            "from_user_id": frm.id if frm else None,
            "to_user_id": to.id if to else None,
            "amount": amount,
            "amount_minor": amount_minor,
            "currency": currency,
            "description": "rent",
            "completed_at": datetime.now(UTC).isoformat(),
        },
    )


def inbox(gateway, person, **params) -> list[dict]:
    r = gateway.get("/api/notifications", headers=person.headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def moto_data(api_env) -> dict:
    return httpx.get(f"{api_env['AWS_ENDPOINT_URL']}/moto-api/data.json", timeout=30).json()


def emails_to(api_env, address: str) -> list[dict]:
    """Every email moto's SES accepted for `address`: {subject, body, source, destinations}."""
    return [m for m in moto_data(api_env)["ses"]["Message"] if address in m["destinations"].get("ToAddresses", [])]


def sms_to(api_env, phone: str) -> list[dict]:
    return [m for m in moto_data(api_env)["sns"]["SMS"] if m["phone_number"] == phone]


def new_phone() -> str:
    return f"+1415{uuid.uuid4().int % 10**7:07d}"


@pytest.fixture
def alice_and_bob(gateway, customer):
    alice, bob = customer(name="Alice"), customer(name="Bob")
    assert deliver(registered(gateway, alice), registered(gateway, bob)) == {"batchItemFailures": []}
    return alice, bob


# --- UserRegistered: contact, welcome and KYC reminder -----------------------------------------


def test_user_registered_gets_welcome_and_kyc_reminder_in_app_and_by_email(gateway, customer, api_env):
    person = customer(name="Dana")
    assert deliver(registered(gateway, person)) == {"batchItemFailures": []}

    items = inbox(gateway, person)
    assert sorted(n["type"] for n in items) == ["kyc_reminder", "welcome"]
    welcome = next(n for n in items if n["type"] == "welcome")
    assert welcome["title"] == "Welcome to FinFlow" and "Dana" in welcome["body"]
    assert welcome["read"] is False and uuid.UUID(welcome["id"]) and welcome["created_at"]
    sent = emails_to(api_env, person.email)
    assert sorted(m["subject"] for m in sent) == ["Verify your identity", "Welcome to FinFlow"]
    assert {m["source"] for m in sent} == {"notifications@finflow.dev"}


def test_a_late_user_registered_sends_no_kyc_reminder_to_a_verified_user(gateway, customer):
    person = customer()
    verified = envelope(
        "finflow.auth",
        "UserKycStatusChanged",
        {
            "user_id": person.id,
            "kyc_status": "verified",
            "previous_status": "pending",
            "changed_at": datetime.now(UTC).isoformat(),
            "email": person.email,
            "name": "Test User",
        },
    )
    deliver(verified)
    deliver(registered(gateway, person))  # consumed after the newer KYC change
    assert sorted(n["type"] for n in inbox(gateway, person)) == ["kyc_verified", "welcome"]


# --- PaymentCompleted: both parties, the amount in its own currency ----------------------------


@pytest.mark.parametrize(
    "amount, minor, currency, shown, wrong",
    [
        ("100.00", 10000, "USD", "$100.00", None),
        ("12.50", 1250, "EUR", "€12.50", "$12.50"),
        ("500", 500, "JPY", "¥500", "$500.00"),
    ],
)
def test_payment_completed_tells_both_parties_in_the_payment_currency(
    gateway, alice_and_bob, api_env, amount, minor, currency, shown, wrong
):
    alice, bob = alice_and_bob
    assert deliver(payment("transfer", amount, minor, currency, frm=alice, to=bob)) == {"batchItemFailures": []}

    [sent] = inbox(gateway, alice, limit=1)
    assert sent["type"] == "payment_sent"
    assert sent["body"] == f"You sent {shown} to Bob."
    assert sent["data"] | {"amount": amount, "currency": currency, "direction": "sent"} == sent["data"]
    [received] = inbox(gateway, bob, limit=1)
    assert received["type"] == "payment_received"
    assert received["body"] == f"You received {shown} from Alice."
    if wrong:
        assert wrong not in sent["body"] + received["body"]

    [mail] = [m for m in emails_to(api_env, bob.email) if m["subject"] == "Payment received"]
    assert mail["destinations"]["ToAddresses"] == [bob.email]
    assert shown in mail["body"]
    [mail] = [m for m in emails_to(api_env, alice.email) if m["subject"] == "Payment sent"]
    assert shown in mail["body"]


def test_deposit_and_withdrawal_notify_the_owner(gateway, alice_and_bob):
    alice, _ = alice_and_bob
    deliver(payment("deposit", "250.00", 25000, "GBP", to=alice), payment("withdrawal", "7", 7, "JPY", frm=alice))
    bodies = {n["type"]: n["body"] for n in inbox(gateway, alice)}
    assert bodies["deposit_completed"] == "You deposited £250.00 into your GBP wallet."
    assert bodies["withdrawal_completed"] == "You withdrew ¥7 from your JPY wallet."


def test_contact_unknown_to_notification_is_asked_of_auth_once(gateway, customer, api_env):
    # no UserRegistered reached Notification for these two: their addresses come from Auth's API
    carol, dave = customer(name="Carol"), customer(name="Dave")
    deliver(payment("transfer", "3.00", 300, "USD", frm=carol, to=dave))
    assert [m["body"].splitlines()[0] for m in emails_to(api_env, dave.email)] == ["You received $3.00 from Carol."]
    assert inbox(gateway, carol)[0]["body"] == "You sent $3.00 to Dave."


# --- at most once per (event, user, channel) ---------------------------------------------------


def test_a_redelivered_event_sends_nothing_twice(gateway, alice_and_bob, api_env):
    alice, bob = alice_and_bob
    event = payment("transfer", "42.00", 4200, "USD", frm=alice, to=bob)
    before = len(emails_to(api_env, bob.email)), len(emails_to(api_env, alice.email))

    assert deliver(event, event) == {"batchItemFailures": []}  # twice in one batch
    assert deliver(event) == {"batchItemFailures": []}  # and again later

    assert [n["body"] for n in inbox(gateway, bob)].count("You received $42.00 from Alice.") == 1
    assert [n["body"] for n in inbox(gateway, alice)].count("You sent $42.00 to Bob.") == 1
    assert (len(emails_to(api_env, bob.email)), len(emails_to(api_env, alice.email))) == (before[0] + 1, before[1] + 1)


def test_a_failed_email_keeps_the_in_app_notification_and_is_retried_on_redelivery(
    gateway, alice_and_bob, api_env, monkeypatch
):
    from functions.notification import channels, store

    alice, bob = alice_and_bob
    real_send = channels.send_email
    calls = []

    def flaky(to, subject, text):
        calls.append(to)
        if len(calls) == 1:
            raise channels.SendError("failed", "Throttling: Maximum sending rate exceeded")
        return real_send(to, subject, text)

    monkeypatch.setattr(channels, "send_email", flaky)
    event = payment("deposit", "5.00", 500, "USD", to=bob)
    other = payment("deposit", "5.00", 500, "USD", to=alice)

    # only the record whose email failed is reported: SQS brings that one back
    assert deliver(event, other) == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert [n["body"] for n in inbox(gateway, bob)][0] == "You deposited $5.00 into your USD wallet."
    assert not [m for m in emails_to(api_env, bob.email) if "$5.00" in m["body"]]

    assert deliver(event) == {"batchItemFailures": []}  # the redelivery sends only the email
    assert len([m for m in emails_to(api_env, bob.email) if "$5.00" in m["body"]]) == 1
    assert [n["body"] for n in inbox(gateway, bob)].count("You deposited $5.00 into your USD wallet.") == 1
    [email] = store.deliveries(event_id=event["detail"]["event_id"], channel="email")
    assert (email["status"], email["attempts"]) == ("sent", 2)


def test_an_email_of_unknown_outcome_is_never_sent_again(gateway, alice_and_bob, api_env, monkeypatch):
    from functions.notification import channels

    _, bob = alice_and_bob
    monkeypatch.setattr(
        channels,
        "send_email",
        lambda *a: (_ for _ in ()).throw(channels.SendError("unknown", "ReadTimeoutError: read timed out")),
    )
    event = payment("deposit", "6.00", 600, "USD", to=bob)
    assert deliver(event) == {"batchItemFailures": []}  # at most once: not retried
    monkeypatch.undo()
    assert deliver(event) == {"batchItemFailures": []}
    assert not [m for m in emails_to(api_env, bob.email) if "$6.00" in m["body"]]


# --- preferences -------------------------------------------------------------------------------


def test_preferences_default_and_round_trip(gateway, customer):
    person = customer()
    r = gateway.get("/api/notifications/preferences", headers=person.headers)
    assert r.status_code == 200
    assert r.json() == {"email": True, "sms": False, "in_app": True, "phone": None}
    body = {"email": False, "sms": True, "in_app": True, "phone": "+14155550123"}
    r = gateway.put("/api/notifications/preferences", headers=person.headers, json=body)
    assert r.status_code == 200 and r.json() == body
    assert gateway.get("/api/notifications/preferences", headers=person.headers).json() == body


@pytest.mark.parametrize(
    "body, words",
    [
        ({"email": True, "sms": False, "in_app": True, "phone": "4155550123"}, "e.164"),
        ({"email": True, "sms": False, "in_app": True, "phone": "+1 415 555 0123"}, "e.164"),
        ({"email": True, "sms": False, "in_app": True, "phone": "+0123456"}, "e.164"),
        ({"email": True, "sms": False, "in_app": True, "phone": "+1234567890123456"}, "e.164"),
        ({"email": True, "sms": True, "in_app": True}, "phone"),
        ({"email": True, "sms": True, "in_app": True, "phone": None}, "phone"),
        ({"email": "yes", "sms": False, "in_app": True}, "email"),
        ({"sms": False, "in_app": True}, "email"),
    ],
)
def test_invalid_preferences_are_422_and_change_nothing(gateway, customer, body, words):
    person = customer()
    r = gateway.put("/api/notifications/preferences", headers=person.headers, json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert words in r.json()["detail"].lower()
    assert gateway.get("/api/notifications/preferences", headers=person.headers).json()["email"] is True


def test_email_off_sends_no_email_but_keeps_in_app(gateway, alice_and_bob, api_env):
    alice, _ = alice_and_bob
    r = gateway.put(
        "/api/notifications/preferences", headers=alice.headers, json={"email": False, "sms": False, "in_app": True}
    )
    assert r.status_code == 200
    before = len(emails_to(api_env, alice.email))
    deliver(payment("deposit", "9.99", 999, "USD", to=alice))
    assert inbox(gateway, alice)[0]["body"] == "You deposited $9.99 into your USD wallet."
    assert len(emails_to(api_env, alice.email)) == before


def test_sms_on_with_a_phone_publishes_through_sns(gateway, alice_and_bob, api_env):
    alice, bob = alice_and_bob
    phone = new_phone()
    r = gateway.put(
        "/api/notifications/preferences",
        headers=bob.headers,
        json={"email": True, "sms": True, "in_app": False, "phone": phone},
    )
    assert r.status_code == 200
    event = payment("transfer", "12.50", 1250, "EUR", frm=alice, to=bob)
    deliver(event, event)
    [sms] = sms_to(api_env, phone)
    assert sms["message"] == "FinFlow: You received €12.50 from Alice."
    assert {n["type"] for n in inbox(gateway, bob)} == {"welcome", "kyc_reminder"}  # in-app turned off since
    assert [m for m in emails_to(api_env, bob.email) if "€12.50" in m["body"]]


# --- reading and marking: only the owner ---------------------------------------------------------


def test_nobody_else_can_read_or_mark_a_notification(gateway, alice_and_bob):
    alice, bob = alice_and_bob
    deliver(payment("deposit", "1.00", 100, "USD", to=alice))
    mine = inbox(gateway, alice)[0]
    assert mine["id"] not in {n["id"] for n in inbox(gateway, bob)}

    r = gateway.post(f"/api/notifications/{mine['id']}/read", headers=bob.headers)
    assert r.status_code == 404 and r.json()["detail"] == "Notification not found"
    for bad in (str(uuid.uuid4()), "not-a-uuid", mine["id"].upper()):
        assert gateway.post(f"/api/notifications/{bad}/read", headers=bob.headers).status_code == 404
    assert inbox(gateway, alice)[0]["read"] is False  # Bob's attempts changed nothing

    r = gateway.post(f"/api/notifications/{mine['id']}/read", headers=alice.headers)
    assert r.status_code == 200 and r.json() == {**mine, "read": True}


def test_routes_need_a_user_token(gateway):
    assert gateway.get("/api/notifications").status_code == 401
    assert gateway.get("/api/notifications/preferences").status_code == 401
    r = gateway.get("/api/notifications", headers=service_headers("payment"))
    assert r.status_code == 403


def test_unread_filter_and_mark_read(gateway, alice_and_bob):
    alice, _ = alice_and_bob
    everything = inbox(gateway, alice)
    assert {n["type"] for n in everything} == {"welcome", "kyc_reminder"}
    welcome = next(n for n in everything if n["type"] == "welcome")
    assert gateway.post(f"/api/notifications/{welcome['id']}/read", headers=alice.headers).status_code == 200
    assert gateway.post(f"/api/notifications/{welcome['id']}/read", headers=alice.headers).status_code == 200

    assert [n["type"] for n in inbox(gateway, alice, unread="true")] == ["kyc_reminder"]
    assert {n["id"]: n["read"] for n in inbox(gateway, alice)} == {n["id"]: n["type"] == "welcome" for n in everything}
    assert len(inbox(gateway, alice, unread="false")) == 2


def test_pages_are_newest_first_with_a_cursor(gateway, alice_and_bob):
    alice, _ = alice_and_bob
    for i in range(1, 4):
        deliver(payment("deposit", f"{i}.00", i * 100, "USD", to=alice))
    first = gateway.get("/api/notifications", headers=alice.headers, params={"limit": 2}).json()
    assert [n["body"] for n in first["items"]] == [
        "You deposited $3.00 into your USD wallet.",
        "You deposited $2.00 into your USD wallet.",
    ]
    rest = gateway.get(
        "/api/notifications", headers=alice.headers, params={"limit": 10, "cursor": first["next_cursor"]}
    ).json()
    assert rest["items"][0]["body"] == "You deposited $1.00 into your USD wallet."
    assert len(rest["items"]) == 3 and rest["next_cursor"] is None  # + welcome, reminder
    assert not {n["id"] for n in first["items"]} & {n["id"] for n in rest["items"]}
    for params in ({"cursor": "garbage"}, {"limit": 0}, {"limit": 101}):
        assert gateway.get("/api/notifications", headers=alice.headers, params=params).status_code == 422


# --- KYC, wallet and AML events ------------------------------------------------------------------


def kyc_changed(person, status: str, at: datetime) -> dict:
    return envelope(
        "finflow.auth",
        "UserKycStatusChanged",
        {
            "user_id": person.id,
            "kyc_status": status,
            "previous_status": "pending",
            "changed_at": at.isoformat(),
            "email": person.email,
            "name": "Test User",
        },
    )


def test_kyc_verified_and_rejected_are_told_an_older_change_is_not(gateway, customer):
    person = customer()
    now = datetime.now(UTC)
    deliver(kyc_changed(person, "rejected", now))
    deliver(kyc_changed(person, "verified", now - timedelta(minutes=5)))  # arrives late: stale
    assert [(n["type"], n["title"]) for n in inbox(gateway, person)] == [("kyc_rejected", "KYC rejected")]
    deliver(kyc_changed(person, "verified", now + timedelta(minutes=5)))
    assert [n["title"] for n in inbox(gateway, person)] == ["KYC verified", "KYC rejected"]


def test_wallet_events_tell_the_owner_with_the_reason(gateway, alice_and_bob):
    alice, _ = alice_and_bob
    wallet_id, at = str(uuid.uuid4()), datetime.now(UTC).isoformat()
    deliver(
        envelope(
            "finflow.wallet",
            "WalletCreated",
            {"wallet_id": wallet_id, "user_id": alice.id, "currency": "EUR", "status": "active", "created_at": at},
        )
    )
    deliver(
        envelope(
            "finflow.wallet",
            "WalletStatusChanged",
            {
                "wallet_id": wallet_id,
                "user_id": alice.id,
                "currency": "EUR",
                "status": "frozen",
                "previous_status": "active",
                "actor_id": str(uuid.uuid4()),
                "actor_role": "compliance",
                "reason": "suspicious activity",
                "changed_at": at,
            },
        )
    )
    frozen, created = inbox(gateway, alice, limit=2)
    assert created["title"] == "Your EUR wallet is ready"
    assert frozen["type"] == "wallet_frozen"
    assert frozen["body"] == "Your EUR wallet was frozen by our compliance team. Reason: suspicious activity"


def test_aml_alerts_go_to_every_known_compliance_officer(gateway, customer, alice_and_bob):
    officer, alice = customer(name="Olga"), alice_and_bob[0]
    deliver(registered(gateway, officer))
    deliver(
        envelope(
            "finflow.auth",
            "UserRolesChanged",
            {
                "user_id": officer.id,
                "roles": ["compliance", "customer"],
                "previous_roles": ["customer"],
                "changed_by": str(uuid.uuid4()),
            },
            occurred_at=datetime.now(UTC).isoformat(),
        )
    )
    wallet_id, payment_id = str(uuid.uuid4()), str(uuid.uuid4())
    deliver(
        envelope(
            "finflow.kyc",
            "AmlAlertRaised",
            {
                "alert_id": str(uuid.uuid4()),
                "rule": "large_payment",
                "severity": "high",
                "payment_id": payment_id,
                "wallet_id": wallet_id,
                "user_id": alice.id,
                "currency": "USD",
                "amount": "15000.00",
                "amount_minor": 1500000,
                "reason": "A single payment of 15,000.00 USD is over the 10,000.00 limit.",
                "evidence": {"payment_ids": [payment_id]},
                "freezes_wallet": True,
                "created_at": datetime.now(UTC).isoformat(),
                "a_future_field": {"x": 1},
            },
        )
    )
    [alert] = [n for n in inbox(gateway, officer) if n["type"] == "aml_alert"]
    assert alert["title"] == "AML alert: large_payment (high)"
    assert "$15,000.00" in alert["body"] and payment_id in alert["body"] and "frozen" in alert["body"]
    assert (alert["data"]["user_id"], alert["data"]["wallet_id"]) == (alice.id, wallet_id)
    assert not [n for n in inbox(gateway, alice) if n["type"] == "aml_alert"]


# --- the scheduled KYC reminder --------------------------------------------------------------------


def test_kyc_reminder_job_reminds_each_long_pending_user_once(gateway, customer):
    from functions.notification.reminders import handler

    old = (datetime.now(UTC) - timedelta(hours=30)).isoformat()
    pending_old, pending_new, verified_old = customer(), customer(), customer()
    deliver(
        registered(gateway, pending_old, created_at=old),
        registered(gateway, pending_new),
        registered(gateway, verified_old, created_at=old),
    )
    deliver(kyc_changed(verified_old, "verified", datetime.now(UTC)))

    def reminders(person) -> int:
        return [n["type"] for n in inbox(gateway, person)].count("kyc_reminder")

    assert [reminders(p) for p in (pending_old, pending_new, verified_old)] == [1, 1, 1]  # at registration
    result = handler({"source": "aws.events", "detail-type": "Scheduled Event"}, LambdaContext("kyc-reminder"))
    assert result["reminded"] >= 1
    assert [reminders(p) for p in (pending_old, pending_new, verified_old)] == [2, 1, 1]
    handler({"source": "aws.events", "detail-type": "Scheduled Event"}, LambdaContext("kyc-reminder"))
    assert reminders(pending_old) == 2  # not one per run


# --- health ----------------------------------------------------------------------------------------


def test_health_checks_the_document_store(gateway):
    for path in ("/api/notification/health", "/api/notification/health?shallow=true"):
        r = gateway.get(path)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["service"] == "notification-service" and "failing" not in body
        assert body["cascade_info"]["direct_dependency"] == "auth-service"
