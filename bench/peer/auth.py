"""The peer's Auth service: each user's KYC status for Wallet, and service tokens."""

from __future__ import annotations

import hmac
import json
import time
import uuid
from contextlib import asynccontextmanager
from functools import cache
from uuid import UUID

import jwt
from fastapi import Depends, FastAPI
from pydantic import BaseModel

from bench.peer.common import AUDIENCE, ISSUER, TOKEN_TTL_SECONDS, Refused, bearer, install_problems, pool, setting

db = pool()
CLIENTS = json.loads(setting("PEER_CLIENTS"))  # {client_id: secret}


@cache
def _private_key():
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return load_pem_private_key(setting("PEER_PRIVATE_KEY").encode(), password=None)


@asynccontextmanager
async def lifespan(_app: FastAPI):
    await db.open()
    yield
    await db.close()


app = FastAPI(lifespan=lifespan)
install_problems(app)


class ClientCredentials(BaseModel):
    client_id: str
    client_secret: str


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.post("/token")
async def token(body: ClientCredentials) -> dict:
    secret = CLIENTS.get(body.client_id, "")
    if not secret or not hmac.compare_digest(secret, body.client_secret):
        raise Refused(401, "unauthorized", "unknown client or wrong secret")
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": body.client_id,
        "iat": now,
        "exp": now + TOKEN_TTL_SECONDS,
        "jti": uuid.uuid4().hex,
        "kind": "service",
    }
    signed = jwt.encode(claims, _private_key(), algorithm="RS256")
    return {"access_token": signed, "token_type": "bearer", "expires_in": TOKEN_TTL_SECONDS}


@app.get("/users/{user_id}")
async def user(user_id: UUID, _svc: dict = Depends(bearer("service", "wallet"))) -> dict:
    async with db.connection() as conn:
        row = await (await conn.execute("SELECT id, kyc_status FROM users WHERE id = %s", (user_id,))).fetchone()
    if row is None:
        raise Refused(404, "not-found", "User not found")
    return {"id": str(row.id), "kyc_status": row.kyc_status}
