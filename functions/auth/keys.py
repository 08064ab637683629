"""Auth's secrets: the JWT signing key ring and the registry of service clients."""

from __future__ import annotations

import hashlib
import hmac

from finflow.aws import secret_json
from finflow.config import settings
from finflow.tokens import KeyRing


def key_ring() -> KeyRing:
    return KeyRing.from_secret(secret_json(settings().jwt_keys_secret_id))


def service_module(client_id: str, client_secret: str) -> str | None:
    """The module a client id belongs to, if the secret matches; constant-time compare."""
    clients = secret_json(settings().service_clients_secret_id).get("clients", {})
    entry = clients.get(client_id)
    # Service secrets are 256-bit random values, so a SHA-256 digest (not bcrypt) suffices.
    given = hashlib.sha256(client_secret.encode()).hexdigest()
    expected = entry["secret_sha256"] if entry else "0" * 64
    return entry["module"] if entry and hmac.compare_digest(given, expected) else None
