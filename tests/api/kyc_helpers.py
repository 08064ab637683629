"""Helpers for the KYC/AML api tests: compliance officers, auto-verify on or off, KYC's
outbox, and handing KYC's own events to their consumers the way SQS would."""

from __future__ import annotations

import contextlib
import uuid

import httpx
import pytest
from sqlalchemy import text

from tests.support import Person, envelope, sqs_batch

PROBLEM = "application/problem+json"
PASSWORD = "password123"


def compliance_officer(gw: httpx.Client, customer, role: str = "compliance") -> Person:
    """A registered user granted `role` by an admin (PUT /api/auth/users/{id}/roles), logged in again."""
    from functions.auth.logic import ensure_admin

    admin_email = f"kyc-admin-{uuid.uuid4().hex[:10]}@example.com"
    ensure_admin(admin_email, PASSWORD, "KYC Admin")
    admin_token = gw.post("/api/auth/login", json={"email": admin_email, "password": PASSWORD}).json()["access_token"]
    officer = customer(name="Compliance Officer")
    r = gw.put(
        f"/api/auth/users/{officer.id}/roles",
        json={"roles": [role]},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert r.status_code == 200, r.text
    token = gw.post("/api/auth/login", json={"email": officer.email, "password": PASSWORD}).json()["access_token"]
    return Person(officer.id, officer.email, {"Authorization": f"Bearer {token}"}, "")


@contextlib.contextmanager
def auto_verify(on: bool):
    """KYC_AUTO_VERIFY for the duration (settings are cached per process: cleared both ways)."""
    from finflow.config import settings

    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("KYC_AUTO_VERIFY", "true" if on else "false")
            settings.cache_clear()
            yield
    finally:
        settings.cache_clear()  # after the environment is restored


def kyc_outbox(**where) -> list[dict]:
    """KYC's outbox rows whose detail.data matches `where`, oldest first: {detail_type, ...detail}."""
    from finflow.db import engine

    clauses = " AND ".join(f"detail->'data'->>'{k}' = :{k}" for k in where) or "TRUE"
    with engine("kyc").connect() as conn:
        rows = conn.execute(
            text(f"SELECT detail_type, detail FROM outbox WHERE {clauses} ORDER BY created_at"),
            {k: str(v) for k, v in where.items()},
        )
        return [{"detail_type": r.detail_type, **r.detail} for r in rows]


def deliver_to_auth(detail: dict) -> dict:
    """KYC's KycDecisionMade, delivered to Auth's consumer as EventBridge -> SQS would."""
    from devserver.lambda_runtime import LambdaContext
    from functions.auth.events import handler

    env = envelope(
        "finflow.kyc", "KycDecisionMade", detail["data"], event_id=detail["event_id"], occurred_at=detail["occurred_at"]
    )
    return handler(sqs_batch(env), LambdaContext("auth-events"))


def assert_problem(r: httpx.Response, status: int, detail: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].split(";")[0] == PROBLEM, r.headers
    body = r.json()
    if detail is not None:
        assert body["detail"] == detail, body
    return body
