"""Keyset pagination: the one cursor codec of every list (signed), and the limit check.

A cursor is `<payload>.<mac>`, both base64url. The payload is the position after the last
row handed out; the MAC is HMAC-SHA256 (first 16 bytes) over the list's tag and the payload.
A cursor a client altered, made for another list, by another module or by another
deployment is refused (422) before any of it reaches a query.

Each module signs with its own key, derived from its own client secret (the Secrets Manager
secret every module already reads for its service identity), so no new secret is provisioned
and rotating the credentials rotates the key: cursors then in flight are refused, and the
client starts again from the first page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import struct
import uuid
from datetime import UTC, datetime, timedelta

from finflow.aws import secret_json
from finflow.config import settings
from finflow.problems import Problem

# Every list's tag and the module that hands its cursors out (whose key signs them).
LISTS = {
    "p": "payment",  # a user's payments
    "e": "wallet",  # a wallet's ledger entries
    "s": "kyc",  # KYC submissions
    "a": "kyc",  # AML alerts
    "n": "notification",  # a user's notifications
    "r": "reporting",  # payment search
}
INVALID = "cursor is not valid"
FORGED = "cursor is not valid: it was not issued for this list, or it was altered"
_MAC_BYTES = 16
_MIN_SECRET = 32
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_KEYSET = struct.Struct(">q16s")  # microseconds since the epoch, the row's UUID


def check_limit(limit: int) -> int:
    if not 1 <= limit <= settings().page_size_max:
        raise Problem(422, f"limit must be between 1 and {settings().page_size_max}")
    return limit


def _module_key(module: str) -> bytes:
    """The module's cursor key: HMAC of a fixed label under its client secret (a KDF with its own
    label, so the key is never the credential itself)."""
    secret = secret_json(f"{settings().service_credentials_prefix}/{module}").get("client_secret") or ""
    if len(secret) < _MIN_SECRET:
        raise RuntimeError(f"{module}'s client secret is missing or shorter than {_MIN_SECRET} characters")
    return hmac.new(secret.encode(), b"finflow/cursor-key/v1", hashlib.sha256).digest()


def _mac(tag: str, payload: bytes) -> bytes:
    if tag not in LISTS:
        raise KeyError(f"no list is tagged {tag!r} (finflow.pages.LISTS)")
    return hmac.new(_module_key(LISTS[tag]), tag.encode() + b"\0" + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(tag: str, payload: bytes) -> str:
    return f"{_b64(payload)}.{_b64(_mac(tag, payload))}"


def unseal(tag: str, cursor: str) -> bytes:
    """The payload of a cursor this list handed out; a 422 problem for anything else."""
    body, dot, mac = cursor.partition(".")
    try:
        payload, given = _unb64(body), _unb64(mac)
    except (binascii.Error, ValueError):
        raise Problem(422, INVALID) from None
    if not dot or len(given) != _MAC_BYTES:
        raise Problem(422, INVALID)
    if not hmac.compare_digest(given, _mac(tag, payload)):
        raise Problem(422, FORGED)
    return payload


def encode_cursor(tag: str, at: datetime, row_id: str) -> str:
    """The position after a row ordered by (time, UUID): 24 bytes, so a cursor stays short."""
    at = at if at.tzinfo else at.replace(tzinfo=UTC)  # a naive time from a store is UTC
    micros = (at - _EPOCH) // timedelta(microseconds=1)
    return seal(tag, _KEYSET.pack(micros, uuid.UUID(row_id).bytes))


def decode_cursor(tag: str, cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    payload = unseal(tag, cursor)
    if len(payload) != _KEYSET.size:
        raise Problem(422, INVALID)
    micros, row_id = _KEYSET.unpack(payload)
    return _EPOCH + timedelta(microseconds=micros), str(uuid.UUID(bytes=row_id))


def encode_values(tag: str, values: list) -> str:
    """A position that is not (time, UUID): a sequence number, a search engine's sort values."""
    return seal(tag, json.dumps(values, separators=(",", ":")).encode())


def decode_values(tag: str, cursor: str | None, length: int) -> list | None:
    if not cursor:
        return None
    try:
        values = json.loads(unseal(tag, cursor))
    except ValueError:
        raise Problem(422, INVALID) from None
    if not isinstance(values, list) or len(values) != length:
        raise Problem(422, INVALID)
    return values


def page(rows: list, limit: int, tag: str, created: str) -> tuple[list, str | None]:
    """The first `limit` of `limit + 1` rows and the cursor after them (None: last page)."""
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(tag, getattr(last, created), last.id)
