"""Service identity: OAuth2 client credentials exchanged for a short-lived service token.

Each module's client id and secret live in its own Secrets Manager secret; the token is
cached per process until shortly before it expires, so warm invocations reuse it.
"""
from __future__ import annotations

import threading
import time

from finflow.aws import secret_json
from finflow.config import settings
from finflow.service_client import http

_tokens: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()
_EARLY_RENEWAL = 60.0  # never send a token that could expire in flight


def service_token(module: str) -> str:
    with _lock:
        cached = _tokens.get(module)
        if cached and cached[1] - _EARLY_RENEWAL > time.time():
            return cached[0]
    s = settings()
    creds = secret_json(f"{s.service_credentials_prefix}/{module}")
    response = http().post(f"{s.api_url.rstrip('/')}/api/auth/token", timeout=s.service_timeout_seconds,
                          json={"client_id": creds["client_id"], "client_secret": creds["client_secret"],
                                "grant_type": "client_credentials"})
    response.raise_for_status()
    body = response.json()
    with _lock:
        _tokens[module] = (body["access_token"], time.time() + int(body["expires_in"]))
    return body["access_token"]


def forget_tokens() -> None:
    with _lock:
        _tokens.clear()


def token_provider(module: str):
    """For ServiceClient: a token getter whose failure reads as Auth being unavailable."""
    from finflow.service_client import ServiceUnavailable

    def provide() -> str:
        try:
            return service_token(module)
        except Exception as exc:  # noqa: BLE001 - any failure to get a token is an Auth outage to the caller
            raise ServiceUnavailable("auth", f"no service token: {type(exc).__name__}") from exc

    return provide
