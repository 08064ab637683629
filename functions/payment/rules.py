"""Payment's pure rules: request fingerprints for Idempotency-Key, what Wallet's refusals
mean to a client, wire formats and cursors. No I/O here, so all of it is unit-tested."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from finflow import pages
from finflow.http import Problem, problem_response

IDEMPOTENCY_KEY_MAX = 255
_DECIMAL = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


# --- Idempotency-Key -------------------------------------------------------------------


def idempotency_key(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not 1 <= len(raw) <= IDEMPOTENCY_KEY_MAX:
        raise Problem(422, f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} characters")
    return raw


def canonical_amount(amount: Any) -> str:
    """One spelling per amount: 10, 10.0, "10" and "10.00" are the same request. Anything
    that is not a finite decimal keeps its type and text (it will be refused anyway)."""
    if not isinstance(amount, bool) and isinstance(amount, (int, float, str)):
        text = str(amount)
        if isinstance(amount, (int, float)) or _DECIMAL.fullmatch(text):
            try:
                value = Decimal(text)
            except InvalidOperation:
                value = None
            if value is not None and value.is_finite():
                normalized = value.normalize()
                return format(normalized if normalized != 0 else Decimal(0), "f")
    return f"{type(amount).__name__}:{amount!r}"


def canonical_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError):
        return value


def request_hash(operation: str, fields: dict[str, Any]) -> str:
    """SHA-256 of the operation and its normalized body: what "the same request" means."""
    body = {
        k: canonical_amount(v) if k == "amount" else canonical_id(v) if k.endswith("wallet_id") else v
        for k, v in fields.items()
    }
    canonical = json.dumps(
        {"operation": operation, "body": body}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- Wallet's refusals -----------------------------------------------------------------


def _side(detail: str) -> str | None:
    lowered = (detail or "").lower()
    return "source" if lowered.startswith("source") else "destination" if lowered.startswith("destination") else None


def refusal(kind: str, code: str, detail: str) -> Problem:
    """The client's answer for a posting Wallet refused (the wallets changed after our checks).

    Wallet names the side in its detail ("Source wallet ...", "Destination wallet ..."); for a
    deposit or a withdrawal there is only one wallet, so the side follows from the kind.
    """
    side = {"deposit": "destination", "withdrawal": "source"}.get(kind) or _side(detail)
    if code == "insufficient-funds":
        return Problem(422, "Insufficient funds", code=code)
    if code == "currency-mismatch":
        return Problem(422, f"Currency mismatch: {detail}", code=code)
    if kind == "deposit":
        text = {
            "wallet-frozen": "Wallet is frozen",
            "wallet-not-active": "Wallet is not active",
            "not-found": "Wallet not found",
        }.get(code)
    elif side == "source":
        text = {
            "wallet-frozen": "Source wallet is frozen",
            "wallet-not-active": "Source wallet is closed",
            "not-found": "Source wallet not found",
        }.get(code)
    elif side == "destination":
        text = {
            "wallet-frozen": "Destination wallet is not active",
            "wallet-not-active": "Destination wallet is not active",
            "not-found": "Destination wallet not found",
        }.get(code)
    else:
        text = {
            "wallet-frozen": "Wallet is frozen",
            "wallet-not-active": "Wallet is not active",
            "not-found": "Wallet not found",
        }.get(code)
    if text is None:
        return Problem(422, detail or "Payment refused by the wallet service", code=code or None)
    return Problem(404 if code == "not-found" else 400, text, code=code)


def problem_body(p: Problem) -> str:
    """The exact problem+json text the API sends for `p` (stored for idempotent replays)."""
    return problem_response(p).body


# --- list cursors ----------------------------------------------------------------------


def encode_cursor(created_at: datetime, payment_id: str) -> str:
    return pages.encode_cursor("p", created_at, payment_id)


def decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    return pages.decode_cursor("p", cursor)
