"""Notification's logic on each adapter of its store: the consumer (SQS batches as Lambda
gets them), the reading logic behind the routes and the reminder job, with the process's
adapter swapped for DocumentDB's (on mongomock) or PostgreSQL's. The rest of the suite runs
on whichever adapter the settings select (PostgreSQL: the tests set DATABASE_URL)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from finflow.http import Principal
from tests.api.test_notification import deliver, emails_to
from tests.support import envelope


@pytest.fixture(params=["mongo", "postgres"])
def on_adapter(request, api_env):
    from functions.notification import channels, store

    if request.param == "mongo":
        import mongomock

        from functions.notification.store_mongo import MongoStore

        chosen = MongoStore(mongomock.MongoClient(tz_aware=True)[f"logic_{uuid.uuid4().hex[:8]}"])
    else:
        from functions.notification.store_postgres import PostgresStore

        chosen = PostgresStore()
    channels.reset_clients()
    store.reset_for_tests(use=chosen)
    yield chosen
    store.reset_for_tests()  # the next test selects from settings again


def user(name: str, registered: datetime | None = None) -> tuple[Principal, dict]:
    uid = str(uuid.uuid4())
    event = envelope(
        "finflow.auth",
        "UserRegistered",
        {
            "id": uid,
            "email": f"{uid[:12]}@example.com",
            "name": name,
            "kyc_status": "pending",
            "roles": ["customer"],
            "created_at": (registered or datetime.now(UTC)).isoformat(),
        },
    )
    return Principal(subject=uid, roles=frozenset({"customer"}), kind="user"), event


def transfer(frm: Principal, to: Principal, amount: str, minor: int) -> dict:
    return envelope(
        "finflow.payment",
        "PaymentCompleted",
        {
            "payment_id": str(uuid.uuid4()),
            "kind": "transfer",
            "from_wallet_id": str(uuid.uuid4()),
            "to_wallet_id": str(uuid.uuid4()),
            "from_user_id": frm.subject,
            "to_user_id": to.subject,
            "amount": amount,
            "amount_minor": minor,
            "currency": "USD",
            "description": None,
            "completed_at": datetime.now(UTC).isoformat(),
        },
    )


def bodies(p: Principal, **kw) -> list[str]:
    from functions.notification import logic

    return [n.body for n in logic.list_notifications(p, unread_only=False, limit=100, cursor=None, **kw).items]


def test_a_redelivered_transfer_tells_each_party_once_then_an_erasure_leaves_no_name(on_adapter, api_env):
    name = f"Zoe Z{uuid.uuid4().hex[:8]}"  # the database is the session's: no other test's name
    zoe, registered_zoe = user(name)
    max_, registered_max = user("Max")
    assert deliver(registered_zoe, registered_max) == {"batchItemFailures": []}
    event = transfer(zoe, max_, "5.00", 500)
    assert deliver(event, event) == {"batchItemFailures": []}
    assert deliver(event) == {"batchItemFailures": []}

    assert bodies(max_).count(f"You received $5.00 from {name}.") == 1
    assert bodies(zoe).count("You sent $5.00 to Max.") == 1
    max_email = registered_max["detail"]["data"]["email"]
    assert [m["body"].splitlines()[0] for m in emails_to(api_env, max_email) if "$5.00" in m["body"]] == [
        f"You received $5.00 from {name}."
    ]

    erased = envelope(
        "finflow.auth", "UserErased", {"user_id": zoe.subject, "erased_at": datetime.now(UTC).isoformat()}
    )
    assert deliver(erased, erased) == {"batchItemFailures": []}
    assert deliver(registered_zoe) == {"batchItemFailures": []}  # late: brings nothing back
    assert "You received $5.00 from a former FinFlow user." in bodies(max_)
    assert not [b for b in bodies(max_) if name in b]
    assert bodies(zoe) == []
    found = on_adapter.contact(zoe.subject)
    assert (found["email"], found["name"]) == (None, None) and found["erased_at"]
    assert [e["event_id"] for e in on_adapter.erasures(zoe.subject)] == [erased["detail"]["event_id"]]


def test_pages_and_the_unread_filter_through_the_routes_logic(on_adapter):
    from functions.notification import logic

    ann, registered = user("Ann")
    deliver(registered)  # welcome and KYC reminder
    for i in range(1, 4):
        deliver(
            envelope(
                "finflow.payment",
                "PaymentCompleted",
                {
                    "payment_id": str(uuid.uuid4()),
                    "kind": "deposit",
                    "from_wallet_id": None,
                    "to_wallet_id": str(uuid.uuid4()),
                    "from_user_id": None,
                    "to_user_id": ann.subject,
                    "amount": f"{i}.00",
                    "amount_minor": i * 100,
                    "currency": "USD",
                    "description": None,
                    "completed_at": datetime.now(UTC).isoformat(),
                },
            )
        )
    first = logic.list_notifications(ann, unread_only=False, limit=2, cursor=None)
    assert [n.body for n in first.items] == [
        "You deposited $3.00 into your USD wallet.",
        "You deposited $2.00 into your USD wallet.",
    ]
    rest = logic.list_notifications(ann, unread_only=False, limit=10, cursor=first.next_cursor)
    assert rest.items[0].body == "You deposited $1.00 into your USD wallet." and rest.next_cursor is None
    assert len(rest.items) == 3 and not {n.id for n in first.items} & {n.id for n in rest.items}

    read = logic.mark_read(ann, first.items[0].id)
    assert read.read is True and read.created_at.utcoffset() == timedelta(0)
    unread = logic.list_notifications(ann, unread_only=True, limit=10, cursor=None).items
    assert first.items[0].id not in {n.id for n in unread} and len(unread) == 4


def test_the_reminder_job_reminds_a_long_pending_user_once(on_adapter):
    from functions.notification import logic

    now = datetime.now(UTC)
    old, registered_old = user("Old", now - timedelta(hours=30))
    new, registered_new = user("New")
    deliver(registered_old, registered_new)

    def reminders(p: Principal) -> int:
        items = logic.list_notifications(p, unread_only=False, limit=100, cursor=None).items
        return [n.type for n in items].count("kyc_reminder")

    assert (reminders(old), reminders(new)) == (1, 1)  # at registration
    logic.send_kyc_reminders(now)
    logic.send_kyc_reminders(now)
    assert (reminders(old), reminders(new)) == (2, 1)


def test_preferences_round_trip(on_adapter):
    from functions.notification import logic
    from functions.notification.schemas import Preferences

    bea, _ = user("Bea")
    assert logic.get_preferences(bea).model_dump() == {"email": True, "sms": False, "in_app": True, "phone": None}
    logic.put_preferences(bea, Preferences(email=False, sms=True, in_app=True, phone="+14155550123"))
    assert logic.get_preferences(bea).model_dump() == {
        "email": False,
        "sms": True,
        "in_app": True,
        "phone": "+14155550123",
    }
