"""Helpers for Payment's api tests: customers with verified KYC and funded wallets, made
through the in-process gateway (`gateway` fixture), plus a look into Payment's own tables."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from sqlalchemy import text

PASSWORD = "correct horse battery staple"
PROBLEM = "application/problem+json"


@dataclass
class Customer:
    id: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def verify_kyc(user_id: str, status: str = "verified") -> None:
    """What Auth does when KYC's KycDecisionMade arrives (its consumer, invoked in-process)."""
    from finflow.events import Event
    from functions.auth.logic import apply_kyc_decision

    now = datetime.now(UTC).isoformat()
    apply_kyc_decision(
        Event(
            event_id=str(uuid.uuid4()),
            source="finflow.kyc",
            detail_type="KycDecisionMade",
            occurred_at=now,
            version=1,
            correlation_id=None,
            data={"user_id": user_id, "status": status, "decided_at": now},
        )
    )


def customer(gw: httpx.Client, *, verified: bool = True, email: str | None = None) -> Customer:
    email = email or f"pay-{uuid.uuid4().hex[:12]}@example.com"
    reg = gw.post("/api/auth/register", json={"email": email, "password": PASSWORD, "name": "Pay Tester"})
    assert reg.status_code == 201, reg.text
    login = gw.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    user = Customer(reg.json()["id"], email, login.json()["access_token"])
    if verified:
        verify_kyc(user.id)
    return user


def admin(gw: httpx.Client) -> Customer:
    from functions.auth.logic import ensure_admin

    email = f"pay-admin-{uuid.uuid4().hex[:12]}@example.com"
    ensure_admin(email, PASSWORD, "Pay Admin")
    login = gw.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    me = gw.get("/api/auth/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    return Customer(me.json()["id"], email, login.json()["access_token"])


def wallet(gw: httpx.Client, owner: Customer, currency: str = "USD") -> str:
    if currency == "USD":
        res = gw.post("/api/wallet/create", headers=owner.headers)
    else:
        res = gw.post("/api/v2/wallet/create", json={"currency": currency}, headers=owner.headers)
    assert res.status_code == 201, res.text
    return res.json()["id"]


def deposit(gw: httpx.Client, owner: Customer, wallet_id: str, amount, key: str | None = None) -> httpx.Response:
    headers = {**owner.headers, **({"Idempotency-Key": key} if key else {})}
    return gw.post("/api/payment/deposit", json={"wallet_id": wallet_id, "amount": amount}, headers=headers)


def funded_wallet(gw: httpx.Client, owner: Customer, amount: str = "100.00", currency: str = "USD") -> str:
    wallet_id = wallet(gw, owner, currency)
    res = deposit(gw, owner, wallet_id, amount)
    assert res.status_code == 201, res.text
    return wallet_id


def transfer(
    gw: httpx.Client, sender: Customer, from_id: str, to_id: str, amount, key: str | None = None, **extra
) -> httpx.Response:
    headers = {**sender.headers, **({"Idempotency-Key": key} if key else {})}
    return gw.post(
        "/api/payment/transfer",
        headers=headers,
        json={"from_wallet_id": from_id, "to_wallet_id": to_id, "amount": amount, **extra},
    )


def balance(gw: httpx.Client, owner: Customer, wallet_id: str) -> str:
    res = gw.get(f"/api/wallet/{wallet_id}", headers=owner.headers)
    assert res.status_code == 200, res.text
    return res.json()["balance"]


def ledger(gw: httpx.Client, owner: Customer, wallet_id: str) -> list[dict]:
    res = gw.get(f"/api/wallet/{wallet_id}/transactions", params={"limit": 100}, headers=owner.headers)
    assert res.status_code == 200, res.text
    return res.json()["items"]


def payment_rows(initiator: Customer) -> list:
    """Payment's own rows for payments the customer started (what a 4xx must not leave)."""
    from finflow.db import engine

    with engine("payment").connect() as conn:
        return list(
            conn.execute(
                text("SELECT * FROM payments WHERE initiator_user_id = :u ORDER BY created_at"), {"u": initiator.id}
            )
        )


def outbox_events(payment_id: str) -> list[dict]:
    from finflow.db import engine

    with engine("payment").connect() as conn:
        rows = conn.execute(
            text("SELECT detail_type, detail FROM outbox WHERE detail->'data'->>'payment_id' = :p ORDER BY created_at"),
            {"p": str(payment_id)},
        )
        return [{"detail_type": r.detail_type, **r.detail} for r in rows]


def assert_problem(res: httpx.Response, status: int, detail: str | None = None) -> None:
    assert res.status_code == status, res.text
    assert res.headers["content-type"].split(";")[0] == PROBLEM, res.headers
    body = res.json()
    assert body["status"] == status
    if detail is not None:
        assert body["detail"] == detail, body


class Outage(httpx.BaseTransport):
    """Outbound transport for modules' calls: the in-process gateway, except the paths
    marked down (connection refused) or `lose_responses` (the call runs, the answer is lost)."""

    def __init__(self, inner: httpx.BaseTransport):
        self.inner = inner
        self.down: set[str] = set()
        self.lose_responses: set[str] = set()
        self.refused = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if any(path.startswith(p) for p in self.down):
            self.refused += 1
            raise httpx.ConnectError("connection refused (simulated outage)", request=request)
        response = self.inner.handle_request(request)
        if any(path.startswith(p) for p in self.lose_responses):
            response.read()
            raise httpx.ReadTimeout("answer lost (simulated)", request=request)
        return response
