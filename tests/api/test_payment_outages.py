"""Payment when Wallet or Auth fail: nothing written before the posting, pending payments
after a lost answer, and the retry or the reconciler that resolves them."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from tests.api import payment_helpers as h
from tests.api.payment_helpers import assert_problem


@pytest.fixture
def outage(gateway):
    """Modules' outbound calls through a transport that can take paths down."""
    from devserver import inprocess
    from finflow import service_client

    transport = h.Outage(inprocess.transport())
    service_client.route_all_http_through(transport)  # also fresh breakers
    return transport


def _pending_id(res: httpx.Response) -> str:
    assert_problem(res, 503)
    m = re.fullmatch(
        r"Wallet service unavailable; payment (\S+) is pending and will be resolved automatically", res.json()["detail"]
    )
    assert m, res.json()
    return m.group(1)


def test_wallet_down_leaves_payments_pending_until_the_breaker_opens_then_writes_nothing(gateway, outage):
    a, b = h.customer(gateway), h.customer(gateway)
    wa, wb = h.funded_wallet(gateway, a, "20.00"), h.wallet(gateway, b)
    outage.down.add("/api/wallet/")
    for _ in range(5):  # the posting is the one call; the fifth failure opens the breaker
        res = h.transfer(gateway, a, wa, wb, "1.00", key=str(uuid.uuid4()))
        assert res.status_code == 503 and "is pending and will be resolved automatically" in res.json()["detail"]
    refused = outage.refused
    assert_problem(h.transfer(gateway, a, wa, wb, "1.00"), 503, "Wallet service unavailable")
    assert outage.refused == refused  # the breaker is open: Wallet is not even asked, nothing is written
    outage.down.clear()
    assert [r.status for r in h.payment_rows(a)] == ["completed"] + ["pending"] * 5
    assert h.balance(gateway, a, wa) == "20.00"  # the reconciler resolves them once Wallet is back
    # (tests/api/test_faults_money.py: the reconciler after a Wallet outage)


def test_no_service_token_reads_as_auth_unavailable_not_500(gateway, outage):
    from finflow import service_auth

    a = h.customer(gateway)
    w = h.wallet(gateway, a)
    service_auth.forget_tokens()
    outage.down.add("/api/auth/token")
    assert_problem(h.deposit(gateway, a, w, "1"), 503, "Auth service unavailable")
    outage.down.clear()
    assert h.payment_rows(a) == []
    assert h.deposit(gateway, a, w, "1").status_code == 201


def test_lost_posting_answer_stays_pending_then_the_reconciler_completes_it(gateway, outage):
    from devserver.lambda_runtime import LambdaContext
    from functions.payment import logic, reconciler

    a, b = h.customer(gateway), h.customer(gateway)
    wa, wb = h.funded_wallet(gateway, a, "50.00"), h.wallet(gateway, b)
    outage.lose_responses.add("/api/wallet/internal/postings")
    pid = _pending_id(h.transfer(gateway, a, wa, wb, "20.00", key="lost"))
    outage.lose_responses.clear()
    # Wallet did post (the answer was lost): the payment is pending, the money moved once
    assert gateway.get(f"/api/payment/{pid}", headers=a.headers).json()["status"] == "pending"
    assert (h.balance(gateway, a, wa), len(h.ledger(gateway, b, wb))) == ("30.00", 1)
    assert logic.reconcile(min_age_seconds=60)["completed"] == 0  # too young to touch
    result = reconciler.handler({"source": "aws.events"}, LambdaContext("payment-reconciler"))
    assert result["completed"] == 0  # the default waits ~5 s
    logic.reconcile(min_age_seconds=0)
    got = gateway.get(f"/api/payment/{pid}", headers=a.headers).json()
    assert (got["status"], got["completed_at"] is not None) == ("completed", True)
    assert [e["detail_type"] for e in h.outbox_events(pid)] == ["PaymentCompleted"]
    # a retry with the key gets the final answer, without a second posting
    again = h.transfer(gateway, a, wa, wb, "20.00", key="lost")
    assert (again.status_code, again.json()["id"], again.json()["status"]) == (201, pid, "completed")
    assert (h.balance(gateway, a, wa), h.balance(gateway, b, wb)) == ("30.00", "20.00")


def test_posting_down_then_a_retry_with_the_key_finishes_it(gateway, outage):
    a, b = h.customer(gateway), h.customer(gateway)
    wa, wb = h.funded_wallet(gateway, a, "50.00"), h.wallet(gateway, b)
    outage.down.add("/api/wallet/internal/postings")
    pid = _pending_id(h.transfer(gateway, a, wa, wb, "5.00", key="retry-me"))
    assert h.balance(gateway, a, wa) == "50.00"
    outage.down.clear()
    from finflow import service_client

    service_client.route_all_http_through(outage)  # fresh breaker, as after its 30 s
    res = h.transfer(gateway, a, wa, wb, "5.00", key="retry-me")
    assert (res.status_code, res.json()["id"], res.json()["status"]) == (201, pid, "completed")
    assert (h.balance(gateway, a, wa), h.balance(gateway, b, wb)) == ("45.00", "5.00")


def test_reconciler_fails_a_pending_payment_wallet_now_refuses(gateway, outage):
    from finflow import service_client
    from functions.payment import logic

    a, b = h.customer(gateway), h.customer(gateway)
    wa, wb = h.funded_wallet(gateway, a, "100.00"), h.wallet(gateway, b)
    outage.down.add("/api/wallet/internal/postings")
    pid = _pending_id(h.transfer(gateway, a, wa, wb, "80.00"))
    logic.reconcile(min_age_seconds=0)  # Wallet still down: stays pending
    assert gateway.get(f"/api/payment/{pid}", headers=a.headers).json()["status"] == "pending"
    outage.down.clear()
    service_client.route_all_http_through(outage)
    assert (
        gateway.post("/api/payment/withdraw", json={"wallet_id": wa, "amount": "50"}, headers=a.headers).status_code
        == 201
    )
    logic.reconcile(min_age_seconds=0)
    got = gateway.get(f"/api/payment/{pid}", headers=a.headers).json()
    assert (got["status"], got["failure_reason"]) == ("failed", "Insufficient funds")
    assert [e["detail_type"] for e in h.outbox_events(pid)] == ["PaymentFailed"]
    assert (h.balance(gateway, a, wa), h.balance(gateway, b, wb)) == ("50.00", "0.00")
