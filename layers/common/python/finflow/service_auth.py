"""Service identity: OAuth2 client credentials exchanged for a short-lived service token.

Each module's client id and secret live in its own Secrets Manager secret; the token is
cached per process until shortly before it expires, so warm invocations reuse it. The
exchange is itself a private call to Auth (finflow.contracts.calls: every caller's first row).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from finflow import contracts
from finflow.aws import secret_json
from finflow.config import settings
from finflow.contracts import calls
from finflow.service_client import client_for, private_client

_tokens: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()
_fetching: dict[str, threading.Lock] = {}
_EARLY_RENEWAL = 60.0  # never send a token that could expire in flight


def _cached(module: str) -> str | None:
    with _lock:
        cached = _tokens.get(module)
    return cached[0] if cached and cached[1] - _EARLY_RENEWAL > time.time() else None


def service_token(module: str) -> str:
    if token := _cached(module):
        return token
    with _lock:
        fetching = _fetching.setdefault(module, threading.Lock())
    with fetching:  # single flight: concurrent callers of a cold container wait for one fetch
        if token := _cached(module):
            return token
        s = settings()
        creds = secret_json(f"{s.service_credentials_prefix}/{module}")
        # A token exchange changes nothing, so it may be retried like a read. Its breaker is
        # "auth-token": Auth refusing tokens and Auth refusing reads are told apart in /health.
        # A module that calls no other has no private path: its token (tools, tests) comes from the
        # public route, as for any client holding credentials.
        if calls.declared(module, "auth", "POST", "/api/auth/token"):
            client = private_client(module, "auth", name="auth-token", timeout=s.service_timeout_seconds)
        else:
            client = client_for("auth-token", s.api_url, timeout=s.service_timeout_seconds)
        response = client.request(
            "POST",
            "/api/auth/token",
            idempotent=True,
            json={
                "client_id": creds["client_id"],
                "client_secret": creds["client_secret"],
                "grant_type": "client_credentials",
            },
        )
        response.raise_for_status()
        issued = contracts.ReadsServiceToken.model_validate(response.json())
        with _lock:
            _tokens[module] = (issued.access_token, time.time() + issued.expires_in)
        return issued.access_token


def forget_tokens() -> None:
    with _lock:
        _tokens.clear()


@dataclass(frozen=True)
class TokenProvider:
    """For ServiceClient: a token getter whose failure reads as Auth being unavailable."""

    module: str  # the calling identity: service_client.client_for keeps one client per caller

    def __call__(self) -> str:
        from finflow.service_client import ServiceUnavailable

        try:
            return service_token(self.module)
        except Exception as exc:
            raise ServiceUnavailable("auth", f"no service token: {type(exc).__name__}", sent=False) from exc


def token_provider(module: str) -> TokenProvider:
    return TokenProvider(module)
