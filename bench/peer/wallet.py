"""The peer's Wallet service: the payment checks (KYC and both wallets) and the double-entry
posting, with the same locking and checks as FinFlow's ledger and the raw-SQL baseline."""

from __future__ import annotations

import hashlib
import json
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from fastapi import Depends, FastAPI, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bench.peer.common import (
    KYC_CACHE_SECONDS,
    Refused,
    ServiceToken,
    bearer,
    client,
    install_problems,
    pool,
    setting,
)

db = pool()
auth = client(setting("PEER_AUTH_URL"))
token = ServiceToken(auth, "wallet", setting("PEER_CLIENT_SECRET"))
from_payment = bearer("service", "payment")


@asynccontextmanager
async def lifespan(_app: FastAPI):
    await db.open()
    yield
    await auth.aclose()
    await db.close()


app = FastAPI(lifespan=lifespan)
install_problems(app)


class PostingRequest(BaseModel):
    posting_id: str = Field(max_length=64)
    kind: Literal["transfer"]
    debit_wallet_id: UUID
    credit_wallet_id: UUID
    amount_minor: int = Field(gt=0)
    currency: str = Field(min_length=3, max_length=3)
    description: str | None = Field(None, max_length=200)


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


async def kyc_status(user_id: UUID) -> str:
    """A `verified` confirmed within KYC_CACHE_SECONDS answers at once; anything else is
    asked of Auth, whose answer is remembered as of when it was asked."""
    async with db.connection() as conn:
        cached = await (
            await conn.execute(
                "SELECT 1 FROM kyc_cache WHERE user_id = %s AND kyc_status = 'verified' "
                "AND confirmed_at > now() - make_interval(secs => %s)",
                (user_id, KYC_CACHE_SECONDS),
            )
        ).fetchone()
    if cached:
        return "verified"
    asked_at = datetime.now(UTC)
    r = await auth.get(f"/users/{user_id}", headers=await token.header())
    if r.status_code == 404:
        return "pending"
    if r.status_code != 200:
        raise Refused(503, "unavailable", f"Cannot verify KYC status: auth answered {r.status_code}")
    status = r.json()["kyc_status"]
    async with db.connection() as conn:
        await conn.execute(
            "INSERT INTO kyc_cache (user_id, kyc_status, confirmed_at) VALUES (%s, %s, %s) ON CONFLICT (user_id) "
            "DO UPDATE SET kyc_status = EXCLUDED.kyc_status, confirmed_at = EXCLUDED.confirmed_at "
            "WHERE kyc_cache.confirmed_at < EXCLUDED.confirmed_at",
            (user_id, status, asked_at),
        )
    return status


@app.get("/internal/payment-checks")
async def payment_checks(
    user_id: UUID, wallet_ids: str = Query(max_length=200), _svc: dict = Depends(from_payment)
) -> dict:
    try:
        wanted = [UUID(w) for w in wallet_ids.split(",") if w][:2]
    except ValueError:
        raise Refused(422, "invalid", "wallet_ids must be UUIDs") from None
    kyc = await kyc_status(user_id)
    async with db.connection() as conn:
        rows = await (
            await conn.execute(
                "SELECT id, user_id, currency, status FROM wallets WHERE id = ANY(%s) AND kind = 'user'", (wanted,)
            )
        ).fetchall()
    found = {r.id: r for r in rows}
    views = [found.get(w) for w in wanted]
    return {
        "kyc_status": kyc,
        "wallets": [
            None
            if v is None
            else {"id": str(v.id), "user_id": str(v.user_id), "currency": v.currency, "status": v.status}
            for v in views
        ],
    }


def _check(w, req: PostingRequest, role: str) -> None:
    if w is None:
        raise Refused(404, "not-found", f"{role.capitalize()} wallet not found")
    if w.currency != req.currency:
        raise Refused(422, "currency-mismatch", f"{role.capitalize()} wallet is {w.currency}")
    if w.status == "frozen" and role == "source":
        raise Refused(409, "wallet-frozen", "Source wallet is frozen")
    if w.status != "active":
        raise Refused(409, "wallet-not-active", f"{role.capitalize()} wallet is not active")


@app.post("/internal/postings", status_code=201)
async def post(req: PostingRequest, _svc: dict = Depends(from_payment)):
    """Idempotent by posting_id: a replay of the same posting answers 200, another one 409."""
    if req.debit_wallet_id == req.credit_wallet_id:
        raise Refused(422, "invalid-posting", "a posting needs two different sides")
    digest = hashlib.sha256(json.dumps(req.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
    src, dst = req.debit_wallet_id, req.credit_wallet_id
    async with db.connection() as conn, conn.transaction():
        claimed = await (
            await conn.execute(
                "INSERT INTO postings (id, kind, currency, amount_minor, description, request_hash) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING RETURNING created_at",
                (req.posting_id, req.kind, req.currency, req.amount_minor, req.description, digest),
            )
        ).fetchone()
        if claimed is None:
            first = await (
                await conn.execute("SELECT request_hash FROM postings WHERE id = %s", (req.posting_id,))
            ).fetchone()
            if first is None:  # the claim conflicted on this id, so its row exists
                raise RuntimeError(f"posting {req.posting_id} conflicted but is not found")
            if first.request_hash != digest:
                raise Refused(409, "conflict", "posting id was already used for a different posting")
            return JSONResponse({"posting_id": req.posting_id}, status_code=200)
        rows = await (
            await conn.execute(
                "SELECT id, currency, status, balance_minor FROM wallets WHERE id = ANY(%s) AND kind = 'user' "
                "ORDER BY id FOR UPDATE",
                ([src, dst],),
            )
        ).fetchall()
        locked = {r.id: r for r in rows}
        _check(locked.get(src), req, "source")
        _check(locked.get(dst), req, "destination")
        if locked[src].balance_minor < req.amount_minor:
            raise Refused(422, "insufficient-funds", "Insufficient funds")
        entries = []
        for wallet_id, delta in ((src, -req.amount_minor), (dst, req.amount_minor)):
            after = await (
                await conn.execute(
                    "UPDATE wallets SET balance_minor = balance_minor + %s, updated_at = now() "
                    "WHERE id = %s RETURNING balance_minor",
                    (delta, wallet_id),
                )
            ).fetchone()
            if after is None:  # locked above
                raise RuntimeError(f"wallet {wallet_id} vanished under its lock")
            entries.append((wallet_id, delta, after.balance_minor))
        await conn.execute(
            "INSERT INTO ledger_entries (id, posting_id, wallet_id, amount_minor, balance_after_minor) "
            "VALUES (gen_random_uuid(), %s, %s, %s, %s), (gen_random_uuid(), %s, %s, %s, %s)",
            tuple(x for w, d, a in entries for x in (req.posting_id, w, d, a)),
        )
    return {
        "posting_id": req.posting_id,
        "entries": [{"wallet_id": str(w), "amount_minor": d, "balance_after_minor": a} for w, d, a in entries],
    }
