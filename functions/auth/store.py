"""Auth's data access: SQLAlchemy Core queries, each taking the caller's connection."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Row, String, Text, case, cast, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from functions.auth.tables import exports, login_failures, refresh_tokens, users

_USER_COLUMNS = (users.c.id, users.c.email, users.c.name, users.c.kyc_status, users.c.roles, users.c.created_at)


def insert_user(
    conn: Connection, *, user_id: str, email: str, name: str, password_hash: str, roles: list[str]
) -> Row | None:
    """Insert a user; None if the email is taken (decided by the unique index, race-free)."""
    return conn.execute(
        pg_insert(users)
        .values(id=user_id, email=email, name=name, password_hash=password_hash, roles=roles)
        .on_conflict_do_nothing(index_elements=[users.c.email])
        .returning(*_USER_COLUMNS)
    ).first()


def user_by_id(conn: Connection, user_id: str, *, for_update: bool = False) -> Row | None:
    q = select(*_USER_COLUMNS, users.c.kyc_status_at).where(users.c.id == user_id)
    return conn.execute(q.with_for_update() if for_update else q).first()


def credentials_by_email(conn: Connection, email: str) -> Row | None:
    # an erased user's placeholder email never logs in
    return conn.execute(
        select(users.c.id, users.c.password_hash).where(users.c.email == email, users.c.erased_at.is_(None))
    ).first()


def set_password_hash(conn: Connection, user_id: str, password_hash: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


def set_roles(conn: Connection, user_id: str, roles: list[str]) -> Row | None:
    return conn.execute(
        update(users).where(users.c.id == user_id).values(roles=roles).returning(*_USER_COLUMNS)
    ).first()


def set_kyc_status(conn: Connection, user_id: str, status: str, decided_at: datetime) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(kyc_status=status, kyc_status_at=decided_at))


def count_admins(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(users).where(users.c.roles.any("admin"))).scalar_one()


def insert_refresh(conn: Connection, *, token_hash: str, family_id: str, user_id: str, expires_at: datetime) -> None:
    conn.execute(
        insert(refresh_tokens).values(
            token_hash=token_hash, family_id=family_id, user_id=user_id, expires_at=expires_at
        )
    )


def refresh_for_update(conn: Connection, token_hash: str) -> Row | None:
    return conn.execute(
        select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash).with_for_update()
    ).first()


def mark_used(conn: Connection, token_hash: str) -> None:
    conn.execute(update(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash).values(used_at=func.now()))


def revoke_family(conn: Connection, family_id: str) -> None:
    conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


# --- failed logins ----------------------------------------------------------------------


def locked_until(conn: Connection, keys: list[str]) -> datetime | None:
    """The latest lock still running on any of `keys`."""
    return conn.execute(
        select(func.max(login_failures.c.locked_until)).where(
            login_failures.c.key.in_(keys), login_failures.c.locked_until > func.now()
        )
    ).scalar()


def count_failure(conn: Connection, key: str, *, window_seconds: int, limit: int, lock_seconds: int) -> None:
    """One more failure for `key`; a window that has passed starts again at one; reaching
    `limit` within the window locks the key for `lock_seconds`."""
    lock = func.now() + func.make_interval(0, 0, 0, 0, 0, 0, lock_seconds)
    expired = login_failures.c.window_started_at < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, window_seconds)
    failures = case((expired, 1), else_=login_failures.c.failures + 1)
    stmt = pg_insert(login_failures).values(
        key=key, failures=1, window_started_at=func.now(), locked_until=lock if limit <= 1 else None
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[login_failures.c.key],
            set_={
                "failures": failures,
                "window_started_at": case((expired, func.now()), else_=login_failures.c.window_started_at),
                "locked_until": case((failures >= limit, lock), else_=login_failures.c.locked_until),
            },
        )
    )


def clear_failures(conn: Connection, key: str) -> None:
    conn.execute(login_failures.delete().where(login_failures.c.key == key))


# --- erasure ------------------------------------------------------------------------------


def erased_at(conn: Connection, user_id: str) -> datetime | None:
    return conn.execute(select(users.c.erased_at).where(users.c.id == user_id)).scalar()


def pseudonymise_user(
    conn: Connection, user_id: str, *, email: str, name: str, password_hash: str, erased_at: datetime
) -> None:
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(email=email, name=name, password_hash=password_hash, erased_at=erased_at)
    )


def revoke_sessions(conn: Connection, user_id: str) -> None:
    """Every refresh token of the user, in every session family."""
    conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


def pseudonymise_outbox(conn: Connection, outbox, user_id: str, *, email: str, name: str) -> None:
    """Events already recorded about the user keep their shape, with the placeholders."""
    about = func.coalesce(outbox.c.detail["data"]["id"].astext, outbox.c.detail["data"]["user_id"].astext)
    data = outbox.c.detail["data"]
    for field, value in (("email", email), ("name", name)):
        conn.execute(
            update(outbox)
            .where(about == user_id, data.has_key(field), data[field].astext.isnot(None))
            .values(
                detail=func.jsonb_set(
                    outbox.c.detail, cast(["data", field], ARRAY(Text)), func.to_jsonb(cast(value, String))
                )
            )
        )


# --- data exports ---------------------------------------------------------------------------


def sessions_of(conn: Connection, user_id: str) -> list[dict]:
    """The user's refresh tokens as an export shows them: families and dates, never a hash."""
    t = refresh_tokens.c
    return [
        dict(r)
        for r in conn.execute(
            select(t.family_id, t.created_at, t.expires_at, t.used_at, t.revoked_at)
            .where(t.user_id == user_id)
            .order_by(t.created_at)
        ).mappings()
    ]


def insert_export(conn: Connection, *, export_id: str, user_id: str, requested_at: datetime) -> None:
    conn.execute(insert(exports).values(id=export_id, user_id=user_id, requested_at=requested_at))


def export_request(conn: Connection, export_id: str) -> Row | None:
    return conn.execute(select(exports).where(exports.c.id == export_id)).first()


def export_ids_of(conn: Connection, user_id: str) -> list[str]:
    return list(conn.execute(select(exports.c.id).where(exports.c.user_id == user_id)).scalars())
