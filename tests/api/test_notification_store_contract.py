"""Notification's store port (functions/notification/store.py), one contract for both adapters:
DocumentDB's (run on mongomock, a fresh database per test) and PostgreSQL's (the session's
real `notification` database, migrated like every module's; each test uses its own ids).

What is asserted is what a user would notice if an adapter got it wrong: a message sent
twice, an erased name coming back, a page skipping or repeating a notification, a read
notification shown as unread. tests/api/test_notification_store_logic.py runs the consumer
and the routes' logic on each adapter too.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from functions.notification import store

# long before any other test's users registered: only this file's contacts are due at it
T0 = datetime(2001, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture(params=["mongo", "postgres"])
def adapter(request, api_env):
    if request.param == "mongo":
        import mongomock

        from functions.notification.store_mongo import MongoStore

        return MongoStore(mongomock.MongoClient(tz_aware=True)[f"contract_{uuid.uuid4().hex[:8]}"])
    from functions.notification.store_postgres import PostgresStore

    return PostgresStore()


def note(user_id: str, at: datetime, **over) -> dict:
    return {
        "id": new_id(),
        "user_id": user_id,
        "event_id": new_id(),
        "type": "welcome",
        "title": "Hi",
        "body": "Welcome",
        "data": {"n": 1},
        "mentions": [],
        "created_at": at,
    } | over


def key(user_id: str, channel: str = "email", event_id: str | None = None) -> dict:
    return {"event_id": event_id or new_id(), "user_id": user_id, "template": "welcome", "channel": channel}


def is_utc_ms(at: datetime) -> bool:
    return at.utcoffset() == timedelta(0) and at.microsecond % 1000 == 0


# --- records ---------------------------------------------------------------------------------


def test_both_adapters_return_the_ports_records(adapter):
    user = new_id()
    adapter.upsert_contact(user, email="a@example.com", name="Ann", registered_at=T0)
    adapter.save_preferences(user, email=True, sms=False, in_app=True, phone=None)
    adapter.insert_notification(note(user, T0))
    adapter.claim_delivery(key(user), to="a@example.com", retry_from=())
    adapter.claim_erasure(new_id(), user)
    records = {
        "contacts": adapter.contact(user),
        "preferences": adapter.preferences(user),
        "notifications": adapter.notifications_page(user, unread_only=False, before=None, limit=1)[0],
        "deliveries": adapter.deliveries(user_id=user)[0],
        "erasures": adapter.erasures(user)[0],
    }
    for kind, record in records.items():
        assert set(record) == set(store.KINDS[kind]), kind
        assert all(is_utc_ms(v) for v in record.values() if isinstance(v, datetime)), record
    assert records["contacts"]["registered_at"] == T0.replace(microsecond=123000)
    assert records["notifications"] | {"read": False, "mentions": [], "data": {"n": 1}} == records["notifications"]


def test_the_postgres_tables_hold_exactly_the_ports_fields():
    from functions.notification.tables import TABLES

    assert {k: {c.name for c in t.columns} for k, t in TABLES.items()} == {
        k: set(fields) for k, fields in store.KINDS.items()
    }


def test_unknown_fields_and_partial_keys_are_refused(adapter):
    with pytest.raises(ValueError):
        adapter.deliveries(address="x@example.com")
    with pytest.raises(ValueError):
        adapter.claim_delivery({"event_id": new_id(), "user_id": new_id()}, to=None, retry_from=())


# --- send claims: each message at most once ------------------------------------------------------


def test_a_send_is_claimed_once_and_retried_only_from_failed(adapter):
    user = new_id()
    k = key(user)
    first = adapter.claim_delivery(k, to="a@example.com", retry_from=("failed",))
    assert (first["status"], first["attempts"], first["to"]) == ("sending", 1, "a@example.com")
    assert adapter.claim_delivery(k, to="a@example.com", retry_from=("failed",)) is None  # still sending
    adapter.finish_delivery(k, "failed", error="Throttling")
    again = adapter.claim_delivery(k, to="b@example.com", retry_from=("failed",))
    assert (again["id"], again["status"], again["attempts"], again["to"]) == (
        first["id"],
        "sending",
        2,
        "b@example.com",
    )
    adapter.finish_delivery(k, "sent", provider_id="ses-1")
    assert adapter.claim_delivery(k, to="b@example.com", retry_from=("failed",)) is None
    [done] = adapter.deliveries(**k)
    assert (done["status"], done["attempts"], done["provider_id"], done["error"]) == ("sent", 2, "ses-1", None)
    assert done["sent_at"] == done["updated_at"] and done["sent_at"] >= done["created_at"]


@pytest.mark.parametrize("outcome", ["unknown", "rejected", "sent"])
def test_a_send_of_unknown_outcome_rejected_or_sent_is_never_claimed_again(adapter, outcome):
    k = key(new_id(), "sms")
    adapter.claim_delivery(k, to="+14155550123", retry_from=())
    adapter.finish_delivery(k, outcome, error=None if outcome == "sent" else "timeout")
    assert adapter.claim_delivery(k, to="+14155550123", retry_from=("failed",)) is None
    assert adapter.claim_delivery(k, to="+14155550123", retry_from=()) is None
    assert [d["attempts"] for d in adapter.deliveries(**k)] == [1]


def test_an_unfinished_in_app_claim_may_be_redone(adapter):
    k = key(new_id(), "in_app")
    adapter.claim_delivery(k, to=None, retry_from=("sending", "failed"))
    assert adapter.claim_delivery(k, to=None, retry_from=("sending", "failed"))["attempts"] == 2
    adapter.finish_delivery(k, "sent", provider_id="n-1")
    assert adapter.claim_delivery(k, to=None, retry_from=("sending", "failed")) is None


def test_one_key_per_template_and_channel(adapter):
    user, event = new_id(), new_id()
    for channel in ("email", "sms", "in_app"):
        assert adapter.claim_delivery(key(user, channel, event), to=None, retry_from=()) is not None
    other_template = key(user, "email", event) | {"template": "kyc_reminder"}
    assert adapter.claim_delivery(other_template, to=None, retry_from=()) is not None
    assert len(adapter.deliveries(event_id=event)) == 4


def test_concurrent_claims_of_one_send_have_one_winner(adapter):
    if type(adapter).__name__ == "MongoStore":
        pytest.skip("mongomock is one process without a server: DocumentDB's unique index is what decides there")
    for retry_from in ((), ("failed",)):
        k = key(new_id())
        if retry_from:  # a failed send redelivered to several consumers at once
            adapter.claim_delivery(k, to="a@example.com", retry_from=())
            adapter.finish_delivery(k, "failed", error="Throttling")
        start, wins = threading.Barrier(8), []

        def claim(start=start, wins=wins, k=k, retry_from=retry_from):
            start.wait()
            wins.append(adapter.claim_delivery(k, to="a@example.com", retry_from=retry_from))

        threads = [threading.Thread(target=claim) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len([w for w in wins if w is not None]) == 1, wins


# --- in-app notifications: pages, unread, read ----------------------------------------------------


def test_storing_a_notification_twice_keeps_one_and_its_read_state(adapter):
    user = new_id()
    n = note(user, T0)
    assert adapter.insert_notification(n) is True
    assert adapter.mark_read(user, n["id"])["read"] is True
    assert adapter.insert_notification(n | {"title": "changed"}) is False
    [kept] = adapter.notifications_page(user, unread_only=False, before=None, limit=10)
    assert (kept["title"], kept["read"]) == ("Hi", True)


def test_pages_are_newest_first_ties_by_id_and_a_cursor_neither_skips_nor_repeats(adapter):
    user, other = new_id(), new_id()
    same = T0 + timedelta(seconds=5)
    stored = [note(user, T0 + timedelta(seconds=s)) for s in (1, 2, 3)] + [note(user, same) for _ in range(3)]
    for n in stored + [note(other, T0 + timedelta(seconds=9))]:
        adapter.insert_notification(n)
    expected = sorted(stored, key=lambda n: (store.ms(n["created_at"]), n["id"]), reverse=True)

    seen, before = [], None
    while True:
        page = adapter.notifications_page(user, unread_only=False, before=before, limit=2)
        seen += page
        if len(page) < 2:
            break
        before = (page[-1]["created_at"], page[-1]["id"])
    assert [n["id"] for n in seen] == [n["id"] for n in expected]
    assert {n["user_id"] for n in seen} == {user}


def test_a_cursor_made_from_microseconds_compares_at_milliseconds(adapter):
    user = new_id()
    a, b = note(user, T0), note(user, T0 + timedelta(microseconds=400))  # the same millisecond
    adapter.insert_notification(a)
    adapter.insert_notification(b)
    [first] = adapter.notifications_page(user, unread_only=False, before=None, limit=1)
    within = store.ms(T0) + timedelta(microseconds=999)  # still that millisecond
    rest = adapter.notifications_page(user, unread_only=False, before=(within, first["id"]), limit=5)
    assert [n["id"] for n in [first, *rest]] == sorted([a["id"], b["id"]], reverse=True)


def test_unread_filter_and_mark_read_only_by_the_owner(adapter):
    user, intruder = new_id(), new_id()
    older, newer = note(user, T0), note(user, T0 + timedelta(seconds=1))
    adapter.insert_notification(older)
    adapter.insert_notification(newer)
    assert adapter.mark_read(intruder, newer["id"]) is None
    assert adapter.mark_read(user, new_id()) is None
    unread = adapter.notifications_page(user, unread_only=True, before=None, limit=10)
    assert [n["id"] for n in unread] == [newer["id"], older["id"]]

    read = adapter.mark_read(user, newer["id"])
    assert read["read"] is True and is_utc_ms(read["read_at"])
    assert adapter.mark_read(user, newer["id"])["read_at"] == read["read_at"]  # marked once
    assert [n["id"] for n in adapter.notifications_page(user, unread_only=True, before=None, limit=10)] == [older["id"]]
    assert [n["read"] for n in adapter.notifications_page(user, unread_only=False, before=None, limit=10)] == [
        True,
        False,
    ]


# --- contacts: newest change wins -----------------------------------------------------------------


def test_an_older_kyc_or_roles_change_loses_the_same_or_a_newer_one_applies(adapter):
    user = new_id()
    assert adapter.apply_kyc_status(user, "rejected", T0) is True  # an unknown contact is created
    assert adapter.apply_kyc_status(user, "verified", T0 - timedelta(minutes=5)) is False
    assert adapter.contact(user)["kyc_status"] == "rejected"
    assert adapter.apply_kyc_status(user, "rejected", T0) is True  # redelivered: still applies
    assert adapter.apply_kyc_status(user, "verified", T0 + timedelta(minutes=5)) is True
    assert adapter.apply_roles(user, ["customer", "compliance", "customer"], T0) is True
    assert adapter.apply_roles(user, ["customer"], T0 - timedelta(seconds=1)) is False
    found = adapter.contact(user)
    assert (found["kyc_status"], found["roles"], found["email"]) == ("verified", ["compliance", "customer"], None)


def test_upsert_contact_sets_only_what_it_is_given(adapter):
    user = new_id()
    adapter.upsert_contact(user, email="a@example.com", name="Ann", registered_at=T0)
    adapter.upsert_contact(user, name="Anna")
    found = adapter.contact(user)
    assert (found["email"], found["name"], found["erased_at"]) == ("a@example.com", "Anna", None)
    assert adapter.contact(new_id()) is None


def test_compliance_officers_are_found_by_role_in_id_order(adapter):
    officers = sorted(new_id() for _ in range(3))
    for user in reversed(officers):
        adapter.apply_roles(user, ["compliance"], T0)
    adapter.apply_roles(new_id(), ["customer"], T0)
    found = [c["id"] for c in adapter.contacts_with_role("compliance") if c["id"] in officers]
    assert found == officers


def test_kyc_reminders_are_due_once_for_long_pending_contacts_in_id_order(adapter):
    cutoff = T0
    due = sorted(new_id() for _ in range(3))
    for user in due:
        adapter.upsert_contact(user, email=f"{user}@example.com", registered_at=cutoff - timedelta(hours=1))
        adapter.apply_kyc_status(user, "pending", cutoff - timedelta(hours=1))
    recent, verified = new_id(), new_id()
    adapter.upsert_contact(recent, registered_at=cutoff + timedelta(seconds=1))
    adapter.apply_kyc_status(recent, "pending", cutoff)
    adapter.upsert_contact(verified, registered_at=cutoff - timedelta(hours=1))
    adapter.apply_kyc_status(verified, "verified", cutoff)

    mine = set(due) | {recent, verified}

    def walk(limit: int) -> list[str]:
        ids, after = [], None
        while page := adapter.due_kyc_reminders(cutoff, after, limit):
            ids += [c["id"] for c in page if c["id"] in mine]
            after = page[-1]["id"]
        return ids

    assert walk(1) == due and walk(100) == due
    adapter.mark_kyc_reminded(due[1], cutoff)
    assert walk(2) == [due[0], due[2]]


# --- erasure: nothing comes back --------------------------------------------------------------------


def test_an_erased_contact_keeps_a_tombstone_that_late_events_cannot_undo(adapter):
    user, unknown = new_id(), new_id()
    adapter.upsert_contact(user, email="z@example.com", name="Zoe", registered_at=T0)
    adapter.erase_contact(user, T0 + timedelta(days=1))
    adapter.erase_contact(unknown, T0)  # the erasure overtook everything else
    for u in (user, unknown):
        adapter.upsert_contact(u, email="z@example.com", name="Zoe", registered_at=T0)  # late events
        found = adapter.contact(u)
        assert (found["email"], found["name"], found["registered_at"]) == (None, None, None)
        assert found["erased_at"] is not None
    assert adapter.contact(user)["erased_at"] == store.ms(T0 + timedelta(days=1))


def test_an_erasure_event_is_applied_once(adapter):
    user, event = new_id(), new_id()
    assert adapter.claim_erasure(event, user) is True
    assert adapter.claim_erasure(event, user) is False
    assert [e["event_id"] for e in adapter.erasures(user)] == [event]


def test_others_notifications_stop_naming_an_erased_user(adapter):
    zoe, max_, ann = new_id(), new_id(), new_id()
    name = f"Zoe Z{zoe[:8]}"  # the database is the session's: no other test's name
    named = note(max_, T0, title=f"From {name}", body=f"You received $5.00 from {name}. {name}!", mentions=[zoe, ann])
    unnamed = note(max_, T0 + timedelta(seconds=1), body=f"{name} wrote this, but is not mentioned")
    adapter.insert_notification(named)
    adapter.insert_notification(unnamed)
    assert adapter.scrub_mentions(zoe, name, "a former FinFlow user") == 1
    after = {n["id"]: n for n in adapter.notifications_page(max_, unread_only=False, before=None, limit=10)}
    assert after[named["id"]]["body"] == "You received $5.00 from a former FinFlow user. a former FinFlow user!"
    assert (after[named["id"]]["title"], after[named["id"]]["mentions"]) == ("From a former FinFlow user", [ann])
    assert after[unnamed["id"]]["body"] == unnamed["body"]
    assert adapter.scrub_mentions(zoe, name, "a former FinFlow user") == 0


def test_an_erased_users_notifications_preferences_and_addresses_go(adapter):
    zoe, max_ = new_id(), new_id()
    for user in (zoe, max_):
        adapter.save_preferences(user, email=True, sms=True, in_app=True, phone="+14155550123")
        adapter.insert_notification(note(user, T0))
        adapter.claim_delivery(key(user, "sms"), to="+14155550123", retry_from=())
    adapter.erase_user_documents(zoe)
    assert adapter.preferences(zoe) is None
    assert adapter.notifications_page(zoe, unread_only=False, before=None, limit=10) == []
    assert [d["to"] for d in adapter.deliveries(user_id=zoe)] == [None]
    assert adapter.preferences(max_)["phone"] == "+14155550123"
    assert [d["to"] for d in adapter.deliveries(user_id=max_)] == ["+14155550123"]
    assert len(adapter.notifications_page(max_, unread_only=False, before=None, limit=10)) == 1
    mine = [r for kind in store.KINDS for r in adapter.all_records(kind) if zoe in str(r)]
    assert all("+14155550123" not in str(r) for r in mine)


# --- preferences and health ---------------------------------------------------------------------------


def test_preferences_are_replaced_as_a_whole(adapter):
    user = new_id()
    assert adapter.preferences(user) is None
    adapter.save_preferences(user, email=False, sms=True, in_app=True, phone="+14155550123")
    adapter.save_preferences(user, email=True, sms=False, in_app=False, phone=None)
    found = adapter.preferences(user)
    assert {k: found[k] for k in ("user_id", "email", "sms", "in_app", "phone")} == {
        "user_id": user,
        "email": True,
        "sms": False,
        "in_app": False,
        "phone": None,
    }


def test_ping(adapter):
    adapter.ping()


# --- which adapter ---------------------------------------------------------------------------------


def test_the_adapter_is_chosen_once_from_settings_and_none_is_a_clear_error(api_env, monkeypatch):
    import mongomock

    from finflow import config
    from functions.notification import store_mongo
    from functions.notification.store_postgres import PostgresStore

    def selected(**env):
        for name in ("DOCUMENTDB_URI", "DATABASE_URL", "DB_SECRET_ARN"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        config.settings.cache_clear()
        store.reset_for_tests()
        return store.adapter()

    # no DocumentDB server here: the client pymongo would open is mongomock's
    monkeypatch.setattr(store_mongo, "MongoClient", lambda uri, **kw: mongomock.MongoClient(tz_aware=True))
    try:
        both = selected(
            DOCUMENTDB_URI="mongodb://docdb.internal:27017/?retryWrites=false", DATABASE_URL=api_env["DATABASE_URL"]
        )
        assert isinstance(both, store_mongo.MongoStore)
        assert isinstance(selected(DATABASE_URL=api_env["DATABASE_URL"]), PostgresStore)
        nothing = selected()
        assert isinstance(nothing, PostgresStore)  # no in-memory fallback
        with pytest.raises(RuntimeError, match="DOCUMENTDB_URI.*DATABASE_URL / DB_SECRET_ARN"):
            store.contact(new_id())
        monkeypatch.setenv("DOCUMENTDB_URI", "mongodb://docdb.internal:27017/")
        config.settings.cache_clear()
        assert store.adapter() is nothing  # decided once per process
    finally:
        monkeypatch.undo()
        config.settings.cache_clear()
        store.reset_for_tests()
