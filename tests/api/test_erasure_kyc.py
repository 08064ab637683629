"""KYC's part of an erasure (UserErased): every stored version of the user's documents is
deleted and no submission keeps a document URL or key; the decision record stays (AML
record-keeping); applied once; an S3 outage leaves everything for the retry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from devserver.lambda_runtime import LambdaContext
from tests.api.kyc_helpers import auto_verify, compliance_officer
from tests.api.test_kyc import submit, upload
from tests.support import envelope, sqs_batch


@pytest.fixture
def manual():
    with auto_verify(False):
        yield


@pytest.fixture
def versioned_bucket(api_env):
    """As deployed (infra_cdk: versioned=True), so an erasure must remove every version."""
    from finflow.aws import client
    from finflow.config import settings

    client("s3").put_bucket_versioning(
        Bucket=settings().kyc_documents_bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    return settings().kyc_documents_bucket


def erased(user_id: str) -> dict:
    return envelope("finflow.auth", "UserErased", {"user_id": user_id, "erased_at": datetime.now(UTC).isoformat()})


def deliver(*envelopes: dict) -> dict:
    from functions.kyc.events import handler

    return handler(sqs_batch(*envelopes), LambdaContext("kyc-events"))


def stored_versions(bucket: str, user_id: str) -> list[str]:
    from finflow.aws import client

    page = client("s3").list_object_versions(Bucket=bucket, Prefix=f"users/{user_id}/")
    return [v["Key"] for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]


def claims_of(event_id: str) -> int:
    from sqlalchemy import func, select

    from finflow.db import engine
    from functions.kyc.tables import processed_events

    with engine("kyc").connect() as conn:
        return conn.execute(
            select(func.count()).select_from(processed_events).where(processed_events.c.event_id == event_id)
        ).scalar_one()


def test_documents_go_and_the_decision_record_stays(gateway, customer, manual, versioned_bucket):
    officer = compliance_officer(gateway, customer)
    person = customer()
    first = submit(gateway, person, document_key=upload(gateway, person)).json()
    r = gateway.post(
        f"/api/kyc/submissions/{first['id']}/decision",
        headers=officer.headers,
        json={"decision": "reject", "reason": "document is blurred"},
    )
    assert r.status_code == 200, r.text
    second = submit(gateway, person, document_url="https://docs.example.com/passport-scan.jpg").json()
    upload(gateway, person)  # uploaded, never submitted: still the user's document
    assert len(stored_versions(versioned_bucket, person.id)) == 2

    event = erased(person.id)
    assert deliver(event) == {"batchItemFailures": []}
    assert deliver(event) == {"batchItemFailures": []}  # redelivered: nothing more happens

    assert stored_versions(versioned_bucket, person.id) == []
    status = gateway.get("/api/kyc/status", headers=person.headers).json()
    subs = {s["id"]: s for s in status["submissions"]}
    assert {(s["document_url"], s["document_key"]) for s in subs.values()} == {(None, None)}
    assert all(s["documents_erased_at"] for s in subs.values())
    assert subs[first["id"]]["status"] == "rejected" and subs[first["id"]]["reason"] == "document is blurred"
    assert subs[second["id"]]["status"] == "pending" and subs[second["id"]]["document_type"] == "passport"
    reviewed = gateway.get(f"/api/kyc/submissions/{first['id']}", headers=officer.headers).json()
    assert reviewed["decided_by"] == officer.id and reviewed.get("document_download_url") is None
    assert claims_of(event["detail"]["event_id"]) == 1


def test_s3_down_during_an_erasure_leaves_everything_for_the_retry(gateway, customer, manual, monkeypatch):
    from functions.kyc import documents

    person = customer()
    sub = submit(gateway, person, document_url="https://docs.example.com/id-card.png").json()

    def unavailable(user_id):
        raise documents.DocumentsUnavailable("S3 is not answering")

    monkeypatch.setattr(documents, "delete_user_documents", unavailable)
    event = erased(person.id)
    with pytest.raises(BatchProcessingError):
        deliver(event)
    kept = gateway.get("/api/kyc/status", headers=person.headers).json()["submissions"]
    assert [s["document_url"] for s in kept] == ["https://docs.example.com/id-card.png"]
    assert claims_of(event["detail"]["event_id"]) == 0

    monkeypatch.undo()
    assert deliver(event) == {"batchItemFailures": []}
    after = gateway.get("/api/kyc/status", headers=person.headers).json()["submissions"]
    assert [(s["id"], s["document_url"]) for s in after] == [(sub["id"], None)]
