"""`make dev` stopped with Ctrl-C and started again keeps everything: a devserver of the test's
own (its ports, its data dir) is used, stopped with SIGINT and started on the same data dir.

Before the stop: Alice is verified through a real KYC upload (the document in S3), holds a
wallet, deposits and pays Bob, and has notifications; Notification is then taken down and
Alice pays Bob again, so that payment's event waits in Notification's queue at the stop.
After the restart: the tokens issued before it still work (access and refresh), the balances,
payments, notifications and the document are all there, and the event queued before the stop
is delivered after it."""

from __future__ import annotations

import httpx
import pytest

from tests import support
from tests.e2e import own_devserver
from tests.e2e.support import Account, deposit, get_wallet, payment_ids, register, transfer
from tests.e2e.test_erasure_journey import PDF, inbox, upload_and_submit

pytestmark = pytest.mark.e2e

WAIT = 30.0
QUEUE = "finflow-notification-from-payment"


def until(what: str, check, timeout: float = WAIT):
    return support.until(what, check, timeout, 0.2)


def waiting_in_queue(server, name: str) -> int:
    sqs = server.aws("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"])


def document(server, key: str) -> bytes:
    from finflow.config import Settings

    bucket = Settings.model_fields["kyc_documents_bucket"].default
    return server.aws("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


@pytest.fixture
def data_dir():
    with own_devserver.scratch_data_dir("finflow-restart-") as path:
        yield path


def test_a_restart_keeps_accounts_money_notifications_documents_and_queued_events(data_dir):
    server = own_devserver.start(data_dir)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            alice, bob = register(http, "restart-alice"), register(http, "restart-bob")
            _, key = upload_and_submit(http, alice)  # KYC_AUTO_VERIFY: verified through the bus
            upload_and_submit(http, bob)
            wallets = {
                who.id: until(
                    f"{who.email}'s wallet once verified",
                    lambda who=who: (
                        (r := http.post("/api/wallet/create", headers=who.auth)).status_code == 201 and r.json()["id"]
                    ),
                )
                for who in (alice, bob)
            }
            deposit(http, alice, wallets[alice.id], "100.00")
            first = transfer(http, alice, wallets[alice.id], wallets[bob.id], "25.00")
            until("Bob's notification of the first payment", lambda: _notified(http, bob, "payment_received"))

            seen = {who.email: {n["id"] for n in inbox(http, who)} for who in (alice, bob)}
            assert http.post("/_dev/modules/notification/down").status_code == 200
            second = transfer(http, alice, wallets[alice.id], wallets[bob.id], "5.00")
            until("the second payment's event waiting in Notification's queue", lambda: waiting_in_queue(server, QUEUE))
            before = _view(http, alice, bob, wallets)
        own_devserver.stop(server, data_dir)

        server = own_devserver.start(data_dir, base=own_devserver.base_of(server))
        print(f"\nrestart: up again in {own_devserver.startup_seconds(server)}s")
        with httpx.Client(base_url=server.url, timeout=30) as http:
            # the same tokens: the signing keys were kept, so nobody is signed out
            assert _view(http, alice, bob, wallets) == before
            for who in (alice, bob):  # the queued event may already have added Bob's notification
                assert seen[who.email] <= {n["id"] for n in inbox(http, who)}
            assert {first["id"], second["id"]} <= set(payment_ids(http, alice))
            assert get_wallet(http, alice, wallets[alice.id])["balance"] == "70.00"
            assert get_wallet(http, bob, wallets[bob.id])["balance"] == "30.00"
            refreshed = http.post("/api/auth/refresh", json={"refresh_token": alice.refresh_token})
            assert refreshed.status_code == 200, refreshed.text
            assert document(server, key) == PDF

            # the event queued before the stop, delivered after it: Bob hears of the second payment
            until(
                "Bob's notification of the payment queued before the stop",
                lambda: sum(n["type"] == "payment_received" for n in inbox(http, bob)) == 2,
            )
    finally:
        own_devserver.stop(server, data_dir)


def _notified(http: httpx.Client, account: Account, kind: str) -> bool:
    return any(n["type"] == kind for n in inbox(http, account))


def _view(http: httpx.Client, alice: Account, bob: Account, wallets: dict[str, str]) -> dict:
    """What Alice and Bob see of their accounts and money, with the tokens issued before the stop."""

    def get(path: str, who: Account) -> dict:
        r = http.get(path, headers=who.auth)
        assert r.status_code == 200, f"GET {path} as {who.email}: {r.status_code} {r.text}"
        return r.json()

    return {
        who.email: {
            "me": get("/api/auth/me", who),
            "wallet": get(f"/api/wallet/{wallets[who.id]}", who),
            "payments": get("/api/payment?limit=100", who)["items"],
            "kyc": get("/api/kyc/status", who),
        }
        for who in (alice, bob)
    }
