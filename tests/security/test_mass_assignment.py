"""Mass assignment: every write operation of every module's OpenAPI, sent a valid body plus
fields a client must never set (`balance`, `roles`, `kyc_status`, `status`, `user_id`,
`id`, `frozen_by`, ...): none of them takes effect, on the resource returned, in the
database, or on the other user the body names."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import text

from tests.api.kyc_helpers import auto_verify
from tests.security import routes
from tests.security.world import customer, raise_alert

FORCED_ID = str(uuid.uuid4())


def injected(victim_id: str) -> dict:
    return {
        "balance": "1000000.00",
        "balance_minor": 100_000_000,
        "roles": ["admin", "compliance"],
        "kyc_status": "verified",
        "status": "closed",
        "user_id": victim_id,
        "id": FORCED_ID,
        "frozen_by": "compliance",
        "created_at": "2000-01-01T00:00:00+00:00",
        "decided_by": victim_id,
        "resolved_by": victim_id,
        "kind": "deposit",
        "currency": "EUR",
        "amount_minor": 99_999_999,
        "owner_id": victim_id,
    }


def row(module: str, sql: str, **params):
    from finflow.db import engine

    with engine(module).connect() as conn:
        return conn.execute(text(sql), params).one()


def send(world, op, body: dict, headers: dict | None = None, **ids):
    return world.gw.request(op.method, op.path(ids), json=body, headers=headers or {})


def wallet_of(world, headers: dict) -> str:
    r = world.gw.post("/api/wallet/create", headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def funded(world, headers: dict) -> str:
    w = wallet_of(world, headers)
    assert (
        world.gw.post("/api/payment/deposit", json={"wallet_id": w, "amount": "50.00"}, headers=headers).status_code
        == 201
    )
    return w


def balance(world, headers: dict, wallet_id: str) -> str:
    return world.gw.get(f"/api/wallet/{wallet_id}", headers=headers).json()["balance"]


# --- one case per kind of write --------------------------------------------------------


def register(world, op):
    victim, _ = customer(world.gw, "Victim")
    email = f"ma-{uuid.uuid4().hex[:10]}@example.com"
    r = send(world, op, {**injected(victim), "email": email, "password": "password123", "name": "Mass"})
    assert r.status_code == 201, r.text
    user = r.json()
    assert (user["roles"], user["kyc_status"], user["email"]) == (["customer"], "pending", email)
    assert user["id"] not in (FORCED_ID, victim)
    stored = row("auth", "SELECT id::text, roles, kyc_status FROM users WHERE email = :e", e=email)
    assert (stored.id, list(stored.roles), stored.kyc_status) == (user["id"], ["customer"], "pending")


def create_wallet(world, op):
    victim, victim_headers = customer(world.gw, "Victim", verified=True)
    me, headers = customer(world.gw, "Creator", verified=True)
    currency = "GBP" if "/v2/" in op.template else "USD"
    r = send(world, op, {**injected(victim), "currency": currency}, headers)
    assert r.status_code == 201, r.text
    wallet = r.json()
    assert (wallet["user_id"], wallet["currency"], wallet["status"]) == (me, currency, "active")
    assert wallet["id"] != FORCED_ID and not wallet["balance"].strip("0.")
    stored = row(
        "wallet", "SELECT user_id::text, balance_minor, status, frozen_by FROM wallets WHERE id = :w", w=wallet["id"]
    )
    assert tuple(stored) == (me, 0, "active", None)
    assert world.gw.get("/api/wallet", headers=victim_headers).json()["items"] == []


def change_status(world, op):
    victim, _ = customer(world.gw, "Victim", verified=True)
    me, headers = customer(world.gw, "Owner", verified=True)
    w = funded(world, headers)
    r = send(world, op, {**injected(victim), "status": "frozen", "reason": "travelling"}, headers, wallet_id=w)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["user_id"], r.json()["balance"]) == ("frozen", me, "50.00")
    stored = row("wallet", "SELECT user_id::text, balance_minor, frozen_by FROM wallets WHERE id = :w", w=w)
    assert tuple(stored) == (me, 5000, "owner")  # not "compliance": the owner may lift it again
    lifted = send(world, op, {"status": "active"}, headers, wallet_id=w)
    assert lifted.status_code == 200 and lifted.json()["status"] == "active", lifted.text


def move_money(world, op):
    victim, victim_headers = customer(world.gw, "Victim", verified=True)
    victim_wallet = funded(world, victim_headers)
    me, headers = customer(world.gw, "Payer", verified=True)
    mine, theirs = funded(world, headers), wallet_of(world, customer(world.gw, "Payee", verified=True)[1])
    kind = op.template.rsplit("/", 1)[1]
    body = {
        "transfer": {"from_wallet_id": mine, "to_wallet_id": theirs},
        "deposit": {"wallet_id": mine},
        "withdraw": {"wallet_id": mine},
    }[kind]
    r = send(world, op, {**injected(victim), **body, "amount": "1.00", "status": "failed"}, headers)
    assert r.status_code == 201, r.text
    payment = r.json()
    expected_kind = {"withdraw": "withdrawal"}.get(kind, kind)
    assert (payment["kind"], payment["status"], payment["amount"], payment["currency"]) == (
        expected_kind,
        "completed",
        "1.00",
        "USD",
    )
    assert payment["id"] != FORCED_ID
    assert balance(world, headers, mine) == {"deposit": "51.00"}.get(kind, "49.00")
    assert balance(world, victim_headers, victim_wallet) == "50.00"
    stored = row(
        "payment", "SELECT initiator_user_id::text AS who, amount_minor FROM payments WHERE id = :p", p=payment["id"]
    )
    assert (stored.who, stored.amount_minor) == (me, 100)


def preferences(world, op):
    victim, victim_headers = customer(world.gw, "Victim")
    before = world.gw.get("/api/notifications/preferences", headers=victim_headers).json()
    _, headers = customer(world.gw, "Setter")
    r = send(world, op, {**injected(victim), "email": False, "sms": False, "in_app": True}, headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"email": False, "sms": False, "in_app": True, "phone": None}
    assert world.gw.get("/api/notifications/preferences", headers=victim_headers).json() == before


def kyc_upload(world, op):
    victim, _ = customer(world.gw, "Victim")
    me, headers = customer(world.gw, "Uploader")
    r = send(
        world,
        op,
        {
            **injected(victim),
            "document_type": "passport",
            "content_type": "application/pdf",
            "document_key": f"users/{victim}/planted",
        },
        headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["document_key"].startswith(f"users/{me}/")


def kyc_submit(world, op):
    victim, victim_headers = customer(world.gw, "Victim")
    me, headers = customer(world.gw, "Applicant")
    with auto_verify(False):
        r = send(
            world,
            op,
            {**injected(victim), "document_type": "passport", "document_url": "https://docs.example.com/p.pdf"},
            headers,
        )
    assert r.status_code == 202, r.text
    sub = r.json()
    assert (sub["user_id"], sub["status"], sub["decided_at"]) == (me, "pending", None) and sub["id"] != FORCED_ID
    assert world.gw.get("/api/kyc/status", headers=victim_headers).json()["submissions"] == []
    assert world.gw.get("/api/auth/me", headers=headers).json()["kyc_status"] == "pending"


def kyc_decision(world, op):
    victim, _ = customer(world.gw, "Victim")
    me, headers = customer(world.gw, "Applicant")
    with auto_verify(False):
        sub = world.gw.post(
            "/api/kyc/submit",
            json={"document_type": "passport", "document_url": "https://docs.example.com/p.pdf"},
            headers=headers,
        ).json()
    officer = world.gw.get("/api/auth/me", headers=world.headers("compliance")).json()["id"]
    r = send(
        world,
        op,
        {**injected(victim), "decision": "reject", "reason": "blurred", "status": "verified"},
        world.headers("compliance"),
        submission_id=sub["id"],
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["user_id"], r.json()["decided_by"]) == ("rejected", me, officer)


def alert_resolve(world, op):
    victim, _ = customer(world.gw, "Victim")
    me, headers = customer(world.gw, "Holder", verified=True)
    w = wallet_of(world, headers)
    alert_id = raise_alert(w, me)
    officer = world.gw.get("/api/auth/me", headers=world.headers("compliance")).json()["id"]
    forged = {"status": "open", "wallet_id": str(uuid.uuid4()), "severity": "low", "freeze": "lifted"}
    r = send(
        world,
        op,
        {**injected(victim), **forged, "resolution": "documented"},
        world.headers("compliance"),
        alert_id=alert_id,
    )
    assert r.status_code == 200, r.text
    alert = r.json()
    assert (alert["status"], alert["resolved_by"], alert["wallet_id"], alert["user_id"]) == ("resolved", officer, w, me)
    assert alert["id"] == alert_id and alert["severity"] == "medium"


def grant_roles(world, op):
    victim, victim_headers = customer(world.gw, "Victim")
    target, _ = customer(world.gw, "Target")
    r = send(world, op, {**injected(victim), "roles": ["analyst"]}, world.headers("admin"), user_id=target)
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["roles"], r.json()["kyc_status"]) == (target, ["analyst", "customer"], "pending")
    assert world.gw.get("/api/auth/me", headers=victim_headers).json()["roles"] == ["customer"]


CASES = (
    (r"^POST /api/auth/register$", register),
    (r"^POST /api/(v\d/)?wallet/create$", create_wallet),
    (r"^PUT /api/(v\d/)?wallet/\{wallet_id\}/status$", change_status),
    (r"^POST /api/payment/(transfer|deposit|withdraw)$", move_money),
    (r"^PUT /api/notifications/preferences$", preferences),
    (r"^POST /api/kyc/uploads$", kyc_upload),
    (r"^POST /api/kyc/submit$", kyc_submit),
    (r"^POST /api/kyc/submissions/\{submission_id\}/decision$", kyc_decision),
    (r"^POST /api/aml/alerts/\{alert_id\}/resolve$", alert_resolve),
    (r"^PUT /api/auth/users/\{user_id\}/roles$", grant_roles),
)
# Writes whose body sets no field of a resource, with the reason.
EXEMPT = {
    "POST /api/auth/login": "credentials only; answers tokens",
    "POST /api/auth/refresh": "a refresh token only",
    "POST /api/auth/logout": "a refresh token only; revokes the caller's own session",
    "POST /api/auth/token": "client credentials only; answers a service token",
    "POST /api/notifications/{notification_id}/read": "no body",
    "POST /api/auth/users/{user_id}/erasure": "no body",
    "POST /api/auth/me/exports": "no body",
    "POST /api/auth/me/erasure": "the caller's password only; erases the caller's own account",
    "POST /api/wallet/internal/postings": "Payment's service token only; the posting contract is the body",
}
WRITES = tuple(op for op in routes.operations() if op.method != "GET")


def case_for(op):
    return next((case for pattern, case in CASES if re.search(pattern, op.key)), None)


def test_every_write_operation_has_a_mass_assignment_case():
    missing = [op.key for op in WRITES if case_for(op) is None and op.key not in EXEMPT]
    assert not missing, f"write routes without a mass-assignment case in {__name__}: {missing}"


@pytest.mark.parametrize("op", [op for op in WRITES if case_for(op)], ids=str)
def test_fields_a_client_must_not_set_never_take_effect(world, op):
    case_for(op)(world, op)
