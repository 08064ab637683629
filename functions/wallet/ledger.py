"""Double-entry postings. Each posting writes entries that sum to zero, in one
transaction, with the wallets locked in id order; the database refuses a negative
customer balance and an unbalanced posting. Postings are idempotent by their id."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy.exc import IntegrityError

from finflow import contracts, ids, money
from finflow.config import settings
from finflow.http import Problem
from functions.wallet import posting_checks, store
from functions.wallet.logic import db, kyc_from_auth

# What a posting is, for "the same posting again": not who asked for it or the checks it carries.
_POSTED = ("posting_id", "kind", "debit_wallet_id", "credit_wallet_id", "amount_minor", "currency", "description")


def request_hash(req: contracts.PostingRequest) -> str:
    fields = req.model_dump(mode="json", include=set(_POSTED))
    if req.requested_amount is not None:
        fields["requested_amount"] = req.requested_amount
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


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
                wallet_id=e.wallet_id,
                user_id=e.user_id,
                amount_minor=e.amount_minor,
                balance_after_minor=e.balance_after_minor,
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


class _AskAuth(Exception):
    """The replica does not settle the initiator's KYC: Auth is asked, with no lock held."""

    def __init__(self, user_id: str):
        super().__init__(user_id)
        self.user_id = user_id


def post(req: contracts.PostingRequest) -> tuple[contracts.PostingResult, bool]:
    """Apply a posting; returns (result, created). A replay returns the first result.

    Under the wallets' locks, in this order: the payment's checks (posting_checks) and the
    funds; then the posting, in one statement that also claims its id. A posting already
    applied under this id is answered as it was, whatever the checks say now: looked up when
    the claim finds the id taken, or before a refusal (checked after the locks, so a first
    attempt still running is seen).

    The initiator's KYC is kyc_of's: a "verified" the replica learned within KYC_CACHE_SECONDS
    is read with the locks, in the same statement; anything else is asked of Auth with no lock
    held (the transaction ends first), and the posting starts over with Auth's answer."""
    req = _canonical(req)
    digest = request_hash(req)
    user = req.initiator_user_id
    kyc = kyc_from_auth(user).kyc_status if user and settings().kyc_cache_seconds <= 0 else None
    try:
        return _post(req, digest, kyc)
    except _AskAuth as ask:  # the locked read found the replica not fresh: Auth, without reading it again
        return _post(req, digest, kyc_from_auth(ask.user_id).kyc_status)


def _post(req: contracts.PostingRequest, digest: str, kyc: str | None) -> tuple[contracts.PostingResult, bool]:
    """post() under the locks. `kyc`: the initiator's status as Auth gave it; None: the replica's."""
    wanted = [w for w in (req.debit_wallet_id, req.credit_wallet_id) if w]
    try:
        with db().begin() as conn:
            if req.initiator_user_id and kyc is None:
                max_age = settings().kyc_cache_seconds
                wallets, verified = store.lock_wallets_for(conn, wanted, req.initiator_user_id, max_age)
                if not verified:
                    raise _AskAuth(req.initiator_user_id)  # rolls back: no lock is held across the call
                kyc = "verified"
            else:
                wallets = store.lock_wallets(conn, wanted)
            try:
                amount_minor, currency = _checked(req, wallets, kyc)
            except Problem:
                if (replay := _replayed(conn, req, digest)) is not None:
                    return replay, False
                raise
            # (wallet, owner, amount): debit first, so it gets the lower seq; the external account has no owner
            sides = [
                (store.external_account(conn, currency), None, delta) if w is None else (w, wallets[w].user_id, delta)
                for w, delta in ((req.debit_wallet_id, -amount_minor), (req.credit_wallet_id, amount_minor))
            ]
            applied = store.apply_posting(
                conn,
                posting_id=req.posting_id,
                kind=req.kind,
                currency=currency,
                amount_minor=amount_minor,
                description=req.description,
                request_hash=digest,
                entries=[(w, delta) for w, _, delta in sides],
            )
            if applied is None:  # the id was posted before
                if (replay := _replayed(conn, req, digest)) is None:  # pragma: no cover - the claim saw it
                    raise Problem(409, "posting id was already used for a different posting", code="conflict")
                return replay, False
    except IntegrityError as exc:
        # The CHECK constraint is the last line: code above should have refused first.
        if "wallets_balance_not_negative" in str(exc.orig):
            raise posting_checks.refused(422, "insufficient-funds", "Insufficient funds", side="source") from None
        raise
    created_at, balances = applied
    # what result() would read back, without more round trips: entries in insertion (seq) order
    created = contracts.PostingResult(
        posting_id=req.posting_id,
        kind=req.kind,
        currency=currency,
        amount_minor=amount_minor,
        created_at=created_at,
        entries=[
            contracts.PostingEntry(wallet_id=w, user_id=owner, amount_minor=delta, balance_after_minor=balances.get(w))
            for w, owner, delta in sides
        ],
    )
    return created, True


def _checked(req: contracts.PostingRequest, wallets: dict, kyc: str | None) -> tuple[int, str]:
    """(amount_minor, currency) of a posting every check and the funds allow; else the refusal."""
    amount_minor, currency = posting_checks.decide(req, wallets, kyc)
    if req.debit_wallet_id and wallets[req.debit_wallet_id].balance_minor < amount_minor:
        raise posting_checks.refused(
            422,
            "insufficient-funds",
            "Insufficient funds",
            side="source",
            wallet_id=req.debit_wallet_id,
            amount_minor=amount_minor,
            currency=currency,
        )
    if req.credit_wallet_id and wallets[req.credit_wallet_id].balance_minor > money.MAX_MINOR - amount_minor:
        raise Problem(422, "the destination's balance would exceed the largest a wallet can hold")
    return amount_minor, currency


def _canonical(req: contracts.PostingRequest) -> contracts.PostingRequest:
    """The same wallet spelt another way (upper case, no hyphens) is the same wallet."""
    if req.amount_minor is not None and req.amount_minor > money.MAX_MINOR:
        raise Problem(422, f"amount_minor must be at most {money.MAX_MINOR}", code="invalid-posting")
    if (req.amount_minor is None or req.currency is None) and req.requested_amount is None:
        raise Problem(422, "a posting needs amount_minor and currency, or requested_amount", code="invalid-posting")
    if req.debit_wallet_id is None and req.credit_wallet_id is None:
        raise Problem(422, "a posting needs at least one wallet", code="invalid-posting")
    if req.debit_wallet_id == req.credit_wallet_id and req.initiator_user_id is None:
        raise Problem(422, "a posting needs two different sides", code="invalid-posting")
    return req.model_copy(
        update={
            side: ids.canonical(getattr(req, side)) or getattr(req, side)
            for side in ("debit_wallet_id", "credit_wallet_id")
            if getattr(req, side)
        }
    )


def _replayed(conn, req: contracts.PostingRequest, digest: str) -> contracts.PostingResult | None:
    header = store.posting(conn, req.posting_id)
    if header is None:
        return None
    if header.request_hash != digest:
        raise Problem(409, "posting id was already used for a different posting", code="conflict")
    return result(conn, req.posting_id)
