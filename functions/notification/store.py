"""Notification's data access, as a port: the operations its logic needs, served by one of
two adapters chosen once per process from settings.

- `DOCUMENTDB_SECRET_ARN` (AWS: the cluster's secret, read at first use) or `DOCUMENTDB_URI`
  (local use, LocalStack; it wins when both are set) set: DocumentDB (MongoDB API) through
  pymongo, store_mongo.py.
- otherwise: PostgreSQL, Notification's own database `notification` through finflow.db
  (DATABASE_URL, or DB_SECRET_ARN in AWS), store_postgres.py (`make dev`, LocalStack).
  With neither set, the first use fails and says what to set.

Logic calls `store.<operation>(...)` and never learns which adapter answers. Both return
the same records (plain dicts with exactly the fields listed below, None where unset), in
the same order, with the same guarantees; tests/api/test_notification_store_contract.py
holds each adapter to them. Times are UTC at millisecond precision (BSON's), so a cursor
made from a stored time compares exactly on either adapter.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from finflow.config import settings

# The records, by kind. The key of each kind comes first.
CONTACT = (
    "id",
    "email",
    "name",
    "registered_at",
    "kyc_status",
    "kyc_status_at",
    "roles",
    "roles_at",
    "kyc_reminded_at",
    "erased_at",
    "updated_at",
)
PREFERENCES = ("user_id", "email", "sms", "in_app", "phone", "updated_at")
NOTIFICATION = (
    "id",
    "user_id",
    "event_id",
    "type",
    "title",
    "body",
    "data",
    "mentions",
    "read",
    "read_at",
    "created_at",
)
DELIVERY = (
    "id",
    "event_id",
    "user_id",
    "template",
    "channel",
    "to",
    "status",
    "attempts",
    "provider_id",
    "error",
    "created_at",
    "updated_at",
    "sent_at",
)
ERASURE = ("event_id", "user_id", "applied_at")
KINDS = {
    "contacts": CONTACT,
    "preferences": PREFERENCES,
    "notifications": NOTIFICATION,
    "deliveries": DELIVERY,
    "erasures": ERASURE,
}
DELIVERY_KEY = ("event_id", "user_id", "template", "channel")


class NotificationStore(Protocol):
    """What each adapter provides. A "key" of a delivery is its DELIVERY_KEY fields."""

    def ping(self) -> None:
        """Raise if the store cannot be used (health check)."""

    # contacts: event-carried state from Auth
    def upsert_contact(
        self, user_id: str, *, email: str | None = None, name: str | None = None, registered_at: datetime | None = None
    ) -> None:
        """Set the given details (None leaves a field as it is); an erased contact learns none again."""

    def apply_kyc_status(self, user_id: str, status: str, at: datetime) -> bool:
        """Set unless the contact holds a newer change; True if applied (also the same change again)."""

    def apply_roles(self, user_id: str, roles: list[str], at: datetime) -> bool:
        """As apply_kyc_status; roles are kept sorted, without repeats."""

    def contact(self, user_id: str) -> dict | None: ...

    def contacts_with_role(self, role: str) -> list[dict]:
        """By id, ascending."""

    def due_kyc_reminders(self, registered_before: datetime, after_id: str | None, limit: int) -> list[dict]:
        """Contacts still `pending` KYC, registered at or before the cut-off, never reminded by
        the job, with an id after `after_id`; by id, ascending."""

    def mark_kyc_reminded(self, user_id: str, at: datetime) -> None: ...

    # erasure: personal data goes, a tombstone keeps late events from bringing it back
    def erase_contact(self, user_id: str, at: datetime) -> None:
        """Mark erased (creating the contact if unknown) and drop its email, name and registration time."""

    def scrub_mentions(self, user_id: str, name: str, replacement: str) -> int:
        """Other users' notifications naming `user_id` say `replacement` instead; how many changed."""

    def erase_user_documents(self, user_id: str) -> None:
        """The user's own notifications and preferences go, and the addresses sends went to."""

    def claim_erasure(self, event_id: str, user_id: str) -> bool:
        """Record that this erasure event was applied; False if it was before."""

    def erasures(self, user_id: str) -> list[dict]:
        """Oldest first."""

    # preferences
    def preferences(self, user_id: str) -> dict | None: ...

    def save_preferences(self, user_id: str, *, email: bool, sms: bool, in_app: bool, phone: str | None) -> None:
        """Replace the whole set."""

    # in-app notifications
    def insert_notification(self, notification: dict) -> bool:
        """Store one (NOTIFICATION fields; unread); False if one with that id exists (its read state stays)."""

    def notifications_page(
        self, user_id: str, *, unread_only: bool, before: tuple[datetime, str] | None, limit: int
    ) -> list[dict]:
        """Newest first, ties by id descending, strictly after the cursor `before` (created_at, id)."""

    def mark_read(self, user_id: str, notification_id: str) -> dict | None:
        """Mark the user's own notification read (once); None when the user has no such notification."""

    # deliveries: the unique claim taken before each send
    def claim_delivery(self, key: dict, *, to: str | None, retry_from: tuple[str, ...]) -> dict | None:
        """Insert the delivery of `key` as `sending` (attempts 1); if it exists, take it over
        only from a status in `retry_from` (attempts + 1), atomically: of two concurrent claims
        one wins. None means someone claimed it before: do not send."""

    def finish_delivery(
        self, key: dict, status: str, *, provider_id: str | None = None, error: str | None = None
    ) -> None: ...

    def deliveries(self, **match: Any) -> list[dict]:
        """Deliveries whose fields equal `match` (DELIVERY fields), oldest first."""

    # audits and tests: what is kept, about whom
    def all_records(self, kind: str) -> list[dict]:
        """Every stored record of one of KINDS (reads it all: never on a request path)."""


def ms(at: datetime) -> datetime:
    """A time as both adapters keep it: UTC, whole milliseconds (a naive time is taken as UTC)."""
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return at.astimezone(UTC).replace(microsecond=at.microsecond // 1000 * 1000)


def now() -> datetime:
    return ms(datetime.now(UTC))


def check_fields(match: Iterable[str], kind: str) -> None:
    unknown = set(match) - set(KINDS[kind])
    if unknown:
        raise ValueError(f"{kind} have no field {', '.join(sorted(unknown))}")


def check_key(key: dict) -> None:
    if set(key) != set(DELIVERY_KEY):
        raise ValueError(f"a delivery's key is {', '.join(DELIVERY_KEY)}, not {', '.join(sorted(key))}")


# --- the adapter of this process -------------------------------------------------------------

_lock = threading.Lock()
_adapter: NotificationStore | None = None


def _select() -> NotificationStore:
    s = settings()
    if s.documentdb_uri or s.documentdb_secret_arn:
        from functions.notification.store_mongo import MongoStore

        name = f"{s.db_name_prefix}notifications"
        if s.documentdb_uri:
            return MongoStore.connect(s.documentdb_uri, name)
        if s.documentdb_secret_arn:
            return MongoStore.from_secret(s.documentdb_secret_arn, name)
    from functions.notification.store_postgres import PostgresStore

    return PostgresStore()


def adapter() -> NotificationStore:
    """The adapter settings select, made on first use and kept (a warm container reuses it)."""
    global _adapter
    if _adapter is None:
        with _lock:
            if _adapter is None:
                _adapter = _select()
    return _adapter


def reset_for_tests(use: NotificationStore | None = None) -> None:
    """Forget the adapter (the next use selects again from settings), or use `use` instead."""
    global _adapter
    with _lock:
        _adapter = use


def ping() -> None:
    adapter().ping()


_OPERATIONS = frozenset(name for name in vars(NotificationStore) if not name.startswith("_"))


def __getattr__(name: str):
    # `store.contact(...)` and every other operation of the port: the selected adapter's
    if name in _OPERATIONS:
        return getattr(adapter(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
