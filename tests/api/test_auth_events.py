"""Auth's event side: the KycDecisionMade consumer (SQS <- EventBridge) and the outbox
that carries UserKycStatusChanged to the bus. Real PostgreSQL, EventBridge and SQS on moto."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from devserver.bootstrap import queue_name
from devserver.lambda_runtime import LambdaContext
from tests.api.helpers import auth_handler, auth_jwks, call, register_and_login  # noqa: F401

pytestmark = pytest.mark.usefixtures("auth_jwks")


# --- building what SQS hands the consumer ----------------------------------------------


def decision(
    user_id: str | None,
    status: str = "verified",
    decided_at: datetime | None = None,
    event_id: str | None = None,
    detail_type: str = "KycDecisionMade",
) -> dict:
    """An EventBridge envelope as KYC's rule delivers it to Auth's queue."""
    decided_at = decided_at or datetime.now(UTC)
    data = {
        "user_id": user_id,
        "status": status,
        "submission_id": str(uuid.uuid4()),
        "decided_at": decided_at.isoformat(),
    }
    if user_id is None:
        del data["user_id"]
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "finflow.kyc",
        "account": "000000000000",
        "time": decided_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "event_id": event_id or str(uuid.uuid4()),
            "occurred_at": decided_at.isoformat(),
            "version": 1,
            "correlation_id": f"corr-{uuid.uuid4().hex[:8]}",
            "data": data,
        },
    }


def sqs_record(body: dict | str) -> dict:
    text = body if isinstance(body, str) else json.dumps(body)
    now = str(int(time.time() * 1000))
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": f"rh-{uuid.uuid4().hex}",
        "body": text,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": now,
            "SenderId": "AIDAEVENTBRIDGE",
            "ApproximateFirstReceiveTimestamp": now,
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(text.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:000000000000:{queue_name('auth', 'kyc')}",
        "awsRegion": "us-east-1",
    }


def deliver(*records: dict) -> dict:
    from functions.auth.events import handler

    return handler({"Records": list(records)}, LambdaContext("auth-events"))


def deliver_events(*envelopes: dict | str) -> dict:
    return deliver(*(sqs_record(e) for e in envelopes))


def me(session: dict) -> dict:
    res = call(auth_handler(), "GET", "/api/auth/me", token=session["access_token"])
    assert res.status == 200, res
    return res.body


def status_changes(user_id: str) -> list:
    """Auth's outbox rows announcing a KYC status change of `user_id`, oldest first."""
    from finflow.db import engine
    from functions.auth.tables import outbox

    with engine("auth").connect() as conn:
        return conn.execute(
            select(outbox)
            .where(outbox.c.detail_type == "UserKycStatusChanged", outbox.c.detail["data"]["user_id"].astext == user_id)
            .order_by(outbox.c.created_at)
        ).all()


def ago(minutes: int) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


# --- the consumer ----------------------------------------------------------------------


def test_verified_decision_updates_the_user_and_announces_it():
    session = register_and_login()
    user_id = session["user"]["id"]
    event = decision(user_id, "verified")
    assert deliver_events(event) == {"batchItemFailures": []}
    assert me(session)["kyc_status"] == "verified"
    (row,) = status_changes(user_id)
    detail = row.detail
    assert detail["data"]["kyc_status"] == "verified"
    assert detail["data"]["previous_status"] == "pending"
    assert detail["data"]["email"] == session["user"]["email"]
    assert {"event_id", "occurred_at", "version", "correlation_id"} <= set(detail)
    assert detail["event_id"] == row.event_id and detail["event_id"] != event["detail"]["event_id"]
    # the correlation id of the decision follows the cascade
    assert detail["correlation_id"] == event["detail"]["correlation_id"]


def test_rejected_decision_is_applied_too():
    session = register_and_login()
    assert deliver_events(decision(session["user"]["id"], "rejected")) == {"batchItemFailures": []}
    assert me(session)["kyc_status"] == "rejected"
    assert [r.detail["data"]["kyc_status"] for r in status_changes(session["user"]["id"])] == ["rejected"]


def test_redelivered_event_is_applied_once():
    session = register_and_login()
    event = decision(session["user"]["id"], "verified")
    assert deliver_events(event) == {"batchItemFailures": []}
    # SQS delivers at least once: the same event again, alone and twice within one batch
    assert deliver_events(event) == {"batchItemFailures": []}
    assert deliver_events(event, event) == {"batchItemFailures": []}
    assert me(session)["kyc_status"] == "verified"
    assert len(status_changes(session["user"]["id"])) == 1


def test_an_older_decision_arriving_late_is_ignored():
    session = register_and_login()
    user_id = session["user"]["id"]
    newer, older = decision(user_id, "verified", ago(1)), decision(user_id, "rejected", ago(10))
    assert deliver_events(newer) == {"batchItemFailures": []}
    assert deliver_events(older) == {"batchItemFailures": []}
    assert me(session)["kyc_status"] == "verified"
    assert [r.detail["data"]["kyc_status"] for r in status_changes(user_id)] == ["verified"]


def test_a_newer_decision_replaces_an_older_one():
    session = register_and_login()
    user_id = session["user"]["id"]
    assert deliver_events(decision(user_id, "rejected", ago(10))) == {"batchItemFailures": []}
    assert deliver_events(decision(user_id, "verified", ago(1))) == {"batchItemFailures": []}
    assert me(session)["kyc_status"] == "verified"
    changes = [r.detail["data"] for r in status_changes(user_id)]
    assert [(c["previous_status"], c["kyc_status"]) for c in changes] == [
        ("pending", "rejected"),
        ("rejected", "verified"),
    ]


def test_a_malformed_record_fails_alone_and_the_rest_of_the_batch_is_applied():
    good_session, other_session = register_and_login(), register_and_login()
    good = sqs_record(decision(good_session["user"]["id"], "verified"))
    missing_user = sqs_record(decision(None, "verified"))
    unknown_status = sqs_record(decision(other_session["user"]["id"], "maybe"))
    not_json = sqs_record("this is not an EventBridge envelope")
    result = deliver(missing_user, good, unknown_status, not_json)
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    assert failed == {missing_user["messageId"], unknown_status["messageId"], not_json["messageId"]}
    assert me(good_session)["kyc_status"] == "verified"
    assert me(other_session)["kyc_status"] == "pending"
    assert status_changes(other_session["user"]["id"]) == []


def test_a_record_that_failed_midway_is_applied_on_redelivery(monkeypatch):
    # The database fails after the event was claimed: the claim must roll back with the
    # change, or the redelivered event would be skipped as a duplicate and the user stay pending.
    from functions.auth import store

    session = register_and_login()
    event = sqs_record(decision(session["user"]["id"], "verified"))
    real = store.set_kyc_status

    def flaky(*args, **kwargs):
        monkeypatch.setattr(store, "set_kyc_status", real)
        raise ConnectionError("database went away")

    monkeypatch.setattr(store, "set_kyc_status", flaky)
    filler = sqs_record(decision(register_and_login()["user"]["id"], "verified"))
    assert deliver(event, filler)["batchItemFailures"] == [{"itemIdentifier": event["messageId"]}]
    assert me(session)["kyc_status"] == "pending"
    assert deliver(event) == {"batchItemFailures": []}
    assert me(session)["kyc_status"] == "verified"
    assert len(status_changes(session["user"]["id"])) == 1


def test_decision_for_an_unknown_user_is_acknowledged_without_effect():
    unknown = str(uuid.uuid4())
    assert deliver_events(decision(unknown, "verified")) == {"batchItemFailures": []}
    assert status_changes(unknown) == []


def test_events_auth_does_not_handle_are_acknowledged_and_ignored():
    session = register_and_login()
    other = decision(session["user"]["id"], "verified", detail_type="KycSubmitted")
    assert deliver_events(other) == {"batchItemFailures": []}
    assert me(session)["kyc_status"] == "pending"


# --- the outbox and the bus ------------------------------------------------------------


@pytest.fixture
def bus_listener(api_env):
    """Make a queue receiving one user's UserKycStatusChanged from the `finflow` bus."""
    from devserver.bootstrap import create_event_routing
    from finflow.aws import client

    create_event_routing()  # the bus and the catalog's rules, as a deploy makes them
    events, sqs = client("events"), client("sqs")
    made: list[tuple[str, str]] = []

    def listen(user_id: str) -> str:
        name = f"test-auth-kyc-{uuid.uuid4().hex[:12]}"
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sqs.set_queue_attributes(
            QueueUrl=url,
            Attributes={
                "Policy": json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Action": "sqs:SendMessage",
                                "Resource": arn,
                            }
                        ],
                    }
                )
            },
        )
        pattern = {
            "source": ["finflow.auth"],
            "detail-type": ["UserKycStatusChanged"],
            "detail": {"data": {"user_id": [user_id]}},
        }
        events.put_rule(Name=name, EventBusName="finflow", EventPattern=json.dumps(pattern), State="ENABLED")
        events.put_targets(Rule=name, EventBusName="finflow", Targets=[{"Id": "queue", "Arn": arn}])
        made.append((name, url))
        return url

    yield listen
    for name, url in made:
        events.remove_targets(Rule=name, EventBusName="finflow", Ids=["queue"])
        events.delete_rule(Name=name, EventBusName="finflow")
        sqs.delete_queue(QueueUrl=url)


def receive(url: str, want: int = 1, attempts: int = 5) -> list[dict]:
    from finflow.aws import client

    sqs, got = client("sqs"), []
    for _ in range(attempts):
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            got.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if len(got) >= want:
            break
    return got


def drain_outbox() -> None:
    from finflow.db import engine
    from finflow.events import publish_pending
    from functions.auth.tables import outbox

    while publish_pending(engine("auth"), outbox, "auth"):
        pass


def test_status_change_is_published_right_after_commit(bus_listener):
    session = register_and_login()
    user_id = session["user"]["id"]
    url = bus_listener(user_id)
    assert deliver_events(decision(user_id, "verified")) == {"batchItemFailures": []}
    (row,) = status_changes(user_id)
    assert row.published_at is not None
    (message,) = receive(url)
    assert (message["source"], message["detail-type"]) == ("finflow.auth", "UserKycStatusChanged")
    assert message["detail"] == row.detail


def test_outbox_rows_left_behind_are_published_by_publish_pending(bus_listener, monkeypatch):
    from functions.auth import logic

    session = register_and_login()
    user_id = session["user"]["id"]
    url = bus_listener(user_id)
    # the function stops between commit and publish (timeout, crash): the event waits in the outbox
    monkeypatch.setattr(logic, "_publish", lambda: None)
    assert deliver_events(decision(user_id, "verified")) == {"batchItemFailures": []}
    (row,) = status_changes(user_id)
    assert row.published_at is None
    assert receive(url, attempts=1) == []

    drain_outbox()

    (row,) = status_changes(user_id)
    assert row.published_at is not None
    (message,) = receive(url)
    assert message["source"] == "finflow.auth"
    assert message["detail-type"] == "UserKycStatusChanged"
    assert message["detail"]["event_id"] == row.event_id
    assert message["detail"]["data"]["kyc_status"] == "verified"
    # published once: a second sweep sends nothing again
    drain_outbox()
    assert receive(url, attempts=1) == []


def test_kyc_decision_reaches_auth_through_the_catalogs_rule_and_queue(api_env):
    """KYC puts KycDecisionMade on the bus; the rule fills Auth's queue; the consumer applies it."""
    from devserver.bootstrap import create_event_routing
    from finflow.aws import client

    queue_url = next(u for u in create_event_routing()["auth"] if u.endswith(queue_name("auth", "kyc")))
    session = register_and_login()
    envelope = decision(session["user"]["id"], "verified")
    sent = client("events").put_events(
        Entries=[
            {
                "Source": "finflow.kyc",
                "DetailType": "KycDecisionMade",
                "EventBusName": "finflow",
                "Detail": json.dumps(envelope["detail"]),
            }
        ]
    )
    assert sent["FailedEntryCount"] == 0
    sqs = client("sqs")
    records = []
    for _ in range(5):
        response = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
        )
        for m in response.get("Messages", []):
            if json.loads(m["Body"])["detail"]["event_id"] == envelope["detail"]["event_id"]:
                records.append(
                    {
                        **sqs_record(m["Body"]),
                        "messageId": m["MessageId"],
                        "receiptHandle": m["ReceiptHandle"],
                        "attributes": m.get("Attributes", {}),
                    }
                )
        if records:
            break
    assert len(records) == 1, "the KycDecisionMade rule delivered the event to Auth's queue"
    assert deliver(*records) == {"batchItemFailures": []}
    assert me(session)["kyc_status"] == "verified"
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=records[0]["receiptHandle"])


def test_decision_without_timezone_or_with_a_foreign_id_is_handled(api_env):
    """A naive decided_at is read as UTC; a user id that is no UUID is an unknown user, acknowledged."""
    from devserver.lambda_runtime import LambdaContext
    from functions.auth import events as auth_events
    from tests.support import envelope, sqs_batch

    naive = envelope(
        "finflow.kyc",
        "KycDecisionMade",
        {"user_id": "not-a-uuid", "status": "verified", "decided_at": "2026-03-01T10:00:00"},
    )
    result = auth_events.handler(sqs_batch(naive), LambdaContext("auth-events"))
    assert result["batchItemFailures"] == []


def test_naive_decision_time_compares_with_an_earlier_aware_one(customer):
    from devserver.lambda_runtime import LambdaContext
    from functions.auth import events as auth_events
    from tests.support import envelope, kyc_decision, sqs_batch

    person = customer()
    kyc_decision(person.id, "rejected", "2026-03-01T09:00:00+00:00")
    newer = envelope(
        "finflow.kyc",
        "KycDecisionMade",
        {"user_id": person.id, "status": "verified", "decided_at": "2026-03-01T10:00:00"},
    )
    assert auth_events.handler(sqs_batch(newer), LambdaContext("auth-events"))["batchItemFailures"] == []
    from finflow.http import Principal
    from functions.auth.logic import get_user

    me = get_user(Principal(subject=person.id, roles=frozenset({"customer"}), kind="user"), person.id)
    assert me.kyc_status == "verified"
