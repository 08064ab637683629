"""Payment's replicas and its one call: the same answers whether Payment's replicas knew the
wallets (its own checks, no call) or not yet (a miss: Wallet's posting decides), a stale replica
never letting a wrong posting through, and refusals that keep nothing."""

from __future__ import annotations

import pytest

from tests.api import delivery
from tests.api import payment_helpers as h
from tests.api.payment_helpers import assert_problem


@pytest.fixture
def bus():
    capture = delivery.CaptureQueue()
    yield capture
    capture.close()


def _answers(gw, a, b, a_usd, a_eur, b_usd):
    """A refusal for each check Payment can decide itself from its replicas."""
    return {
        "not the owner": h.transfer(gw, b, a_usd, b_usd, "1.00"),
        "two currencies": h.transfer(gw, a, a_usd, a_eur, "1.00"),
        "one wallet twice": h.transfer(gw, a, a_usd, a_usd, "1.00"),
        "too many decimals": h.transfer(gw, a, a_usd, b_usd, "1.001"),
        "not a wallet id": h.transfer(gw, a, "not-a-uuid", b_usd, "1.00"),
        "deposit into another's": h.deposit(gw, b, a_usd, "1.00"),
    }


def test_a_miss_and_a_hit_give_the_same_answer_and_a_hit_needs_no_wallet(gateway, bus):
    a, b = h.customer(gateway), h.customer(gateway)
    a_usd, a_eur, b_usd = h.funded_wallet(gateway, a, "10.00"), h.wallet(gateway, a, "EUR"), h.wallet(gateway, b)
    before = h.payment_rows(a) + h.payment_rows(b)
    missed = _answers(gateway, a, b, a_usd, a_eur, b_usd)  # replicas empty: Wallet's posting decides
    delivery.deliver_cascade(bus)  # WalletCreated, UserKycStatusChanged... reach Payment's replicas
    gateway.functions["wallet.api"].enabled = False  # what the replicas decide needs no call
    try:
        known = _answers(gateway, a, b, a_usd, a_eur, b_usd)
    finally:
        gateway.functions["wallet.api"].enabled = True
    for case, r in known.items():
        assert 400 <= r.status_code < 500, (case, r.text)
        assert (r.status_code, r.text) == (missed[case].status_code, missed[case].text), case
    assert h.payment_rows(a) + h.payment_rows(b) == before  # refused by a check: nothing kept


def test_a_freeze_the_replica_has_not_heard_of_is_refused_by_the_posting_and_keeps_nothing(gateway, bus):
    a, b = h.customer(gateway), h.customer(gateway)
    a_usd, b_usd = h.funded_wallet(gateway, a, "10.00"), h.wallet(gateway, b)
    delivery.deliver_cascade(bus)
    r = gateway.put(f"/api/wallet/{a_usd}/status", headers=a.headers, json={"status": "frozen"})
    assert r.status_code == 200, r.text  # its WalletStatusChanged is not delivered: the replica says active
    rows = h.payment_rows(a)
    assert_problem(h.transfer(gateway, a, a_usd, b_usd, "1.00", key="after-freeze"), 400, "Source wallet is frozen")
    assert h.payment_rows(a) == rows and h.balance(gateway, a, a_usd) == "10.00"
    r = gateway.put(f"/api/wallet/{a_usd}/status", headers=a.headers, json={"status": "active"})
    assert r.status_code == 200, r.text
    # the refusal kept nothing, so its Idempotency-Key was never used
    assert h.transfer(gateway, a, a_usd, b_usd, "1.00", key="after-freeze").status_code == 201


def test_a_frozen_replica_does_not_refuse_what_wallet_allows(gateway, bus):
    a, b = h.customer(gateway), h.customer(gateway)
    a_usd, b_usd = h.funded_wallet(gateway, a, "10.00"), h.wallet(gateway, b)
    assert gateway.put(f"/api/wallet/{a_usd}/status", headers=a.headers, json={"status": "frozen"}).status_code == 200
    delivery.deliver_cascade(bus)  # the replica learns "frozen"
    assert gateway.put(f"/api/wallet/{a_usd}/status", headers=a.headers, json={"status": "active"}).status_code == 200
    r = h.transfer(gateway, a, a_usd, b_usd, "1.00")  # the lift has not reached the replica yet
    assert r.status_code == 201, r.text


def test_a_payment_to_a_wallet_payment_has_not_heard_of_takes_amount_currency_and_payee_from_wallet(gateway, bus):
    a, b = h.customer(gateway), h.customer(gateway)
    delivery.deliver_cascade(bus)
    a_jpy, b_jpy = h.wallet(gateway, a, "JPY"), h.wallet(gateway, b, "JPY")  # created after the last delivery
    dep = h.deposit(gateway, a, a_jpy, 500)
    assert dep.status_code == 201, dep.text
    assert (dep.json()["amount"], dep.json()["currency"]) == ("500", "JPY")
    assert_problem(h.deposit(gateway, a, a_jpy, "1.5"), 422)  # JPY has no decimals: Wallet knew it
    paid = h.transfer(gateway, a, a_jpy, b_jpy, "200")
    assert paid.status_code == 201, paid.text
    assert gateway.get(f"/api/payment/{paid.json()['id']}", headers=b.headers).json() == paid.json()  # payee sees it
    assert (h.balance(gateway, a, a_jpy), h.balance(gateway, b, b_jpy)) == ("300", "200")
    assert_problem(h.transfer(gateway, a, a_jpy, b_jpy, "301"), 422, "Insufficient funds")
    failed = [r for r in h.payment_rows(a) if r.status == "failed"]
    assert [(r.amount_minor, r.currency) for r in failed] == [(301, "JPY")]  # recorded whole, as documented
