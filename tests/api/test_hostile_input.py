"""Input the fuzzer found answered with a 5xx: each is a clear 4xx now."""

from __future__ import annotations

import uuid

import pytest

from tests.support import service_headers


@pytest.mark.parametrize("path", ["/api/auth/register", "/api/notifications/preferences"])
def test_a_body_that_is_not_utf8_is_a_400(gateway, customer, path):
    method = "PUT" if path.endswith("preferences") else "POST"
    r = gateway.request(
        method, path, content=b"\xfa\x9bS\xc3\xa0", headers=customer().headers | {"Content-Type": "application/json"}
    )
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "utf-8" in r.json()["detail"].lower()


def test_a_user_id_no_url_can_hold_is_refused_not_a_5xx(gateway):
    # Wallet asks Auth about a posting's initiator: an id with control characters must not break that call.
    r = gateway.post(
        "/api/wallet/internal/postings",
        headers=service_headers("payment"),
        json={
            "posting_id": uuid.uuid4().hex,
            "kind": "deposit",
            "credit_wallet_id": str(uuid.uuid4()),
            "amount_minor": 1,
            "currency": "USD",
            "initiator_user_id": "\x1c\x7f",
        },
    )
    assert r.status_code == 403, r.text
    assert r.json()["rule"] == "kyc-required"


def _posting(gateway, wallet_id: str, amount_minor: int):
    return gateway.post(
        "/api/wallet/internal/postings",
        headers=service_headers("payment"),
        json={
            "posting_id": uuid.uuid4().hex,
            "kind": "deposit",
            "credit_wallet_id": wallet_id,
            "amount_minor": amount_minor,
            "currency": "USD",
        },
    )


def test_postings_beyond_what_a_balance_holds_are_422(gateway, verified_customer):
    person = verified_customer()
    wallet = gateway.post("/api/wallet/create", headers=person.headers).json()
    assert _posting(gateway, wallet["id"], 2**70).status_code == 422  # more than BIGINT
    assert _posting(gateway, wallet["id"], 2**63 - 1).status_code == 201
    overflow = _posting(gateway, wallet["id"], 1)  # the balance would pass BIGINT
    assert overflow.status_code == 422, overflow.text
    assert "balance" in overflow.json()["detail"]
    assert (
        gateway.get(f"/api/wallet/{wallet['id']}", headers=person.headers).json()["balance"] == "92233720368547758.07"
    )


@pytest.mark.parametrize(
    "call",
    [
        ("POST", "/api/auth/login", {"json": {"email": "a\u0000@example.com", "password": "x"}}),
        (
            "POST",
            "/api/auth/register",
            {"json": {"email": "nul@example.com", "password": "password123", "name": "a\u0000b"}},
        ),
        ("GET", "/api/payment", {"params": {"cursor": "a\u0000"}}),
    ],
)
def test_nul_characters_are_a_422_anywhere(gateway, customer, call):
    method, path, kw = call
    r = gateway.request(method, path, headers=customer().headers, **kw)
    assert r.status_code == 422, r.text
    assert "NUL" in r.json()["detail"]
