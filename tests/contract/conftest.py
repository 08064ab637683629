"""Real producer payloads for the contract tests: every producer is driven through the
in-process gateway once per session, its sync views read from its real routes and its
events read back from its own outbox (what the sweeper would publish)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from tests.support import envelope, service_headers, sqs_batch

PASSWORD = "password123"


def _person(gw, name: str) -> tuple[str, dict]:
    email = f"contract-{uuid.uuid4().hex[:12]}@example.com"
    r = gw.post("/api/auth/register", json={"email": email, "password": PASSWORD, "name": name})
    assert r.status_code == 201, r.text
    token = gw.post("/api/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]
    return r.json()["id"], {"Authorization": f"Bearer {token}"}


def _ok(r, status: int = 200) -> dict:
    assert r.status_code == status, r.text
    return r.json()


def _outbox(module: str, since: datetime) -> list[dict]:
    from finflow.db import engine

    with engine(module).connect() as conn:
        rows = conn.execute(
            text("SELECT detail_type, detail FROM outbox WHERE created_at >= :t ORDER BY created_at"), {"t": since}
        )
        return [{"detail_type": r.detail_type, **r.detail} for r in rows]


def _drive(gw, api_env) -> dict[str, list[dict]]:
    from devserver.lambda_runtime import LambdaContext
    from finflow.config import settings
    from functions.auth.logic import ensure_admin
    from functions.kyc.events import handler as kyc_consumer
    from tests.support import kyc_decision

    since = datetime.now(UTC)
    views: dict[str, list[dict]] = defaultdict(list)
    # Auth: register, verify (KYC's decision), grant a role
    alice, alice_h = _person(gw, "Alice Contract")
    bob, bob_h = _person(gw, "Bob Contract")
    kyc_decision(alice, "verified")
    kyc_decision(bob, "verified")
    admin_email = f"contract-admin-{uuid.uuid4().hex[:10]}@example.com"
    ensure_admin(admin_email, PASSWORD, "Contract Admin")
    admin_h = {
        "Authorization": "Bearer "
        + _ok(gw.post("/api/auth/login", json={"email": admin_email, "password": PASSWORD}))["access_token"]
    }
    _ok(gw.put(f"/api/auth/users/{bob}/roles", json={"roles": ["customer", "analyst"]}, headers=admin_h))
    dave, _ = _person(gw, "Dave Contract")
    _ok(gw.post(f"/api/auth/users/{dave}/erasure", headers=admin_h), 202)  # UserErased
    _ok(gw.post("/api/auth/me/exports", headers=alice_h), 202)  # UserExportRequested
    views["UserView"].append(_ok(gw.get(f"/api/auth/users/{alice}", headers=service_headers("wallet"))))
    creds = api_env["secrets"]["payment"]
    views["ServiceToken"].append(
        _ok(gw.post("/api/auth/token", json={"client_id": creds["client_id"], "client_secret": creds["client_secret"]}))
    )

    # KYC: a submission verified by the simulated provider
    import os

    old = os.environ.get("KYC_AUTO_VERIFY")
    os.environ["KYC_AUTO_VERIFY"] = "true"
    settings.cache_clear()
    try:
        carol, carol_h = _person(gw, "Carol Contract")
        _ok(
            gw.post(
                "/api/kyc/submit",
                json={"document_type": "passport", "document_url": "https://docs.example.com/p.pdf"},
                headers=carol_h,
            ),
            202,
        )
    finally:
        if old is None:
            os.environ.pop("KYC_AUTO_VERIFY", None)
        else:
            os.environ["KYC_AUTO_VERIFY"] = old
        settings.cache_clear()

    # Wallet: a v1 USD wallet each, a v2 EUR one; a freeze
    wa = _ok(gw.post("/api/wallet/create", headers=alice_h), 201)["id"]
    wb = _ok(gw.post("/api/wallet/create", headers=bob_h), 201)["id"]
    weur = _ok(gw.post("/api/v2/wallet/create", json={"currency": "EUR"}, headers=alice_h), 201)["id"]
    # Payment: a large deposit (AML), a transfer, a refused transfer
    dep = _ok(gw.post("/api/payment/deposit", json={"wallet_id": wa, "amount": "60000.00"}, headers=alice_h), 201)
    _ok(gw.post("/api/payment/deposit", json={"wallet_id": weur, "amount": "12.50"}, headers=alice_h), 201)
    _ok(
        gw.post(
            "/api/payment/transfer",
            json={"from_wallet_id": wa, "to_wallet_id": wb, "amount": "25.00", "description": "contract"},
            headers=alice_h,
        ),
        201,
    )
    r = gw.post(
        "/api/payment/transfer", json={"from_wallet_id": wb, "to_wallet_id": wa, "amount": "999.00"}, headers=bob_h
    )
    assert r.status_code == 422, r.text
    _ok(gw.put(f"/api/wallet/{wb}/status", json={"status": "frozen", "reason": "lost card"}, headers=bob_h))
    for w in (wa, weur, wb):
        views["WalletView"].append(_ok(gw.get(f"/api/wallet/internal/wallets/{w}", headers=service_headers("kyc"))))
    svc = service_headers("payment")
    views["PostingResult"].append(_ok(gw.get(f"/api/wallet/internal/postings/{dep['id']}", headers=svc)))

    # Payment's one call per payment, answered with a posting or a refusal naming rule, side and wallet
    def post(initiator: str, **posting):
        body = {
            "posting_id": str(uuid.uuid4()),
            "initiator_user_id": initiator,
            "requested_amount": '"1.00"',
            **posting,
        }
        return gw.post("/api/wallet/internal/postings", headers=svc, json=body)

    views["PostingResult"].append(_ok(post(alice, kind="deposit", credit_wallet_id=wa), 201))
    for refused in (
        post(bob, kind="withdrawal", debit_wallet_id=wa),  # not-owner
        post(alice, kind="transfer", debit_wallet_id=wa, credit_wallet_id=wb),  # destination frozen
        post(alice, kind="transfer", debit_wallet_id=wa, credit_wallet_id=weur),  # currency-mismatch
        post(alice, kind="deposit", credit_wallet_id=wa, requested_amount='"1.001"'),  # invalid-amount
        post(alice, kind="withdrawal", debit_wallet_id=weur, requested_amount='"99999"'),  # insufficient-funds
    ):
        assert 400 <= refused.status_code < 500, refused.text
        views["PostingRefusal"].append(refused.json())

    # KYC's AML monitoring consumes Payment's real PaymentCompleted (the large deposit: an alert)
    for e in _outbox("payment", since):
        if e["detail_type"] == "PaymentCompleted":
            env = envelope(
                "finflow.payment", "PaymentCompleted", e["data"], event_id=e["event_id"], occurred_at=e["occurred_at"]
            )
            assert kyc_consumer(sqs_batch(env), LambdaContext("kyc-events")) == {"batchItemFailures": []}

    payloads: dict[str, list[dict]] = defaultdict(list, views)
    for module in ("auth", "wallet", "payment", "kyc"):
        for e in _outbox(module, since):
            payloads[e["detail_type"]].append(e["data"])
    return dict(payloads)


@pytest.fixture(scope="session")
def real_payloads(api_env) -> dict[str, list[dict]]:
    """{contract name: [real payloads]} for every view and event, produced once per session."""
    from tests.support import in_process_gateway

    with in_process_gateway() as client:
        return _drive(client, api_env)
