"""A module whose database drops the connection (a restart, a failover), or for which Secrets Manager
gives no answer, answers 503 problem+json with Retry-After, never a 500: the client can act on it,
and a retry is safe. A secret already read is used while Secrets Manager is unreachable."""

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


def test_secrets_manager_unreachable_is_a_503_and_a_secret_already_read_is_used_meanwhile(gateway, monkeypatch):
    from botocore.exceptions import EndpointConnectionError

    from finflow import aws

    def unreachable(**kwargs):
        raise EndpointConnectionError(endpoint_url="http://secretsmanager.invalid")

    owner = h.customer(gateway)
    login = {"email": owner.email, "password": h.PASSWORD}
    sm = aws.client("secretsmanager")

    aws.forget_secrets()  # a new container: Auth has not read its signing keys yet
    with monkeypatch.context() as m:
        m.setattr(sm, "get_secret_value", unreachable)
        res = gateway.post("/api/auth/login", json=login)
    assert_problem(res, 503)
    assert res.headers["Retry-After"] == "5"

    assert gateway.post("/api/auth/login", json=login).status_code == 200  # read now
    with monkeypatch.context() as m:
        m.setattr(sm, "get_secret_value", unreachable)
        for secret_id, (_, value) in list(aws._secret_cache.items()):  # every value past its age
            m.setitem(aws._secret_cache, secret_id, (float("-inf"), value))
        again = gateway.post("/api/auth/login", json=login)
    assert again.status_code == 200, again.text
