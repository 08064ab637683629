"""Double-entry postings. Each posting writes entries that sum to zero, in one
transaction, with the wallets locked in id order; the database refuses a negative
customer balance and an unbalanced posting. Postings are idempotent by their id."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy.exc import IntegrityError

from finflow import contracts, ids, money
from finflow.http import Problem
from functions.wallet import store
from functions.wallet.logic import db


def request_hash(req: contracts.PostingRequest) -> str:
    return hashlib.sha256(json.dumps(req.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def result(conn, posting_id: str) -> contracts.PostingResult | None:
    header = store.posting(conn, posting_id)
    if header is None:
        return None
    return contracts.PostingResult(
        posting_id=header.id,
        kind=header.kind,
        currency=header.currency,
        amount_minor=header.amount_minor,
        created_at=header.created_at,
        entries=[
            contracts.PostingEntry(
                wallet_id=e.wallet_id, amount_minor=e.amount_minor, balance_after_minor=e.balance_after_minor
            )
            for e in store.posting_entries(conn, posting_id)
        ],
    )


def find(posting_id: str) -> contracts.PostingResult:
    with db().connect() as conn:
        found = result(conn, posting_id)
    if found is None:
        raise Problem(404, "Posting not found", code="not-found")
    return found


def _check(req: contracts.PostingRequest, wallets: dict, wallet_id: str | None, role: str) -> None:
    if wallet_id is None:
        return
    w = wallets.get(wallet_id)
    if w is None:
        raise Problem(404, f"{role.capitalize()} wallet not found", code="not-found")
    if w.currency != req.currency:
        raise Problem(
            422, f"{role.capitalize()} wallet is {w.currency}, the posting is {req.currency}", code="currency-mismatch"
        )
    if w.status == "frozen" and role == "source":
        raise Problem(409, "Source wallet is frozen", code="wallet-frozen")
    if w.status != "active":
        raise Problem(409, f"{role.capitalize()} wallet is not active", code="wallet-not-active")


def post(req: contracts.PostingRequest) -> tuple[contracts.PostingResult, bool]:
    """Apply a posting; returns (result, created). A replay returns the first result."""
    if req.amount_minor > money.MAX_MINOR:
        raise Problem(422, f"amount_minor must be at most {money.MAX_MINOR}", code="invalid-posting")
    if req.debit_wallet_id is None and req.credit_wallet_id is None or req.debit_wallet_id == req.credit_wallet_id:
        raise Problem(422, "a posting needs two different sides", code="invalid-posting")
    # the same wallet spelt another way (upper case, no hyphens) is the same wallet
    req = req.model_copy(
        update={
            side: ids.canonical(getattr(req, side)) or getattr(req, side)
            for side in ("debit_wallet_id", "credit_wallet_id")
            if getattr(req, side)
        }
    )
    digest = request_hash(req)
    try:
        with db().begin() as conn:
            created_at = store.claim_posting(
                conn,
                posting_id=req.posting_id,
                kind=req.kind,
                currency=req.currency,
                amount_minor=req.amount_minor,
                description=req.description,
                request_hash=digest,
            )
            if created_at is None:
                if store.posting(conn, req.posting_id).request_hash != digest:
                    raise Problem(409, "posting id was already used for a different posting", code="conflict")
                return result(conn, req.posting_id), False
            wallets = store.lock_wallets(conn, [w for w in (req.debit_wallet_id, req.credit_wallet_id) if w])
            _check(req, wallets, req.debit_wallet_id, "source")
            _check(req, wallets, req.credit_wallet_id, "destination")
            if req.debit_wallet_id and wallets[req.debit_wallet_id].balance_minor < req.amount_minor:
                raise Problem(422, "Insufficient funds", code="insufficient-funds")
            if (
                req.credit_wallet_id
                and wallets[req.credit_wallet_id].balance_minor > money.MAX_MINOR - req.amount_minor
            ):
                raise Problem(422, "the destination's balance would exceed the largest a wallet can hold")
            entries = []
            for wallet_id, delta in (
                (req.debit_wallet_id, -req.amount_minor),
                (req.credit_wallet_id, req.amount_minor),
            ):
                if wallet_id is None:
                    entries.append((store.external_account(conn, req.currency), delta, None))
                else:
                    entries.append((wallet_id, delta, store.add_to_balance(conn, wallet_id, delta)))
            store.insert_entries(conn, req.posting_id, entries)
            # what result() would read back, without two more round trips: entries in insertion (seq) order
            created = contracts.PostingResult(
                posting_id=req.posting_id,
                kind=req.kind,
                currency=req.currency,
                amount_minor=req.amount_minor,
                created_at=created_at,
                entries=[
                    contracts.PostingEntry(wallet_id=w, amount_minor=amount, balance_after_minor=after)
                    for w, amount, after in entries
                ],
            )
    except IntegrityError as exc:
        # The CHECK constraint is the last line: code above should have refused first.
        if "wallets_balance_not_negative" in str(exc.orig):
            raise Problem(422, "Insufficient funds", code="insufficient-funds") from None
        raise
    return created, True
