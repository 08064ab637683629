"""Payment's checks from its replicas (functions/payment/checks.py): what it refuses itself, in
the documented order, and what it leaves to Wallet's posting (stale or missing replicas)."""

from __future__ import annotations

import uuid

import pytest

from finflow.http import Problem
from functions.payment import checks

ME, BOB = str(uuid.uuid4()), str(uuid.uuid4())
W1, W2 = str(uuid.uuid4()), str(uuid.uuid4())


def wallet(wallet_id, owner=ME, currency="USD", status="active"):
    return checks.Replica(wallet_id, owner, currency, status)


def plan(kind="transfer", kyc="verified", wallets=(), source=W1, destination=W2, amount="10.00"):
    if kind == "deposit":
        source = None
    if kind == "withdrawal":
        destination = None
    return checks.plan(
        kind,
        ME,
        kyc,
        {w.wallet_id: w for w in wallets},
        source=source,
        destination=destination,
        amount=amount,
        max_amount=1_000_000,
    )


def refused(**kw) -> tuple[int, str]:
    with pytest.raises(Problem) as exc:
        plan(**kw)
    return exc.value.status, exc.value.detail


def test_everything_known_and_fine_is_decided_here_with_the_amount_in_minor_units():
    p = plan(wallets=[wallet(W1), wallet(W2, owner=BOB)])
    assert (p.decided_here, p.amount_minor, p.currency, p.destination_owner) == (True, 1000, "USD", BOB)
    assert (p.source_id, p.destination_id) == (W1, W2)


@pytest.mark.parametrize(
    "kw, expected",
    [
        ({"wallets": [wallet(W1, owner=BOB)]}, (403, "You do not own the source wallet")),
        ({"wallets": [wallet(W1, status="closed")]}, (400, "Source wallet is closed")),
        ({"source": "not-a-uuid"}, (404, "Source wallet not found")),
        ({"wallets": [wallet(W1)], "destination": "../x"}, (404, "Destination wallet not found")),
        ({"wallets": [wallet(W1), wallet(W2, BOB, status="closed")]}, (400, "Destination wallet is not active")),
        ({"wallets": [wallet(W1)], "destination": W1}, (422, "Source and destination wallets must be different")),
        (
            {"wallets": [wallet(W1), wallet(W2, BOB, currency="EUR")]},
            (422, "Currency mismatch: source wallet is USD, destination wallet is EUR"),
        ),
        ({"wallets": [wallet(W1), wallet(W2, BOB)], "amount": "1.001"}, (422, None)),
        ({"wallets": [wallet(W1), wallet(W2, BOB)], "amount": "0"}, (422, None)),
        ({"kind": "deposit", "wallets": [wallet(W2, owner=BOB)]}, (403, "You do not own the wallet")),
        ({"kind": "deposit", "wallets": [wallet(W2, status="closed")]}, (400, "Wallet is closed")),
        ({"kind": "withdrawal", "source": "nope"}, (404, "Source wallet not found")),
    ],
)
def test_what_no_replica_can_have_wrong_is_refused_here_in_order(kw, expected):
    status, detail = refused(**kw)
    assert status == expected[0] and (expected[1] is None or detail == expected[1])


@pytest.mark.parametrize(
    "kw",
    [
        {"kyc": None, "wallets": [wallet(W1, owner=BOB)]},  # never heard of the user: Wallet asks Auth
        {"kyc": "pending", "wallets": [wallet(W1, owner=BOB)]},  # Auth may have verified them a moment ago
        {"kyc": "submitted", "source": "not-a-uuid"},  # KYC answers first, if it fails
        {"wallets": []},  # a wallet created a moment ago: its event has not arrived
        {"wallets": [wallet(W1, status="frozen"), wallet(W2, BOB, currency="EUR")]},  # a freeze may be lifted
        {"wallets": [wallet(W1), wallet(W2, BOB, status="frozen")], "amount": "0"},
        {"wallets": [wallet(W1)]},  # the payee's wallet unknown here
    ],
)
def test_what_a_replica_may_have_wrong_or_missed_is_left_to_the_posting(kw):
    p = plan(**kw)
    assert not p.decided_here


def test_a_miss_leaves_the_amount_to_wallet_and_an_id_that_is_no_uuid_names_no_wallet():
    p = plan(kyc=None, source="not-a-uuid", amount="1.001")
    assert (p.amount_minor, p.currency, p.source_id, p.destination_id) == (None, None, checks.NO_WALLET, W2)


def test_a_deferred_payment_keeps_the_currency_it_knows_when_the_amount_fits_it():
    p = plan(kyc="pending", wallets=[wallet(W1)], destination=W2.upper())
    assert (p.amount_minor, p.currency, p.destination_id, p.destination_owner) == (1000, "USD", W2, None)
    p = plan(kyc="pending", wallets=[wallet(W1)], amount="1.001")  # not USD: Wallet words the refusal in order
    assert (p.amount_minor, p.currency) == (None, None)
