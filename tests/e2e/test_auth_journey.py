"""Auth over real HTTP: the seed's journey, sessions, token attacks, roles and errors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from functions import catalog
from tests.e2e.support import assert_problem, login, unique_email

pytestmark = pytest.mark.e2e

JSON = {"Content-Type": "application/json"}
SEED_USER = {"email": "test@example.com", "password": "password123", "name": "Test User"}


# -- the seed's journey --------------------------------------------------------------


def test_register_exactly_as_the_seed_curl_on_the_auth_port(devserver):
    # curl -X POST http://localhost:8001/api/auth/register -H "Content-Type: application/json" -d '{...}'
    r = httpx.post(f"{devserver.seed_url('auth')}/api/auth/register", content=json.dumps(SEED_USER), headers=JSON)
    assert r.status_code == 201, r.text
    user = r.json()
    assert user["email"] == "test@example.com" and user["name"] == "Test User"
    assert user["kyc_status"] == "pending" and user["roles"] == ["customer"]
    assert user["id"] and "password" not in json.dumps(user)


def test_register_through_the_gateway_then_login_and_me(http):
    email = unique_email("gateway")
    r = http.post("/api/auth/register", content=json.dumps({**SEED_USER, "email": email}), headers=JSON)
    assert r.status_code == 201, r.text
    user_id = r.json()["id"]

    tokens = login(http, email, "password123")
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 1800
    assert tokens["access_token"] and tokens["refresh_token"]

    me = http.get("/api/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user_id and me.json()["email"] == email
    assert me.json()["kyc_status"] == "pending" and me.json()["created_at"]


def test_login_with_a_wrong_password_is_refused(http, new_user):
    user = new_user("wrongpw")
    r = http.post("/api/auth/login", json={"email": user.email, "password": "not-the-password"})
    assert_problem(r, 401, "invalid")


def test_duplicate_email_is_a_conflict(http, new_user):
    user = new_user("dup")
    r = http.post("/api/auth/register", json={"email": user.email.upper(), "password": "password123", "name": "Again"})
    assert_problem(r, 409, "exists")


# -- sessions: refresh rotation, reuse detection, logout ------------------------------


def test_refresh_rotates_and_reuse_revokes_the_whole_session(http, new_user):
    user = new_user("rotate")
    first = http.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert first.status_code == 200, first.text
    pair = first.json()
    assert pair["refresh_token"] != user.refresh_token and pair["access_token"] != user.access_token
    assert http.get("/api/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"}).status_code == 200

    reused = http.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert_problem(reused, 401, "reuse")
    # the family is revoked: even the newest refresh token of that session is refused now
    newest = http.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert_problem(newest, 401, "revoked")


def test_logout_ends_the_session(http, new_user):
    user = new_user("logout")
    r = http.post("/api/auth/logout", json={"refresh_token": user.refresh_token}, headers=user.auth)
    assert r.status_code == 204, r.text
    assert_problem(http.post("/api/auth/refresh", json={"refresh_token": user.refresh_token}), 401)


def test_reuse_in_one_session_leaves_other_sessions_alone(http, new_user):
    user = new_user("sessions")
    other = login(http, user.email, user.password)
    assert http.post("/api/auth/refresh", json={"refresh_token": user.refresh_token}).status_code == 200
    assert http.post("/api/auth/refresh", json={"refresh_token": user.refresh_token}).status_code == 401
    r = http.post("/api/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert r.status_code == 200, r.text


# -- JWT attacks on GET /api/auth/me ---------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(obj: dict) -> str:
    return _b64(json.dumps(obj, separators=(",", ":")).encode())


@pytest.fixture(scope="module")
def victim(devserver):
    """A customer, their genuine token and its claims (the template for crafted tokens)."""
    with httpx.Client(base_url=devserver.url, timeout=15.0) as client:
        email = unique_email("victim")
        r = client.post("/api/auth/register", json={"email": email, "password": "password123", "name": "Victim"})
        assert r.status_code == 201, r.text
        token = login(client, email, "password123")["access_token"]
    return {
        "token": token,
        "claims": jwt.decode(token, options={"verify_signature": False}),
        "header": jwt.get_unverified_header(token),
    }


@pytest.fixture(scope="module")
def server_ring(devserver):
    """The signing key ring, read where only an insider could: the AWS endpoint's Secrets Manager."""
    return devserver.secret("finflow/auth/jwt-keys")


def _server_signed(ring: dict, claims: dict) -> str:
    key = next(k for k in ring["keys"] if k["kid"] == ring["active_kid"])
    return jwt.encode(claims, key["private_pem"], algorithm="RS256", headers={"kid": ring["active_kid"]})


def _alg_none(victim, ring) -> str:
    header = {"alg": "none", "typ": "JWT", "kid": victim["header"]["kid"]}
    return f"{_segment(header)}.{_segment({**victim['claims'], 'roles': ['admin', 'customer']})}."


def _hs256_with_public_key(victim, ring, devserver) -> str:
    jwks = httpx.get(f"{devserver.url}/api/auth/.well-known/jwks.json", timeout=10).json()
    jwk = next(k for k in jwks["keys"] if k["kid"] == victim["header"]["kid"])
    public_pem = jwt.algorithms.RSAAlgorithm.from_jwk(jwk).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT', 'kid': jwk['kid']})}.{_segment(victim['claims'])}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _expired(victim, ring) -> str:
    now = int(time.time())
    return _server_signed(ring, {**victim["claims"], "iat": now - 7200, "exp": now - 3600})


def _wrong_audience(victim, ring) -> str:
    return _server_signed(ring, {**victim["claims"], "aud": "some-other-api"})


def _wrong_issuer(victim, ring) -> str:
    return _server_signed(ring, {**victim["claims"], "iss": "https://evil.example"})


def _tampered_payload(victim, ring) -> str:
    header, _, signature = victim["token"].split(".")
    return f"{header}.{_segment({**victim['claims'], 'roles': ['admin', 'customer']})}.{signature}"


def _fresh_key(kid: str):
    def craft(victim, ring) -> str:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return jwt.encode(victim["claims"], key, algorithm="RS256", headers={"kid": kid})

    return craft


def _genuinely_signed(victim, ring) -> str:
    return _server_signed(ring, {**victim["claims"], "jti": "crafted-but-valid"})


ATTACKS = {
    "alg-none": (_alg_none, 401, "algorithm"),
    "hs256-keyed-with-the-public-key": (_hs256_with_public_key, 401, "algorithm"),
    "expired": (_expired, 401, "expired"),
    "wrong-audience": (_wrong_audience, 401, "audience"),
    "wrong-issuer": (_wrong_issuer, 401, "issuer"),
    "tampered-payload": (_tampered_payload, 401, "signature"),
    "unknown-kid": (_fresh_key("nope"), 401, "unknown key"),
    "attacker-key-claiming-the-server-kid": (None, 401, "signature"),
    # the control: a token crafted the same way, with nothing wrong, is accepted
    "control-valid-crafted-token": (_genuinely_signed, 200, None),
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_jwt_attacks_on_me(http, devserver, victim, server_ring, attack):
    craft, status, word = ATTACKS[attack]
    if attack == "attacker-key-claiming-the-server-kid":
        token = _fresh_key(victim["header"]["kid"])(victim, server_ring)
    elif craft is _hs256_with_public_key:
        token = craft(victim, server_ring, devserver)
    else:
        token = craft(victim, server_ring)
    r = http.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    if status == 200:
        assert r.status_code == 200, r.text
        assert r.json()["id"] == victim["claims"]["sub"]
        return
    assert_problem(r, 401, word)
    assert r.headers.get("www-authenticate", "").lower().startswith("bearer")


@pytest.mark.parametrize("header", [None, "Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-jwt"])
def test_me_without_a_usable_bearer_token_is_unauthorized(http, header):
    r = http.get("/api/auth/me", headers={"Authorization": header} if header is not None else {})
    assert_problem(r, 401)


# -- roles and service tokens ----------------------------------------------------------


def test_only_an_admin_grants_roles(http, devserver, new_user):
    customer, target = new_user("customer"), new_user("target")
    path = f"/api/auth/users/{target.id}/roles"
    assert_problem(http.put(path, json={"roles": ["analyst"]}, headers=customer.auth), 403, "admin")

    admin = login(http, *devserver.admin)
    r = http.put(path, json={"roles": ["analyst"]}, headers={"Authorization": f"Bearer {admin['access_token']}"})
    assert r.status_code == 200, r.text
    assert sorted(r.json()["roles"]) == ["analyst", "customer"]
    # the grant is real: the user's next session carries it
    fresh = login(http, target.email, target.password)
    me = http.get("/api/auth/me", headers={"Authorization": f"Bearer {fresh['access_token']}"})
    assert sorted(me.json()["roles"]) == ["analyst", "customer"]
    assert sorted(jwt.decode(fresh["access_token"], options={"verify_signature": False})["roles"]) == [
        "analyst",
        "customer",
    ]


def test_a_customer_cannot_read_another_user(http, new_user):
    alice, bob = new_user("alice"), new_user("bob")
    assert_problem(http.get(f"/api/auth/users/{bob.id}", headers=alice.auth), 403)
    assert http.get(f"/api/auth/users/{alice.id}", headers=alice.auth).status_code == 200


def test_service_token_reads_users_but_has_no_profile(http, devserver, new_user):
    user = new_user("svc-target")
    creds = devserver.secret("finflow/service-credentials/wallet")
    r = http.post("/api/auth/token", json={"client_id": creds["client_id"], "client_secret": creds["client_secret"]})
    assert r.status_code == 200, r.text
    service = {"Authorization": f"Bearer {r.json()['access_token']}"}

    got = http.get(f"/api/auth/users/{user.id}", headers=service)
    assert got.status_code == 200, got.text
    assert got.json()["id"] == user.id and got.json()["email"] == user.email
    assert_problem(http.get("/api/auth/me", headers=service), 403, "service")


def test_service_token_with_a_wrong_secret_is_refused(http, devserver):
    creds = devserver.secret("finflow/service-credentials/wallet")
    r = http.post("/api/auth/token", json={"client_id": creds["client_id"], "client_secret": "guess"})
    assert_problem(r, 401)


# -- malformed requests ----------------------------------------------------------------


def test_malformed_json_is_a_bad_request(http):
    r = http.post("/api/auth/register", content=b'{"email": "x@example.com", "password": ', headers=JSON)
    assert_problem(r, 400, "json")


def test_missing_fields_are_unprocessable(http):
    r = http.post("/api/auth/register", json={"email": unique_email("missing")})
    body = assert_problem(r, 422)
    assert "password" in body["detail"] and "name" in body["detail"]


def test_oversized_body_is_refused(http):
    big = {"email": unique_email("big"), "password": "password123", "name": "x" * (65 * 1024)}
    assert_problem(http.post("/api/auth/register", json=big), 413)


# -- health, unknown routes, modules not in this build ---------------------------------


def test_health_on_the_seed_port_and_through_the_gateway(http, devserver):
    for r in (httpx.get(f"{devserver.seed_url('auth')}/health", timeout=10), http.get("/api/auth/health")):
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "healthy" and body["service"] == "auth-service"
        assert body["cascade_info"] == catalog.cascade_info("auth")
        assert "token validation" in body["cascade_info"]["cascaded_validations"]


def test_unknown_routes_are_404_problems(http, new_user):
    assert_problem(http.get("/api/nothing-here"), 404, "no route")
    user = new_user("lost")
    assert_problem(http.get("/api/auth/no-such-route", headers=user.auth), 404, "no route")


def test_the_seed_port_serves_only_its_own_module(devserver):
    r = httpx.get(f"{devserver.seed_url('auth')}/api/wallet", timeout=10)
    assert_problem(r, 404)


def test_seed_register_example_verbatim(devserver):
    """The seed's curl: `curl -X POST :8001/api/auth/register -d '{...}'`. curl -d sends the
    body as application/x-www-form-urlencoded; the seed's password is "pass123"."""
    email = unique_email("seed")
    body = f'{{"email":"{email}","password":"pass123","name":"Test User"}}'
    r = httpx.post(
        f"http://127.0.0.1:{devserver.port('auth')}/api/auth/register",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 201, r.text
    assert (r.json()["email"], r.json()["kyc_status"]) == (email, "pending")
