"""Auth's data access: SQLAlchemy Core queries, each taking the caller's connection."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Row, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from functions.auth.tables import refresh_tokens, users

_USER_COLUMNS = (users.c.id, users.c.email, users.c.name, users.c.kyc_status, users.c.roles, users.c.created_at)


def insert_user(conn: Connection, *, user_id: str, email: str, name: str, password_hash: str,
                roles: list[str]) -> Row | None:
    """Insert a user; None if the email is taken (decided by the unique index, race-free)."""
    return conn.execute(
        pg_insert(users).values(id=user_id, email=email, name=name, password_hash=password_hash, roles=roles)
        .on_conflict_do_nothing(index_elements=[users.c.email]).returning(*_USER_COLUMNS)
    ).first()


def user_by_id(conn: Connection, user_id: str, *, for_update: bool = False) -> Row | None:
    q = select(*_USER_COLUMNS, users.c.kyc_status_at).where(users.c.id == user_id)
    return conn.execute(q.with_for_update() if for_update else q).first()


def credentials_by_email(conn: Connection, email: str) -> Row | None:
    return conn.execute(select(users.c.id, users.c.password_hash).where(users.c.email == email)).first()


def set_roles(conn: Connection, user_id: str, roles: list[str]) -> Row | None:
    return conn.execute(update(users).where(users.c.id == user_id).values(roles=roles)
                        .returning(*_USER_COLUMNS)).first()


def set_kyc_status(conn: Connection, user_id: str, status: str, decided_at: datetime) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(kyc_status=status, kyc_status_at=decided_at))


def count_admins(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(users).where(users.c.roles.any("admin"))).scalar_one()


def insert_refresh(conn: Connection, *, token_hash: str, family_id: str, user_id: str, expires_at: datetime) -> None:
    conn.execute(insert(refresh_tokens).values(token_hash=token_hash, family_id=family_id, user_id=user_id,
                                               expires_at=expires_at))


def refresh_for_update(conn: Connection, token_hash: str) -> Row | None:
    return conn.execute(select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
                        .with_for_update()).first()


def mark_used(conn: Connection, token_hash: str) -> None:
    conn.execute(update(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash).values(used_at=func.now()))


def revoke_family(conn: Connection, family_id: str) -> None:
    conn.execute(update(refresh_tokens)
                 .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
                 .values(revoked_at=func.now()))
