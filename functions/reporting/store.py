"""Reporting's writes: upserts keyed by entity, safe under redelivery and any order.

A field that changes over time is overwritten only by a newer event: `_newer` compares
(event time, event id) with what the row holds, so two events with the same time still
resolve the same way whatever order they arrive in. Sums change only in the transaction
that newly inserts the payment row (`insert_payment` answers whether it did).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, case, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from functions.reporting.tables import aml_alerts, daily, erased_users, payments, submissions, users, wallets


def _newer(table, excluded, at: str, event: str):
    """SQL: the incoming (time, event id) is newer than the row's, or the row has none yet."""
    return or_(table.c[at].is_(None), tuple_(excluded[at], excluded[event]) > tuple_(table.c[at], table.c[event]))


def _guarded(table, excluded, at: str, event: str, *columns: str) -> dict:
    """SET clauses writing `columns`, `at` and `event` only from a newer event."""
    newer = _newer(table, excluded, at, event)
    return {c: case((newer, excluded[c]), else_=table.c[c]) for c in (*columns, at, event)}


# --- users and KYC --------------------------------------------------------------------------


def upsert_user(
    conn: Connection,
    user_id: str,
    *,
    kyc_status: str,
    kyc_at: datetime,
    event_id: str,
    registered_at: datetime | None = None,
) -> None:
    stmt = pg_insert(users).values(
        user_id=user_id, registered_at=registered_at, kyc_status=kyc_status, kyc_at=kyc_at, kyc_event_id=event_id
    )
    ex = stmt.excluded
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[users.c.user_id],
            set_={
                # LEAST ignores NULLs: the registration time, once known, is kept
                "registered_at": func.least(users.c.registered_at, ex.registered_at),
                **_guarded(users, ex, "kyc_at", "kyc_event_id", "kyc_status"),
            },
        )
    )


def submission_received(
    conn: Connection, submission_id: str, user_id: str, document_type: str, submitted_at: datetime
) -> None:
    stmt = pg_insert(submissions).values(
        submission_id=submission_id, user_id=user_id, document_type=document_type, submitted_at=submitted_at
    )
    ex = stmt.excluded
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[submissions.c.submission_id],
            set_={
                "document_type": func.coalesce(ex.document_type, submissions.c.document_type),
                "submitted_at": func.least(submissions.c.submitted_at, ex.submitted_at),
            },
        )
    )


def submission_decided(
    conn: Connection, submission_id: str, user_id: str, decision: str, decided_at: datetime, event_id: str
) -> None:
    stmt = pg_insert(submissions).values(
        submission_id=submission_id,
        user_id=user_id,
        decision=decision,
        decided_at=decided_at,
        decision_event_id=event_id,
    )
    ex = stmt.excluded
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[submissions.c.submission_id],
            set_=_guarded(submissions, ex, "decided_at", "decision_event_id", "decision"),
        )
    )


# --- wallets ----------------------------------------------------------------------------------


def wallet_status(
    conn: Connection,
    wallet_id: str,
    *,
    user_id: str,
    currency: str,
    status: str,
    at: datetime,
    event_id: str,
    created_at: datetime | None = None,
) -> None:
    stmt = pg_insert(wallets).values(
        wallet_id=wallet_id,
        user_id=user_id,
        currency=currency,
        created_at=created_at,
        status=status,
        status_at=at,
        status_event_id=event_id,
    )
    ex = stmt.excluded
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[wallets.c.wallet_id],
            set_={
                "user_id": func.coalesce(wallets.c.user_id, ex.user_id),
                "created_at": func.least(wallets.c.created_at, ex.created_at),
                **_guarded(wallets, ex, "status_at", "status_event_id", "status"),
            },
        )
    )


def add_to_balance(conn: Connection, wallet_id: str, *, currency: str, user_id: str | None, delta: int) -> None:
    """A posting on a wallet; the wallet's row is made if no wallet event has arrived yet."""
    stmt = pg_insert(wallets).values(wallet_id=wallet_id, user_id=user_id, currency=currency, balance_minor=delta)
    ex = stmt.excluded
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[wallets.c.wallet_id],
            set_={
                "balance_minor": wallets.c.balance_minor + ex.balance_minor,
                "user_id": func.coalesce(wallets.c.user_id, ex.user_id),
            },
        )
    )


# --- payments ---------------------------------------------------------------------------------


def insert_payment(conn: Connection, **row) -> bool:
    """True if this payment is new (its sums are to be added now), False if it was known."""
    inserted = conn.execute(
        pg_insert(payments).values(**row).on_conflict_do_nothing().returning(payments.c.payment_id)
    ).first()
    return inserted is not None


def payment_status(conn: Connection, payment_id: str) -> str | None:
    return conn.execute(
        payments.select().with_only_columns(payments.c.status).where(payments.c.payment_id == payment_id)
    ).scalar()


def payment(conn: Connection, payment_id: str):
    return conn.execute(payments.select().where(payments.c.payment_id == payment_id)).first()


def add_to_daily(conn: Connection, *, day: date, currency: str, kind: str, status: str, amount_minor: int) -> None:
    stmt = pg_insert(daily).values(
        day=day, currency=currency, kind=kind, status=status, count=1, volume_minor=amount_minor
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[daily.c.day, daily.c.currency, daily.c.kind, daily.c.status],
            set_={"count": daily.c.count + 1, "volume_minor": daily.c.volume_minor + stmt.excluded.volume_minor},
        )
    )


# --- AML --------------------------------------------------------------------------------------


def insert_alert(conn: Connection, **row) -> None:
    conn.execute(pg_insert(aml_alerts).values(**row).on_conflict_do_nothing())


# --- erasure ------------------------------------------------------------------------------


def mark_erased(conn: Connection, user_id: str, erased_at: datetime) -> None:
    conn.execute(pg_insert(erased_users).values(user_id=user_id, erased_at=erased_at).on_conflict_do_nothing())


def any_erased(conn: Connection, *user_ids: str | None) -> bool:
    wanted = [u for u in user_ids if u]
    return (
        bool(wanted)
        and conn.execute(
            select(func.count()).select_from(erased_users).where(erased_users.c.user_id.in_(wanted))
        ).scalar_one()
        > 0
    )


def forget_descriptions(conn: Connection, user_id: str) -> list[str]:
    """The user's payments (either side) lose their free-text description; their ids."""
    mine = or_(payments.c.from_user_id == user_id, payments.c.to_user_id == user_id)
    return list(
        conn.execute(
            update(payments)
            .where(mine, payments.c.description.isnot(None))
            .values(description=None)
            .returning(payments.c.payment_id)
        ).scalars()
    )


def payments_of(conn: Connection, user_id: str) -> list:
    """The user's payments, either side, in one query."""
    mine = or_(payments.c.from_user_id == user_id, payments.c.to_user_id == user_id)
    return list(conn.execute(payments.select().where(mine)))
