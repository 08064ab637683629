"""Every protected operation of every module's OpenAPI, called with each token of the JWT
attack set (RFC 8725), is 401 problem+json from the gateway, before any module code runs:
the module's function is taken down for the call, so reaching it would answer 502."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from finflow.contracts import calls
from tests.security import routes


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**overrides) -> dict:
    from finflow.config import settings
    from finflow.tokens import CLAIMS_VERSION

    now = int(time.time())
    claims = {
        "iss": settings().jwt_issuer,
        "aud": settings().jwt_audience,
        "sub": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "roles": ["customer", "admin"],
        "kind": "user",
        "ver": CLAIMS_VERSION,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _unsigned(header: dict, claims: dict) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def attack_set() -> dict[str, tuple[str, str]]:
    """name -> (token, what the refusal names); each token is valid but for one thing."""
    from finflow.tokens import generate_key
    from functions.auth.keys import key_ring

    ring = key_ring()
    key, kid = ring.active.private_key(), ring.active_kid

    def rs256(claims: dict, signer=key, key_id: str = kid) -> str:
        return jwt.encode(claims, signer, algorithm="RS256", headers={"kid": key_id})

    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    hs_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": kid}, _claims())
    hs_signature = _b64(hmac.new(public_pem, hs_input.encode(), hashlib.sha256).digest())
    header, payload, signature = rs256(_claims(roles=["customer"])).split(".")
    escalated = _b64(json.dumps({**json.loads(base64.urlsafe_b64decode(payload + "==")), "roles": ["admin"]}).encode())
    stranger = generate_key()
    return {
        "alg none": (_unsigned({"alg": "none", "typ": "JWT", "kid": kid}, _claims()) + ".", "'none' is not allowed"),
        "HS256 keyed with the public key": (f"{hs_input}.{hs_signature}", "'HS256' is not allowed"),
        "expired": (rs256(_claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)), "expired"),
        "wrong audience": (rs256(_claims(aud="another-api")), "audience"),
        "wrong issuer": (rs256(_claims(iss="https://auth.evil.example")), "issuer"),
        "payload changed after signing": (f"{header}.{escalated}.{signature}", "signature is invalid"),
        "unknown kid": (rs256(_claims(), signer=stranger.private_key(), key_id=stranger.kid), "unknown key"),
        "known kid, foreign signature": (rs256(_claims(), signer=stranger.private_key()), "signature is invalid"),
        "claims version outside the accepted set": (rs256(_claims(ver=99)), "claims version 99"),
        "no claims version": (rs256(_claims(ver=None)), "claims version"),
        "no sub": (rs256(_claims(sub=None)), "'sub'"),
        "no exp": (rs256(_claims(exp=None)), "'exp'"),
        "not a JWT": ("not.a.jwt", "malformed"),
    }


@pytest.fixture(scope="module")
def attacks(gw) -> dict[str, tuple[str, str]]:
    return attack_set()


def test_a_token_made_the_same_way_but_valid_is_accepted(gw):
    """The control: the attack tokens fail for their one flaw, not for how they are made."""
    from functions.auth.keys import key_ring

    email = f"tok-{uuid.uuid4().hex[:10]}@example.com"
    user = gw.post("/api/auth/register", json={"email": email, "password": "password123", "name": "Tok"}).json()
    ring = key_ring()
    token = jwt.encode(
        _claims(sub=user["id"], roles=["customer"]),
        ring.active.private_key(),
        algorithm="RS256",
        headers={"kid": ring.active_kid},
    )
    r = gw.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["id"] == user["id"], r.text


@pytest.mark.parametrize("op", routes.protected(), ids=str)
def test_every_attack_token_is_401_before_the_module_runs(gw, attacks, op):
    ids = {name: str(uuid.uuid4()) for name in op.path_params}
    function = gw.functions[f"{op.module}.api"]
    # reaching the module would be a 502; an internal route has no gateway: its function checks the token
    function.enabled = calls.is_internal(op.path(ids))
    try:
        for name, (token, reason) in attacks.items():
            r = gw.request(op.method, op.path(ids), headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401, f"{op} with a token '{name}': {r.status_code} {r.text}"
            assert r.headers["content-type"].startswith("application/problem+json")
            assert reason in r.json()["detail"], (name, r.json())
        r = gw.request(op.method, op.path(ids))
        assert (r.status_code, r.json()["detail"]) == (401, "missing bearer token")
    finally:
        function.enabled = True
