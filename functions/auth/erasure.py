"""Auth's part of a user's erasure (GDPR Art. 17), and the event that carries it further.

In one transaction: email and name become placeholders (unique, so the row and every
reference to the user id stay valid), the password becomes unusable, every session is
revoked, the failed-login counter keyed by the email goes, the events already recorded
about the user are pseudonymised, and UserErased enters the outbox. Notification, KYC and
Reporting consume it; Wallet and Payment keep only ids and the financial record.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import bcrypt

from finflow import contracts, events, exports, ids
from finflow.db import engine
from finflow.problems import Principal, Problem, require_user
from functions.auth import logic, store
from functions.auth.schemas import Erasure
from functions.auth.tables import outbox

ERASED_NAME = "Erased user"


def placeholder_email(user_id: str) -> str:
    return f"erased-{user_id}@erased.invalid"  # .invalid (RFC 2606): can never receive mail


def erase_me(p: Principal, password: str) -> Erasure:
    require_user(p)
    return _erase(p.subject, password=password)


def erase_user(p: Principal, user_id: str) -> Erasure:
    if not p.is_admin:
        raise Problem(403, "only an admin can erase another user")
    uid = ids.canonical(user_id)
    if uid == p.subject:
        raise Problem(403, "admins erase their own account through POST /api/auth/me/erasure")
    if uid is None:
        raise Problem(404, "user not found")
    return _erase(uid)


def _erase(user_id: str, *, password: str | None = None) -> Erasure:
    if password is not None:
        _check_password(user_id, password)
    with _db().begin() as conn:
        row = store.user_by_id(conn, user_id, for_update=True)
        if row is None:
            raise Problem(404, "user not found")
        if (done := store.erased_at(conn, user_id)) is not None:
            return Erasure(user_id=user_id, erased_at=done)  # asked again: the same answer, no new event
        erased_at = datetime.now(UTC)
        email = placeholder_email(user_id)
        unusable = bcrypt.hashpw(secrets.token_bytes(32), bcrypt.gensalt(4)).decode()
        store.pseudonymise_user(
            conn, user_id, email=email, name=ERASED_NAME, password_hash=unusable, erased_at=erased_at
        )
        store.revoke_sessions(conn, user_id)
        store.clear_failures(conn, f"account:{row.email}")
        store.pseudonymise_outbox(conn, outbox, user_id, email=email, name=ERASED_NAME)
        _delete_exports(conn, user_id)  # inside the transaction: if S3 fails, nothing is erased yet
        events.record(
            conn,
            outbox,
            "UserErased",
            contracts.UserErased(user_id=user_id, erased_at=erased_at).model_dump(mode="json"),
        )
    events.publish_after_commit(_db(), outbox, "auth", logic.obs)
    logic.obs.logger.info("user erased", extra={"user_id": user_id})
    return Erasure(user_id=user_id, erased_at=erased_at)


def _delete_exports(conn, user_id: str) -> None:
    """The user's data exports are copies of everything: they go with the account. A part a
    module writes after this (an export requested just before) expires with the bucket's rule."""
    for export_id in store.export_ids_of(conn, user_id):
        try:
            exports.delete(export_id)
        except exports.ExportsUnavailable:
            raise Problem(503, "the account cannot be erased right now; nothing was changed, try again later") from None


def _check_password(user_id: str, password: str) -> None:
    """The account's password, under the login's lockout: a stolen token cannot guess it."""
    with _db().connect() as conn:
        row = store.user_by_id(conn, user_id)
        if row is None or store.erased_at(conn, user_id) is not None:
            return  # nothing to protect: _erase answers 404, or the erasure already done
        key = f"account:{row.email}"
        logic.refuse_if_locked(conn, [key], "too many failed attempts; try again later")
        creds = store.credentials_by_email(conn, row.email)
    given = password.encode()
    if creds is None or len(given) > 72 or not bcrypt.checkpw(given, creds.password_hash.encode()):
        logic.count_failure([key])
        raise Problem(403, "the password is not correct; the account was not erased")


def _db():
    return engine("auth")
