"""Wallet (B) through the in-process gateway: KYC gate, v1/v2, statuses, ledger, BOLA."""

from __future__ import annotations

import uuid
from datetime import UTC

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from devserver.lambda_runtime import LambdaContext
from tests.support import envelope, service_headers, sqs_batch


def post(gateway, body: dict):
    return gateway.post("/api/wallet/internal/postings", headers=service_headers("payment"), json=body)


def deposit(gateway, wallet: dict, minor: int) -> None:
    r = post(
        gateway,
        {
            "posting_id": uuid.uuid4().hex,
            "kind": "deposit",
            "credit_wallet_id": wallet["id"],
            "amount_minor": minor,
            "currency": wallet["currency"],
        },
    )
    assert r.status_code == 201, r.text


def transfer_body(wa: dict, wb: dict, minor: int, **extra) -> dict:
    """A USD transfer posting from wallet wa to wallet wb, under a new posting id."""
    return {
        "posting_id": uuid.uuid4().hex,
        "kind": "transfer",
        "debit_wallet_id": wa["id"],
        "credit_wallet_id": wb["id"],
        "amount_minor": minor,
        "currency": "USD",
        **extra,
    }


def wallet_of(gateway, person, path="/api/wallet/create", **kw) -> dict:
    r = gateway.post(path, headers=person.headers, **kw)
    assert r.status_code == 201, r.text
    return r.json()


# --- KYC gate (Auth -> Wallet cascade) -------------------------------------------------


def test_create_needs_verified_kyc(gateway, customer):
    person = customer()
    r = gateway.post("/api/wallet/create", headers=person.headers)
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == "KYC verification required"


def test_verified_user_gets_a_usd_wallet(gateway, verified_customer):
    person = verified_customer()
    w = wallet_of(gateway, person)
    assert w == {**w, "user_id": person.id, "currency": "USD", "balance": "0.00", "status": "active"}
    assert gateway.get(f"/api/wallet/{w['id']}", headers=person.headers).json() == w


def test_rejected_kyc_still_refused(gateway, customer):
    from tests.support import kyc_decision

    person = customer()
    kyc_decision(person.id, "rejected")
    assert gateway.post("/api/wallet/create", headers=person.headers).status_code == 403


def test_auth_down_decides_from_replica_and_health_says_degraded(gateway, verified_customer, customer):
    person = verified_customer()
    # Wallet learned the status once (as it would from UserKycStatusChanged or an earlier read)
    assert _kyc(gateway, person)["source"] == "auth"
    stranger = customer()
    gateway.functions["auth.api"].enabled = False
    try:
        w = wallet_of(gateway, person)
        assert w["currency"] == "USD"
        health = gateway.get("/api/wallet/health").json()
        assert health["status"] == "degraded"
        assert health["dependencies"]["auth-service"] != "healthy"
        # never seen and Auth unreachable: no guess, a clear 503
        r = gateway.post("/api/wallet/create", headers=stranger.headers)
        assert r.status_code == 503 and "auth-service" in r.json()["detail"]
    finally:
        gateway.functions["auth.api"].enabled = True
    assert gateway.get("/api/wallet/health").json()["status"] == "healthy"


def test_kyc_events_feed_the_replica_newest_wins(gateway, customer, api_env):
    from finflow.db import engine
    from functions.wallet import events
    from functions.wallet.tables import kyc_replica

    person = customer()
    newer = envelope(
        "finflow.auth",
        "UserKycStatusChanged",
        {"user_id": person.id, "kyc_status": "verified", "changed_at": "2026-05-02T00:00:00+00:00"},
    )
    older = envelope(
        "finflow.auth",
        "UserKycStatusChanged",
        {"user_id": person.id, "kyc_status": "rejected", "changed_at": "2026-05-01T00:00:00+00:00"},
    )
    broken = envelope("finflow.auth", "UserKycStatusChanged", {"kyc_status": "verified"})
    result = events.handler(sqs_batch(newer, older, newer, broken), LambdaContext("wallet-events"))
    assert result["batchItemFailures"] == [{"itemIdentifier": "m3"}]
    with engine("wallet").connect() as conn:
        status = conn.execute(select(kyc_replica.c.kyc_status).where(kyc_replica.c.user_id == person.id)).scalar()
    assert status == "verified"


def _kyc(gateway, person) -> dict:
    """Wallet's KYC gate, as its wallet creation and its postings consult it."""
    from functions.wallet import logic

    return logic.kyc_of(person.id).model_dump()


def test_a_fresh_verified_is_answered_from_the_replica_until_an_event_changes_it(gateway, verified_customer):
    from functions.wallet import events

    person = verified_customer()
    assert _kyc(gateway, person)["source"] == "auth"
    gateway.functions["auth.api"].enabled = False  # a cached answer does not need Auth at all
    try:
        assert _kyc(gateway, person) == {"user_id": person.id, "kyc_status": "verified", "source": "cache"}
        assert (
            gateway.post("/api/v2/wallet/create", headers=person.headers, json={"currency": "EUR"}).status_code == 201
        )
    finally:
        gateway.functions["auth.api"].enabled = True
    from datetime import datetime

    revoked = envelope(
        "finflow.auth",
        "UserKycStatusChanged",
        {"user_id": person.id, "kyc_status": "rejected", "changed_at": datetime.now(UTC).isoformat()},
    )
    assert events.handler(sqs_batch(revoked), LambdaContext("wallet-events"))["batchItemFailures"] == []
    # the event took the cached "verified" away: Auth is asked again (and still says verified here)
    assert _kyc(gateway, person)["source"] == "auth"


def test_the_kyc_cache_ages_out_and_can_be_turned_off(gateway, verified_customer, monkeypatch):
    from finflow import config
    from finflow.db import engine

    person = verified_customer()
    _kyc(gateway, person)
    with engine("wallet").begin() as conn:  # learned 31 s ago: older than the default 30 s
        conn.execute(
            text("UPDATE kyc_replica SET confirmed_at = now() - interval '31 seconds' WHERE user_id = :u"),
            {"u": person.id},
        )
    assert _kyc(gateway, person)["source"] == "auth"
    assert _kyc(gateway, person)["source"] == "cache"
    monkeypatch.setenv("KYC_CACHE_SECONDS", "0")
    config.settings.cache_clear()
    try:
        assert _kyc(gateway, person)["source"] == "auth"
    finally:
        monkeypatch.delenv("KYC_CACHE_SECONDS")
        config.settings.cache_clear()


def test_v2_multi_currency_and_v1_unchanged(gateway, verified_customer):
    person = verified_customer()
    eur = wallet_of(gateway, person, "/api/v2/wallet/create", json={"currency": "eur"})
    jpy = wallet_of(gateway, person, "/api/v2/wallet/create", json={"currency": "JPY"})
    assert (eur["currency"], eur["balance"], jpy["balance"]) == ("EUR", "0.00", "0")
    dup = gateway.post("/api/v2/wallet/create", headers=person.headers, json={"currency": "EUR"})
    assert dup.status_code == 409 and dup.json()["detail"] == "You already have a EUR wallet"
    bad = gateway.post("/api/v2/wallet/create", headers=person.headers, json={"currency": "XYZ"})
    assert bad.status_code == 422 and "XYZ" in bad.json()["detail"]
    usd = wallet_of(gateway, person, "/api/v1/wallet/create")  # v1 still works after v2 wallets exist
    assert usd["currency"] == "USD"
    assert gateway.post("/api/wallet/create", headers=person.headers).status_code == 409
    listed = gateway.get("/api/wallet", headers=person.headers).json()["items"]
    assert {w["currency"] for w in listed} == {"EUR", "JPY", "USD"}


def test_mass_assignment_is_ignored(gateway, verified_customer):
    person = verified_customer()
    w = wallet_of(
        gateway,
        person,
        "/api/v2/wallet/create",
        json={"currency": "GBP", "balance": "1000000.00", "user_id": str(uuid.uuid4()), "status": "frozen"},
    )
    assert (w["balance"], w["user_id"], w["status"]) == ("0.00", person.id, "active")


# --- status ----------------------------------------------------------------------------


def test_seed_freeze_body_and_owner_unfreeze(gateway, verified_customer):
    person = verified_customer()
    w = wallet_of(gateway, person)
    r = gateway.put(f"/api/wallet/{w['id']}/status", headers=person.headers, content='"frozen"')
    assert r.status_code == 200 and r.json()["status"] == "frozen"
    r = gateway.put(
        f"/api/wallet/{w['id']}/status", headers=person.headers, json={"status": "active", "reason": "mine"}
    )
    assert r.json()["status"] == "active"
    bad = gateway.put(f"/api/wallet/{w['id']}/status", headers=person.headers, json={"status": "gone"})
    assert bad.status_code == 422


def test_owner_cannot_lift_compliance_freeze(gateway, verified_customer, customer):
    person = verified_customer()
    w = wallet_of(gateway, person)
    officer = compliance_officer(gateway, customer)
    r = gateway.put(
        f"/api/wallet/{w['id']}/status", headers=officer.headers, json={"status": "frozen", "reason": "AML review"}
    )
    assert r.status_code == 200
    r = gateway.put(f"/api/wallet/{w['id']}/status", headers=person.headers, json={"status": "active"})
    assert r.status_code == 403 and "compliance" in r.json()["detail"]
    r = gateway.put(f"/api/wallet/{w['id']}/status", headers=person.headers, json={"status": "closed"})
    assert r.status_code == 403
    r = gateway.put(
        f"/api/wallet/{w['id']}/status", headers=officer.headers, json={"status": "active", "reason": "cleared"}
    )
    assert r.json()["status"] == "active"
    from finflow.db import engine

    with engine("wallet").connect() as conn:
        history = conn.execute(
            text(
                "SELECT to_status, actor_role, reason FROM wallet_status_changes "
                "WHERE wallet_id = :w ORDER BY created_at"
            ),
            {"w": w["id"]},
        ).all()
    assert [tuple(h) for h in history] == [("frozen", "compliance", "AML review"), ("active", "compliance", "cleared")]


def compliance_officer(gateway, customer):
    from functions.auth.logic import ensure_admin

    officer = customer()
    ensure_admin("root@example.com", "password123", "Root")
    admin = gateway.post("/api/auth/login", json={"email": "root@example.com", "password": "password123"}).json()
    r = gateway.put(
        f"/api/auth/users/{officer.id}/roles",
        json={"roles": ["compliance"]},
        headers={"Authorization": f"Bearer {admin['access_token']}"},
    )
    assert r.status_code == 200
    tokens = gateway.post("/api/auth/login", json={"email": officer.email, "password": "password123"}).json()
    officer.headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    return officer


def test_close_needs_zero_balance_and_is_final(gateway, verified_customer):
    person = verified_customer()
    w = wallet_of(gateway, person)
    deposit(gateway, w, 500)
    r = gateway.put(f"/api/wallet/{w['id']}/status", headers=person.headers, content='"closed"')
    assert r.status_code == 409 and r.json()["detail"] == "Wallet balance must be zero to close it"
    empty = wallet_of(gateway, person, "/api/v2/wallet/create", json={"currency": "CHF"})
    assert (
        gateway.put(f"/api/wallet/{empty['id']}/status", headers=person.headers, content='"closed"').status_code == 200
    )
    r = gateway.put(f"/api/wallet/{empty['id']}/status", headers=person.headers, content='"active"')
    assert r.status_code == 409 and r.json()["detail"] == "Wallet is closed"


# --- ledger ----------------------------------------------------------------------------


def test_postings_balance_and_replay(gateway, verified_customer):
    a, b = verified_customer(), verified_customer()
    wa, wb = wallet_of(gateway, a), wallet_of(gateway, b)
    deposit(gateway, wa, 10_000)
    body = transfer_body(wa, wb, 2_500)
    first = post(gateway, body)
    assert first.status_code == 201
    assert sum(e["amount_minor"] for e in first.json()["entries"]) == 0
    replay = post(gateway, body)
    assert (replay.status_code, replay.json()) == (200, first.json())
    assert post(gateway, {**body, "amount_minor": 1}).status_code == 409
    assert gateway.get(f"/api/wallet/{wa['id']}", headers=a.headers).json()["balance"] == "75.00"
    assert gateway.get(f"/api/wallet/{wb['id']}", headers=b.headers).json()["balance"] == "25.00"
    history = gateway.get(f"/api/wallet/{wa['id']}/transactions", headers=a.headers).json()
    assert [(e["kind"], e["amount"], e["balance_after"]) for e in history["items"]] == [
        ("transfer", "-25.00", "75.00"),
        ("deposit", "100.00", "100.00"),
    ]


def test_posting_refusals(gateway, verified_customer):
    a, b = verified_customer(), verified_customer()
    wa, wb = wallet_of(gateway, a), wallet_of(gateway, b)
    eur = wallet_of(gateway, b, "/api/v2/wallet/create", json={"currency": "EUR"})
    deposit(gateway, wa, 1_000)
    base = {"kind": "transfer", "debit_wallet_id": wa["id"], "credit_wallet_id": wb["id"], "currency": "USD"}
    r = post(gateway, {**base, "posting_id": uuid.uuid4().hex, "amount_minor": 1_001})
    assert (r.status_code, r.json()["type"].rsplit("/", 1)[-1]) == (422, "insufficient-funds")
    r = post(gateway, {**base, "posting_id": uuid.uuid4().hex, "credit_wallet_id": eur["id"], "amount_minor": 1})
    assert (r.status_code, r.json()["type"].rsplit("/", 1)[-1]) == (422, "currency-mismatch")
    gateway.put(f"/api/wallet/{wa['id']}/status", headers=a.headers, content='"frozen"')
    r = post(gateway, {**base, "posting_id": uuid.uuid4().hex, "amount_minor": 1})
    assert (r.status_code, r.json()["detail"]) == (409, "Source wallet is frozen")
    # a user token can never post
    r = gateway.post(
        "/api/wallet/internal/postings",
        headers=a.headers,
        json={**base, "posting_id": uuid.uuid4().hex, "amount_minor": 1},
    )
    assert r.status_code == 403
    assert gateway.get(f"/api/wallet/{wa['id']}", headers=a.headers).json()["balance"] == "10.00"


def test_database_refuses_negative_balance_and_unbalanced_posting(api_env):
    from finflow.db import engine

    with pytest.raises(DBAPIError, match="wallets_balance_not_negative"):
        with engine("wallet").begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO wallets (id, kind, user_id, currency, balance_minor) "
                    "VALUES (:id, 'user', :u, 'USD', -1)"
                ),
                {"id": str(uuid.uuid4()), "u": str(uuid.uuid4())},
            )
    with pytest.raises(DBAPIError, match="does not balance"):
        with engine("wallet").begin() as conn:
            wallet = str(uuid.uuid4())
            conn.execute(
                text("INSERT INTO wallets (id, kind, user_id, currency) VALUES (:id, 'user', :u, 'USD')"),
                {"id": wallet, "u": str(uuid.uuid4())},
            )
            conn.execute(
                text(
                    "INSERT INTO postings (id, kind, currency, amount_minor, request_hash) "
                    "VALUES ('unbalanced', 'deposit', 'USD', 5, 'x')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO ledger_entries (id, posting_id, wallet_id, amount_minor) "
                    "VALUES (:id, 'unbalanced', :w, 5)"
                ),
                {"id": str(uuid.uuid4()), "w": wallet},
            )


# --- who may see and change what ---------------------------------------------------------


def test_other_users_get_404_everywhere_and_nothing_changes(gateway, verified_customer, customer):
    owner, other = verified_customer(), customer()
    w = wallet_of(gateway, owner)
    deposit(gateway, w, 700)
    for method, path, kw in [
        ("GET", f"/api/wallet/{w['id']}", {}),
        ("GET", f"/api/v2/wallet/{w['id']}", {}),
        ("GET", f"/api/wallet/{w['id']}/transactions", {}),
        ("PUT", f"/api/wallet/{w['id']}/status", {"content": '"frozen"'}),
        ("GET", f"/api/wallet/internal/wallets/{w['id']}", {}),
        (
            "POST",
            "/api/wallet/internal/postings",
            {
                "json": {
                    "posting_id": "x",
                    "kind": "withdrawal",
                    "debit_wallet_id": w["id"],
                    "amount_minor": 700,
                    "currency": "USD",
                }
            },
        ),
    ]:
        r = gateway.request(method, path, headers=other.headers, **kw)
        assert r.status_code in (403, 404), (method, path, r.status_code)
    after = gateway.get(f"/api/wallet/{w['id']}", headers=owner.headers).json()
    assert (after["balance"], after["status"]) == ("7.00", "active")
    assert gateway.get("/api/wallet", headers=other.headers).json()["items"] == []


def test_pagination_is_capped_and_cursor_checked(gateway, verified_customer):
    person = verified_customer()
    w = wallet_of(gateway, person)
    for _ in range(3):
        deposit(gateway, w, 100)
    page = gateway.get(f"/api/wallet/{w['id']}/transactions?limit=2", headers=person.headers).json()
    rest = gateway.get(
        f"/api/wallet/{w['id']}/transactions?limit=2&cursor={page['next_cursor']}", headers=person.headers
    ).json()
    assert (len(page["items"]), len(rest["items"]), rest["next_cursor"]) == (2, 1, None)
    assert gateway.get(f"/api/wallet/{w['id']}/transactions?limit=1000", headers=person.headers).status_code == 422
    assert gateway.get(f"/api/wallet/{w['id']}/transactions?cursor=!!", headers=person.headers).status_code == 422


def test_events_recorded_in_outbox(gateway, verified_customer):
    from finflow.db import engine

    person = verified_customer()
    w = wallet_of(gateway, person)
    gateway.put(f"/api/wallet/{w['id']}/status", headers=person.headers, content='"frozen"')
    with engine("wallet").connect() as conn:
        rows = conn.execute(
            text("SELECT detail_type, detail FROM outbox WHERE detail->'data'->>'wallet_id' = :w ORDER BY created_at"),
            {"w": w["id"]},
        ).all()
    assert [r.detail_type for r in rows] == ["WalletCreated", "WalletStatusChanged"]
    assert rows[1].detail["data"]["actor_role"] == "owner" and rows[1].detail["event_id"]


def test_ids_that_are_not_uuids_are_simply_not_found(gateway, verified_customer):
    person = verified_customer()
    w = wallet_of(gateway, person)
    for path in ("/api/wallet/not-a-uuid", "/api/wallet/1%27%20OR%201=1/transactions"):
        r = gateway.get(path, headers=person.headers)
        assert r.status_code == 404 and r.json()["detail"] == "Wallet not found"
    r = post(
        gateway,
        {
            "posting_id": uuid.uuid4().hex,
            "kind": "deposit",
            "credit_wallet_id": "nope",
            "amount_minor": 1,
            "currency": "USD",
        },
    )
    assert r.status_code == 404
    upper = w["id"].upper()
    assert gateway.get(f"/api/wallet/{upper}", headers=person.headers).json()["id"] == w["id"]
    deposit(gateway, {**w, "id": upper}, 100)
    assert gateway.get(f"/api/wallet/{w['id']}", headers=person.headers).json()["balance"] == "1.00"
