"""The invariant checker itself must be able to fail: corrupted ledgers are reported."""

from __future__ import annotations

from sqlalchemy import text

from tests import invariants
from tests.api import payment_helpers as h


def test_the_checker_reports_money_created_and_a_posted_payment_marked_failed(gateway):
    from finflow.db import engine

    a, b = h.customer(gateway), h.customer(gateway)
    wa, wb = h.funded_wallet(gateway, a, "10.00"), h.wallet(gateway, b)
    paid = h.transfer(gateway, a, wa, wb, "4.00").json()["id"]
    dbs = invariants.Databases.in_process()
    assert invariants.check(dbs, [a.id, b.id]).violations == []

    with engine("wallet").begin() as conn:  # one cent out of nowhere
        conn.execute(text("UPDATE wallets SET balance_minor = balance_minor + 1 WHERE id = :w"), {"w": wb})
    with engine("payment").begin() as conn:  # Wallet posted it, Payment says it failed
        conn.execute(
            text("UPDATE payments SET status = 'failed', completed_at = NULL, failed_at = now() WHERE id = :p"),
            {"p": paid},
        )
    found = "\n".join(invariants.check(dbs, [a.id, b.id]).violations)
    assert f"wallet {wb} balance 401 != sum of its entries 400" in found
    assert "USD: balances sum to 1001, Payment recorded 1000" in found
    assert f"payment {paid} failed but Wallet posted it" in found
    assert f"payment {paid} (failed) has 1 PaymentCompleted event(s)" in found
