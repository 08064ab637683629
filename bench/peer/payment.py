"""The peer's Payment service: `POST /transfer`, in FinFlow's order: the Idempotency-Key's
replay, KYC and both wallets from Wallet, the checks, a pending row (committed), the posting
through Wallet, then the payment completed (or failed) with the answer kept for replays."""

from __future__ import annotations

import hashlib
import json
import uuid
from contextlib import asynccontextmanager
from decimal import Decimal
from uuid import UUID

import httpx
from fastapi import Depends, FastAPI, Header
from fastapi.responses import Response
from pydantic import BaseModel, Field

from bench.peer.common import Refused, ServiceToken, bearer, client, install_problems, pool, setting, to_minor

# a refusal that leaves nothing moved and would be refused again: the payment fails
BUSINESS_REFUSALS = {"insufficient-funds", "wallet-frozen", "wallet-not-active", "currency-mismatch", "not-found"}

db = pool()
auth = client(setting("PEER_AUTH_URL"))
wallet = client(setting("PEER_WALLET_URL"))
token = ServiceToken(auth, "payment", setting("PEER_CLIENT_SECRET"))


@asynccontextmanager
async def lifespan(_app: FastAPI):
    await db.open()
    yield
    await wallet.aclose()
    await auth.aclose()
    await db.close()


app = FastAPI(lifespan=lifespan)
install_problems(app)


class TransferRequest(BaseModel):
    from_wallet_id: UUID
    to_wallet_id: UUID
    amount: Decimal
    description: str | None = Field(None, max_length=200)


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


def _stored(status: int, body: str) -> Response:
    kind = "application/json" if status < 400 else "application/problem+json"
    return Response(body, status_code=status, media_type=kind)


async def _replay(user_id: str, key: str, digest: str) -> Response | None:
    async with db.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT request_hash, response_status, response_body FROM payments "
                "WHERE initiator_user_id = %s AND idempotency_key = %s",
                (user_id, key),
            )
        ).fetchone()
    if row is None:
        return None
    if row.request_hash != digest:
        raise Refused(409, "conflict", "Idempotency-Key was already used with a different request")
    if row.response_status is None:
        raise Refused(409, "in-progress", "a request with this Idempotency-Key is still running")
    return _stored(row.response_status, row.response_body)


async def _checks(user_id: str, src: UUID, dst: UUID) -> list:
    try:
        r = await wallet.get(
            "/internal/payment-checks",
            params={"user_id": user_id, "wallet_ids": f"{src},{dst}"},
            headers=await token.header(),
        )
    except httpx.HTTPError:
        raise Refused(503, "unavailable", "Wallet service unavailable") from None
    if r.status_code != 200:
        raise Refused(503, "unavailable", f"Wallet answered {r.status_code}")
    body = r.json()
    if body["kyc_status"] != "verified":
        raise Refused(403, "kyc-required", "KYC verification required")
    return body["wallets"]


@app.post("/transfer", status_code=201)
async def transfer(
    req: TransferRequest,
    user: dict = Depends(bearer("user")),
    idempotency_key: str | None = Header(None, max_length=255),
):
    me = user["sub"]
    digest = hashlib.sha256(json.dumps(req.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
    if idempotency_key and (replay := await _replay(me, idempotency_key, digest)):
        return replay
    src, dst = await _checks(me, req.from_wallet_id, req.to_wallet_id)
    if src is None:
        raise Refused(404, "not-found", "Source wallet not found")
    if src["user_id"] != me:
        raise Refused(403, "forbidden", "You do not own the source wallet")
    if src["status"] in ("frozen", "closed"):
        raise Refused(400, "wallet-frozen", f"Source wallet is {src['status']}")
    if dst is None:
        raise Refused(404, "not-found", "Destination wallet not found")
    if dst["status"] != "active":
        raise Refused(400, "wallet-not-active", "Destination wallet is not active")
    if dst["id"] == src["id"]:
        raise Refused(422, "invalid", "Source and destination wallets must be different")
    if src["currency"] != dst["currency"]:
        raise Refused(422, "currency-mismatch", "Currency mismatch")
    amount_minor = to_minor(req.amount, src["currency"])
    payment_id = str(uuid.uuid4())
    async with db.connection() as conn:
        inserted = await (
            await conn.execute(
                "INSERT INTO payments (id, kind, status, amount_minor, currency, from_wallet_id, to_wallet_id, "
                "from_user_id, to_user_id, initiator_user_id, description, idempotency_key, request_hash) "
                "VALUES (%s, 'transfer', 'pending', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (initiator_user_id, idempotency_key) DO NOTHING RETURNING id",
                (
                    payment_id,
                    amount_minor,
                    src["currency"],
                    src["id"],
                    dst["id"],
                    src["user_id"],
                    dst["user_id"],
                    me,
                    req.description,
                    idempotency_key,
                    digest,
                ),
            )
        ).fetchone()
    if inserted is None:  # a concurrent request with the same key won: answer as it does
        if idempotency_key is None:  # NULL keys never conflict
            raise RuntimeError(f"payment {payment_id} conflicted without an Idempotency-Key")
        return await _replay(me, idempotency_key, digest)
    posting = {
        "posting_id": payment_id,
        "kind": "transfer",
        "debit_wallet_id": src["id"],
        "credit_wallet_id": dst["id"],
        "amount_minor": amount_minor,
        "currency": src["currency"],
        "description": req.description,
    }
    try:
        r = await wallet.post("/internal/postings", json=posting, headers=await token.header())
    except httpx.HTTPError:
        raise Refused(503, "unavailable", f"Wallet service unavailable; payment {payment_id} is pending") from None
    if r.is_success:
        body = {"id": payment_id, "status": "completed", "amount": str(req.amount), "currency": src["currency"]}
        return await _finish(payment_id, "completed", 201, body)
    code = r.json().get("type", "").rsplit("/", 1)[-1]
    if code not in BUSINESS_REFUSALS:
        raise Refused(503, "unavailable", f"Wallet answered {r.status_code}; payment {payment_id} is pending")
    status = 400 if code in ("wallet-frozen", "wallet-not-active") else 422
    return await _finish(payment_id, "failed", status, {"status": status, "detail": r.json()["detail"]})


async def _finish(payment_id: str, outcome: str, status: int, body: dict) -> Response:
    text = json.dumps(body)
    async with db.connection() as conn:
        await conn.execute(
            f"UPDATE payments SET status = %s, {outcome}_at = now(), response_status = %s, response_body = %s "
            "WHERE id = %s AND status = 'pending'",
            (outcome, status, text, payment_id),
        )
    return _stored(status, text)
