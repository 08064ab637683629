"""Helpers shared by the e2e tests (imported, so they are plain functions, not fixtures)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC

import httpx


def assert_problem(r: httpx.Response, status: int, *words: str) -> dict:
    """A problem+json answer with `status` whose detail is non-empty and mentions `words`."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["status"] == status
    assert isinstance(body.get("detail"), str) and body["detail"].strip(), body
    for word in words:
        assert word in body["detail"].lower(), body
    return body


def unique_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"


@dataclass
class Account:
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def login(http: httpx.Client, email: str, password: str) -> dict:
    r = http.post("/api/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return r.json()


# -- money journeys: verified users, wallets, payments ----------------------------------
# `devserver` below is conftest's DevServer (not imported here: conftest imports this module).

EVENT_BUS = "finflow"
KYC_WAIT = 20.0  # seconds for a KYC decision to reach Auth through the bus
POLL = 0.1


def kyc_decision_event(user_id: str, status: str = "verified") -> dict:
    """A KycDecisionMade envelope detail, as the KYC module will put it on the bus."""
    from datetime import datetime

    now = datetime.now(UTC).isoformat()
    return {
        "event_id": str(uuid.uuid4()),
        "occurred_at": now,
        "version": 1,
        "correlation_id": f"e2e-{uuid.uuid4().hex[:12]}",
        "data": {"user_id": user_id, "status": status, "decided_at": now},
    }


def put_kyc_decisions(devserver, user_ids: list[str], status: str = "verified") -> None:
    import json

    events = devserver.aws("events")
    for i in range(0, len(user_ids), 10):  # PutEvents takes at most 10 entries
        entries = [
            {
                "EventBusName": EVENT_BUS,
                "Source": "finflow.kyc",
                "DetailType": "KycDecisionMade",
                "Detail": json.dumps(kyc_decision_event(uid, status)),
            }
            for uid in user_ids[i : i + 10]
        ]
        result = events.put_events(Entries=entries)
        assert result["FailedEntryCount"] == 0, result


def wait_for_kyc(http: httpx.Client, account: Account, status: str = "verified", timeout: float = KYC_WAIT) -> dict:
    """GET /api/auth/me until it says `status` (or the time is up); the last answer."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        me = http.get("/api/auth/me", headers=account.auth)
        assert me.status_code == 200, me.text
        if me.json()["kyc_status"] == status or time.monotonic() > deadline:
            return me.json()
        time.sleep(POLL)


def register(http: httpx.Client, tag: str = "user", password: str = "password123") -> Account:
    email = unique_email(tag)
    r = http.post("/api/auth/register", json={"email": email, "password": password, "name": tag.title()})
    assert r.status_code == 201, r.text
    tokens = login(http, email, password)
    return Account(
        id=r.json()["id"],
        email=email,
        password=password,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
    )


def verify(http: httpx.Client, devserver, *accounts: Account) -> None:
    """KYC-verify users the way the KYC module will: KycDecisionMade on the bus -> Auth."""
    put_kyc_decisions(devserver, [a.id for a in accounts])
    for account in accounts:
        me = wait_for_kyc(http, account)
        assert me["kyc_status"] == "verified", f"KYC decision did not reach Auth within {KYC_WAIT:.0f}s: {me}"


def verified_users(http: httpx.Client, devserver, n: int, tag: str = "verified") -> list[Account]:
    accounts = [register(http, f"{tag}{i}") for i in range(n)]
    verify(http, devserver, *accounts)  # one batch on the bus: the waits overlap
    return accounts


def verified_user(http: httpx.Client, devserver, tag: str = "verified") -> Account:
    return verified_users(http, devserver, 1, tag)[0]


def create_wallet(http: httpx.Client, account: Account, currency: str | None = None) -> dict:
    """A new wallet: v1 (USD) when `currency` is None, else v2 in that currency."""
    if currency is None:
        r = http.post("/api/wallet/create", headers=account.auth)
    else:
        r = http.post("/api/v2/wallet/create", json={"currency": currency}, headers=account.auth)
    assert r.status_code == 201, r.text
    return r.json()


def get_wallet(http: httpx.Client, account: Account, wallet_id: str) -> dict:
    r = http.get(f"/api/wallet/{wallet_id}", headers=account.auth)
    assert r.status_code == 200, r.text
    return r.json()


def balance(http: httpx.Client, account: Account, wallet_id: str) -> str:
    return get_wallet(http, account, wallet_id)["balance"]


def _money_call(http: httpx.Client, account: Account, path: str, body: dict, key: str | None) -> dict:
    headers = dict(account.auth) | ({"Idempotency-Key": key} if key else {})
    r = http.post(path, json=body, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "completed", r.text
    return r.json()


def deposit(http: httpx.Client, account: Account, wallet_id: str, amount, key: str | None = None) -> dict:
    return _money_call(http, account, "/api/payment/deposit", {"wallet_id": wallet_id, "amount": amount}, key)


def withdraw(http: httpx.Client, account: Account, wallet_id: str, amount, key: str | None = None) -> dict:
    return _money_call(http, account, "/api/payment/withdraw", {"wallet_id": wallet_id, "amount": amount}, key)


def transfer(
    http: httpx.Client, account: Account, from_wallet_id: str, to_wallet_id: str, amount, key: str | None = None
) -> dict:
    return _money_call(
        http,
        account,
        "/api/payment/transfer",
        {"from_wallet_id": from_wallet_id, "to_wallet_id": to_wallet_id, "amount": amount},
        key,
    )


def payment_ids(http: httpx.Client, account: Account) -> list[str]:
    """Every payment the caller is a party to (GET /api/payment, all pages)."""
    ids: list[str] = []
    cursor = None
    while True:
        r = http.get(
            "/api/payment", params={"limit": 100} | ({"cursor": cursor} if cursor else {}), headers=account.auth
        )
        assert r.status_code == 200, r.text
        ids += [p["id"] for p in r.json()["items"]]
        cursor = r.json().get("next_cursor")
        if not cursor:
            return ids


def ledger_entries(http: httpx.Client, account: Account, wallet_id: str) -> list[dict]:
    """Every ledger entry of a wallet (GET /api/wallet/{id}/transactions, all pages)."""
    entries: list[dict] = []
    cursor = None
    while True:
        r = http.get(
            f"/api/wallet/{wallet_id}/transactions",
            params={"limit": 100} | ({"cursor": cursor} if cursor else {}),
            headers=account.auth,
        )
        assert r.status_code == 200, r.text
        entries += r.json()["items"]
        cursor = r.json().get("next_cursor")
        if not cursor:
            return entries
