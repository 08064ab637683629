"""What the three peer services share: settings read once at start-up, the RS256 check of each
request's bearer token, the database pool, a service token cache and problem answers."""

from __future__ import annotations

import asyncio
import os
import time
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

import httpx
import jwt
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from psycopg import AsyncConnection
from psycopg.rows import namedtuple_row
from psycopg_pool import AsyncConnectionPool

ISSUER, AUDIENCE = "peer-auth", "peer"
TOKEN_TTL_SECONDS = 1800
KYC_CACHE_SECONDS = 30.0  # FinFlow's KYC_CACHE_SECONDS default
MAX_AMOUNT = 1_000_000  # FinFlow's MAX_AMOUNT default, in major units
EXPONENTS = {"JPY": 0}  # every other currency the bench uses has 2 decimals
TIMEOUT_SECONDS = 2.0  # FinFlow's SERVICE_TIMEOUT_SECONDS default


def setting(name: str) -> str:
    """A required setting: a service without it stops at start-up, saying which."""
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set")
    return value


class Refused(Exception):
    """A 4xx/5xx answer as problem+json; `code` is the last segment of `type`."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def problem(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"type": f"https://peer.example/problems/{code}", "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


def install_problems(app: FastAPI) -> None:
    @app.exception_handler(Refused)
    async def refused(_request: Request, exc: Refused) -> JSONResponse:
        return problem(exc.status, exc.code, exc.detail)


@cache
def _public_key():
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    return load_pem_public_key(setting("PEER_PUBLIC_KEY").encode())


def bearer(kind: str, subject: str | None = None):
    """A dependency: the verified claims of the request's token, of `kind` ("user" or
    "service"), and for a service, of that service only."""

    async def claims(authorization: str | None = Header(None)) -> dict:
        if not authorization or not authorization.startswith("Bearer "):
            raise Refused(401, "unauthorized", "a bearer token is required")
        try:
            found = jwt.decode(
                authorization[7:],
                _public_key(),
                algorithms=["RS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise Refused(401, "unauthorized", str(exc)) from None
        if found.get("kind") != kind or (subject is not None and found["sub"] != subject):
            raise Refused(403, "forbidden", "this token may not call this route")
        return found

    return claims


def pool() -> AsyncConnectionPool[AsyncConnection[Any]]:
    """This process's connections to its service's own database; single statements run in
    autocommit, several in `conn.transaction()` (as FinFlow reads and writes). Rows are
    namedtuples made per query, so their fields are Any to the type checker."""
    return AsyncConnectionPool(
        setting("PEER_DATABASE"),
        min_size=2,
        max_size=int(os.environ.get("PEER_POOL_SIZE", "8")),
        kwargs={"autocommit": True, "row_factory": namedtuple_row},
        open=False,
    )


def client(base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT_SECONDS, limits=httpx.Limits(max_connections=64))


class ServiceToken:
    """This service's token from Auth (client credentials), reused until a minute before expiry."""

    def __init__(self, auth: httpx.AsyncClient, client_id: str, secret: str) -> None:
        self.auth, self.client_id, self.secret = auth, client_id, secret
        self._header: dict[str, str] = {}
        self._until = 0.0
        self._lock = asyncio.Lock()

    async def header(self) -> dict[str, str]:
        if time.monotonic() < self._until:
            return self._header
        async with self._lock:
            if time.monotonic() >= self._until:
                r = await self.auth.post("/token", json={"client_id": self.client_id, "client_secret": self.secret})
                if r.status_code != 200:
                    raise Refused(503, "unavailable", f"auth refused the service token: HTTP {r.status_code}")
                self._header = {"Authorization": f"Bearer {r.json()['access_token']}"}
                self._until = time.monotonic() + r.json()["expires_in"] - 60
        return self._header


def to_minor(amount: Decimal, currency: str) -> int:
    """A positive amount with no more decimals than the currency has, up to MAX_AMOUNT."""
    exp = EXPONENTS.get(currency, 2)
    try:
        minor = amount.scaleb(exp)
        exact = amount.is_finite() and minor == minor.to_integral_value()
    except InvalidOperation:
        exact = False
    if not exact or amount <= 0 or amount > MAX_AMOUNT:
        raise Refused(422, "invalid-amount", f"amount must be positive, at most {MAX_AMOUNT}, with {exp} decimals")
    return int(minor)
