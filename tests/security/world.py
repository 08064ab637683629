"""A small world for the security tests, made through the in-process gateway: an owner with
one real resource of every kind the routes name (user, wallet, payment, posting,
notification, KYC submission, AML alert), another customer, a compliance officer, an
analyst, an admin and every module's service token; and how to call any operation as any
of them."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import httpx

from tests.security.routes import RESOURCE_PARAMS, Audience, Operation, operations
from tests.support import envelope, kyc_decision, service_headers, sqs_batch

PASSWORD = "password123"


@dataclass
class World:
    gw: httpx.Client
    tokens: dict[str, dict]  # principal name -> headers: owner, attacker, compliance, analyst, admin, svc:<m>
    ids: dict[str, str]  # path parameter -> the owner's resource
    user_ids: dict[str, str] = field(default_factory=dict)
    attacker_wallet: str = ""

    def headers(self, who: str) -> dict:
        return self.tokens[who]

    def call(
        self, op: Operation, who: str, *, attack: bool = False, ids: dict[str, str] | None = None, **extra
    ) -> httpx.Response:
        """`op` as `who` on the owner's resources, with a valid body and required query."""
        ids = {**self.ids, **(ids or {})}
        query = {name: ids[QUERY_ALIASES.get(name, name)] for name, required in op.query_params if required}
        body = body_for(op, self, attack)
        kwargs: dict[str, Any] = {"params": {**query, **extra.pop("params", {})}}
        if body is not None:
            kwargs["content"] = json.dumps(body)
            kwargs["headers"] = {"Content-Type": "application/json"}
        kwargs["headers"] = {**kwargs.get("headers", {}), **self.headers(who), **extra.pop("headers", {})}
        return self.gw.request(op.method, op.path(ids), **kwargs, **extra)

    def owner_view(self) -> dict:
        """Everything the owner (and compliance, for the alert) can see of the owner's data."""
        w, o = self.ids["wallet_id"], self.headers("owner")
        reads = {
            "me": ("/api/auth/me", o),
            "wallet": (f"/api/wallet/{w}", o),
            "entries": (f"/api/wallet/{w}/transactions?limit=100", o),
            "payments": ("/api/payment?limit=100", o),
            "notifications": ("/api/notifications?limit=100", o),
            "preferences": ("/api/notifications/preferences", o),
            "kyc": ("/api/kyc/status", o),
            "submission": (f"/api/kyc/submissions/{self.ids['submission_id']}", self.headers("compliance")),
            "alert": (f"/api/aml/alerts/{self.ids['alert_id']}", self.headers("compliance")),
        }
        view = {}
        for name, (path, headers) in reads.items():
            r = self.gw.get(path, headers=headers)
            assert r.status_code == 200, (path, r.text)
            view[name] = r.json()
        return view


# Required query parameters filled from the owner's ids under another name.
QUERY_ALIASES = {"wallet_ids": "wallet_id"}


def _posting(world: World, attack: bool) -> dict:
    return {
        "posting_id": str(uuid.uuid4()),
        "kind": "deposit",
        "credit_wallet_id": world.ids["wallet_id"],
        "amount_minor": 1,
        "currency": "USD",
    }


# Valid bodies of the operations that take one, by "METHOD /template" pattern; `attack`
# asks for the most harmful valid body (a freeze rather than a no-op).
BODIES: tuple[tuple[str, Callable[[World, bool], Any]], ...] = (
    (r"^PUT /api/auth/users/\{user_id\}/roles$", lambda w, a: {"roles": ["admin"] if a else ["customer"]}),
    (
        r"^PUT /api/(v\d/)?wallet/\{wallet_id\}/status$",
        lambda w, a: {"status": "frozen", "reason": "mine now"} if a else {"status": "active"},
    ),
    (
        r"^POST /api/kyc/submissions/\{submission_id\}/decision$",
        lambda w, a: {"decision": "approve", "reason": "documents match"},
    ),
    (r"^POST /api/aml/alerts/\{alert_id\}/resolve$", lambda w, a: {"resolution": "reviewed", "unfreeze": False}),
    (r"^POST /api/wallet/internal/postings$", _posting),
    # the caller's own: the service-token matrix sends these
    (r"^POST /api/auth/logout$", lambda w, a: {"refresh_token": "not-a-refresh-token"}),
    (r"^POST /api/auth/me/erasure$", lambda w, a: {"password": PASSWORD}),
    (r"^POST /api/v2/wallet/create$", lambda w, a: {"currency": "EUR"}),
    (
        r"^POST /api/payment/transfer$",
        lambda w, a: {"from_wallet_id": w.ids["wallet_id"], "to_wallet_id": w.attacker_wallet, "amount": "1.00"},
    ),
    (r"^POST /api/payment/(deposit|withdraw)$", lambda w, a: {"wallet_id": w.ids["wallet_id"], "amount": "1.00"}),
    (r"^PUT /api/notifications/preferences$", lambda w, a: {"email": True, "sms": False, "in_app": True}),
    (r"^POST /api/kyc/uploads$", lambda w, a: {"document_type": "passport", "content_type": "application/pdf"}),
    (
        r"^POST /api/kyc/submit$",
        lambda w, a: {"document_type": "passport", "document_url": "https://docs.example.com/passport.pdf"},
    ),
)


def needs_body(op: Operation) -> bool:
    # wallet status reads its body itself (a bare string or an object), so OpenAPI shows none
    return op.has_body or bool(re.search(r"/wallet/\{wallet_id\}/status$", op.key))


def body_for(op: Operation, world: World, attack: bool) -> Any:
    for pattern, make in BODIES:
        if re.search(pattern, op.key):
            return make(world, attack)
    return None


def has_body_fixture(op: Operation) -> bool:
    return any(re.search(pattern, op.key) for pattern, _ in BODIES)


# --- who holds an audience ----------------------------------------------------------------

SERVICES = ("auth", "wallet", "payment", "notification", "kyc", "reporting")
HOLDER = {"admin": "admin", "compliance": "compliance", "analyst": "analyst"}


def allowed(aud: Audience) -> str:
    """The principal a positive control calls as."""
    if aud.kind == "service":
        return f"svc:{aud.names[0]}"
    if aud.kind == "role":
        return HOLDER[aud.names[0]]
    return "owner"


def refused(aud: Audience) -> list[str]:
    """Every principal that must get 403 on a role or service route."""
    people = ["owner", "attacker", "compliance", "analyst", "admin"]
    if aud.kind == "service":
        return people + [f"svc:{m}" for m in SERVICES if m not in aud.names]
    granted = set(aud.names) | {"admin"}  # an admin holds every role
    return [p for p in people if p not in granted] + [f"svc:{m}" for m in SERVICES]


# --- building it --------------------------------------------------------------------------


def _person(gw: httpx.Client, name: str) -> tuple[str, dict]:
    email = f"sec-{uuid.uuid4().hex[:12]}@example.com"
    r = gw.post("/api/auth/register", json={"email": email, "password": PASSWORD, "name": name})
    assert r.status_code == 201, r.text
    return r.json()["id"], {"email": email}


def _login(gw: httpx.Client, email: str) -> dict:
    r = gw.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def raise_alert(wallet_id: str, user_id: str) -> str:
    """KYC's consumer sees a withdrawal large enough for an AML alert on the wallet: its id."""
    from datetime import datetime

    from sqlalchemy import text

    from devserver.lambda_runtime import LambdaContext
    from finflow.db import engine
    from functions.kyc.events import handler

    data = {
        "payment_id": str(uuid.uuid4()),
        "kind": "withdrawal",
        "from_wallet_id": wallet_id,
        "to_wallet_id": None,
        "from_user_id": user_id,
        "to_user_id": None,
        "amount": "12345.67",
        "amount_minor": 1234567,
        "currency": "USD",
        "completed_at": datetime.now(UTC).isoformat(),
    }
    batch = sqs_batch(envelope("finflow.payment", "PaymentCompleted", data))
    assert handler(batch, LambdaContext("kyc-events")) == {"batchItemFailures": []}
    with engine("kyc").connect() as conn:
        return conn.execute(
            text("SELECT id::text FROM alerts WHERE payment_id = :p"), {"p": data["payment_id"]}
        ).scalar_one()


def customer(gw: httpx.Client, name: str = "Customer", *, verified: bool = False) -> tuple[str, dict]:
    """A new customer: (user id, auth headers)."""
    user_id, info = _person(gw, name)
    if verified:
        kyc_decision(user_id, "verified")
    return user_id, _login(gw, info["email"])


def throwaway_ids(world: World, op: Operation) -> dict[str, str]:
    """Fresh resources for a destructive operation's positive control (users only, so far)."""
    assert set(op.path_params) <= {"user_id"}, f"{op}: no throwaway resource for {op.path_params}"
    return {"user_id": customer(world.gw, "Throwaway")[0]} if op.path_params else {}


def named_params() -> set[str]:
    return {p for op in operations() for p in op.path_params}


def build(gw: httpx.Client) -> World:
    from devserver.lambda_runtime import LambdaContext
    from functions.auth.logic import ensure_admin
    from functions.notification.events import handler as notification_consumer
    from tests.api.kyc_helpers import auto_verify

    admin_email = f"sec-admin-{uuid.uuid4().hex[:10]}@example.com"
    ensure_admin(admin_email, PASSWORD, "Security Admin")
    tokens = {"admin": _login(gw, admin_email)}
    users = {}
    for name in ("owner", "attacker", "compliance", "analyst"):
        user_id, info = _person(gw, name.title())
        users[name] = user_id
        if name in HOLDER:
            r = gw.put(f"/api/auth/users/{user_id}/roles", json={"roles": [name]}, headers=tokens["admin"])
            assert r.status_code == 200, r.text
        tokens[name] = _login(gw, info["email"])
    for m in SERVICES:
        tokens[f"svc:{m}"] = service_headers(m)
    owner = tokens["owner"]

    with auto_verify(False):  # left pending, for compliance to decide
        r = gw.post(
            "/api/kyc/submit",
            json={"document_type": "passport", "document_url": "https://docs.example.com/passport.pdf"},
            headers=owner,
        )
        assert r.status_code == 202, r.text
        submission_id = r.json()["id"]
    for name in ("owner", "attacker"):
        kyc_decision(users[name], "verified")
    wallets = {}
    for name in ("owner", "attacker"):
        r = gw.post("/api/wallet/create", headers=tokens[name])
        assert r.status_code == 201, r.text
        wallets[name] = r.json()["id"]
        r = gw.post("/api/payment/deposit", json={"wallet_id": wallets[name], "amount": "100.00"}, headers=tokens[name])
        assert r.status_code == 201, r.text
        if name == "owner":
            payment = r.json()

    me = gw.get("/api/auth/me", headers=owner).json()
    result = notification_consumer(
        sqs_batch(envelope("finflow.auth", "UserRegistered", me)), LambdaContext("notification-events")
    )
    assert result == {"batchItemFailures": []}
    notification_id = gw.get("/api/notifications", headers=owner).json()["items"][0]["id"]

    alert_id = raise_alert(wallets["owner"], users["owner"])

    ids = {
        "user_id": users["owner"],
        "wallet_id": wallets["owner"],
        "payment_id": payment["id"],
        "posting_id": payment["id"],
        "notification_id": notification_id,
        "submission_id": submission_id,
        "alert_id": alert_id,
    }
    if "export_id" in named_params():  # a data export of the owner's, where this build has them
        r = gw.post("/api/auth/me/exports", headers=owner)
        assert r.status_code == 202, r.text
        ids["export_id"] = r.json()["export_id"]
    assert named_params() & set(RESOURCE_PARAMS) <= set(ids)
    return World(gw=gw, tokens=tokens, ids=ids, user_ids=users, attacker_wallet=wallets["attacker"])
