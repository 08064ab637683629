"""Notification's store on DocumentDB (MongoDB API) through pymongo: the adapter used when
`DOCUMENTDB_SECRET_ARN` (AWS) or `DOCUMENTDB_URI` (local use, LocalStack) is set. The port
and its records: store.py.

In AWS the functions get the cluster's secret, never a password: `from_secret` reads it
(host, port, username, password) at first use and connects with DocumentDB's documented
settings, TLS verified against the Amazon RDS root CAs shipped beside this file
(rds-ca-bundle.pem: its header says where it comes from and how to refresh it).

One client per process (a warm Lambda container reuses it). Indexes are created when the
adapter is made; `create_index` is idempotent. The documents keep the shape they always had
(`_id` as the key), so data already in DocumentDB reads as before; records are mapped to the
port's fields on the way out.

Collections (database `<FINFLOW_DB_PREFIX>notifications`):
  contacts       _id = user id: email, name, kyc status, roles, fed by Auth's events
  preferences    _id = user id: email, sms, in_app, phone
  notifications  the in-app notifications a user reads through the API
  deliveries     one document per (event, user, template, channel): the send claim
  erasures       _id = UserErased event id: each erasure applied once
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, overload

from pymongo import ASCENDING, DESCENDING, MongoClient, ReturnDocument
from pymongo.errors import DuplicateKeyError

from finflow.aws import secret_json
from functions.notification.store import DELIVERY_KEY, KINDS, check_fields, check_key, ms, now

# The Amazon RDS root CAs DocumentDB's certificates chain to; in the function's code asset.
CA_FILE = Path(__file__).with_name("rds-ca-bundle.pem")
# DocumentDB's documented client settings: TLS (the cluster's parameter group enforces it), its
# replica set is always rs0, reads may go to replicas, and it does not support retryable writes.
DOCUMENTDB_OPTIONS = {
    "tls": True,
    "tlsCAFile": str(CA_FILE),
    "replicaSet": "rs0",
    "readPreference": "secondaryPreferred",
    "retryWrites": False,
}
# short timeouts: a dead cluster fails an invocation instead of hanging it
_CLIENT_OPTIONS: dict[str, Any] = {
    "tz_aware": True,
    "appname": "finflow-notification",
    "serverSelectionTimeoutMS": 3000,
    "connectTimeoutMS": 3000,
    "socketTimeoutMS": 5000,
}


def secret_client_args(secret: dict) -> tuple[str, dict]:
    """The host URI and MongoClient keywords for a DocumentDB cluster secret ({host, port,
    username, password, ...}, as CDK's DatabaseSecret attached to the cluster holds). The
    credentials go as keywords, so the URI carries no password and needs no escaping."""
    missing = [k for k in ("host", "username", "password") if not secret.get(k)]
    if missing:
        raise RuntimeError(f"the DocumentDB secret has no {', '.join(missing)}: is it attached to the cluster?")
    uri = f"mongodb://{secret['host']}:{int(secret.get('port') or 27017)}/"
    return uri, {
        "username": secret["username"],
        "password": secret["password"],
        "authSource": "admin",
        **DOCUMENTDB_OPTIONS,
    }


_KEY = {
    "contacts": "id",
    "preferences": "user_id",
    "notifications": "id",
    "deliveries": "id",
    "erasures": "event_id",
}  # the port's name for each collection's _id


@overload
def _record(kind: str, doc: dict) -> dict: ...
@overload
def _record(kind: str, doc: dict | None) -> dict | None: ...
def _record(kind: str, doc: dict | None) -> dict | None:
    if doc is None:
        return None
    out = {field: doc.get(field) for field in KINDS[kind]}
    out[_KEY[kind]] = doc["_id"]
    if kind == "notifications":
        out["mentions"] = list(doc.get("mentions") or [])  # stored only when there are some
        out["read"] = bool(doc.get("read"))
        out["data"] = doc.get("data") or {}
    return out


class MongoStore:
    def __init__(self, db):
        """`db`: a pymongo (or, in tests, mongomock) Database; its indexes are created here."""
        self.db = db
        self._create_indexes()

    @classmethod
    def connect(cls, uri: str, name: str, **options: Any) -> MongoStore:
        """`uri` as given (DOCUMENTDB_URI: local use and LocalStack carry their options in it)."""
        client = MongoClient(uri, **_CLIENT_OPTIONS, **options)
        return cls(client[name])

    @classmethod
    def from_secret(cls, secret_id: str, name: str) -> MongoStore:
        """The cluster named by its Secrets Manager secret (DOCUMENTDB_SECRET_ARN, AWS)."""
        uri, options = secret_client_args(secret_json(secret_id))
        return cls.connect(uri, name, **options)

    def _create_indexes(self) -> None:
        db = self.db
        db.deliveries.create_index(
            [(f, ASCENDING) for f in DELIVERY_KEY], unique=True, name="one_send_per_event_user_channel"
        )
        db.notifications.create_index(
            [("user_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)], name="user_newest_first"
        )
        db.notifications.create_index(
            [("user_id", ASCENDING), ("read", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
            name="user_unread_newest_first",
        )
        db.contacts.create_index([("roles", ASCENDING)], name="by_role")
        db.notifications.create_index([("mentions", ASCENDING)], name="by_mention", sparse=True)
        db.contacts.create_index([("kyc_status", ASCENDING), ("registered_at", ASCENDING)], name="kyc_reminders")

    def ping(self) -> None:
        self.db.client.admin.command("ping")

    # --- contacts (event-carried state from Auth) ----------------------------------------

    def upsert_contact(
        self, user_id: str, *, email: str | None = None, name: str | None = None, registered_at: datetime | None = None
    ) -> None:
        fields: dict[str, Any] = {k: v for k, v in (("email", email), ("name", name)) if v is not None}
        if registered_at is not None:
            fields["registered_at"] = ms(registered_at)
        try:
            self.db.contacts.update_one(
                {"_id": user_id, "erased_at": None}, {"$set": {**fields, "updated_at": now()}}, upsert=True
            )
        except DuplicateKeyError:  # the contact exists and is erased: the upsert's insert collided
            pass

    def _newest_wins(self, user_id: str, at_field: str, at: datetime, values: dict) -> bool:
        at = ms(at)
        self.db.contacts.update_one({"_id": user_id}, {"$setOnInsert": {"updated_at": now()}}, upsert=True)
        result = self.db.contacts.update_one(
            {"_id": user_id, "$or": [{at_field: {"$exists": False}}, {at_field: None}, {at_field: {"$lte": at}}]},
            {"$set": {**values, at_field: at, "updated_at": now()}},
        )
        return result.matched_count == 1

    def apply_kyc_status(self, user_id: str, status: str, at: datetime) -> bool:
        return self._newest_wins(user_id, "kyc_status_at", at, {"kyc_status": status})

    def apply_roles(self, user_id: str, roles: list[str], at: datetime) -> bool:
        return self._newest_wins(user_id, "roles_at", at, {"roles": sorted(set(roles))})

    def contact(self, user_id: str) -> dict | None:
        return _record("contacts", self.db.contacts.find_one({"_id": user_id}))

    def contacts_with_role(self, role: str) -> list[dict]:
        return [_record("contacts", d) for d in self.db.contacts.find({"roles": role}).sort("_id", ASCENDING)]

    def due_kyc_reminders(self, registered_before: datetime, after_id: str | None, limit: int) -> list[dict]:
        query: dict[str, Any] = {
            "kyc_status": "pending",
            "registered_at": {"$lte": ms(registered_before)},
            "kyc_reminded_at": None,
        }
        if after_id is not None:
            query["_id"] = {"$gt": after_id}
        return [_record("contacts", d) for d in self.db.contacts.find(query).sort("_id", ASCENDING).limit(limit)]

    def mark_kyc_reminded(self, user_id: str, at: datetime) -> None:
        self.db.contacts.update_one({"_id": user_id}, {"$set": {"kyc_reminded_at": ms(at)}})

    # --- erasure -------------------------------------------------------------------------

    def erase_contact(self, user_id: str, at: datetime) -> None:
        self.db.contacts.update_one(
            {"_id": user_id},
            {
                "$set": {"erased_at": ms(at), "updated_at": now()},
                "$unset": {"email": "", "name": "", "registered_at": ""},
            },
            upsert=True,
        )

    def scrub_mentions(self, user_id: str, name: str, replacement: str) -> int:
        scrubbed = 0
        for doc in self.db.notifications.find({"mentions": user_id}):
            self.db.notifications.update_one(
                {"_id": doc["_id"]},
                {
                    "$set": {
                        "title": doc["title"].replace(name, replacement),
                        "body": doc["body"].replace(name, replacement),
                    },
                    "$pull": {"mentions": user_id},
                },
            )
            scrubbed += 1
        return scrubbed

    def erase_user_documents(self, user_id: str) -> None:
        self.db.notifications.delete_many({"user_id": user_id})
        self.db.preferences.delete_one({"_id": user_id})
        self.db.deliveries.update_many({"user_id": user_id}, {"$set": {"to": None}})

    def claim_erasure(self, event_id: str, user_id: str) -> bool:
        try:
            self.db.erasures.insert_one({"_id": event_id, "user_id": user_id, "applied_at": now()})
        except DuplicateKeyError:
            return False
        return True

    def erasures(self, user_id: str) -> list[dict]:
        found = self.db.erasures.find({"user_id": user_id}).sort([("applied_at", ASCENDING), ("_id", ASCENDING)])
        return [_record("erasures", d) for d in found]

    # --- preferences -----------------------------------------------------------------------

    def preferences(self, user_id: str) -> dict | None:
        return _record("preferences", self.db.preferences.find_one({"_id": user_id}))

    def save_preferences(self, user_id: str, *, email: bool, sms: bool, in_app: bool, phone: str | None) -> None:
        self.db.preferences.replace_one(
            {"_id": user_id},
            {"email": email, "sms": sms, "in_app": in_app, "phone": phone, "updated_at": now()},
            upsert=True,
        )

    # --- in-app notifications ----------------------------------------------------------------

    def insert_notification(self, notification: dict) -> bool:
        check_fields(notification, "notifications")
        doc = {
            "_id": notification["id"],
            "user_id": notification["user_id"],
            "type": notification["type"],
            "title": notification["title"],
            "body": notification["body"],
            "data": notification.get("data") or {},
            "read": False,
            "event_id": notification["event_id"],
            "created_at": ms(notification["created_at"]),
        }
        if notification.get("mentions"):  # sparse: only notifications that name someone are indexed
            doc["mentions"] = list(notification["mentions"])
        try:
            self.db.notifications.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    def notifications_page(
        self, user_id: str, *, unread_only: bool, before: tuple[datetime, str] | None, limit: int
    ) -> list[dict]:
        query: dict[str, Any] = {"user_id": user_id}
        if unread_only:
            query["read"] = False
        if before is not None:
            at, last_id = ms(before[0]), before[1]
            query["$or"] = [{"created_at": {"$lt": at}}, {"created_at": at, "_id": {"$lt": last_id}}]
        found = self.db.notifications.find(query).sort([("created_at", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        return [_record("notifications", d) for d in found]

    def mark_read(self, user_id: str, notification_id: str) -> dict | None:
        doc = self.db.notifications.find_one({"_id": notification_id, "user_id": user_id})
        if doc is None or doc.get("read"):
            return _record("notifications", doc)
        return _record(
            "notifications",
            self.db.notifications.find_one_and_update(
                {"_id": notification_id, "user_id": user_id},
                {"$set": {"read": True, "read_at": now()}},
                return_document=ReturnDocument.AFTER,
            ),
        )

    # --- deliveries --------------------------------------------------------------------------

    def claim_delivery(self, key: dict, *, to: str | None, retry_from: tuple[str, ...]) -> dict | None:
        check_key(key)
        at = now()
        try:
            doc = {
                "_id": str(uuid.uuid4()),
                **key,
                "to": to,
                "status": "sending",
                "attempts": 1,
                "created_at": at,
                "updated_at": at,
            }
            self.db.deliveries.insert_one(doc)
            return _record("deliveries", doc)
        except DuplicateKeyError:
            pass
        if not retry_from:
            return None
        return _record(
            "deliveries",
            self.db.deliveries.find_one_and_update(
                {**key, "status": {"$in": list(retry_from)}},
                {"$set": {"status": "sending", "to": to, "updated_at": at}, "$inc": {"attempts": 1}},
                return_document=ReturnDocument.AFTER,
            ),
        )

    def finish_delivery(
        self, key: dict, status: str, *, provider_id: str | None = None, error: str | None = None
    ) -> None:
        check_key(key)
        fields: dict[str, Any] = {"status": status, "updated_at": now(), "error": error}
        if provider_id is not None:
            fields["provider_id"] = provider_id
        if status == "sent":
            fields["sent_at"] = fields["updated_at"]
        self.db.deliveries.update_one(key, {"$set": fields})

    def deliveries(self, **match: Any) -> list[dict]:
        check_fields(match, "deliveries")
        query = {("_id" if k == "id" else k): v for k, v in match.items()}
        found = self.db.deliveries.find(query).sort([("created_at", ASCENDING), ("_id", ASCENDING)])
        return [_record("deliveries", d) for d in found]

    def all_records(self, kind: str) -> list[dict]:
        if kind not in KINDS:
            raise ValueError(f"no records of kind {kind!r}")
        return [_record(kind, d) for d in self.db[kind].find()]
