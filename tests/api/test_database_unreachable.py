"""A module whose database drops the connection (a restart, a failover) answers 503 problem+json
with Retry-After, never a 500: the client can act on it, and a retry is safe."""

from __future__ import annotations

from tests.api import payment_helpers as h
from tests.api.payment_helpers import assert_problem
from tests.api.test_faults_money import connection_dropped_before


def test_a_dropped_database_connection_is_a_503_with_retry_after_and_the_retry_answers(gateway):
    owner = h.customer(gateway)
    wallet_id = h.wallet(gateway, owner)

    with connection_dropped_before("wallet", "SELECT", times=1) as dropped:
        res = gateway.get(f"/api/wallet/{wallet_id}", headers=owner.headers)

    assert dropped["dropped"] == 1
    assert_problem(res, 503)
    assert res.headers["Retry-After"] == "5"
    again = gateway.get(f"/api/wallet/{wallet_id}", headers=owner.headers)
    assert again.status_code == 200 and again.json()["id"] == wallet_id
