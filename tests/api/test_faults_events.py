"""Faults in event delivery, each ending with the invariant check (tests/invariants.py):
EventBridge unavailable at publish time, a consumer failing until its DLQ then a redrive,
and every consumer receiving each real event twice and out of order."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from botocore.exceptions import EndpointConnectionError
from sqlalchemy import text

from devserver.bootstrap import queue_name
from tests import invariants
from tests.api import delivery
from tests.api import payment_helpers as h

pytestmark = pytest.mark.usefixtures("gateway")


@pytest.fixture
def bus():
    capture = delivery.CaptureQueue()
    yield capture
    capture.close()


def journey(gw) -> list[h.Customer]:
    """Two customers moving money every way there is, a freeze and an unfreeze."""
    a, b = h.customer(gw), h.customer(gw)
    a_usd, b_usd = h.funded_wallet(gw, a, "300.00"), h.wallet(gw, b)
    a_eur = h.funded_wallet(gw, a, "50.00", "EUR")
    assert h.transfer(gw, a, a_usd, b_usd, "120.00").status_code == 201
    assert h.transfer(gw, b, b_usd, a_usd, "20.00").status_code == 201
    assert h.transfer(gw, a, a_usd, b_usd, "999.00").status_code == 422  # refused before any write
    assert (
        gw.post("/api/payment/withdraw", json={"wallet_id": a_eur, "amount": "10.00"}, headers=a.headers).status_code
        == 201
    )
    for status in ("frozen", "active"):
        assert gw.put(f"/api/wallet/{b_usd}/status", json={"status": status}, headers=b.headers).status_code == 200
    return [a, b]


def outbox_unpublished(users: list[h.Customer]) -> dict[str, int]:
    from finflow.db import engine

    ids = [u.id for u in users]
    out = {}
    for producer in invariants.PRODUCERS:
        with engine(producer).connect() as conn:
            out[producer] = conn.execute(
                text(
                    "SELECT count(*) FROM outbox WHERE published_at IS NULL AND (detail->'data'->>'user_id' = ANY(:u) "
                    "OR detail->'data'->>'from_user_id' = ANY(:u) OR detail->'data'->>'to_user_id' = ANY(:u))"
                ),
                {"u": ids},
            ).scalar()
    return out


class DeadEventBridge:
    """An events client whose endpoint cannot be reached (every other AWS client is real)."""

    def __init__(self, real):
        self.real = real
        self.calls = 0

    def __call__(self, service: str):
        if service != "events":
            return self.real(service)
        return self

    def put_events(self, **_):
        self.calls += 1
        raise EndpointConnectionError(endpoint_url="https://events.unreachable.invalid")


def test_eventbridge_down_at_publish_time_the_outbox_catches_up_and_consumers_apply_once(gateway, bus, monkeypatch):
    from finflow import events as finflow_events

    dead = DeadEventBridge(finflow_events.client)
    monkeypatch.setattr(finflow_events, "client", dead)

    users = journey(gateway)  # every request still succeeds (asserted inside)

    assert dead.calls > 0
    held = outbox_unpublished(users)
    assert held["auth"] >= 2 and held["wallet"] >= 3 and held["payment"] >= 5, held
    assert bus.drain() == []  # nothing reached the bus
    monkeypatch.undo()  # EventBridge is back: the sweepers publish what the outbox kept
    from devserver.lambda_runtime import LambdaContext

    for producer in invariants.PRODUCERS:
        handler = __import__(f"functions.{producer}.sweeper", fromlist=["handler"]).handler
        handler({"source": "aws.events"}, LambdaContext(f"{producer}-outbox-sweeper"))
    assert all(n == 0 for n in outbox_unpublished(users).values())
    envelopes = bus.drain()
    ids = [e["detail"]["event_id"] for e in envelopes]
    assert len(ids) == len(set(ids)) and len(ids) >= sum(held.values())  # each published once
    delivery.deliver(envelopes)
    report = invariants.check(invariants.Databases.in_process(), [u.id for u in users], delivered=True).assert_ok()
    # six payments (one refused by Wallet: failed), seven in-app notifications of the five completed
    assert report.figures["payments"] == 6 and report.figures["notifications"] == 7, report.figures


# --- a consumer failing until its DLQ, then a redrive --------------------------------------------


@pytest.fixture
def kyc_queue():
    """A queue like KYC's own (rule on PaymentCompleted, DLQ after 3 receives), for this test only."""
    from finflow.aws import client
    from finflow.config import settings

    sqs, events, bus_name = client("sqs"), client("events"), settings().event_bus_name
    name = f"t-{queue_name('kyc', 'payment')}-{uuid.uuid4().hex[:6]}"
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name=name,
        EventBusName=bus_name,
        State="ENABLED",
        EventPattern=json.dumps({"source": ["finflow.payment"], "detail-type": ["PaymentCompleted"]}),
    )
    events.put_targets(Rule=name, EventBusName=bus_name, Targets=[{"Id": "kyc", "Arn": arn}])
    yield sqs, url, dlq
    events.remove_targets(Rule=name, EventBusName=bus_name, Ids=["kyc"])
    events.delete_rule(Name=name, EventBusName=bus_name)
    for q in (url, dlq):
        sqs.delete_queue(QueueUrl=q)


def poll_once(sqs, url: str) -> int:
    """One receive and delivery by the devserver's own poller code; returns messages received."""
    from devserver.delivery import QueuePoller
    from devserver.inprocess import InProcessFunction

    poller = QueuePoller(url, InProcessFunction("kyc-events", "functions.kyc.events.handler"), threading.Event())
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
    if messages:
        poller.deliver(sqs, messages)
    return len(messages)


def depth(sqs, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )
    return sum(int(v) for v in attrs["Attributes"].values())


def alerts_of(*people) -> dict[tuple[str, str], str | None]:
    from finflow.db import engine

    with engine("kyc").connect() as conn:
        rows = conn.execute(
            text("SELECT rule, payment_id, freeze_state FROM alerts WHERE user_id = ANY(:u)"),
            {"u": [p.id for p in people]},
        ).all()
    assert len(rows) == len({(r.rule, r.payment_id) for r in rows}), rows  # no alert raised twice
    return {(r.rule, r.payment_id): r.freeze_state for r in rows}


def test_a_consumer_failing_goes_to_the_dlq_and_a_redrive_applies_it_once(gateway, kyc_queue):
    """AML's freeze of a wallet needs Wallet: while Wallet is down the record fails after the
    alert was raised, is retried, lands in the DLQ; the redrive completes only the freeze."""
    from devserver.redrive import redrive

    sqs, url, dlq = kyc_queue
    a, b = h.customer(gateway), h.customer(gateway)
    a_usd, b_usd = h.funded_wallet(gateway, a, "60000.00"), h.wallet(gateway, b)
    assert h.transfer(gateway, a, a_usd, b_usd, "55000.00").status_code == 201  # 5x AML's threshold: high
    gateway.functions["wallet.api"].enabled = False
    receives = 0
    for _ in range(6):  # three receives each, then SQS moves them to the DLQ
        receives += poll_once(sqs, url)
    gateway.functions["wallet.api"].enabled = True
    from finflow import service_client

    service_client.reset_clients()  # the breakers KYC opened on Wallet: as after their 30 s reset
    assert depth(sqs, url) == 0 and depth(sqs, dlq) == 2, (depth(sqs, url), depth(sqs, dlq))
    assert receives == 6  # two events, each received three times
    before = alerts_of(a, b)
    # the deposit's alert was raised once and waits for Wallet; the transfer was not even
    # claimed (its AML rules need the wallet's age from Wallet)
    assert before and set(before.values()) == {"pending"}, before

    assert redrive(sqs, dlq) == 2
    assert poll_once(sqs, url) == 2 and depth(sqs, url) == 0 and depth(sqs, dlq) == 0
    after = alerts_of(a, b)
    assert all(after[k] == "frozen" for k in before) and len(after) > len(before), after
    assert gateway.get(f"/api/wallet/{a_usd}", headers=a.headers).json()["status"] == "frozen"
    report = invariants.check(invariants.Databases.in_process(), [a.id, b.id])
    report.assert_ok()


# --- every consumer: each real event twice, shuffled --------------------------------------------


def test_every_consumer_applies_duplicated_shuffled_events_once_with_the_in_order_result(gateway, bus):
    """The in-order result is the producers' own state (Auth's KYC status, Wallet's balances,
    Payment's outcomes): each consumer must end there whatever the order and the repeats."""
    from tests.api.kyc_helpers import auto_verify

    users = journey(gateway)
    c = h.customer(gateway, verified=False)  # verified through KYC's own event, not directly
    with auto_verify(True):
        r = gateway.post(
            "/api/kyc/submit",
            headers=c.headers,
            json={"document_type": "passport", "document_url": "https://docs.example.com/p.pdf"},
        )
        assert r.status_code == 202, r.text
    envelopes, made = delivery.deliver_cascade(bus, times=2, seed=20260101)
    types = {(e["source"], e["detail-type"]) for e in envelopes}
    assert ("finflow.kyc", "KycDecisionMade") in types and ("finflow.auth", "UserKycStatusChanged") in types
    assert set(made) == {"auth", "wallet", "payment", "notification", "kyc", "reporting"}, made
    assert gateway.get("/api/auth/me", headers=c.headers).json()["kyc_status"] == "verified"
    everyone = [u.id for u in users] + [c.id]
    report = invariants.check(invariants.Databases.in_process(), everyone, delivered=True).assert_ok()
    assert report.figures["notifications"] == 7, report.figures
    assert _payment_replicas(everyone) == _producers_state(everyone)


def _payment_replicas(user_ids: list[str]) -> tuple[dict, dict]:
    from finflow.db import engine

    with engine("payment").connect() as conn:
        wallets = conn.execute(
            text("SELECT wallet_id, user_id, currency, status FROM wallet_replica WHERE user_id = ANY(:u)"),
            {"u": user_ids},
        )
        kyc = conn.execute(text("SELECT user_id, kyc_status FROM kyc_replica WHERE user_id = ANY(:u)"), {"u": user_ids})
        return {r.wallet_id: tuple(r) for r in wallets}, {r.user_id: r.kyc_status for r in kyc}


def _producers_state(user_ids: list[str]) -> tuple[dict, dict]:
    """What Wallet and Auth hold: Payment's replicas must end equal to it, whatever the order."""
    from finflow.db import engine

    with engine("wallet").connect() as conn:
        wallets = conn.execute(
            text("SELECT id, user_id, currency, status FROM wallets WHERE kind = 'user' AND user_id = ANY(:u)"),
            {"u": user_ids},
        )
        wallets = {r.id: tuple(r) for r in wallets}
    with engine("auth").connect() as conn:
        users = conn.execute(text("SELECT id, kyc_status FROM users WHERE id = ANY(:u)"), {"u": user_ids})
        # a user no KYC change was ever published for (still pending) is simply unknown to the replica
        kyc = {r.id: r.kyc_status for r in users if r.kyc_status != "pending"}
    return wallets, kyc
