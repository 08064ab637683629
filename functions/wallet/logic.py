"""Wallet's rules: the KYC gate (cascaded from Auth), v1/v2 creation, status transitions
and who may see what. Postings live in ledger.py."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from finflow import contracts, events, money, pages
from finflow.config import settings
from finflow.db import engine, reading
from finflow.http import Principal, Problem
from finflow.observability import for_module
from finflow.service_auth import token_provider
from finflow.service_client import ServiceUnavailable, client_for
from functions.wallet import store
from functions.wallet.schemas import Entry, EntryPage, Wallet
from functions.wallet.tables import outbox, processed_events

obs = for_module("wallet")
V1_CURRENCY = "USD"


def db():
    return engine("wallet")


def publish() -> None:
    events.publish_after_commit(db(), outbox, "wallet", obs)


def auth_client():
    s = settings()
    return client_for("auth", s.api_url, timeout=s.service_timeout_seconds, token_provider=token_provider("wallet"))


def to_wallet(row) -> Wallet:
    return Wallet(
        id=row.id,
        user_id=row.user_id,
        currency=row.currency,
        balance=money.to_decimal_string(row.balance_minor, row.currency),
        status=row.status,
        created_at=row.created_at,
    )


# --- KYC: Wallet's event-fed replica, Auth, and the replica again when Auth is unreachable


def kyc_of(user_id: str) -> contracts.KycView:
    """A "verified" the replica learned within KYC_CACHE_SECONDS answers at once: a change
    reaches the replica by UserKycStatusChanged, and the age bounds a lost event. Anything
    else is asked of Auth, so a fresh approval never waits for its event."""
    if (max_age := settings().kyc_cache_seconds) > 0:
        with reading("wallet") as conn:
            if store.recently_verified(conn, user_id, max_age):
                return contracts.KycView(user_id=user_id, kyc_status="verified", source="cache")
    return kyc_from_auth(user_id)


def kyc_from_auth(user_id: str) -> contracts.KycView:
    """Auth's answer, which refreshes the replica; the replica's while Auth is unreachable."""
    asked_at = datetime.now(UTC)  # Auth's answer is true as of the question, not of its arrival
    try:
        # quoted: the id comes from a caller, and may hold what a URL cannot
        response = auth_client().request("GET", f"/api/auth/users/{quote(user_id, safe='')}")
    except ServiceUnavailable:
        with reading("wallet") as conn:
            status = store.replica_status(conn, user_id)
        if status is None:
            raise Problem(503, "Cannot verify KYC status: auth-service is unavailable") from None
        obs.logger.warning("auth unreachable: KYC decided from the replica")
        return contracts.KycView(user_id=user_id, kyc_status=status, source="replica")
    if response.status_code == 404:
        return contracts.KycView(user_id=user_id, kyc_status="pending", source="auth")
    if not response.is_success:
        raise Problem(503, f"Cannot verify KYC status: auth-service answered {response.status_code}")
    user = contracts.WalletReadsUserView.model_validate(response.json())
    with db().begin() as conn:  # Auth's answer is the newest truth: refresh the replica
        store.upsert_replica(conn, user_id, user.kyc_status, asked_at)
    return contracts.KycView(user_id=user_id, kyc_status=user.kyc_status, source="auth")


def apply_kyc_change(event: events.Event) -> None:
    """UserKycStatusChanged -> the replica (newest decision wins, duplicates change nothing)."""
    change = contracts.WalletReadsUserKycStatusChanged.model_validate(event.data)
    with db().begin() as conn:
        if events.first_delivery(conn, processed_events, event):
            store.upsert_replica(conn, change.user_id, change.kyc_status, change.changed_at)


# --- wallets ---------------------------------------------------------------------------


def create(p: Principal, currency: str) -> Wallet:
    if p.is_service:
        raise Problem(403, "wallets belong to users; service tokens cannot create them")
    try:
        currency = money.normalize_currency(currency)
    except money.MoneyError as exc:
        raise Problem(422, str(exc)) from None
    if kyc_of(p.subject).kyc_status != "verified":
        raise Problem(403, "KYC verification required")
    with db().begin() as conn:
        row = store.insert_wallet(conn, user_id=p.subject, currency=currency)
        if row is None:
            raise Problem(409, f"You already have a {currency} wallet")
        events.record(
            conn,
            outbox,
            "WalletCreated",
            contracts.WalletCreated(
                wallet_id=row.id,
                user_id=row.user_id,
                currency=row.currency,
                status=row.status,
                created_at=row.created_at,
            ).model_dump(mode="json"),
        )
    publish()
    return to_wallet(row)


def list_mine(p: Principal) -> list[Wallet]:
    with reading("wallet") as conn:
        return [to_wallet(r) for r in store.wallets_of(conn, p.subject)]


def _visible(p: Principal, row, *, services: bool = True) -> bool:
    return row is not None and (
        row.user_id == p.subject and not p.is_service or p.is_admin or services and p.is_service
    )


def get(p: Principal, wallet_id: str) -> Wallet:
    with reading("wallet") as conn:
        row = store.wallet(conn, wallet_id)
    if not _visible(p, row):
        raise Problem(404, "Wallet not found")  # the same answer whether it exists or not
    return to_wallet(row)


def _actor_role(p: Principal, row) -> str | None:
    if p.is_admin:
        return "admin"
    if p.has_role("compliance") or p.is_service_of("kyc"):  # AML freezes arrive as KYC's service
        return "compliance"
    if not p.is_service and row.user_id == p.subject:
        return "owner"
    return None


def change_status(p: Principal, wallet_id: str, status: str, reason: str | None) -> Wallet:
    with db().begin() as conn:
        row = store.wallet(conn, wallet_id, for_update=True)
        if row is None or (role := _actor_role(p, row)) is None:
            raise Problem(404, "Wallet not found")
        if row.status == "closed":
            raise Problem(409, "Wallet is closed")
        if row.status == status:
            return to_wallet(row)
        if row.status == "frozen" and role == "owner" and row.frozen_by != "owner":
            raise Problem(403, f"Wallet was frozen by {row.frozen_by}; only {row.frozen_by} can lift it")
        if status == "closed" and row.balance_minor != 0:
            raise Problem(409, "Wallet balance must be zero to close it")
        updated = store.set_status(conn, row.id, status, role if status == "frozen" else None)
        store.record_status_change(
            conn,
            wallet_id=row.id,
            from_status=row.status,
            to_status=status,
            actor_id=p.subject,
            actor_role=role,
            reason=reason,
        )
        events.record(
            conn,
            outbox,
            "WalletStatusChanged",
            contracts.WalletStatusChanged(
                wallet_id=row.id,
                user_id=row.user_id,
                currency=row.currency,
                status=status,
                previous_status=row.status,
                actor_id=p.subject,
                actor_role=role,
                reason=reason,
                changed_at=updated.updated_at,
            ).model_dump(mode="json"),
        )
    publish()
    return to_wallet(updated)


def transactions(p: Principal, wallet_id: str, limit: int, cursor: str | None) -> EntryPage:
    with db().connect() as conn:
        row = store.wallet(conn, wallet_id)
        if not _visible(p, row, services=False):
            raise Problem(404, "Wallet not found")
        rows = store.entries_page(conn, wallet_id, _decode_cursor(cursor), limit + 1)
    items = [
        Entry(
            id=r.id,
            posting_id=r.posting_id,
            kind=r.kind,
            currency=r.currency,
            description=r.description,
            amount=money.to_decimal_string(r.amount_minor, r.currency),
            balance_after=money.to_decimal_string(r.balance_after_minor, r.currency),
            created_at=r.created_at,
        )
        for r in rows[:limit]
    ]
    more = len(rows) > limit
    return EntryPage(items=items, next_cursor=_encode_cursor(rows[limit - 1].seq) if more else None)


def _encode_cursor(seq: int) -> str:
    return pages.encode_values("e", [seq])


def _decode_cursor(cursor: str | None) -> int | None:
    values = pages.decode_values("e", cursor, 1)
    return values[0] if values else None


def _view(row) -> contracts.WalletView:
    return contracts.WalletView(
        id=row.id,
        user_id=row.user_id,
        currency=row.currency,
        status=row.status,
        frozen_by=row.frozen_by,
        created_at=row.created_at,
    )


def view(wallet_id: str) -> contracts.WalletView:
    with reading("wallet") as conn:
        row = store.wallet(conn, wallet_id)
    if row is None:
        raise Problem(404, "Wallet not found", code="not-found")
    return _view(row)
