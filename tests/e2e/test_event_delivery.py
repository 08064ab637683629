"""The KYC cascade into Auth through AWS-style delivery: EventBridge bus -> rule -> SQS ->
Auth's consumer function, and Auth's own UserKycStatusChanged back out on the bus."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime

import pytest

from devserver.bootstrap import queue_name

pytestmark = pytest.mark.e2e

BUS = "finflow"
TIMEOUT = 20.0
POLL = 0.2


def _now() -> str:
    return datetime.now(UTC).isoformat()


def kyc_decision(user_id: str, status: str = "verified") -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "occurred_at": _now(),
        "version": 1,
        "correlation_id": f"e2e-{uuid.uuid4().hex[:12]}",
        "data": {"user_id": user_id, "status": status, "decided_at": _now()},
    }


def put_decision(events, detail: dict) -> None:
    result = events.put_events(
        Entries=[
            {
                "EventBusName": BUS,
                "Source": "finflow.kyc",
                "DetailType": "KycDecisionMade",
                "Detail": json.dumps(detail),
            }
        ]
    )
    assert result["FailedEntryCount"] == 0, result


@pytest.fixture
def status_changes(devserver):
    """Our own queue behind a rule on the bus for Auth's UserKycStatusChanged events."""
    events, sqs = devserver.aws("events"), devserver.aws("sqs")
    name = f"e2e-kyc-status-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": ["finflow.auth"], "detail-type": ["UserKycStatusChanged"]}
    events.put_rule(Name=name, EventBusName=BUS, EventPattern=json.dumps(pattern), State="ENABLED")
    events.put_targets(Rule=name, EventBusName=BUS, Targets=[{"Id": "e2e", "Arn": arn}])
    yield sqs, url
    events.remove_targets(Rule=name, EventBusName=BUS, Ids=["e2e"])
    events.delete_rule(Name=name, EventBusName=BUS)
    sqs.delete_queue(QueueUrl=url)


def receive_for(sqs, url: str, user_id: str, *, until_first: float = TIMEOUT) -> list[dict]:
    """Every envelope on our queue about `user_id`: waits for the first, then drains the rest."""
    found: list[dict] = []
    deadline = time.monotonic() + until_first
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for m in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            envelope = json.loads(m["Body"])
            if envelope["detail"]["data"].get("user_id") == user_id:
                found.append(envelope)
        if not messages and (found or time.monotonic() > deadline):
            return found


def wait_for_kyc_status(http, account, status: str) -> dict:
    deadline = time.monotonic() + TIMEOUT
    while True:
        me = http.get("/api/auth/me", headers=account.auth)
        assert me.status_code == 200, me.text
        if me.json()["kyc_status"] == status or time.monotonic() > deadline:
            return me.json()
        time.sleep(POLL)


def wait_until_consumed(devserver, queue: str) -> None:
    """Auth's consumer queue is empty: every delivery was handled and deleted."""
    sqs = devserver.aws("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    deadline = time.monotonic() + TIMEOUT
    while True:
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        if all(attrs.get(n, "0") == "0" for n in names):
            return
        assert time.monotonic() < deadline, f"{queue} still holds messages: {attrs}"
        time.sleep(POLL)


def test_kyc_decision_reaches_auth_and_auth_announces_it(http, devserver, new_user, status_changes):
    sqs, url = status_changes
    user = new_user("kyc")
    assert wait_for_kyc_status(http, user, "pending")["kyc_status"] == "pending"
    decision = kyc_decision(user.id)

    put_decision(devserver.aws("events"), decision)

    me = wait_for_kyc_status(http, user, "verified")
    assert me["kyc_status"] == "verified", f"KYC decision did not reach Auth within {TIMEOUT:.0f}s: {me}"
    changes = receive_for(sqs, url, user.id)
    assert len(changes) == 1, changes
    envelope = changes[0]
    assert envelope["source"] == "finflow.auth" and envelope["detail-type"] == "UserKycStatusChanged"
    detail = envelope["detail"]
    assert detail["data"]["user_id"] == user.id
    assert detail["data"]["kyc_status"] == "verified" and detail["data"]["previous_status"] == "pending"
    assert detail["event_id"] and detail["event_id"] != decision["event_id"] and detail["version"] == 1
    # the cascade keeps its correlation id across the hop
    assert detail["correlation_id"] == decision["correlation_id"]


def test_a_duplicate_delivery_is_applied_once(http, devserver, new_user, status_changes):
    sqs, url = status_changes
    user = new_user("dup-kyc")
    decision = kyc_decision(user.id)
    events = devserver.aws("events")

    put_decision(events, decision)
    put_decision(events, decision)  # at-least-once delivery: the same event_id again
    wait_until_consumed(devserver, queue_name("auth", "kyc"))

    assert wait_for_kyc_status(http, user, "verified")["kyc_status"] == "verified"
    changes = receive_for(sqs, url, user.id)
    assert [c["detail"]["data"]["kyc_status"] for c in changes] == ["verified"], changes


def test_a_rejection_after_verification_is_announced_too(http, devserver, new_user, status_changes):
    sqs, url = status_changes
    user = new_user("reject")
    events = devserver.aws("events")
    put_decision(events, kyc_decision(user.id, "verified"))
    assert wait_for_kyc_status(http, user, "verified")["kyc_status"] == "verified"
    put_decision(events, kyc_decision(user.id, "rejected"))
    assert wait_for_kyc_status(http, user, "rejected")["kyc_status"] == "rejected"

    seen: list[dict] = []
    deadline = time.monotonic() + TIMEOUT
    while len(seen) < 2 and time.monotonic() < deadline:
        seen += receive_for(sqs, url, user.id, until_first=1.0)
    transitions = sorted((c["detail"]["data"]["previous_status"], c["detail"]["data"]["kyc_status"]) for c in seen)
    assert transitions == [("pending", "verified"), ("verified", "rejected")], seen
