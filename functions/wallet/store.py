"""Wallet's data access: SQLAlchemy Core queries, each taking the caller's connection."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Connection,
    Float,
    Integer,
    Row,
    String,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal_column,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from finflow import ids
from functions.wallet.tables import kyc_replica, ledger_entries, postings, status_changes, wallets


def insert_wallet(conn: Connection, *, user_id: str, currency: str) -> Row | None:
    """A new active wallet; None if the user already has one in that currency."""
    return conn.execute(
        pg_insert(wallets)
        .values(id=str(uuid.uuid4()), kind="user", user_id=user_id, currency=currency)
        # the partial index's predicate as a literal: a bound parameter there cannot be matched
        # to the index once psycopg prepares the statement (after its 5th run on a connection)
        .on_conflict_do_nothing(
            index_elements=[wallets.c.user_id, wallets.c.currency],
            index_where=wallets.c.kind == literal_column("'user'"),
        )
        .returning(wallets)
    ).first()


def wallet(conn: Connection, wallet_id: str, *, for_update: bool = False) -> Row | None:
    if (canonical := ids.canonical(wallet_id)) is None:
        return None
    q = select(wallets).where(wallets.c.id == canonical, wallets.c.kind == "user")
    return conn.execute(q.with_for_update() if for_update else q).first()


def wallets_by_id(conn: Connection, wallet_ids: list[str]) -> dict[str, Row]:
    """The user wallets among `wallet_ids` (any spelling), by canonical id, in one query."""
    wanted = sorted({w for w in map(ids.canonical, wallet_ids) if w})
    if not wanted:
        return {}
    return {r.id: r for r in conn.execute(select(wallets).where(wallets.c.id.in_(wanted), wallets.c.kind == "user"))}


def wallets_of(conn: Connection, user_id: str) -> list[Row]:
    return list(
        conn.execute(
            select(wallets).where(wallets.c.user_id == user_id, wallets.c.kind == "user").order_by(wallets.c.created_at)
        )
    )


def set_status(conn: Connection, wallet_id: str, status: str, frozen_by: str | None) -> Row:
    return conn.execute(
        update(wallets)
        .where(wallets.c.id == wallet_id)
        .values(status=status, frozen_by=frozen_by, updated_at=func.now())
        .returning(wallets)
    ).one()


def record_status_change(
    conn: Connection,
    *,
    wallet_id: str,
    from_status: str,
    to_status: str,
    actor_id: str,
    actor_role: str,
    reason: str | None,
) -> None:
    conn.execute(
        insert(status_changes).values(
            id=str(uuid.uuid4()),
            wallet_id=wallet_id,
            from_status=from_status,
            to_status=to_status,
            actor_id=actor_id,
            actor_role=actor_role,
            reason=reason,
        )
    )


def replica_status(conn: Connection, user_id: str) -> str | None:
    if (canonical := ids.canonical(user_id)) is None:
        return None
    return conn.execute(select(kyc_replica.c.kyc_status).where(kyc_replica.c.user_id == canonical)).scalar()


# Built once, as _APPLY_POSTING below: the statements every posting runs.
_RECENTLY_VERIFIED = select(kyc_replica.c.user_id).where(
    kyc_replica.c.user_id == bindparam("p_user"),
    kyc_replica.c.kyc_status == "verified",
    kyc_replica.c.confirmed_at > func.now() - func.make_interval(0, 0, 0, 0, 0, 0, bindparam("p_age", type_=Float)),
)


def recently_verified(conn: Connection, user_id: str, max_age_seconds: float) -> bool:
    """True if the replica says verified and learned it within the last max_age_seconds."""
    if (canonical := ids.canonical(user_id)) is None:
        return False
    return conn.execute(_RECENTLY_VERIFIED, {"p_user": canonical, "p_age": max_age_seconds}).first() is not None


def upsert_replica(conn: Connection, user_id: str, status: str, status_at: datetime) -> None:
    """Keep the newest KYC status per user; an older one arriving late changes nothing."""
    stmt = pg_insert(kyc_replica).values(user_id=user_id, kyc_status=status, status_at=status_at)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[kyc_replica.c.user_id],
            set_={
                "kyc_status": stmt.excluded.kyc_status,
                "status_at": stmt.excluded.status_at,
                "confirmed_at": func.now(),
            },
            where=kyc_replica.c.status_at < stmt.excluded.status_at,
        )
    )


# --- the ledger ------------------------------------------------------------------------


def _apply_posting():
    """The statement apply_posting runs, built once: bound parameters only, so SQLAlchemy neither
    rebuilds it nor computes its cache key again (~0.5 ms a posting). Two entries, 0 and 1."""

    def param(name: str, type_) -> BindParameter:
        # never a column's name: SQLAlchemy would take that key as a value for the column in the UPDATE
        return bindparam(f"p_{name}", type_=type_)

    wallet = [param(f"wallet_{n}", UUID(as_uuid=False)) for n in (0, 1)]
    amount = [param(f"amount_{n}", BigInteger) for n in (0, 1)]
    posting_id = param("posting_id", String)
    claimed = (
        pg_insert(postings)
        .values(
            id=posting_id,
            kind=param("kind", String),
            currency=param("currency", String),
            amount_minor=param("amount_minor", BigInteger),
            description=param("description", String),
            request_hash=param("request_hash", String),
        )
        .on_conflict_do_nothing(index_elements=[postings.c.id])
        .returning(postings.c.created_at)
        .cte("claimed")
    )
    # the external account keeps no running balance: only user wallets move
    moved = (
        update(wallets)
        .where(wallets.c.id.in_(wallet), wallets.c.kind == literal_column("'user'"), exists(claimed.select()))
        .values(
            balance_minor=wallets.c.balance_minor + case((wallets.c.id == wallet[0], amount[0]), else_=amount[1]),
            updated_at=func.now(),
        )
        .returning(wallets.c.id, wallets.c.balance_minor)
        .cte("moved")
    )
    given = union_all(
        *(
            select(
                literal_column(str(n), Integer).label("n"),
                param(f"entry_{n}", UUID(as_uuid=False)).label("id"),
                wallet[n].label("wallet_id"),
                amount[n].label("amount_minor"),
            )
            for n in (0, 1)
        )
    ).subquery("given")
    entered = (
        insert(ledger_entries)
        .from_select(
            ["id", "posting_id", "wallet_id", "amount_minor", "balance_after_minor"],
            select(given.c.id, posting_id, given.c.wallet_id, given.c.amount_minor, moved.c.balance_minor)
            .select_from(given.outerjoin(moved, moved.c.id == given.c.wallet_id))
            .where(exists(claimed.select()))
            .order_by(given.c.n),  # seq follows the entries' order
        )
        .cte("entered")
    )
    return (
        select(claimed.c.created_at, moved.c.id, moved.c.balance_minor)
        .select_from(claimed.outerjoin(moved, true()))
        .add_cte(entered)
    )


_APPLY_POSTING = _apply_posting()


def apply_posting(
    conn: Connection,
    *,
    posting_id: str,
    kind: str,
    currency: str,
    amount_minor: int,
    description: str | None,
    request_hash: str,
    entries: list[tuple[str, int]],
) -> tuple[datetime, dict[str, int]] | None:
    """A posting in one statement, so the wallets' locks are held across one statement rather
    than four: claim the posting id, add each entry's amount to its wallet's balance (user
    wallets only) and write the two entries in order, each with its wallet's balance after
    (None on the external account). `entries`: the two (wallet id, amount). Returns (created_at,
    balance after per user wallet); None if that id was posted before, and then nothing is
    written (a posting of the id still running is waited for and conflicts once it commits)."""
    rows = conn.execute(
        _APPLY_POSTING,
        {
            "p_posting_id": posting_id,
            "p_kind": kind,
            "p_currency": currency,
            "p_amount_minor": amount_minor,
            "p_description": description,
            "p_request_hash": request_hash,
        }
        | {f"p_wallet_{n}": w for n, (w, _) in enumerate(entries)}
        | {f"p_amount_{n}": amount for n, (_, amount) in enumerate(entries)}
        | {f"p_entry_{n}": str(uuid.uuid4()) for n in (0, 1)},
    ).all()
    if not rows:
        return None
    return rows[0].created_at, {r.id: r.balance_minor for r in rows if r.id is not None}


def posting(conn: Connection, posting_id: str) -> Row | None:
    return conn.execute(select(postings).where(postings.c.id == posting_id)).first()


def posting_entries(conn: Connection, posting_id: str) -> list[Row]:
    """A posting's entries in order, each with its wallet's owner (None: the external account)."""
    return list(
        conn.execute(
            select(ledger_entries, wallets.c.user_id)
            .join(wallets, wallets.c.id == ledger_entries.c.wallet_id)
            .where(ledger_entries.c.posting_id == posting_id)
            .order_by(ledger_entries.c.seq)
        )
    )


_LOCK_WALLETS = (
    select(wallets)
    .where(wallets.c.id.in_(bindparam("p_ids", expanding=True)), wallets.c.kind == "user")
    .order_by(wallets.c.id)
    .with_for_update(of=wallets)
)
# and, in the same round trip, whether the replica settles the initiator's KYC (as recently_verified)
_LOCK_WALLETS_AND_KYC = _LOCK_WALLETS.add_columns(_RECENTLY_VERIFIED.exists().label("kyc_verified"))


def _in_lock_order(wallet_ids: list[str]) -> list[str]:
    """The wallets of a posting, always locked in id order, so opposite transfers cannot deadlock."""
    return sorted(w for w in map(ids.canonical, wallet_ids) if w)


def lock_wallets(conn: Connection, wallet_ids: list[str]) -> dict[str, Row]:
    """Lock the wallets of a posting (_in_lock_order)."""
    return {r.id: r for r in conn.execute(_LOCK_WALLETS, {"p_ids": _in_lock_order(wallet_ids)}).all()}


def lock_wallets_for(
    conn: Connection, wallet_ids: list[str], initiator: str, max_age_seconds: float
) -> tuple[dict[str, Row], bool]:
    """lock_wallets, and whether the replica learned within max_age_seconds that the initiator
    is verified (False as well when none of the wallets exists: the statement returns no row)."""
    user = ids.canonical(initiator)
    if user is None:
        return lock_wallets(conn, wallet_ids), False
    wanted = _in_lock_order(wallet_ids)
    rows = conn.execute(_LOCK_WALLETS_AND_KYC, {"p_ids": wanted, "p_user": user, "p_age": max_age_seconds}).all()
    return {r.id: r for r in rows}, bool(rows) and rows[0].kyc_verified


def external_account(conn: Connection, currency: str) -> str:
    conn.execute(
        pg_insert(wallets)
        .values(id=str(uuid.uuid4()), kind="external", user_id=None, currency=currency, status="active")
        .on_conflict_do_nothing(
            index_elements=[wallets.c.currency], index_where=wallets.c.kind == literal_column("'external'")
        )
    )
    return conn.execute(
        select(wallets.c.id).where(wallets.c.kind == "external", wallets.c.currency == currency)
    ).scalar_one()


def entries_page(conn: Connection, wallet_id: str, before_seq: int | None, limit: int) -> list[Row]:
    """The wallet's entries, newest first, with their posting's kind and description."""
    conditions = [ledger_entries.c.wallet_id == wallet_id]
    if before_seq is not None:
        conditions.append(ledger_entries.c.seq < before_seq)
    return list(
        conn.execute(
            select(ledger_entries, postings.c.kind, postings.c.currency, postings.c.description)
            .join(postings, postings.c.id == ledger_entries.c.posting_id)
            .where(and_(*conditions))
            .order_by(ledger_entries.c.seq.desc())
            .limit(limit)
        )
    )
