"""Payment's data access: SQLAlchemy Core queries, each taking the caller's connection.

The state machine lives here as SQL: a payment leaves `pending` only through an UPDATE
guarded by `status = 'pending'`, so whoever resolves it first wins and nobody resolves
it twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    Connection,
    Interval,
    Row,
    Update,
    and_,
    bindparam,
    delete,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from functions.payment.tables import kyc_replica, payments, wallet_replica

# The statements of every payment are built once (bound parameters named apart from the columns:
# SQLAlchemy would read such a key as a value for that column): a per-call build and its cache
# key cost more than the round trip. The columns a call sets are its parameters.
_INSERT_PENDING = (
    pg_insert(payments)
    .values(status="pending", lease_until=func.now() + bindparam("p_lease", type_=Interval))
    .on_conflict_do_nothing(index_elements=[payments.c.initiator_user_id, payments.c.idempotency_key])
    .returning(payments)
)


def insert_pending(conn: Connection, *, lease_seconds: float, **values) -> Row | None:
    """Insert a pending payment, leased to the caller; None if the initiator already used
    this Idempotency-Key (decided by the unique constraint, so concurrent requests race safely)."""
    return conn.execute(_INSERT_PENDING, {"p_lease": timedelta(seconds=lease_seconds), **values}).first()


def by_id(conn: Connection, payment_id: str) -> Row | None:
    return conn.execute(select(payments).where(payments.c.id == payment_id)).first()


def by_key(conn: Connection, user_id: str, key: str) -> Row | None:
    return conn.execute(
        select(payments).where(payments.c.initiator_user_id == user_id, payments.c.idempotency_key == key)
    ).first()


_COMPLETE = (
    update(payments)
    .where(payments.c.id == bindparam("p_id"), payments.c.status == "pending")
    .values(status="completed", completed_at=func.now(), lease_until=None)
    .returning(payments)
)


def complete(conn: Connection, payment_id: str, **learned) -> Row | None:
    """pending -> completed; None if it was not pending any more. `learned`: the amount and
    parties Wallet's posting settled for a payment whose wallet Payment had not yet heard of."""
    return conn.execute(_COMPLETE, {"p_id": payment_id, **learned}).first()


def withdraw_pending(conn: Connection, payment_id: str) -> bool:
    """Remove a pending payment whose posting Wallet refused on a check: nothing moved, and a
    request refused by a check leaves nothing behind (its Idempotency-Key stays unused)."""
    gone = conn.execute(delete(payments).where(payments.c.id == payment_id, payments.c.status == "pending"))
    return gone.rowcount == 1


def fail(conn: Connection, payment_id: str, reason: str, **learned) -> Row | None:
    """pending -> failed; None if it was not pending any more."""
    return conn.execute(
        update(payments)
        .where(payments.c.id == payment_id, payments.c.status == "pending")
        .values(status="failed", failed_at=func.now(), failure_reason=reason[:200], lease_until=None, **learned)
        .returning(payments)
    ).first()


def answer(payment_id: str, status: int, body: str) -> Update:
    """The statement that stores a payment's final answer, for replays: sent with the payment's
    event (finflow.events.record's `alongside`), one round trip for both."""
    return update(payments).where(payments.c.id == payment_id).values(response_status=status, response_body=body)


def take_lease(conn: Connection, payment_id: str, lease_seconds: float) -> Row | None:
    """Lease a pending payment nobody is driving (lease free or expired); None otherwise."""
    return conn.execute(
        update(payments)
        .where(
            payments.c.id == payment_id,
            payments.c.status == "pending",
            or_(payments.c.lease_until.is_(None), payments.c.lease_until < func.now()),
        )
        .values(lease_until=func.now() + timedelta(seconds=lease_seconds))
        .returning(payments)
    ).first()


def release_lease(conn: Connection, payment_id: str) -> None:
    conn.execute(
        update(payments).where(payments.c.id == payment_id, payments.c.status == "pending").values(lease_until=None)
    )


def lease_stale_pending(conn: Connection, *, min_age_seconds: float, lease_seconds: float, limit: int) -> list[Row]:
    """Lease up to `limit` pending payments older than `min_age_seconds` that nobody is
    driving; rows a concurrent reconciler is leasing right now are skipped."""
    candidates = (
        select(payments.c.id)
        .where(
            payments.c.status == "pending",
            payments.c.created_at < func.now() - timedelta(seconds=min_age_seconds),
            or_(payments.c.lease_until.is_(None), payments.c.lease_until < func.now()),
        )
        .order_by(payments.c.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(
        conn.execute(
            update(payments)
            .where(payments.c.id.in_(candidates.scalar_subquery()))
            .values(lease_until=func.now() + timedelta(seconds=lease_seconds))
            .returning(payments)
        )
    )


def page_for_user(conn: Connection, user_id: str, after: tuple[datetime, str] | None, limit: int) -> list[Row]:
    """The user's payments as either party, newest first, after the keyset position `after`."""
    conditions = [or_(payments.c.from_user_id == user_id, payments.c.to_user_id == user_id)]
    if after is not None:
        conditions.append(tuple_(payments.c.created_at, payments.c.id) < tuple(after))
    return list(
        conn.execute(
            select(payments)
            .where(and_(*conditions))
            .order_by(payments.c.created_at.desc(), payments.c.id.desc())
            .limit(limit)
        )
    )


# --- the replicas ------------------------------------------------------------------------


_REPLICATED = select(
    select(kyc_replica.c.kyc_status)
    .where(kyc_replica.c.user_id == bindparam("p_user"))
    .scalar_subquery()
    .label("kyc_status"),
    wallet_replica,
).select_from(
    select(literal(1).label("one"))
    .subquery()
    .outerjoin(wallet_replica, wallet_replica.c.wallet_id.in_(bindparam("p_wallets", expanding=True)))
)


def replicated(conn: Connection, user_id: str, wallet_ids: list[str]) -> tuple[str | None, dict[str, Row]]:
    """The user's replicated KYC status (None: never heard of) and the replicated wallets among
    `wallet_ids` (canonical ids), in one round trip."""
    rows = conn.execute(_REPLICATED, {"p_user": user_id, "p_wallets": wallet_ids}).all()
    return rows[0].kyc_status, {r.wallet_id: r for r in rows if r.wallet_id is not None}


def replicate_wallet(
    conn: Connection, *, wallet_id: str, user_id: str, currency: str, status: str, at: datetime
) -> None:
    """Keep the newest status per wallet; an older change arriving late, or twice, changes nothing."""
    stmt = pg_insert(wallet_replica).values(
        wallet_id=wallet_id, user_id=user_id, currency=currency, status=status, changed_at=at
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[wallet_replica.c.wallet_id],
            set_={"status": stmt.excluded.status, "changed_at": stmt.excluded.changed_at},
            where=wallet_replica.c.changed_at < stmt.excluded.changed_at,
        )
    )


def replicate_kyc(conn: Connection, *, user_id: str, status: str, at: datetime) -> None:
    stmt = pg_insert(kyc_replica).values(user_id=user_id, kyc_status=status, changed_at=at)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[kyc_replica.c.user_id],
            set_={"kyc_status": stmt.excluded.kyc_status, "changed_at": stmt.excluded.changed_at},
            where=kyc_replica.c.changed_at < stmt.excluded.changed_at,
        )
    )
