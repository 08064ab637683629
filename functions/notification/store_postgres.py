"""Notification's store on PostgreSQL: its own database `notification` through finflow.db
(DATABASE_URL's server locally, DB_SECRET_ARN in AWS), the adapter used when neither
`DOCUMENTDB_URI` nor `DOCUMENTDB_SECRET_ARN` is set. The port and its records: store.py; the
tables: tables.py.

Each operation is one statement or one transaction. The claims the logic relies on are
single statements against a constraint (INSERT ... ON CONFLICT), so of two concurrent
claims exactly one wins, as with DocumentDB's unique index.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import Connection, Engine, Row, Text, delete, func, literal, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert

from finflow import db
from finflow.config import settings
from functions.notification.store import KINDS, check_fields, check_key, ms, now
from functions.notification.tables import TABLES, contacts, deliveries, erasures, notifications, preferences

MODULE = "notification"


@overload
def _record(row: Row) -> dict: ...
@overload
def _record(row: Row | None) -> dict | None: ...
def _record(row: Row | None) -> dict | None:
    """A row as the port's record; times in UTC whatever the session's time zone."""
    if row is None:
        return None
    return {k: v.astimezone(UTC) if isinstance(v, datetime) else v for k, v in row._mapping.items()}


def _key(key: dict) -> list:
    check_key(key)
    return [deliveries.c[k] == v for k, v in key.items()]


class PostgresStore:
    def _engine(self) -> Engine:
        s = settings()
        if not (s.database_url or s.db_secret_arn):
            raise RuntimeError(
                "Notification has no store: set DOCUMENTDB_URI or DOCUMENTDB_SECRET_ARN (DocumentDB), or "
                "DATABASE_URL / DB_SECRET_ARN for its PostgreSQL database 'notification'"
            )
        return db.engine(MODULE)

    def _reading(self) -> Connection:
        self._engine()
        return db.reading(MODULE)

    def _one(self, statement) -> dict | None:
        with self._reading() as conn:
            return _record(conn.execute(statement).first())

    def _all(self, statement) -> list[dict]:
        with self._reading() as conn:
            return [_record(r) for r in conn.execute(statement)]

    def _write(self, statement):
        """One statement in its own transaction; returns its result, read before commit."""
        with self._engine().begin() as conn:
            result = conn.execute(statement)
            return result.first() if result.returns_rows else result.rowcount

    def ping(self) -> None:
        with self._reading() as conn:
            conn.execute(text("SELECT 1"))

    # --- contacts (event-carried state from Auth) ----------------------------------------

    def upsert_contact(
        self, user_id: str, *, email: str | None = None, name: str | None = None, registered_at: datetime | None = None
    ) -> None:
        fields = {
            k: v
            for k, v in (("email", email), ("name", name), ("registered_at", registered_at and ms(registered_at)))
            if v is not None
        }
        stmt = insert(contacts).values(id=user_id, **fields, updated_at=now())
        # an erased contact keeps its tombstone and learns nothing (a late event)
        self._write(
            stmt.on_conflict_do_update(
                index_elements=[contacts.c.id],
                set_={k: stmt.excluded[k] for k in (*fields, "updated_at")},
                where=contacts.c.erased_at.is_(None),
            )
        )

    def _newest_wins(self, user_id: str, at_field: str, at: datetime, values: dict) -> bool:
        stmt = insert(contacts).values(id=user_id, **values, **{at_field: ms(at)}, updated_at=now())
        return (
            self._write(
                stmt.on_conflict_do_update(
                    index_elements=[contacts.c.id],
                    set_={k: stmt.excluded[k] for k in (*values, at_field, "updated_at")},
                    where=or_(contacts.c[at_field].is_(None), contacts.c[at_field] <= stmt.excluded[at_field]),
                ).returning(contacts.c.id)
            )
            is not None
        )

    def apply_kyc_status(self, user_id: str, status: str, at: datetime) -> bool:
        return self._newest_wins(user_id, "kyc_status_at", at, {"kyc_status": status})

    def apply_roles(self, user_id: str, roles: list[str], at: datetime) -> bool:
        return self._newest_wins(user_id, "roles_at", at, {"roles": sorted(set(roles))})

    def contact(self, user_id: str) -> dict | None:
        return self._one(select(contacts).where(contacts.c.id == user_id))

    def contacts_with_role(self, role: str) -> list[dict]:
        return self._all(select(contacts).where(contacts.c.roles.contains([role])).order_by(contacts.c.id))

    def due_kyc_reminders(self, registered_before: datetime, after_id: str | None, limit: int) -> list[dict]:
        q = select(contacts).where(
            contacts.c.kyc_status == "pending",
            contacts.c.kyc_reminded_at.is_(None),
            contacts.c.registered_at <= ms(registered_before),
        )
        if after_id is not None:
            q = q.where(contacts.c.id > after_id)
        return self._all(q.order_by(contacts.c.id).limit(limit))

    def mark_kyc_reminded(self, user_id: str, at: datetime) -> None:
        self._write(update(contacts).where(contacts.c.id == user_id).values(kyc_reminded_at=ms(at)))

    # --- erasure -------------------------------------------------------------------------

    def erase_contact(self, user_id: str, at: datetime) -> None:
        stmt = insert(contacts).values(id=user_id, erased_at=ms(at), updated_at=now())
        self._write(
            stmt.on_conflict_do_update(
                index_elements=[contacts.c.id],
                set_={
                    "erased_at": stmt.excluded.erased_at,
                    "updated_at": stmt.excluded.updated_at,
                    "email": None,
                    "name": None,
                    "registered_at": None,
                },
            )
        )

    def scrub_mentions(self, user_id: str, name: str, replacement: str) -> int:
        n = notifications.c
        uid = literal(user_id, Text)
        return self._write(
            update(notifications)
            .where(n.mentions.contains([user_id]))
            .values(
                title=func.replace(n.title, name, replacement),
                body=func.replace(n.body, name, replacement),
                mentions=func.array_remove(n.mentions, uid, type_=n.mentions.type),
            )
        )

    def erase_user_documents(self, user_id: str) -> None:
        with self._engine().begin() as conn:
            conn.execute(delete(notifications).where(notifications.c.user_id == user_id))
            conn.execute(delete(preferences).where(preferences.c.user_id == user_id))
            conn.execute(update(deliveries).where(deliveries.c.user_id == user_id).values(to=None))

    def claim_erasure(self, event_id: str, user_id: str) -> bool:
        return (
            self._write(
                insert(erasures)
                .values(event_id=event_id, user_id=user_id, applied_at=now())
                .on_conflict_do_nothing(index_elements=[erasures.c.event_id])
                .returning(erasures.c.event_id)
            )
            is not None
        )

    def erasures(self, user_id: str) -> list[dict]:
        return self._all(
            select(erasures).where(erasures.c.user_id == user_id).order_by(erasures.c.applied_at, erasures.c.event_id)
        )

    # --- preferences -----------------------------------------------------------------------

    def preferences(self, user_id: str) -> dict | None:
        return self._one(select(preferences).where(preferences.c.user_id == user_id))

    def save_preferences(self, user_id: str, *, email: bool, sms: bool, in_app: bool, phone: str | None) -> None:
        stmt = insert(preferences).values(
            user_id=user_id, email=email, sms=sms, in_app=in_app, phone=phone, updated_at=now()
        )
        self._write(
            stmt.on_conflict_do_update(
                index_elements=[preferences.c.user_id],
                set_={k: stmt.excluded[k] for k in ("email", "sms", "in_app", "phone", "updated_at")},
            )
        )

    # --- in-app notifications ----------------------------------------------------------------

    def insert_notification(self, notification: dict) -> bool:
        check_fields(notification, "notifications")
        values = {k: notification[k] for k in ("id", "user_id", "event_id", "type", "title", "body")}
        values |= {
            "data": notification.get("data") or {},
            "mentions": list(notification.get("mentions") or []),
            "read": False,
            "created_at": ms(notification["created_at"]),
        }
        return (
            self._write(
                insert(notifications)
                .values(**values)
                .on_conflict_do_nothing(index_elements=[notifications.c.id])
                .returning(notifications.c.id)
            )
            is not None
        )

    def notifications_page(
        self, user_id: str, *, unread_only: bool, before: tuple[datetime, str] | None, limit: int
    ) -> list[dict]:
        n = notifications.c
        q = select(notifications).where(n.user_id == user_id)
        if unread_only:
            q = q.where(~n.read)  # as written in the partial index's predicate, so it is used
        if before is not None:
            q = q.where(tuple_(n.created_at, n.id) < (ms(before[0]), before[1]))
        return self._all(q.order_by(n.created_at.desc(), n.id.desc()).limit(limit))

    def mark_read(self, user_id: str, notification_id: str) -> dict | None:
        n = notifications.c
        mine = (n.id == notification_id, n.user_id == user_id)
        with self._engine().begin() as conn:
            row = conn.execute(
                update(notifications).where(*mine, ~n.read).values(read=True, read_at=now()).returning(notifications)
            ).first()
            if row is None:  # read already, or not the user's
                row = conn.execute(select(notifications).where(*mine)).first()
            return _record(row)

    # --- deliveries --------------------------------------------------------------------------

    def claim_delivery(self, key: dict, *, to: str | None, retry_from: tuple[str, ...]) -> dict | None:
        _key(key)
        at = now()
        stmt = insert(deliveries).values(
            id=str(uuid.uuid4()), **key, to=to, status="sending", attempts=1, created_at=at, updated_at=at
        )
        if retry_from:  # taken over only from those states, in the same statement
            stmt = stmt.on_conflict_do_update(
                constraint="deliveries_one_send",
                where=deliveries.c.status.in_(retry_from),
                set_={
                    "status": "sending",
                    "to": stmt.excluded.to,
                    "updated_at": stmt.excluded.updated_at,
                    "attempts": deliveries.c.attempts + 1,
                },
            )
        else:
            stmt = stmt.on_conflict_do_nothing(constraint="deliveries_one_send")
        return _record(self._write(stmt.returning(deliveries)))

    def finish_delivery(
        self, key: dict, status: str, *, provider_id: str | None = None, error: str | None = None
    ) -> None:
        at = now()
        fields: dict[str, Any] = {"status": status, "updated_at": at, "error": error}
        if provider_id is not None:
            fields["provider_id"] = provider_id
        if status == "sent":
            fields["sent_at"] = at
        self._write(update(deliveries).where(*_key(key)).values(**fields))

    def deliveries(self, **match: Any) -> list[dict]:
        check_fields(match, "deliveries")
        return self._all(
            select(deliveries)
            .where(*(deliveries.c[k] == v for k, v in match.items()))
            .order_by(deliveries.c.created_at, deliveries.c.id)
        )

    def all_records(self, kind: str) -> list[dict]:
        if kind not in KINDS:
            raise ValueError(f"no records of kind {kind!r}")
        return self._all(select(TABLES[kind]))
