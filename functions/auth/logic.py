"""Auth's rules: registration, sessions (refresh rotation with reuse detection), roles,
service tokens and the KYC status that every other module's checks cascade from."""

from __future__ import annotations

import functools
import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import bcrypt

from finflow import contracts, events, ids
from finflow.config import settings
from finflow.db import engine
from finflow.observability import for_module
from finflow.problems import Principal, Problem, require_user
from finflow.tokens import issue
from functions.auth import store
from functions.auth.keys import key_ring, service_module
from functions.auth.schemas import ClientCredentials, RegisterRequest, ServiceToken, TokenPair, User
from functions.auth.tables import outbox, processed_events

obs = for_module("auth")


@functools.cache
def _dummy_hash(rounds: int) -> bytes:
    """Checked instead of a stored hash when the email is unknown: at the configured cost, so
    a login takes as long whether or not the account exists (made once, on the first login)."""
    return bcrypt.hashpw(b"finflow-timing-equaliser", bcrypt.gensalt(rounds))


def _cost(password_hash: str) -> int:
    return int(password_hash.split("$")[2])  # $2b$<cost>$<salt+hash>


def _db():
    return engine("auth")


def _user(row) -> User:
    return User(
        id=row.id,
        email=row.email,
        name=row.name,
        kyc_status=row.kyc_status,
        roles=list(row.roles),
        created_at=row.created_at,
    )


def _publish() -> None:
    events.publish_after_commit(_db(), outbox, "auth", obs)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def register(req: RegisterRequest, roles: tuple[str, ...] = ("customer",), source: str | None = None) -> User:
    """`source`: the client's address. The contract answers a taken email 409, so registration
    tells whether an email is registered; each 409 counts toward the source's login lock, so
    asking costs the same budget as guessing at the login (None: an operator's bootstrap)."""
    if source is not None:
        with _db().connect() as conn:
            refuse_if_locked(conn, [f"source:{source}"], "too many failed attempts; try again later")
    password_hash = bcrypt.hashpw(req.password.encode(), bcrypt.gensalt(settings().bcrypt_rounds)).decode()
    with _db().begin() as conn:
        row = store.insert_user(
            conn,
            user_id=str(uuid.uuid4()),
            email=req.email.lower(),
            name=req.name,
            password_hash=password_hash,
            roles=list(roles),
        )
        if row is not None:
            user = _user(row)
            # event-carried state: consumers (notification) keep the contact details they need
            events.record(conn, outbox, "UserRegistered", user.model_dump(mode="json"))
    if row is None:
        if source is not None:
            count_failure([f"source:{source}"])
        raise Problem(409, "a user with this email already exists")
    _publish()
    return user


def _new_session(conn, user) -> TokenPair:
    return _tokens(conn, user, family_id=str(uuid.uuid4()))


def _tokens(conn, user, family_id: str) -> TokenPair:
    s = settings()
    refresh = secrets.token_urlsafe(32)
    store.insert_refresh(
        conn,
        token_hash=_hash(refresh),
        family_id=family_id,
        user_id=user.id,
        expires_at=datetime.now(UTC) + timedelta(seconds=s.refresh_token_seconds),
    )
    access = issue(
        key_ring(),
        subject=user.id,
        roles=list(user.roles),
        kind="user",
        issuer=s.jwt_issuer,
        audience=s.jwt_audience,
        ttl=s.access_token_seconds,
    )
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=s.access_token_seconds)


def login(email: str, password: str, source: str = "unknown") -> TokenPair:
    email = email.strip().lower()
    keys = [f"account:{email}", f"source:{source}"]
    rounds = settings().bcrypt_rounds
    dummy = _dummy_hash(rounds)  # before the lookup: whichever login comes first pays for it
    with _db().begin() as conn:
        # Same answer whether or not the account exists, and no password is checked.
        refuse_if_locked(conn, keys, "too many failed logins; try again later")
        creds = store.credentials_by_email(conn, email)
        hashed = creds.password_hash.encode() if creds else dummy
        given = password.encode()
        # bcrypt reads only 72 bytes and registration refuses longer passwords, so a longer
        # one can never be right (checked after bcrypt, so the time taken stays the same)
        if bcrypt.checkpw(given[:72], hashed) and len(given) <= 72 and creds is not None:
            store.clear_failures(conn, keys[0])
            if _cost(creds.password_hash) != rounds:
                # A hash from before BCRYPT_ROUNDS changed would answer a wrong password faster
                # or slower than the dummy does an unknown email: brought to the cost at hand.
                store.set_password_hash(conn, creds.id, bcrypt.hashpw(given, bcrypt.gensalt(rounds)).decode())
            return _new_session(conn, store.user_by_id(conn, creds.id))
    count_failure(keys)
    raise Problem(401, "invalid email or password")


def refuse_if_locked(conn, keys: list[str], detail: str) -> None:
    """429 with Retry-After while failed attempts keep any of `keys` locked."""
    if (until := store.locked_until(conn, keys)) is not None:
        wait = max(1, int((until - datetime.now(UTC)).total_seconds()))
        raise Problem(429, detail, headers={"Retry-After": str(wait)})


def count_failure(keys: list[str]) -> None:
    """One more failure for each key: `account:<email>` (existing or not) or `source:<address>`."""
    s = settings()
    limits = {"account": s.login_max_failures_per_account, "source": s.login_max_failures_per_source}
    with _db().begin() as conn:
        for key in keys:
            store.count_failure(
                conn,
                key,
                window_seconds=s.login_failure_window_seconds,
                limit=limits[key.partition(":")[0]],
                lock_seconds=s.login_lock_seconds,
            )


# One answer for every refresh token that does not work: an unknown, expired, revoked or
# reused one look alike to whoever sends it (the reuse is logged for the operators).
_REFRESH_REFUSED = "refresh token is invalid, expired, revoked or reused"


def refresh(token: str) -> TokenPair:
    with _db().begin() as conn:
        row = store.refresh_for_update(conn, _hash(token))
        if row is None or row.revoked_at is not None or (row.used_at is None and row.expires_at <= datetime.now(UTC)):
            raise Problem(401, _REFRESH_REFUSED)
        if row.used_at is not None:
            # A rotated token came back: someone holds a copy. End the whole session.
            store.revoke_family(conn, row.family_id)
        else:
            store.mark_used(conn, row.token_hash)
            return _tokens(conn, store.user_by_id(conn, row.user_id), row.family_id)
    # only reuse gets here, after the commit, so the revocation sticks
    obs.logger.warning("refresh token reuse: session family revoked", extra={"family_id": row.family_id})
    raise Problem(401, _REFRESH_REFUSED)


def logout(p: Principal, token: str) -> None:
    require_user(p)  # a service has no session to end
    with _db().begin() as conn:
        row = store.refresh_for_update(conn, _hash(token))
        # Only the caller's own session can be ended; anything else is silently a no-op.
        if row is not None and row.user_id == p.subject:
            store.revoke_family(conn, row.family_id)


def me(p: Principal) -> User:
    if p.is_service:
        raise Problem(403, "service tokens have no user profile")
    return get_user(p, p.subject)


def get_user(p: Principal, user_id: str) -> User:
    uid = ids.canonical(user_id)
    # Authorise before looking up, so the answer never tells a stranger whether an id exists.
    if not (p.subject == uid and not p.is_service) and not p.is_admin and not p.is_service:
        raise Problem(403, "you may only read your own user")
    if uid is None:  # no id Auth ever issued (and not valid SQL for a uuid column)
        raise Problem(404, "user not found")
    with _db().connect() as conn:
        row = store.user_by_id(conn, uid)
    if row is None:
        raise Problem(404, "user not found")
    return _user(row)


def grant_roles(p: Principal, user_id: str, roles: list[str]) -> User:
    if not p.is_admin:
        raise Problem(403, "only an admin can change roles")
    uid = ids.canonical(user_id)  # so another spelling of the admin's own id is caught
    if uid == p.subject:
        raise Problem(403, "admins cannot change their own roles")
    if uid is None:
        raise Problem(404, "user not found")
    new_roles = sorted(set(roles) | {"customer"})  # every user stays a customer
    with _db().begin() as conn:
        before = store.user_by_id(conn, uid, for_update=True)
        if before is None:
            raise Problem(404, "user not found")
        row = store.set_roles(conn, uid, new_roles)
        events.record(
            conn,
            outbox,
            "UserRolesChanged",
            {"user_id": uid, "roles": new_roles, "previous_roles": sorted(before.roles), "changed_by": p.subject},
        )
    _publish()
    return _user(row)


def service_token(creds: ClientCredentials) -> ServiceToken:
    module = service_module(creds.client_id, creds.client_secret)
    if module is None:
        raise Problem(401, "invalid client credentials")
    s = settings()
    token = issue(
        key_ring(),
        subject=creds.client_id,
        roles=[f"svc:{module}"],
        kind="service",
        issuer=s.jwt_issuer,
        audience=s.jwt_audience,
        ttl=s.service_token_seconds,
    )
    return ServiceToken(access_token=token, expires_in=s.service_token_seconds)


def apply_kyc_decision(event: events.Event) -> None:
    """KycDecisionMade -> users.kyc_status, then UserKycStatusChanged for everyone downstream."""
    decision = contracts.AuthReadsKycDecisionMade.model_validate(
        {"decided_at": event.occurred_at, **event.data}
    )  # raises on a malformed event: retried, then DLQ
    decided_at = decision.decided_at or datetime.fromisoformat(event.occurred_at)
    decided_at = decided_at if decided_at.tzinfo else decided_at.replace(tzinfo=UTC)
    user_id = ids.canonical(decision.user_id)
    with _db().begin() as conn:
        if not events.first_delivery(conn, processed_events, event):
            return
        row = store.user_by_id(conn, user_id, for_update=True) if user_id else None
        if row is None:
            obs.logger.warning("KYC decision for an unknown user", extra={"user_id": decision.user_id})
            return
        if row.kyc_status_at is not None and row.kyc_status_at >= decided_at:
            obs.logger.info("stale KYC decision ignored", extra={"user_id": row.id})
            return
        store.set_kyc_status(conn, row.id, decision.status, decided_at)
        events.record(
            conn,
            outbox,
            "UserKycStatusChanged",
            contracts.UserKycStatusChanged(
                user_id=row.id,
                kyc_status=decision.status,
                previous_status=row.kyc_status,
                changed_at=decided_at,
                email=row.email,
                name=row.name,
            ).model_dump(mode="json"),
        )
    _publish()


def ensure_admin(email: str, password: str, name: str) -> None:
    """Local bootstrap: make sure an admin account exists (used by the devserver)."""
    with _db().begin() as conn:
        creds = store.credentials_by_email(conn, email.lower())
        if creds is not None:
            row = store.user_by_id(conn, creds.id, for_update=True)
            if row is None:  # credentials without their user: the schema's foreign key forbids it
                raise RuntimeError(f"user {creds.id} has credentials but no user row")
            if "admin" not in row.roles:
                store.set_roles(conn, row.id, sorted(set(row.roles) | {"admin"}))
            return
    register(RegisterRequest(email=email, password=password, name=name), roles=("customer", "admin"))
