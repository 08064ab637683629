"""KYC's data access: SQLAlchemy Core queries, each taking the caller's connection.

Submissions leave `pending` only through an UPDATE guarded by `status = 'pending'`, so a
compliance decision and the provider can race and exactly one applies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from finflow import ids
from functions.kyc import aml
from functions.kyc.tables import alerts, aml_limits, observed_payments, submissions, wallet_ages


def _lock(conn: Connection, key: str) -> None:
    """A transaction-scoped advisory lock: serialises work on one user or one wallet."""
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def _queue(table, created: str, status: str | None, after: tuple[datetime, str] | None, limit: int):
    """Oldest first (a work queue), optionally of one status, after the keyset position `after`."""
    q = select(table).order_by(table.c[created], table.c.id).limit(limit)
    if status:
        q = q.where(table.c.status == status)
    if after is not None:
        q = q.where(tuple_(table.c[created], table.c.id) > tuple(after))
    return q


# --- submissions -----------------------------------------------------------------------


def lock_user(conn: Connection, user_id: str) -> None:
    _lock(conn, f"kyc-user:{user_id}")


def blocking_submission(conn: Connection, user_id: str) -> Row | None:
    """The user's pending or verified submission, if any (either blocks a new one)."""
    return conn.execute(
        select(submissions)
        .where(submissions.c.user_id == user_id, submissions.c.status.in_(("pending", "verified")))
        .order_by(submissions.c.submitted_at.desc())
        .limit(1)
    ).first()


def insert_submission(conn: Connection, **values) -> Row:
    return conn.execute(insert(submissions).values(**values).returning(submissions)).one()


def decide(conn: Connection, submission_id: str, *, status: str, reason: str | None, decided_by: str) -> Row | None:
    """pending -> verified | rejected, stamped with the decision time; None if already decided."""
    return conn.execute(
        update(submissions)
        .where(submissions.c.id == submission_id, submissions.c.status == "pending")
        .values(status=status, reason=reason, decided_by=decided_by, decided_at=func.clock_timestamp())
        .returning(submissions)
    ).first()


def submission(conn: Connection, submission_id: str) -> Row | None:
    if (canonical := ids.canonical(submission_id)) is None:
        return None
    return conn.execute(select(submissions).where(submissions.c.id == canonical)).first()


def submissions_of(conn: Connection, user_id: str) -> list[Row]:
    return list(
        conn.execute(
            select(submissions)
            .where(submissions.c.user_id == user_id)
            .order_by(submissions.c.submitted_at.desc(), submissions.c.id.desc())
        )
    )


def submissions_page(conn: Connection, status: str | None, after: tuple[datetime, str] | None, limit: int) -> list[Row]:
    return list(conn.execute(_queue(submissions, "submitted_at", status, after, limit)))


# --- AML: observed payments, limits, wallet ages -------------------------------------------


def lock_wallets(conn: Connection, wallet_ids: list[str]) -> None:
    for wallet_id in sorted(set(wallet_ids)):  # one order everywhere: no deadlocks
        _lock(conn, f"aml-wallet:{wallet_id}")


def observe(conn: Connection, p: aml.Payment) -> bool:
    """Record a completed payment; False if it was observed before (under another event)."""
    return (
        conn.execute(
            pg_insert(observed_payments)
            .values(
                payment_id=p.id,
                kind=p.kind,
                from_wallet_id=p.from_wallet_id,
                to_wallet_id=p.to_wallet_id,
                from_user_id=p.from_user_id,
                to_user_id=p.to_user_id,
                amount_minor=p.amount_minor,
                currency=p.currency,
                completed_at=p.completed_at,
            )
            .on_conflict_do_nothing(index_elements=[observed_payments.c.payment_id])
            .returning(observed_payments.c.payment_id)
        ).first()
        is not None
    )


def _payment(row: Row) -> aml.Payment:
    return aml.Payment(
        id=row.payment_id,
        kind=row.kind,
        from_wallet_id=row.from_wallet_id,
        to_wallet_id=row.to_wallet_id,
        from_user_id=row.from_user_id,
        to_user_id=row.to_user_id,
        amount_minor=row.amount_minor,
        currency=row.currency,
        completed_at=row.completed_at,
    )


def payments(conn: Connection, wallet_id: str, *, direction: str, since: datetime, currency: str) -> list[aml.Payment]:
    """Observed payments out of (direction "out") or into ("in") a wallet completed after `since`."""
    column = observed_payments.c.from_wallet_id if direction == "out" else observed_payments.c.to_wallet_id
    return [
        _payment(r)
        for r in conn.execute(
            select(observed_payments).where(
                column == wallet_id, observed_payments.c.currency == currency, observed_payments.c.completed_at > since
            )
        )
    ]


def limits(conn: Connection, currency: str) -> aml.Limits:
    row = conn.execute(select(aml_limits).where(aml_limits.c.currency == currency)).first()
    if row is None:
        return aml.Limits.unconfigured(currency)
    return aml.Limits(
        currency=currency,
        threshold_minor=row.threshold_minor,
        velocity_count=row.velocity_count,
        velocity_amount_minor=row.velocity_amount_minor,
        rapid_min_minor=row.rapid_min_minor,
    )


def wallet_age(conn: Connection, wallet_id: str) -> datetime | None:
    return conn.execute(select(wallet_ages.c.created_at).where(wallet_ages.c.wallet_id == wallet_id)).scalar()


def remember_wallet_age(conn: Connection, wallet_id: str, created_at: datetime) -> None:
    conn.execute(
        pg_insert(wallet_ages)
        .values(wallet_id=wallet_id, created_at=created_at)
        .on_conflict_do_nothing(index_elements=[wallet_ages.c.wallet_id])
    )


# --- AML: alerts ----------------------------------------------------------------------------


def insert_alert(conn: Connection, **values) -> Row | None:
    """A new alert; None if this rule already raised one for this payment."""
    return conn.execute(
        pg_insert(alerts)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[alerts.c.rule, alerts.c.payment_id])
        .returning(alerts)
    ).first()


def alert(conn: Connection, alert_id: str, *, for_update: bool = False) -> Row | None:
    if (canonical := ids.canonical(alert_id)) is None:
        return None
    q = select(alerts).where(alerts.c.id == canonical)
    return conn.execute(q.with_for_update() if for_update else q).first()


def pending_freezes(conn: Connection, payment_id: str) -> list[str]:
    return list(
        conn.execute(
            select(alerts.c.id)
            .where(alerts.c.payment_id == payment_id, alerts.c.freeze_state == "pending")
            .order_by(alerts.c.created_at)
        ).scalars()
    )


def lock_pending_freeze(conn: Connection, alert_id: str) -> Row | None:
    """The alert, locked, if its freeze still has to be sent to Wallet."""
    return conn.execute(
        select(alerts).where(alerts.c.id == alert_id, alerts.c.freeze_state == "pending").with_for_update()
    ).first()


def set_freeze(conn: Connection, alert_id: str, freeze: str) -> None:
    values: dict[str, Any] = {"freeze_state": freeze}
    if freeze == "frozen":
        values["frozen_at"] = func.now()
    conn.execute(update(alerts).where(alerts.c.id == alert_id).values(**values))


def other_freeze(conn: Connection, wallet_id: str, alert_id: str) -> Row | None:
    """Another open alert that froze (or is freezing) the same wallet."""
    return conn.execute(
        select(alerts)
        .where(
            alerts.c.wallet_id == wallet_id,
            alerts.c.id != alert_id,
            alerts.c.status == "open",
            alerts.c.freeze_state.in_(("pending", "frozen")),
        )
        .order_by(alerts.c.created_at)
        .limit(1)
    ).first()


def resolve(conn: Connection, alert_id: str, *, resolution: str, resolved_by: str, freeze: str | None) -> Row:
    return conn.execute(
        update(alerts)
        .where(alerts.c.id == alert_id)
        .values(
            status="resolved",
            resolution=resolution,
            resolved_by=resolved_by,
            resolved_at=func.now(),
            freeze_state=freeze,
        )
        .returning(alerts)
    ).one()


def alerts_page(conn: Connection, status: str | None, after: tuple[datetime, str] | None, limit: int) -> list[Row]:
    return list(conn.execute(_queue(alerts, "created_at", status, after, limit)))


# --- erasure ------------------------------------------------------------------------------


def forget_documents(conn: Connection, user_id: str) -> int:
    """The user's submissions keep their decision record, without the document's URL or key."""
    return conn.execute(
        update(submissions)
        .where(submissions.c.user_id == user_id, submissions.c.documents_erased_at.is_(None))
        .values(document_url=None, document_key=None, documents_erased_at=func.now())
    ).rowcount
