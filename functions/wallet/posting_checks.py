"""The payment's checks as Wallet's posting applies them, under the wallets' locks: the
authority behind Payment's own checks from its replicas (functions/payment/checks.py).

A posting that names its initiator is checked in the documented order: the initiator's KYC,
the initiating wallet (the debited one; a deposit's credited one: found, owned, not frozen or
closed), the destination (found, active, not the same wallet), one currency, the amount
(converted here when Payment could not: it had not yet heard of the wallet). Each refusal is
a problem+json whose members say which rule, which side and which wallet (PostingRefusal),
so Payment words its answer without parsing text. Nothing moves on a refusal.
"""

from __future__ import annotations

import json

from finflow import contracts, money
from finflow.config import settings
from finflow.http import Problem


def refused(status: int, rule: str, detail: str, *, side: str | None = None, wallet_id: str | None = None, **facts):
    refusal = contracts.PostingRefusal(rule=rule, side=side, wallet_id=wallet_id, detail=detail, **facts)
    return Problem(status, detail, code=rule, extensions=refusal.model_dump(exclude_none=True, exclude={"detail"}))


def decide(req: contracts.PostingRequest, wallets: dict, kyc_status: str | None) -> tuple[int, str]:
    """(amount_minor, currency) of a posting that passes every check, else the first refusal."""
    if req.initiator_user_id is None:
        return _without_initiator(req, wallets)
    if kyc_status != "verified":
        raise refused(403, "kyc-required", "KYC verification required")
    side = "destination" if req.kind == "deposit" else "source"
    mine_id = req.credit_wallet_id if req.kind == "deposit" else req.debit_wallet_id
    mine = wallets.get(mine_id)
    name = side.capitalize()
    if mine is None:
        raise refused(404, "not-found", f"{name} wallet not found", side=side, wallet_id=mine_id)
    if mine.user_id != req.initiator_user_id:
        raise refused(403, "not-owner", f"{name} wallet belongs to someone else", side=side, wallet_id=mine.id)
    if mine.status != "active":
        raise refused(400, f"wallet-{mine.status}", f"{name} wallet is {mine.status}", side=side, wallet_id=mine.id)
    if req.kind == "transfer":
        other = wallets.get(req.credit_wallet_id)
        if other is None:
            raise refused(
                404, "not-found", "Destination wallet not found", side="destination", wallet_id=req.credit_wallet_id
            )
        if other.status != "active":
            raise refused(
                400,
                f"wallet-{other.status}",
                "Destination wallet is not active",
                side="destination",
                wallet_id=other.id,
            )
        if other.id == mine.id:
            raise refused(422, "same-wallet", "Source and destination wallets must be different", wallet_id=mine.id)
        if other.currency != mine.currency:
            raise refused(
                422,
                "currency-mismatch",
                f"source wallet is {mine.currency}, destination wallet is {other.currency}",
                source_currency=mine.currency,
                destination_currency=other.currency,
            )
    return _amount(req, mine), mine.currency


def _amount(req: contracts.PostingRequest, wallet) -> int:
    if req.amount_minor is not None:
        if req.currency != wallet.currency:
            raise refused(
                422,
                "currency-mismatch",
                f"the wallet is {wallet.currency}, the posting is {req.currency}",
                wallet_id=wallet.id,
                source_currency=wallet.currency if req.kind != "deposit" else req.currency,
                destination_currency=req.currency if req.kind != "deposit" else wallet.currency,
            )
        return req.amount_minor
    try:
        asked = json.loads(req.requested_amount or "")
    except ValueError:
        raise Problem(422, "requested_amount must be JSON text", code="invalid-posting") from None
    try:
        exponent = money.exponent(wallet.currency)
        return money.to_minor(asked, wallet.currency, max_minor=settings().max_amount * 10**exponent)
    except money.MoneyError as exc:
        raise refused(422, "invalid-amount", str(exc), wallet_id=wallet.id) from None


def _without_initiator(req: contracts.PostingRequest, wallets: dict) -> tuple[int, str]:
    """A posting that names no initiator (as Payment sent them before it kept replicas): the
    wallets must exist, be active and hold the posting's currency."""
    if req.amount_minor is None or req.currency is None:
        raise Problem(422, "a posting without an initiator needs amount_minor and currency", code="invalid-posting")
    for wallet_id, side in ((req.debit_wallet_id, "source"), (req.credit_wallet_id, "destination")):
        if wallet_id is None:
            continue
        w = wallets.get(wallet_id)
        name = side.capitalize()
        if w is None:
            raise refused(404, "not-found", f"{name} wallet not found", side=side, wallet_id=wallet_id)
        if w.currency != req.currency:
            raise refused(
                422,
                "currency-mismatch",
                f"{name} wallet is {w.currency}, the posting is {req.currency}",
                side=side,
                wallet_id=w.id,
            )
        if w.status == "frozen" and side == "source":
            raise refused(409, "wallet-frozen", "Source wallet is frozen", side=side, wallet_id=w.id)
        if w.status != "active":
            raise refused(409, "wallet-not-active", f"{name} wallet is not active", side=side, wallet_id=w.id)
    return req.amount_minor, req.currency
