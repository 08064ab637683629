"""Notification's data access: DocumentDB (MongoDB API) through pymongo.

One client per process (a warm Lambda container reuses it), on `DOCUMENTDB_URI`, or an
in-memory mongomock when that is unset (the devserver then runs every notification
function in one worker so they all see this one store). Indexes are created on first
use; `create_index` is idempotent.

Collections (database `<FINFLOW_DB_PREFIX>notifications`):
  contacts       _id = user id: email, name, kyc status, roles, fed by Auth's events
  preferences    _id = user id: email, sms, in_app, phone
  notifications  the in-app notifications a user reads through the API
  deliveries     one document per (event, user, template, channel): the send claim
  erasures       _id = UserErased event id: each erasure applied once
"""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone
from typing import Any

import pymongo
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from finflow.config import settings

_lock = threading.Lock()
_db = None


def database():
    """The module's database; connects and creates the indexes on first use."""
    global _db
    if _db is None:
        with _lock:
            if _db is None:
                s = settings()
                if s.documentdb_uri:
                    client = pymongo.MongoClient(
                        s.documentdb_uri, tz_aware=True, appname="finflow-notification",
                        serverSelectionTimeoutMS=3000, connectTimeoutMS=3000, socketTimeoutMS=5000)
                else:
                    import mongomock  # dev dependency: local runs and tests only
                    client = mongomock.MongoClient(tz_aware=True)
                db = client[f"{s.db_name_prefix}notifications"]
                _create_indexes(db)
                _db = db  # only once the indexes exist: a failure is retried on the next call
    return _db


def _create_indexes(db) -> None:
    db.deliveries.create_index([("event_id", ASCENDING), ("user_id", ASCENDING), ("template", ASCENDING),
                                ("channel", ASCENDING)], unique=True, name="one_send_per_event_user_channel")
    db.notifications.create_index([("user_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                                  name="user_newest_first")
    db.notifications.create_index([("user_id", ASCENDING), ("read", ASCENDING), ("created_at", DESCENDING),
                                   ("_id", DESCENDING)], name="user_unread_newest_first")
    db.contacts.create_index([("roles", ASCENDING)], name="by_role")
    db.notifications.create_index([("mentions", ASCENDING)], name="by_mention", sparse=True)
    db.contacts.create_index([("kyc_status", ASCENDING), ("registered_at", ASCENDING)], name="kyc_reminders")


def reset_for_tests() -> None:
    """Forget the process's client (the next use connects again)."""
    global _db
    with _lock:
        _db = None


def ping() -> None:
    database().client.admin.command("ping")


def ms(at: datetime) -> datetime:
    """BSON dates keep milliseconds: compare and store times at that precision, in UTC."""
    at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    return at.astimezone(timezone.utc).replace(microsecond=at.microsecond // 1000 * 1000)


def now() -> datetime:
    return ms(datetime.now(timezone.utc))


# --- contacts (event-carried state from Auth) --------------------------------------------

def upsert_contact(user_id: str, *, email: str | None = None, name: str | None = None,
                   registered_at: datetime | None = None) -> None:
    """Contact details from an event; an erased contact learns none again (a late event)."""
    fields: dict[str, Any] = {k: v for k, v in (("email", email), ("name", name)) if v is not None}
    if registered_at is not None:
        fields["registered_at"] = ms(registered_at)
    try:
        database().contacts.update_one({"_id": user_id, "erased_at": None},
                                       {"$set": {**fields, "updated_at": now()}}, upsert=True)
    except DuplicateKeyError:  # the contact exists and is erased: the upsert's insert collided
        pass


def _newest_wins(user_id: str, at_field: str, at: datetime, values: dict) -> bool:
    """Set `values` unless the contact holds a newer change; True if applied (also when the
    same change is applied again, so a redelivered event still gets its notification)."""
    at = ms(at)
    database().contacts.update_one({"_id": user_id}, {"$setOnInsert": {"updated_at": now()}}, upsert=True)
    result = database().contacts.update_one(
        {"_id": user_id, "$or": [{at_field: {"$exists": False}}, {at_field: None}, {at_field: {"$lte": at}}]},
        {"$set": {**values, at_field: at, "updated_at": now()}})
    return result.matched_count == 1


def apply_kyc_status(user_id: str, status: str, at: datetime) -> bool:
    return _newest_wins(user_id, "kyc_status_at", at, {"kyc_status": status})


def apply_roles(user_id: str, roles: list[str], at: datetime) -> bool:
    return _newest_wins(user_id, "roles_at", at, {"roles": sorted(set(roles))})


def contact(user_id: str) -> dict | None:
    return database().contacts.find_one({"_id": user_id})


def contacts_with_role(role: str) -> list[dict]:
    return list(database().contacts.find({"roles": role}).sort("_id", ASCENDING))


def due_kyc_reminders(registered_before: datetime, after_id: str | None, limit: int) -> list[dict]:
    """Contacts still `pending` KYC, registered before the cut-off and never reminded by the job."""
    query: dict[str, Any] = {"kyc_status": "pending", "registered_at": {"$lte": ms(registered_before)},
                             "kyc_reminded_at": None}
    if after_id is not None:
        query["_id"] = {"$gt": after_id}
    return list(database().contacts.find(query).sort("_id", ASCENDING).limit(limit))


def mark_kyc_reminded(user_id: str, at: datetime) -> None:
    database().contacts.update_one({"_id": user_id}, {"$set": {"kyc_reminded_at": ms(at)}})


# --- erasure: personal data goes, a tombstone keeps late events from bringing it back ----------

def erase_contact(user_id: str, at: datetime) -> None:
    database().contacts.update_one(
        {"_id": user_id}, {"$set": {"erased_at": ms(at), "updated_at": now()},
                           "$unset": {"email": "", "name": "", "registered_at": ""}}, upsert=True)


def scrub_mentions(user_id: str, name: str, replacement: str) -> int:
    """Other users' notifications that name `user_id` say `replacement` instead."""
    scrubbed = 0
    for doc in database().notifications.find({"mentions": user_id}):
        database().notifications.update_one(
            {"_id": doc["_id"]}, {"$set": {"title": doc["title"].replace(name, replacement),
                                           "body": doc["body"].replace(name, replacement)},
                                  "$pull": {"mentions": user_id}})
        scrubbed += 1
    return scrubbed


def erase_user_documents(user_id: str) -> None:
    """The user's own notifications and preferences (phone), and the addresses sends went to."""
    db = database()
    db.notifications.delete_many({"user_id": user_id})
    db.preferences.delete_one({"_id": user_id})
    db.deliveries.update_many({"user_id": user_id}, {"$set": {"to": None}})


def claim_erasure(event_id: str, user_id: str) -> bool:
    """Record that this erasure event was applied; False if it was before."""
    try:
        database().erasures.insert_one({"_id": event_id, "user_id": user_id, "applied_at": now()})
    except DuplicateKeyError:
        return False
    return True


def erasures(user_id: str) -> list[dict]:
    return list(database().erasures.find({"user_id": user_id}))


# --- preferences ---------------------------------------------------------------------------

def preferences(user_id: str) -> dict | None:
    return database().preferences.find_one({"_id": user_id})


def save_preferences(user_id: str, prefs: dict) -> None:
    database().preferences.replace_one({"_id": user_id}, {**prefs, "updated_at": now()}, upsert=True)


# --- in-app notifications --------------------------------------------------------------------

def insert_notification(doc: dict) -> bool:
    """Store one in-app notification; False if one with that id exists (its read state stays)."""
    try:
        database().notifications.insert_one(doc)
    except DuplicateKeyError:
        return False
    return True


def notifications_page(user_id: str, *, unread_only: bool, before: tuple[datetime, str] | None,
                       limit: int) -> list[dict]:
    """The user's notifications, newest first (ties by id), strictly after the cursor `before`."""
    query: dict[str, Any] = {"user_id": user_id}
    if unread_only:
        query["read"] = False
    if before is not None:
        at, last_id = before
        query["$or"] = [{"created_at": {"$lt": at}}, {"created_at": at, "_id": {"$lt": last_id}}]
    return list(database().notifications.find(query)
                .sort([("created_at", DESCENDING), ("_id", DESCENDING)]).limit(limit))


def mark_read(user_id: str, notification_id: str) -> dict | None:
    """Mark the user's own notification read; None when the user has no such notification."""
    doc = database().notifications.find_one({"_id": notification_id, "user_id": user_id})
    if doc is None or doc.get("read"):
        return doc
    return database().notifications.find_one_and_update(
        {"_id": notification_id, "user_id": user_id},
        {"$set": {"read": True, "read_at": now()}}, return_document=ReturnDocument.AFTER)


# --- deliveries: the unique claim taken before each send -------------------------------------

def claim_delivery(key: dict, *, to: str | None, retry_from: tuple[str, ...]) -> dict | None:
    """Claim the send of `key` (event_id, user_id, template, channel) before sending.

    Inserts the delivery as `sending`; if it exists, takes it over only from a status in
    `retry_from` (atomically, so two deliveries of one event cannot both win). None means
    someone claimed it before: do not send.
    """
    at = now()
    try:
        doc = {"_id": str(uuid.uuid4()), **key, "to": to, "status": "sending", "attempts": 1,
               "created_at": at, "updated_at": at}
        database().deliveries.insert_one(doc)
        return doc
    except DuplicateKeyError:
        pass
    if not retry_from:
        return None
    return database().deliveries.find_one_and_update(
        {**key, "status": {"$in": list(retry_from)}},
        {"$set": {"status": "sending", "to": to, "updated_at": at}, "$inc": {"attempts": 1}},
        return_document=ReturnDocument.AFTER)


def finish_delivery(key: dict, status: str, *, provider_id: str | None = None, error: str | None = None) -> None:
    fields: dict[str, Any] = {"status": status, "updated_at": now(), "error": error}
    if provider_id is not None:
        fields["provider_id"] = provider_id
    if status == "sent":
        fields["sent_at"] = fields["updated_at"]
    database().deliveries.update_one(key, {"$set": fields})


def deliveries(**match: Any) -> list[dict]:
    return list(database().deliveries.find(match))
