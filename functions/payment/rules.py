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

from finflow import contracts, pages
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


def refusal(kind: str, r: contracts.PaymentReadsPostingRefusal) -> Problem | None:
    """The client's answer for a posting Wallet refused: the same words the check gives when
    Payment decides it itself. None for a rule Payment does not know (left for a human)."""
    if r.rule == "kyc-required":
        return Problem(403, "KYC verification required")
    if r.rule == "insufficient-funds":
        return Problem(422, "Insufficient funds", code="insufficient-funds")
    if r.rule == "invalid-amount":
        return Problem(422, r.detail)
    if r.rule == "same-wallet":
        return Problem(422, "Source and destination wallets must be different")
    if r.rule == "currency-mismatch":
        if r.source_currency and r.destination_currency:
            return Problem(
                422,
                f"Currency mismatch: source wallet is {r.source_currency}, destination wallet is {r.destination_currency}",
            )
        return Problem(422, f"Currency mismatch: {r.detail}")
    initiating = "destination" if kind == "deposit" else "source"
    if (r.side or initiating) == initiating:
        name, lower = ("Wallet", "wallet") if kind == "deposit" else ("Source wallet", "source wallet")
        words = {
            "not-found": (404, f"{name} not found"),
            "not-owner": (403, f"You do not own the {lower}"),
            "wallet-frozen": (400, f"{name} is frozen"),
            "wallet-closed": (400, f"{name} is closed"),
            "wallet-not-active": (400, f"{name} is closed"),
        }
    else:
        words = {
            "not-found": (404, "Destination wallet not found"),
            "wallet-frozen": (400, "Destination wallet is not active"),
            "wallet-closed": (400, "Destination wallet is not active"),
            "wallet-not-active": (400, "Destination wallet is not active"),
        }
    if r.rule not in words:
        return None
    status, text = words[r.rule]
    return Problem(status, text)


def problem_body(p: Problem) -> str:
    """The exact problem+json text the API sends for `p` (stored for idempotent replays)."""
    body = problem_response(p).body
    if not isinstance(body, str):  # problem_response always renders JSON text
        raise TypeError(f"problem body is {type(body).__name__}, not text")
    return body


# --- list cursors ----------------------------------------------------------------------


def encode_cursor(created_at: datetime, payment_id: str) -> str:
    return pages.encode_cursor("p", created_at, payment_id)


def decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    return pages.decode_cursor("p", cursor)
