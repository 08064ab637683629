"""The Lambda authorizer in front of every protected route of every module.

It verifies the bearer token against Auth's JWKS (RS256 only, RFC 8725) and passes the
principal to the module in the request context. A refused token gets an explicit Deny
with the reason in the context; the gateway answers 401 problem+json with that reason.
"""
from __future__ import annotations

import re
import time
from threading import Lock
from typing import Any

import jwt  # noqa: F401 - finflow.tokens defers it, but every token is parsed here: load it at init

from finflow.config import settings
from finflow.service_client import client_for
from finflow.observability import for_module
from finflow.tokens import TokenError, unverified_kid, verify

obs = for_module("auth")
_jwks: dict[str, Any] = {"keys": [], "fetched": 0.0}
_lock = Lock()
_MIN_REFETCH_SECONDS = 10.0  # an unknown kid may mean rotation; refetch, but not on every call


def jwks_url() -> str:
    s = settings()
    return s.jwks_url or f"{s.api_url.rstrip('/')}/api/auth/.well-known/jwks.json"


def fetch_jwks() -> dict:
    import httpx  # deferred: a token turned away before any key is needed never loads it

    # timeout, retries with jitter and a breaker, like every outbound call
    url = httpx.URL(jwks_url())
    origin = f"{url.scheme}://{url.netloc.decode()}"
    response = client_for("auth-jwks", origin, timeout=2.0).request("GET", url.raw_path.decode())
    response.raise_for_status()
    return response.json()


def _keys(force: bool = False) -> dict:
    with _lock:
        age = time.monotonic() - _jwks["fetched"]
        stale = age > settings().jwks_cache_seconds
        if stale or (force and age > _MIN_REFETCH_SECONDS):
            _jwks.update(keys=fetch_jwks().get("keys", []), fetched=time.monotonic())
        return {"keys": _jwks["keys"]}


def forget_keys() -> None:
    with _lock:
        _jwks.update(keys=[], fetched=0.0)


def authorize(token: str) -> dict:
    s = settings()
    unverified_kid(token)  # a malformed token or a refused algorithm needs no keys to turn away
    try:
        return verify(token, _keys(), issuer=s.jwt_issuer, audience=s.jwt_audience)
    except TokenError as exc:
        if "unknown key" not in str(exc):
            raise
        return verify(token, _keys(force=True), issuer=s.jwt_issuer, audience=s.jwt_audience)


def _safe(reason: str) -> str:
    """API Gateway pastes the reason into a JSON template verbatim, and a token's header
    (its `alg`) is attacker-chosen: keep only characters that cannot break the JSON."""
    return re.sub(r"[^A-Za-z0-9 .,:;'()_<>/-]", "?", reason)[:200]


def _policy(effect: str, method_arn: str, principal_id: str, context: dict) -> dict:
    # Allow the whole stage so a cached decision holds for every route of this token.
    arn = method_arn.split("/")
    resource = "/".join(arn[:2]) + "/*" if len(arn) >= 2 else method_arn
    return {"principalId": principal_id,
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]},
            "context": context}


@obs.logger.inject_lambda_context(log_event=False)
def handler(event: dict, context: Any) -> dict:
    header = event.get("authorizationToken") or ""
    scheme, _, token = header.partition(" ")
    method_arn = event.get("methodArn", "*")
    if scheme.lower() != "bearer" or not token:
        return _policy("Deny", method_arn, "anonymous", {"reason": "expected 'Authorization: Bearer <token>'"})
    try:
        claims = authorize(token.strip())
    except TokenError as exc:
        obs.logger.info("token refused", extra={"reason": str(exc)})
        return _policy("Deny", method_arn, "anonymous", {"reason": _safe(str(exc))})
    return _policy("Allow", method_arn, claims["sub"], {
        "sub": claims["sub"], "roles": ",".join(claims["roles"]), "kind": claims["kind"],
        "ver": claims["ver"], "jti": claims["jti"]})
