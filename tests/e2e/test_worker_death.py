"""A function's worker killed mid-invocation (SIGKILL), as Lambda loses a container: that
invocation is a function error (Payment sees Wallet's Runtime.ExitError, the client a 5xx or,
if Payment's own retry got through, the payment), a new worker takes the dead one's place, and
the client's retry with the same Idempotency-Key converges on one posting and the right balances.

Wallet's worker is caught mid-posting for certain: the test holds the destination wallet's row
lock, so the posting waits inside Wallet's transaction until the worker is killed."""

from __future__ import annotations

import os
import signal
import threading
import uuid

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests import invariants, support
from tests.e2e.support import create_wallet, deposit, get_wallet, ledger_entries, verified_users
from tests.e2e.test_reporting_e2e import database_url

pytestmark = pytest.mark.e2e

WAIT = 30.0


def wallet_workers(http: httpx.Client) -> dict:
    r = http.get("/_dev/workers")
    assert r.status_code == 200, r.text
    return r.json()["functions"]["wallet-api"]


def test_a_wallet_worker_killed_mid_posting_is_replaced_and_a_retry_converges(http, devserver):
    alice, bob = verified_users(http, devserver, 2, tag="killed")
    source, destination = create_wallet(http, alice)["id"], create_wallet(http, bob)["id"]
    deposit(http, alice, source, "100.00")
    deaths_before = wallet_workers(http)["deaths"]
    body = {"from_wallet_id": source, "to_wallet_id": destination, "amount": "30.00"}
    headers = alice.auth | {"Idempotency-Key": str(uuid.uuid4())}

    wallet_db = create_engine(make_url(database_url(devserver)).set(database="wallet"))
    answers: list[httpx.Response] = []
    with wallet_db.connect() as conn:
        conn.execute(text("SELECT 1 FROM wallets WHERE id = :w FOR UPDATE"), {"w": destination})
        sender = threading.Thread(
            target=lambda: answers.append(
                httpx.post(f"{devserver.url}/api/payment/transfer", json=body, headers=headers, timeout=60)
            )
        )
        sender.start()
        victim = support.until(
            "a Wallet worker blocked in the posting",
            lambda: next((w["pid"] for w in wallet_workers(http)["workers"] if w["busy"]), None),
            WAIT,
        )
        os.kill(victim, signal.SIGKILL)
        support.until("the kill to be seen", lambda: wallet_workers(http)["deaths"] > deaths_before, WAIT)
        conn.rollback()  # the lock goes: a posting Payment may re-send now passes
    wallet_db.dispose()
    sender.join(timeout=90)
    first = answers[0]
    # what Payment made of Wallet's function error: its own retry got through, or the payment is
    # pending (503 with Retry-After); never a 500
    assert first.status_code in (201, 503), first.text
    if first.status_code == 503:
        assert first.headers.get("Retry-After"), first.headers

    retry = support.until(
        "the retry with the same key to complete the transfer",
        lambda: (
            (r := httpx.post(f"{devserver.url}/api/payment/transfer", json=body, headers=headers)).status_code == 201
            and r
        ),
        WAIT,
    )
    assert retry.json()["status"] == "completed"
    if first.status_code == 201:
        assert retry.json()["id"] == first.json()["id"]
    payment_id = retry.json()["id"]

    # one posting, the right balances, and a new worker serves Wallet
    assert get_wallet(http, alice, source)["balance"] == "70.00"
    assert get_wallet(http, bob, destination)["balance"] == "30.00"
    credits = [e for e in ledger_entries(http, bob, destination) if e["kind"] == "transfer"]
    assert [(e["posting_id"], e["amount"]) for e in credits] == [(payment_id, "30.00")]
    workers = wallet_workers(http)["workers"]
    assert workers and victim not in {w["pid"] for w in workers}
    report = invariants.check(invariants.Databases.at(database_url(devserver)), [alice.id, bob.id], in_flight=False)
    report.assert_ok()
    assert "Runtime exited with error: signal: killed" in devserver.log_path.read_text(errors="replace")
