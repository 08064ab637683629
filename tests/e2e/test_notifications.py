"""Notification (D) over the devserver: events travel Auth/Payment outbox -> EventBridge ->
SQS -> Notification's consumer, and the users read the result through the gateway."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from tests.e2e.support import Account, create_wallet, deposit, transfer, verified_users

pytestmark = pytest.mark.e2e

WAIT = 15.0
POLL = 0.2


def wait_for_notification(http: httpx.Client, account: Account, match: Callable[[dict], bool]) -> dict:
    """GET /api/notifications until one matches (at most WAIT seconds)."""
    deadline = time.monotonic() + WAIT
    while True:
        r = http.get("/api/notifications", headers=account.auth)
        assert r.status_code == 200, r.text
        found = [n for n in r.json()["items"] if match(n)]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            pytest.fail(f"no matching notification for {account.email} within {WAIT:.0f}s: {r.json()['items']}")
        time.sleep(POLL)


def emails_to(devserver, address: str) -> list[dict]:
    data = httpx.get(f"{devserver.aws_endpoint}/moto-api/data.json", timeout=30).json()
    return [m for m in data["ses"]["Message"] if address in m["destinations"].get("ToAddresses", [])]


def test_both_parties_of_a_transfer_see_the_amount_in_its_currency(http, devserver):
    alice, bob = verified_users(http, devserver, 2, tag="notify")
    alice_eur, bob_eur = create_wallet(http, alice, "EUR"), create_wallet(http, bob, "EUR")
    deposit(http, alice, alice_eur["id"], "100.00")
    transfer(http, alice, alice_eur["id"], bob_eur["id"], "12.50")

    sent = wait_for_notification(http, alice, lambda n: n["type"] == "payment_sent")
    assert sent["body"] == "You sent €12.50 to Notify1."
    assert (sent["data"]["amount"], sent["data"]["currency"]) == ("12.50", "EUR")
    received = wait_for_notification(http, bob, lambda n: n["type"] == "payment_received")
    assert received["body"] == "You received €12.50 from Notify0."
    deposited = wait_for_notification(http, alice, lambda n: n["type"] == "deposit_completed")
    assert deposited["body"] == "You deposited €100.00 into your EUR wallet."

    # the same news by email, through SES on the local AWS endpoint
    assert [m for m in emails_to(devserver, bob.email) if "You received €12.50 from Notify0." in m["body"]]

    # the recipient marks it read; the sender cannot touch it
    assert http.post(f"/api/notifications/{received['id']}/read", headers=alice.auth).status_code == 404
    r = http.post(f"/api/notifications/{received['id']}/read", headers=bob.auth)
    assert r.status_code == 200 and r.json()["read"] is True
    unread = http.get("/api/notifications", params={"unread": "true"}, headers=bob.auth).json()["items"]
    assert received["id"] not in {n["id"] for n in unread}


def test_a_new_user_is_welcomed_and_the_seed_port_serves_notification_health(http, devserver, new_user):
    person = new_user("welcome")
    welcome = wait_for_notification(http, person, lambda n: n["type"] == "welcome")
    assert welcome["title"] == "Welcome to FinFlow"
    r = httpx.get(f"{devserver.seed_url('notification')}/health", timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["service"] == "notification-service"
