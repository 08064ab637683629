"""The seed's three cascade scenarios, executable.

1. `kyc_status` added to Auth: the staged rollout of the Maintenance section, each stage
   checked with the contract checker on real Auth payloads (UserView and UserRegistered).
2. Multi-currency wallets: v1 keeps answering (v1 shape plus currency), and a consumer
   contract that reads amounts without their currency is caught.
3. JWT payload change: `ver` with a rollout window, signing-key rotation without losing a
   session, and an unknown version refused with its reason, through the in-process gateway.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from typing import Literal

import jwt
import pytest
from pydantic import create_model

from finflow import contracts
from tests.contract.test_consumer_contracts import money_without_currency

# --- Scenario 1: adding kyc_status to Auth -----------------------------------------------

KYC = Literal["pending", "submitted", "verified", "rejected"]


def _consumer(name: str, stage: str):
    """A consumer's contract of `name` (UserView / UserRegistered) at a rollout stage:
    before: does not read kyc_status; tolerant: reads it with a default; required: needs it."""
    fields = {"id": (str, ...)}
    if stage == "tolerant":
        fields["kyc_status"] = (KYC, "pending")
    elif stage == "required":
        fields["kyc_status"] = (KYC, ...)
    return create_model(f"{name}_{stage}", __base__=contracts.Contract, **fields)


def _produced(real: dict, version: str) -> dict:
    """What an Auth of this version sends: before the change there is no kyc_status; with the
    field added (default "pending") or made required it is always sent."""
    out = copy.deepcopy(real)
    if version == "before":
        out.pop("kyc_status")
    return out


# (stage, Auth versions running, consumer contract stages running): mixed fleets mid-deploy
ROLLOUT = [
    ("0 today", {"before"}, {"before"}),
    ("3 Auth deployed with the field (default)", {"before", "with-default"}, {"before"}),
    ("4-5 consumers updated one by one", {"with-default"}, {"before", "tolerant"}),
    ("6 field made required", {"with-default", "required"}, {"tolerant", "required"}),
    ("7 done", {"required"}, {"required"}),
]


def breaks(real: dict, name: str, producers: set[str], consumers: set[str]) -> list[str]:
    found = []
    for p in sorted(producers):
        for c in sorted(consumers):
            for v in contracts.violations("wallet", name, _produced(real, p), model=_consumer(name, c)):
                found.append(f"Auth {p} -> consumer {c}: {v}")
    return found


@pytest.mark.parametrize("name", ["UserView", "UserRegistered"])
def test_scenario1_every_stage_of_the_staged_rollout_parses(real_payloads, name):
    real = real_payloads[name][0]
    for stage, producers, consumers in ROLLOUT:
        assert breaks(real, name, producers, consumers) == [], stage


@pytest.mark.parametrize("name", ["UserView", "UserRegistered"])
def test_scenario1_skipping_a_stage_is_caught(real_payloads, name):
    real = real_payloads[name][0]
    # a consumer requires the field before every Auth sends it (stage 6 before stage 3 is done)
    assert breaks(real, name, {"before", "with-default"}, {"required"}) == [
        f"Auth before -> consumer required: wallet reads {name}.kyc_status: missing"
    ]
    # made required straight away, consumers and producer in one step: old Auths (and the old
    # events still queued or replayed by Reporting's rebuild) break it
    assert breaks(real, name, {"before"}, {"tolerant", "required"}) == [
        f"Auth before -> consumer required: wallet reads {name}.kyc_status: missing"
    ]
    # a rollback of Auth after stage 6 is caught the same way
    assert breaks(real, name, {"before", "required"}, {"required"})


def test_scenario1_today_kyc_status_is_required_by_its_readers(real_payloads):
    """Stage 7 is where FinFlow is: the real readers need it, and the cascade tool says who."""
    from tools import cascade

    payload = dict(real_payloads["UserView"][0])
    payload.pop("kyc_status")
    assert contracts.violations("wallet", "UserView", payload) == ["wallet reads UserView.kyc_status: missing"]
    report = cascade.report("auth.UserView.kyc_status")
    assert "wallet reads UserView.kyc_status (required)" in report
    assert "4. Update the consumers' contracts and code: wallet -> notification" in report


# --- Scenario 2: multi-currency wallets --------------------------------------------------


class V1WalletClient(contracts.Contract):
    """A v1 client of GET /api/wallet/{id}: the seed's shape (plus the currency v1 now states)."""

    id: str
    user_id: str
    balance: str
    status: Literal["active", "frozen", "closed"]
    currency: str


class TotalsWithoutCurrency(contracts.Contract):
    """DELIBERATELY WRONG: a reporting consumer summing PaymentCompleted amounts, no currency."""

    payment_id: str
    amount_minor: int


def test_scenario2_v1_routes_keep_the_v1_shape_for_every_currency(gateway, verified_customer):
    alice = verified_customer()
    usd = gateway.post("/api/wallet/create", headers=alice.headers)
    assert usd.status_code == 201 and usd.json()["currency"] == "USD"  # v1 creates USD only
    eur = gateway.post("/api/v2/wallet/create", json={"currency": "EUR"}, headers=alice.headers)
    assert eur.status_code == 201, eur.text
    for wallet_id, currency in ((usd.json()["id"], "USD"), (eur.json()["id"], "EUR")):
        for prefix in ("/api/wallet", "/api/v1/wallet", "/api/v2/wallet"):
            r = gateway.get(f"{prefix}/{wallet_id}", headers=alice.headers)
            assert r.status_code == 200, (prefix, r.text)
            assert contracts.violations("v1-client", "Wallet", r.json(), model=V1WalletClient) == []
            assert r.json()["currency"] == currency


def test_scenario2_a_consumer_summing_amounts_without_currency_is_caught(real_payloads):
    # the registry-wide rule (test_consumers_never_read_an_amount_without_its_currency) rejects it
    assert money_without_currency(TotalsWithoutCurrency) == ["amount_minor"]
    assert money_without_currency(contracts.ReportingReadsPaymentCompleted) == []
    # and this is why: on real USD and EUR payments its total is a meaningless mixed number
    payments = real_payloads["PaymentCompleted"]
    assert {p["currency"] for p in payments} >= {"USD", "EUR"}
    wrong = sum(TotalsWithoutCurrency.model_validate(p).amount_minor for p in payments)
    right: dict[str, int] = defaultdict(int)
    for p in payments:
        d = contracts.ReportingReadsPaymentCompleted.model_validate(p)
        right[d.currency] += d.amount_minor
    assert wrong == sum(right.values()) and len(right) >= 2  # one number adding dollars to euros


# --- Scenario 3: JWT payload change --------------------------------------------------------


@pytest.fixture
def versions(monkeypatch):
    from finflow import tokens

    def set_versions(issue: int | None = None, accept: str | None = None):
        for var, value in (("JWT_CLAIMS_VERSION", issue), ("JWT_ACCEPTED_VERSIONS", accept)):
            if value is None:
                monkeypatch.delenv(var, raising=False)
            else:
                monkeypatch.setenv(var, str(value))
        tokens.reset_versions()

    yield set_versions
    monkeypatch.delenv("JWT_CLAIMS_VERSION", raising=False)
    monkeypatch.delenv("JWT_ACCEPTED_VERSIONS", raising=False)
    tokens.reset_versions()


def _login(gateway, person) -> str:
    r = gateway.post("/api/auth/login", json={"email": person.email, "password": "password123"})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def _me(gateway, token: str):
    return gateway.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})


def test_scenario3_claims_version_rolls_out_with_a_window(gateway, customer, versions):
    person = customer()
    v1 = _login(gateway, person)
    assert jwt.decode(v1, options={"verify_signature": False})["ver"] == 1  # the default, unchanged
    versions(issue=1, accept="1,2")  # 1. every verifier accepts both
    assert _me(gateway, v1).status_code == 200
    versions(issue=2, accept="1,2")  # 2. Auth issues 2; sessions holding 1 keep working
    v2 = _login(gateway, person)
    assert jwt.decode(v2, options={"verify_signature": False})["ver"] == 2
    assert _me(gateway, v1).status_code == 200 and _me(gateway, v2).status_code == 200
    versions(issue=2, accept="2")  # 3. the window closes
    assert _me(gateway, v2).status_code == 200
    r = _me(gateway, v1)
    assert r.status_code == 401
    assert r.json()["detail"] == "token claims version 1 is not accepted (accepted: 2)"


def test_scenario3_an_unknown_version_is_401_with_its_reason(gateway, customer):
    from finflow.config import settings
    from finflow.tokens import issue
    from functions.auth.keys import key_ring

    person = customer()
    s = settings()
    token = issue(
        key_ring(),
        subject=person.id,
        roles=["customer"],
        kind="user",
        issuer=s.jwt_issuer,
        audience=s.jwt_audience,
        ttl=300,
        version=99,
    )
    r = _me(gateway, token)
    assert r.status_code == 401
    assert r.json()["detail"] == "token claims version 99 is not accepted (accepted: 1)"


def test_scenario3_key_rotation_loses_no_session(gateway, customer):
    from finflow import aws, token_check
    from finflow.config import settings
    from finflow.tokens import KeyRing

    person = customer()
    old_token = _login(gateway, person)
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    secret_id = settings().jwt_keys_secret_id
    ring = KeyRing.from_secret(aws.secret_json(secret_id))
    rotated = ring.rotated()
    aws.client("secretsmanager").put_secret_value(SecretId=secret_id, SecretString=json.dumps(rotated.to_secret()))
    aws.forget_secrets()
    token_check.forget_keys()
    kids = [k["kid"] for k in gateway.get("/api/auth/.well-known/jwks.json").json()["keys"]]
    assert kids == [rotated.active_kid, old_kid]  # two kids published during the rotation
    assert _me(gateway, old_token).status_code == 200  # the session in flight survives
    new_token = _login(gateway, person)
    assert jwt.get_unverified_header(new_token)["kid"] == rotated.active_kid != old_kid
    assert _me(gateway, new_token).status_code == 200
