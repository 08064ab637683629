"""finflow.tokens: RS256 access tokens, JWKS, key rotation and the RFC 8725 attack set."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from finflow.tokens import CLAIMS_VERSION, KeyRing, TokenError, generate_key, issue, verify

ISS = "https://auth.finflow.test"
AUD = "finflow-api"


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    key = generate_key()
    return KeyRing(active_kid=key.kid, keys=(key,))


@pytest.fixture(scope="module")
def other_ring() -> KeyRing:
    key = generate_key()
    return KeyRing(active_kid=key.kid, keys=(key,))


def make(ring: KeyRing, **kw) -> str:
    args = {"subject": "user-1", "roles": ["customer"], "kind": "user", "issuer": ISS, "audience": AUD, "ttl": 1800}
    return issue(ring, **{**args, **kw})


def check(token: str, ring: KeyRing, **kw) -> dict:
    return verify(token, ring.jwks(), **{"issuer": ISS, "audience": AUD, **kw})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def valid_claims(**overrides) -> dict:
    now = int(time.time())
    claims = {
        "iss": ISS,
        "aud": AUD,
        "sub": "user-1",
        "iat": now,
        "exp": now + 600,
        "jti": "j-1",
        "roles": ["customer"],
        "kind": "user",
        "ver": CLAIMS_VERSION,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def signed(ring: KeyRing, claims: dict, kid: str | None = None) -> str:
    """A token properly signed by `ring`'s active key with arbitrary claims."""
    return jwt.encode(claims, ring.active.private_key(), algorithm="RS256", headers={"kid": kid or ring.active_kid})


# --- round trip ------------------------------------------------------------------------


def test_issued_token_verifies_with_every_claim(ring):
    before = int(time.time())
    token = make(ring, subject="u-42", roles=["customer", "analyst"], ttl=900)
    claims = check(token, ring)
    assert set(claims) == {"iss", "aud", "sub", "exp", "iat", "jti", "roles", "kind", "ver"}
    assert claims["iss"] == ISS and claims["aud"] == AUD and claims["sub"] == "u-42"
    assert claims["roles"] == ["analyst", "customer"]
    assert claims["kind"] == "user"
    assert claims["ver"] == CLAIMS_VERSION
    assert claims["iat"] >= before and claims["exp"] - claims["iat"] == 900
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "kid": ring.active_kid, "typ": "JWT"}


def test_every_token_gets_its_own_jti(ring):
    assert check(make(ring), ring)["jti"] != check(make(ring), ring)["jti"]


def test_service_tokens_verify_too(ring):
    claims = check(make(ring, subject="svc-wallet", roles=["svc:wallet"], kind="service"), ring)
    assert (claims["kind"], claims["roles"]) == ("service", ["svc:wallet"])


def test_jwks_has_public_parts_only(ring):
    (jwk,) = ring.jwks()["keys"]
    assert jwk["kid"] == ring.active_kid
    assert (jwk["kty"], jwk["alg"], jwk["use"]) == ("RSA", "RS256", "sig")
    assert jwk["n"] and jwk["e"]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk)


def test_key_ring_survives_its_secret_form(ring):
    again = KeyRing.from_secret(json.loads(json.dumps(ring.to_secret())))
    assert check(make(again), ring)["sub"] == "user-1"
    assert again.jwks() == ring.jwks()


def test_expiry_within_the_leeway_is_tolerated(ring):
    # clock skew between Auth and a verifier must not log users out early
    token = make(ring, ttl=60, now=time.time() - 70)
    assert check(token, ring, leeway=30)["sub"] == "user-1"


# --- RFC 8725 attack set ---------------------------------------------------------------


def test_alg_none_is_refused(ring):
    header = b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": ring.active_kid}).encode())
    payload = b64url(json.dumps(valid_claims(roles=["admin"])).encode())
    with pytest.raises(TokenError, match="algorithm 'none' is not allowed"):
        check(f"{header}.{payload}.", ring)
    with pytest.raises(TokenError):
        check(f"{header}.{payload}", ring)  # without the trailing dot


def test_hs256_keyed_with_the_public_key_is_refused(ring):
    public_pem = (
        ring.active.private_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": ring.active_kid}).encode())
    payload = b64url(json.dumps(valid_claims(roles=["admin"])).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    with pytest.raises(TokenError, match="algorithm 'HS256' is not allowed"):
        check(f"{header}.{payload}.{b64url(signature)}", ring)


def test_expired_token_is_refused(ring):
    token = make(ring, ttl=60, now=time.time() - 3600)
    with pytest.raises(TokenError, match="expired"):
        check(token, ring)


def test_wrong_audience_is_refused(ring):
    with pytest.raises(TokenError, match="audience"):
        check(make(ring, audience="another-api"), ring)


def test_wrong_issuer_is_refused(ring):
    with pytest.raises(TokenError, match="issuer"):
        check(make(ring, issuer="https://evil.example"), ring)


def test_tampered_payload_is_refused(ring):
    header, payload, signature = make(ring).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["admin"]
    forged = f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"
    with pytest.raises(TokenError, match="signature is invalid"):
        check(forged, ring)


def test_token_from_an_unknown_key_is_refused(ring, other_ring):
    with pytest.raises(TokenError, match="unknown key"):
        check(make(other_ring), ring)


def test_known_kid_with_a_foreign_signature_is_refused(ring, other_ring):
    # signed by another key but claiming our kid
    with pytest.raises(TokenError, match="signature is invalid"):
        check(signed(other_ring, valid_claims(), kid=ring.active_kid), ring)


def test_unaccepted_claims_version_is_refused(ring):
    with pytest.raises(TokenError, match="claims version 99 is not accepted"):
        check(signed(ring, valid_claims(ver=99)), ring)


def test_missing_claims_version_is_refused(ring):
    with pytest.raises(TokenError, match="claims version"):
        check(signed(ring, valid_claims(ver=None)), ring)


@pytest.mark.parametrize("claim", ["jti", "sub", "exp", "iat", "iss", "aud"])
def test_missing_required_claim_is_refused_naming_it(ring, claim):
    with pytest.raises(TokenError, match=f"missing the required '{claim}' claim"):
        check(signed(ring, valid_claims(**{claim: None})), ring)


@pytest.mark.parametrize("overrides", [{"kind": "robot"}, {"kind": None}, {"roles": "admin"}])
def test_malformed_kind_or_roles_is_refused(ring, overrides):
    with pytest.raises(TokenError, match="malformed"):
        check(signed(ring, valid_claims(**overrides)), ring)


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "....."])
def test_garbage_is_refused(ring, token):
    with pytest.raises(TokenError):
        check(token, ring)


# --- key rotation ----------------------------------------------------------------------


def test_rotation_keeps_the_previous_key_for_verification(ring):
    old_token = make(ring)
    rotated = ring.rotated()
    assert rotated.active_kid != ring.active_kid
    assert {k["kid"] for k in rotated.jwks()["keys"]} == {ring.active_kid, rotated.active_kid}
    # tokens issued before the rotation stay valid until they expire
    assert check(old_token, rotated)["sub"] == "user-1"
    new_token = make(rotated)
    assert jwt.get_unverified_header(new_token)["kid"] == rotated.active_kid
    assert check(new_token, rotated)["sub"] == "user-1"
    # a verifier still holding the old JWKS does not know the new key yet
    with pytest.raises(TokenError, match="unknown key"):
        check(new_token, ring)


def test_second_rotation_retires_the_oldest_key(ring):
    twice = ring.rotated().rotated()
    assert ring.active_kid not in {k["kid"] for k in twice.jwks()["keys"]}
    with pytest.raises(TokenError, match="unknown key"):
        check(make(ring), twice)


def test_rotation_keeps_the_active_key_wherever_it_sits_in_the_ring():
    # e.g. after a rollback an operator pointed active_kid back at the older key
    old, newer = generate_key(), generate_key()
    rolled_back = KeyRing(active_kid=old.kid, keys=(newer, old))
    live_token = make(rolled_back)
    rotated = rolled_back.rotated()
    assert check(live_token, rotated)["sub"] == "user-1"


def test_refusal_reason_cannot_break_the_gateways_json_template():
    """API Gateway substitutes the authorizer's reason into a JSON body without escaping."""
    import base64
    import json

    from devserver.lambda_runtime import LambdaContext, token_authorizer_event
    from functions.auth import authorizer

    def b64(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    hostile_alg = 'x"}, "pwned": {'
    token = b64({"alg": hostile_alg, "typ": "JWT"}) + "." + b64({"sub": "a"}) + ".sig"
    policy = authorizer.handler(
        token_authorizer_event(f"Bearer {token}", "GET", "/api/auth/me"), LambdaContext("auth-authorizer")
    )
    reason = policy["context"]["reason"]
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "algorithm" in reason
    assert json.loads(f'{{"detail": "{reason}"}}')["detail"] == reason
