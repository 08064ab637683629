"""The initiator's KYC as a posting checks it: a "verified" Wallet's replica learned within
KYC_CACHE_SECONDS needs no call to Auth; an older one, or none, is asked of Auth, whose answer
decides."""

from __future__ import annotations

from sqlalchemy import text

from tests.api.test_wallet import deposit, post, transfer_body, wallet_of
from tests.support import kyc_decision


def _transfer(gateway, a, wa, wb, minor=100):
    return post(gateway, transfer_body(wa, wb, minor, initiator_user_id=a.id))


def _age_replica(user_id: str, seconds: int = 31) -> None:
    from finflow.db import engine

    with engine("wallet").begin() as conn:
        conn.execute(
            text("UPDATE kyc_replica SET confirmed_at = now() - make_interval(secs => :s) WHERE user_id = :u"),
            {"u": user_id, "s": seconds},
        )


def test_a_fresh_verified_posts_without_auth_and_an_old_one_asks_auth(gateway, verified_customer):
    a, b = verified_customer(), verified_customer()
    wa, wb = wallet_of(gateway, a), wallet_of(gateway, b)  # creating the wallet asked Auth: the replica is fresh
    deposit(gateway, wa, 1_000)
    gateway.functions["auth.api"].enabled = False
    try:
        assert _transfer(gateway, a, wa, wb).status_code == 201  # no call to Auth needed
    finally:
        gateway.functions["auth.api"].enabled = True

    kyc_decision(a.id, "rejected")  # Auth's decision; Wallet's replica has not heard of it
    _age_replica(a.id)
    r = _transfer(gateway, a, wa, wb)
    assert (r.status_code, r.json()["type"].rsplit("/", 1)[-1]) == (403, "kyc-required"), r.text
    assert gateway.get(f"/api/wallet/{wb['id']}", headers=b.headers).json()["balance"] == "1.00"


def test_an_aged_verified_confirmed_by_auth_posts_and_is_fresh_again(gateway, verified_customer):
    a, b = verified_customer(), verified_customer()
    wa, wb = wallet_of(gateway, a), wallet_of(gateway, b)
    deposit(gateway, wa, 1_000)
    _age_replica(a.id)
    assert _transfer(gateway, a, wa, wb).status_code == 201  # Auth asked, and says verified
    gateway.functions["auth.api"].enabled = False
    try:
        assert _transfer(gateway, a, wa, wb).status_code == 201  # its answer refreshed the replica
    finally:
        gateway.functions["auth.api"].enabled = True
    assert gateway.get(f"/api/wallet/{wb['id']}", headers=b.headers).json()["balance"] == "2.00"
