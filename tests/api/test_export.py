"""A user's data export: POST /api/auth/me/exports, UserExportRequested to every module that
holds data about them (each writes its part to S3), GET /api/auth/me/exports/{id} until
complete, and the parts downloaded through the links Auth signs."""

from __future__ import annotations

import httpx
import pytest

from devserver.lambda_runtime import LambdaContext
from finflow import contracts
from tests.api.kyc_helpers import auto_verify
from tests.support import envelope, service_headers, sqs_batch

CONSUMERS = ("wallet", "payment", "notification", "kyc")


def deliver(module: str, *envelopes: dict) -> dict:
    import importlib

    handler = importlib.import_module(f"functions.{module}.events").handler
    return handler(sqs_batch(*envelopes), LambdaContext(f"{module}-events"))


def requested_event(user_id: str) -> dict:
    """Auth's UserExportRequested for the user, as recorded in its outbox."""
    from sqlalchemy import select

    from finflow.db import engine
    from functions.auth.tables import outbox

    with engine("auth").connect() as conn:
        detail = (
            conn.execute(
                select(outbox.c.detail)
                .where(
                    outbox.c.detail_type == "UserExportRequested", outbox.c.detail["data"]["user_id"].astext == user_id
                )
                .order_by(outbox.c.created_at.desc())
            )
            .scalars()
            .first()
        )
    assert detail is not None
    return envelope("finflow.auth", "UserExportRequested", detail["data"], event_id=detail["event_id"])


def download(parts: dict) -> dict:
    return {m: httpx.get(url).json() for m, url in parts.items()}


@pytest.fixture
def verified_with_history(gateway, verified_customer):
    """A verified customer with a wallet, a deposit and a withdrawal, an in-app notification,
    a phone number and a KYC submission."""
    person = verified_customer(name="Xena Export")
    wallet = gateway.post("/api/wallet/create", headers=person.headers).json()
    for path, amount in (("/api/payment/deposit", "40.00"), ("/api/payment/withdraw", "15.00")):
        r = gateway.post(path, json={"wallet_id": wallet["id"], "amount": amount}, headers=person.headers)
        assert r.status_code == 201, r.text
    assert (
        gateway.put(
            "/api/notifications/preferences",
            headers=person.headers,
            json={"email": False, "sms": True, "in_app": True, "phone": "+14155550142"},
        ).status_code
        == 200
    )
    with auto_verify(False):
        r = gateway.post(
            "/api/kyc/submit",
            json={"document_type": "passport", "document_url": "https://docs.example.com/xena.pdf"},
            headers=person.headers,
        )
    assert r.status_code in (202, 409), r.text  # 409: verified already (the fixture's KYC decision)
    return person, wallet


def test_an_export_gathers_every_modules_part_for_its_owner(gateway, verified_with_history, customer):
    person, wallet = verified_with_history
    r = gateway.post("/api/auth/me/exports", headers=person.headers)
    assert r.status_code == 202, r.text
    first = r.json()
    assert first["status"] == "pending" and set(first["parts"]) == {"auth", *CONSUMERS}
    assert first["parts"]["auth"] and all(first["parts"][m] is None for m in CONSUMERS)

    event = requested_event(person.id)
    for module in CONSUMERS:
        assert deliver(module, event, event) == {"batchItemFailures": []}  # redelivered: the same part again

    done = gateway.get(f"/api/auth/me/exports/{first['export_id']}", headers=person.headers).json()
    assert done["status"] == "complete" and all(done["parts"].values())
    parts = download(done["parts"])
    assert {p["user_id"] for p in parts.values()} == {person.id}
    assert parts["auth"]["data"]["profile"]["email"] == person.email
    assert parts["auth"]["data"]["sessions"] and "token_hash" not in str(parts["auth"]["data"])
    assert [w["id"] for w in parts["wallet"]["data"]["wallets"]] == [wallet["id"]]
    assert [e["amount"] for e in parts["wallet"]["data"]["transactions"][wallet["id"]]] == ["-15.00", "40.00"]
    assert sorted(p["kind"] for p in parts["payment"]["data"]["payments"]) == ["deposit", "withdrawal"]
    assert parts["notification"]["data"]["preferences"]["phone"] == "+14155550142"
    assert "submissions" in parts["kyc"]["data"] and "alerts" not in str(parts["kyc"]["data"])

    # someone else's export is not found, whoever asks
    stranger = customer()
    r = gateway.get(f"/api/auth/me/exports/{first['export_id']}", headers=stranger.headers)
    assert r.status_code == 404, r.text
    r = gateway.get("/api/auth/me/exports/not-an-id", headers=person.headers)
    assert r.status_code == 404, r.text


def test_a_service_token_gets_no_export(gateway):
    r = gateway.post("/api/auth/me/exports", headers=service_headers("wallet"))
    assert r.status_code == 403, r.text


def test_s3_down_when_asked_records_nothing(gateway, customer, monkeypatch):
    from finflow import exports

    person = customer()

    def unavailable(*args, **kwargs):
        raise exports.ExportsUnavailable("S3 is not answering")

    monkeypatch.setattr(exports, "write_part", unavailable)
    r = gateway.post("/api/auth/me/exports", headers=person.headers)
    assert r.status_code == 503 and r.headers["content-type"].startswith("application/problem+json"), r.text
    from sqlalchemy import func, select

    from finflow.db import engine
    from functions.auth.tables import exports as requests

    with engine("auth").connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(requests).where(requests.c.user_id == person.id)).scalar_one()
            == 0
        )


def test_every_consumer_of_the_request_is_in_the_contracts():
    assert set(contracts.readers("UserExportRequested")) == set(CONSUMERS)


def test_an_erasure_takes_the_users_exports_with_it(gateway, customer):
    from finflow.aws import client
    from finflow.config import settings

    person = customer(password="erase-me-123")
    export_id = gateway.post("/api/auth/me/exports", headers=person.headers).json()["export_id"]
    bucket = settings().exports_bucket
    assert client("s3").list_objects_v2(Bucket=bucket, Prefix=f"exports/{export_id}/")["KeyCount"] == 1
    r = gateway.post("/api/auth/me/erasure", json={"password": "erase-me-123"}, headers=person.headers)
    assert r.status_code == 202, r.text
    assert client("s3").list_objects_v2(Bucket=bucket, Prefix=f"exports/{export_id}/")["KeyCount"] == 0
    again = gateway.post("/api/auth/me/exports", headers=person.headers)
    assert again.status_code == 403 and "erased" in again.json()["detail"], again.text
