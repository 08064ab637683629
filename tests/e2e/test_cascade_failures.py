"""Failure injection in the devserver: one module down, the cascade its callers show, and
recovery once it is back. Every test brings the module back up, whatever happens."""

from __future__ import annotations

import contextlib
import time
import uuid

import httpx
import pytest

from tests.e2e.support import assert_problem, balance, create_wallet, deposit, payment_ids, verified_users

pytestmark = pytest.mark.e2e

RECOVERY_WAIT = 20.0  # generous: the e2e devserver's breakers retry after 2 s


@contextlib.contextmanager
def module_down(http: httpx.Client, key: str):
    r = http.post(f"/_dev/modules/{key}/down")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "down", r.json()
    try:
        yield
    finally:
        r = http.post(f"/_dev/modules/{key}/up")
        assert r.status_code == 200 and r.json()["status"] == "up", r.text


def _health(devserver, key: str) -> dict:
    r = httpx.get(f"{devserver.seed_url(key)}/health", timeout=15.0)
    assert r.status_code == 200, r.text
    return r.json()


def test_dev_routes_list_modules_and_refuse_unknown_ones(http, devserver):
    modules = http.get("/_dev/modules").json()["modules"]
    assert modules["wallet"] == {
        "status": "up",
        "functions": ["wallet.api", "wallet.events", "wallet.outbox-sweeper"],
    }, modules
    assert_problem(http.post("/_dev/modules/bank/down"), 404, "bank")
    assert http.get("/_dev/modules/wallet/down").status_code == 405
    # the /_dev routes belong to the devserver's gateway, not to any module's port
    assert httpx.get(f"{devserver.seed_url('wallet')}/_dev/modules", timeout=5.0).status_code == 404


def test_with_auth_down_wallet_degrades_and_decides_from_its_kyc_replica(http, devserver):
    user = verified_users(http, devserver, 1, "replica")[0]
    # the replica learns the decision from UserKycStatusChanged; a first wallet proves Auth said so
    create_wallet(http, user)

    with module_down(http, "auth"):
        r = http.post("/api/auth/login", json={"email": user.email, "password": user.password})
        assert_problem(r, 502)  # Auth's own routes: a dead integration
        health = _health(devserver, "wallet")
        assert health["status"] == "degraded", health
        assert health["dependencies"]["auth-service"] != "healthy", health
        # the existing token still passes the gateway's authorizer; KYC comes from the replica
        r = http.post("/api/v2/wallet/create", json={"currency": "EUR"}, headers=user.auth)
        assert r.status_code == 201, r.text
        assert r.json()["currency"] == "EUR"

    assert _health(devserver, "wallet")["status"] == "healthy"


def test_with_wallet_down_payment_fails_fast_opens_its_breaker_and_recovers(http, devserver):
    payer, payee = verified_users(http, devserver, 2, "breaker")
    source, destination = create_wallet(http, payer), create_wallet(http, payee)
    deposit(http, payer, source["id"], "40.00")
    body = {"from_wallet_id": source["id"], "to_wallet_id": destination["id"], "amount": "10.00"}
    before = payment_ids(http, payer)
    # One payment retried: sent while Wallet was down it stays pending (the posting may have arrived),
    # and the same key drives it again until Wallet answers.
    keyed = payer.auth | {"Idempotency-Key": f"breaker-{uuid.uuid4().hex[:8]}"}

    with module_down(http, "wallet"):
        assert_problem(http.get(f"/api/wallet/{source['id']}", headers=payer.auth), 502)
        breakers: dict = {}
        for _ in range(10):  # five failed calls open the breaker; a transfer makes one or two
            r = http.post("/api/payment/transfer", json=body, headers=keyed)
            assert_problem(r, 503, "wallet")
            assert r.headers.get("Retry-After"), r.headers
            health = _health(devserver, "payment")
            breakers = health["circuit_breakers"]
            if breakers.get("wallet") == "open":
                break
        assert breakers.get("wallet") == "open", health
        assert health["status"] == "degraded", health
        assert health["dependencies"]["wallet-service"] == "unreachable", health
        # open: refused by the breaker itself
        r = http.post("/api/payment/transfer", json=body, headers=keyed)
        assert_problem(r, 503, "wallet")

    # Wallet is back: once the breaker's reset window passes, a trial call closes it again
    deadline, r = time.monotonic() + RECOVERY_WAIT, None
    while time.monotonic() < deadline:
        r = http.post("/api/payment/transfer", json=body, headers=keyed)
        if r.status_code == 201:
            break
        assert_problem(r, 503, "wallet")
        time.sleep(0.5)
    assert r is not None and r.status_code == 201, r.text
    health = _health(devserver, "payment")
    assert health["circuit_breakers"]["wallet"] == "closed", health
    assert health["dependencies"]["wallet-service"] == "healthy", health
    # one payment, however often it was sent: the one that waited for Wallet
    assert [p for p in payment_ids(http, payer) if p not in before] == [r.json()["id"]]
    assert balance(http, payer, source["id"]) == "30.00"
    assert balance(http, payee, destination["id"]) == "10.00"


def _waiting(devserver, queue: str) -> int:
    sqs = devserver.aws("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def _received(http, account) -> int:
    """How many "payment received" notifications `account` has."""
    r = http.get("/api/notifications", params={"limit": 100}, headers=account.auth)
    assert r.status_code == 200, r.text
    return sum(1 for n in r.json()["items"] if n["type"] == "payment_received")


def test_a_module_down_keeps_its_events_waiting_in_the_queue(http, devserver):
    """Notification down: PaymentCompleted waits in its SQS queue (never reaching the DLQ)
    and is delivered once Notification is back."""
    payer, payee = verified_users(http, devserver, 2, "waiting")
    source, destination = create_wallet(http, payer), create_wallet(http, payee)
    deposit(http, payer, source["id"], "15.00")

    with module_down(http, "notification"):
        r = http.post(
            "/api/payment/transfer",
            headers=payer.auth,
            json={"from_wallet_id": source["id"], "to_wallet_id": destination["id"], "amount": "5.00"},
        )
        assert r.status_code == 201, r.text  # Payment does not depend on Notification
        assert_problem(http.get("/api/notifications", headers=payee.auth), 502)
        deadline = time.monotonic() + 10
        while _waiting(devserver, "finflow-notification-from-payment") == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _waiting(devserver, "finflow-notification-from-payment") >= 1

    deadline = time.monotonic() + RECOVERY_WAIT
    while _received(http, payee) == 0 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert _received(http, payee) == 1, "the waiting PaymentCompleted never reached Notification"
    assert _waiting(devserver, "finflow-notification-from-payment-dlq") == 0
