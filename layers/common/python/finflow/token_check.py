"""Verifying a bearer token against Auth's JWKS (RS256 only, RFC 8725): the gateway
authorizer's job, and each API function's own where no authorizer runs in front of it
(`FINFLOW_VERIFY_TOKENS`: LocalStack's community edition never runs Lambda authorizers).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from threading import Lock
from typing import Any

from finflow.config import settings
from finflow.service_client import client_for
from finflow.tokens import TokenError, unverified_kid, verify

# "never fetched" is -inf: a fresh microVM's monotonic clock may read less than the cache age
_jwks: dict[str, Any] = {"keys": [], "fetched": float("-inf")}
_lock = Lock()
_MIN_REFETCH_SECONDS = 10.0  # an unknown kid may mean rotation; refetch, but not on every call
# Auth's own API verifies tokens against its key ring (use_local_keys): fetching its public JWKS
# would be Auth calling itself through the stage, the one dependency a token check must not have.
_local_keys: Callable[[], dict] | None = None


def use_local_keys(source: Callable[[], dict]) -> None:
    global _local_keys
    _local_keys = source


def jwks_url() -> str:
    s = settings()
    return s.jwks_url or f"{s.api_url.rstrip('/')}/api/auth/.well-known/jwks.json"


def fetch_jwks() -> dict:
    import httpx  # deferred: a token turned away before any key is needed never loads it

    # timeout, retries with jitter and a breaker, like every outbound call
    url = httpx.URL(jwks_url())
    origin = f"{url.scheme}://{url.netloc.decode()}"
    response = client_for("auth-jwks", origin, timeout=settings().service_timeout_seconds).request(
        "GET", url.raw_path.decode()
    )
    response.raise_for_status()
    return response.json()


def _keys(force: bool = False) -> dict:
    with _lock:
        age = time.monotonic() - _jwks["fetched"]
        stale = age > settings().jwks_cache_seconds
        if stale or (force and age > _MIN_REFETCH_SECONDS):
            _jwks.update(keys=(_local_keys or fetch_jwks)().get("keys", []), fetched=time.monotonic())
        return {"keys": _jwks["keys"]}


def forget_keys() -> None:
    with _lock:
        _jwks.update(keys=[], fetched=float("-inf"))


def authorize(token: str) -> dict:
    """The token's claims, or TokenError saying why it is refused."""
    s = settings()
    unverified_kid(token)  # a malformed token or a refused algorithm needs no keys to turn away
    try:
        return verify(token, _keys(), issuer=s.jwt_issuer, audience=s.jwt_audience)
    except TokenError as exc:
        if "unknown key" not in str(exc):
            raise
        return verify(token, _keys(force=True), issuer=s.jwt_issuer, audience=s.jwt_audience)


def bearer_token(header: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None for any other header."""
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def principal_context(claims: dict) -> dict:
    """The principal as the authorizer passes it on to the module (API Gateway's context values)."""
    return {
        "sub": claims["sub"],
        "roles": ",".join(claims["roles"]),
        "kind": claims["kind"],
        "ver": claims["ver"],
        "jti": claims["jti"],
    }
