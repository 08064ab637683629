"""Auth API (`functions.auth.api.handler`) in-process: real API Gateway events, real
PostgreSQL, moto for Secrets Manager and EventBridge, and the real Lambda authorizer."""

from __future__ import annotations

import json

import jwt
import pytest

from tests.api.helpers import (  # noqa: F401
    DEFAULT_PASSWORD,
    admin_login,
    auth_handler,
    auth_jwks,
    authorize,
    call,
    claims,
    login,
    register,
    register_and_login,
    service_token,
    unique_email,
)

pytestmark = pytest.mark.usefixtures("auth_jwks")

PROBLEM = "application/problem+json"


@pytest.fixture
def api():
    return auth_handler()


def assert_problem(res, status: int, *detail_words: str) -> None:
    assert res.status == status, res
    assert res.content_type == PROBLEM, res
    assert res.body["status"] == status
    for word in detail_words:
        assert word.lower() in res.body["detail"].lower(), res.body


# --- register --------------------------------------------------------------------------


def test_register_returns_the_new_customer_with_a_lower_cased_email(api):
    local = unique_email("Mixed.Case")
    res = call(
        api,
        "POST",
        "/api/auth/register",
        {"email": local.upper(), "password": DEFAULT_PASSWORD, "name": "Ada Lovelace"},
    )
    assert res.status == 201, res
    assert set(res.body) == {"id", "email", "name", "kyc_status", "roles", "created_at"}
    assert res.body["email"] == local.lower()
    assert res.body["name"] == "Ada Lovelace"
    assert res.body["kyc_status"] == "pending"
    assert res.body["roles"] == ["customer"]
    assert res.body["id"] and res.body["created_at"]
    assert "password" not in json.dumps(res.body)


def test_register_then_login_with_a_differently_cased_email(api):
    email = unique_email()
    assert register(email.upper()).status == 201
    assert login(email.capitalize()).status == 200


def test_duplicate_email_in_another_case_is_a_conflict(api):
    email = unique_email()
    assert register(email).status == 201
    res = register(email.upper())
    assert_problem(res, 409, "already exists")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "not-an-email", "password": DEFAULT_PASSWORD, "name": "X"}, "email"),
        ({"email": "@example.com", "password": DEFAULT_PASSWORD, "name": "X"}, "email"),
        ({"password": DEFAULT_PASSWORD, "name": "X"}, "email"),
        ({"email": "EMAIL", "password": "short", "name": "X"}, "password"),
        ({"email": "EMAIL", "password": "é" * 40, "name": "X"}, "password"),  # 40 chars, 80 bytes
        ({"email": "EMAIL", "password": "p" * 73, "name": "X"}, "password"),
        ({"email": "EMAIL", "password": DEFAULT_PASSWORD}, "name"),
        ({"email": "EMAIL", "password": DEFAULT_PASSWORD, "name": "   "}, "name"),
    ],
)
def test_invalid_registration_is_422_naming_the_field(api, body, field):
    if body.get("email") == "EMAIL":
        body = {**body, "email": unique_email()}
    res = call(api, "POST", "/api/auth/register", body)
    assert_problem(res, 422, field)


def test_rejected_registration_leaves_no_user_behind(api):
    email = unique_email()
    res = call(api, "POST", "/api/auth/register", {"email": email, "password": "p" * 73, "name": "X"})
    assert res.status == 422
    # the email is still free
    assert register(email).status == 201


def test_malformed_json_is_400(api):
    res = call(
        api,
        "POST",
        "/api/auth/register",
        '{"email": "a@example.com", "password": ',
        headers={"Content-Type": "application/json"},
    )
    assert_problem(res, 400, "JSON")


def test_oversized_body_is_413(api):
    body = {"email": unique_email(), "password": DEFAULT_PASSWORD, "name": "X", "padding": "x" * (64 * 1024)}
    res = call(api, "POST", "/api/auth/register", body)
    assert_problem(res, 413, "exceeds")


def test_json_body_without_content_type_is_accepted(api):
    email = unique_email()
    body = json.dumps({"email": email, "password": DEFAULT_PASSWORD, "name": "Curl User"})
    res = call(api, "POST", "/api/auth/register", body)  # like `curl -d '{...}'`: no Content-Type
    assert res.status == 201, res
    assert res.body["email"] == email


def test_register_cannot_assign_roles_or_kyc_status(api):
    email = unique_email()
    res = call(
        api,
        "POST",
        "/api/auth/register",
        {
            "email": email,
            "password": DEFAULT_PASSWORD,
            "name": "Mallory",
            "roles": ["admin"],
            "kyc_status": "verified",
            "id": "x",
        },
    )
    assert res.status == 201, res
    assert res.body["roles"] == ["customer"]
    assert res.body["kyc_status"] == "pending"
    token = login(email).body["access_token"]
    assert claims(token)["roles"] == ["customer"]
    me = call(api, "GET", "/api/auth/me", token=token)
    assert (me.body["roles"], me.body["kyc_status"]) == (["customer"], "pending")


# --- login -----------------------------------------------------------------------------


def test_login_returns_a_bearer_token_pair(api):
    email = unique_email()
    user = register(email).body
    res = login(email)
    assert res.status == 200, res
    assert set(res.body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert res.body["token_type"] == "bearer"
    assert res.body["expires_in"] == 1800
    c = claims(res.body["access_token"])
    assert c["sub"] == user["id"]
    assert c["kind"] == "user"
    assert c["roles"] == ["customer"]
    assert c["exp"] - c["iat"] == 1800


def test_wrong_password_and_unknown_email_get_the_same_401(api):
    email = unique_email()
    register(email)
    wrong = login(email, "not the password")
    unknown = login(unique_email())
    assert_problem(wrong, 401)
    assert_problem(unknown, 401)
    assert wrong.body["detail"] == unknown.body["detail"]


def test_login_with_a_password_over_72_bytes_is_refused(api):
    # bcrypt reads 72 bytes: a longer password sharing those bytes must not open the account
    email = unique_email()
    password = "p" * 72
    assert register(email, password=password).status == 201
    assert login(email, password).status == 200
    assert login(email, password + "extra").status == 401


# --- me and users/{id} -----------------------------------------------------------------


def test_me_returns_the_callers_profile(api):
    session = register_and_login(name="Grace Hopper")
    res = call(api, "GET", "/api/auth/me", token=session["access_token"])
    assert res.status == 200, res
    assert res.body == session["user"]


def test_me_without_a_token_is_401(api):
    res = call(api, "GET", "/api/auth/me")
    assert_problem(res, 401, "bearer")


def test_me_with_a_tampered_token_is_401(api):
    token = register_and_login()["access_token"]
    header, payload, signature = token.split(".")
    forged = ".".join([header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
    res = call(api, "GET", "/api/auth/me", token=forged)
    assert_problem(res, 401, "signature")


def test_me_with_garbage_is_401(api):
    assert_problem(call(api, "GET", "/api/auth/me", token="not-a-jwt"), 401, "malformed")


def test_user_can_read_self_but_not_another_user(api):
    alice, bob = register_and_login(), register_and_login()
    own = call(api, "GET", f"/api/auth/users/{alice['user']['id']}", token=alice["access_token"])
    assert own.status == 200, own
    assert own.body["email"] == alice["user"]["email"]
    other = call(api, "GET", f"/api/auth/users/{bob['user']['id']}", token=alice["access_token"])
    assert_problem(other, 403)
    assert bob["user"]["email"] not in json.dumps(other.body)


def test_user_reads_self_by_any_spelling_of_the_id(api):
    alice = register_and_login()
    res = call(api, "GET", f"/api/auth/users/{alice['user']['id'].upper()}", token=alice["access_token"])
    assert res.status == 200, res
    assert res.body["id"] == alice["user"]["id"]


def test_user_cannot_probe_for_ids(api):
    # a stranger gets 403 whether or not the id exists
    alice = register_and_login()
    res = call(api, "GET", "/api/auth/users/00000000-0000-4000-8000-000000000000", token=alice["access_token"])
    assert_problem(res, 403)


def test_admin_reads_any_user_and_gets_404_for_an_unknown_id(api):
    admin, bob = admin_login(), register_and_login()
    assert "admin" in admin["user"]["roles"]
    res = call(api, "GET", f"/api/auth/users/{bob['user']['id']}", token=admin["access_token"])
    assert res.status == 200, res
    assert res.body == bob["user"]
    missing = call(api, "GET", "/api/auth/users/00000000-0000-4000-8000-000000000000", token=admin["access_token"])
    assert_problem(missing, 404, "not found")


@pytest.mark.parametrize("user_id", ["not-a-uuid", "1", "00000000-0000-4000-8000-00000000000Z"])
def test_admin_asking_for_a_malformed_id_gets_404_not_500(api, user_id):
    admin = admin_login()
    res = call(api, "GET", f"/api/auth/users/{user_id}", token=admin["access_token"])
    assert_problem(res, 404, "not found")
    res = put_roles(api, user_id, ["analyst"], admin["access_token"])
    assert_problem(res, 404, "not found")


def test_service_token_reads_a_user(api, api_env):
    bob = register_and_login()
    res = call(api, "GET", f"/api/auth/users/{bob['user']['id']}", token=service_token(api_env, "wallet"))
    assert res.status == 200, res
    assert res.body["id"] == bob["user"]["id"]
    assert res.body["kyc_status"] == "pending"


# --- refresh and logout ----------------------------------------------------------------


def refresh(api, token):
    return call(api, "POST", "/api/auth/refresh", {"refresh_token": token})


def test_refresh_rotates_the_pair(api):
    session = register_and_login()
    res = refresh(api, session["refresh_token"])
    assert res.status == 200, res
    assert res.body["refresh_token"] != session["refresh_token"]
    assert claims(res.body["access_token"])["sub"] == session["user"]["id"]
    me = call(api, "GET", "/api/auth/me", token=res.body["access_token"])
    assert me.status == 200 and me.body["id"] == session["user"]["id"]


def test_reusing_a_rotated_refresh_token_revokes_the_whole_session(api):
    session = register_and_login()
    rotated = refresh(api, session["refresh_token"])
    assert rotated.status == 200
    reuse = refresh(api, session["refresh_token"])
    assert_problem(reuse, 401, "reuse")
    # the attacker (or the victim) holding the newer token is logged out as well
    assert_problem(refresh(api, rotated.body["refresh_token"]), 401)
    # and a second replay of the old token stays refused
    assert_problem(refresh(api, session["refresh_token"]), 401)


def test_reuse_revokes_only_that_session(api):
    email = unique_email()
    register(email)
    laptop, phone = login(email).body, login(email).body
    assert refresh(api, laptop["refresh_token"]).status == 200
    assert refresh(api, laptop["refresh_token"]).status == 401  # reuse on the laptop session
    assert refresh(api, phone["refresh_token"]).status == 200


def test_unknown_refresh_token_is_401(api):
    assert_problem(refresh(api, "made-up-token"), 401)


def test_logout_ends_the_session(api):
    session = register_and_login()
    res = call(
        api, "POST", "/api/auth/logout", {"refresh_token": session["refresh_token"]}, token=session["access_token"]
    )
    assert res.status == 204, res
    assert res.body is None
    assert_problem(refresh(api, session["refresh_token"]), 401)


def test_logout_needs_a_token(api):
    session = register_and_login()
    res = call(api, "POST", "/api/auth/logout", {"refresh_token": session["refresh_token"]})
    assert_problem(res, 401)
    assert refresh(api, session["refresh_token"]).status == 200


def test_logout_with_someone_elses_refresh_token_does_not_end_their_session(api):
    alice, bob = register_and_login(), register_and_login()
    res = call(api, "POST", "/api/auth/logout", {"refresh_token": bob["refresh_token"]}, token=alice["access_token"])
    assert res.status == 204
    assert refresh(api, bob["refresh_token"]).status == 200


# --- roles -----------------------------------------------------------------------------


def put_roles(api, user_id, roles, token):
    return call(api, "PUT", f"/api/auth/users/{user_id}/roles", {"roles": roles}, token=token)


def test_admin_grants_roles_and_customer_is_kept(api):
    admin, bob = admin_login(), register_and_login()
    res = put_roles(api, bob["user"]["id"], ["compliance"], admin["access_token"])
    assert res.status == 200, res
    assert sorted(res.body["roles"]) == ["compliance", "customer"]
    # the grant shows in the user's next token
    assert claims(login(bob["user"]["email"]).body["access_token"])["roles"] == ["compliance", "customer"]


def test_customer_cannot_grant_roles(api):
    alice, bob = register_and_login(), register_and_login()
    assert_problem(put_roles(api, bob["user"]["id"], ["admin"], alice["access_token"]), 403)
    assert_problem(put_roles(api, alice["user"]["id"], ["admin"], alice["access_token"]), 403)
    me = call(api, "GET", "/api/auth/me", token=alice["access_token"])
    assert me.body["roles"] == ["customer"]


def test_admin_cannot_change_own_roles(api):
    admin = admin_login()
    res = put_roles(api, admin["user"]["id"], ["customer"], admin["access_token"])
    assert_problem(res, 403, "own")
    assert "admin" in call(api, "GET", "/api/auth/me", token=admin["access_token"]).body["roles"]


def test_admin_cannot_change_own_roles_through_another_spelling_of_the_id(api):
    admin = admin_login()
    own = admin["user"]["id"]
    for spelling in (own.upper(), own.replace("-", ""), "{" + own + "}"):
        assert_problem(put_roles(api, spelling, ["customer"], admin["access_token"]), 403, "own")
    assert "admin" in call(api, "GET", "/api/auth/me", token=admin["access_token"]).body["roles"]


def test_unknown_role_is_422(api):
    admin, bob = admin_login(), register_and_login()
    assert_problem(put_roles(api, bob["user"]["id"], ["superuser"], admin["access_token"]), 422, "roles")


def test_granting_roles_to_an_unknown_user_is_404(api):
    admin = admin_login()
    res = put_roles(api, "00000000-0000-4000-8000-000000000000", ["analyst"], admin["access_token"])
    assert_problem(res, 404)


# --- service tokens --------------------------------------------------------------------


def test_client_credentials_give_a_service_token(api, api_env):
    creds = api_env["secrets"]["wallet"]
    res = call(
        api, "POST", "/api/auth/token", {"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
    )
    assert res.status == 200, res
    assert res.body["token_type"] == "bearer"
    c = claims(res.body["access_token"])
    assert c["kind"] == "service"
    assert c["roles"] == ["svc:wallet"]
    assert c["sub"] == creds["client_id"]
    context, reason = authorize(res.body["access_token"])
    assert reason is None and context["kind"] == "service"


def test_client_credentials_with_a_wrong_secret_are_401(api, api_env):
    creds = api_env["secrets"]["wallet"]
    wrong = call(api, "POST", "/api/auth/token", {"client_id": creds["client_id"], "client_secret": "guess"})
    assert_problem(wrong, 401, "client credentials")
    # another module's secret does not fit this client id either
    other = api_env["secrets"]["payment"]["client_secret"]
    assert call(api, "POST", "/api/auth/token", {"client_id": creds["client_id"], "client_secret": other}).status == 401
    unknown = call(api, "POST", "/api/auth/token", {"client_id": "svc-nobody", "client_secret": "x"})
    assert_problem(unknown, 401)


def test_service_token_has_no_profile(api, api_env):
    res = call(api, "GET", "/api/auth/me", token=service_token(api_env, "wallet"))
    assert_problem(res, 403)


def test_service_token_cannot_grant_roles(api, api_env):
    bob = register_and_login()
    res = put_roles(api, bob["user"]["id"], ["admin"], service_token(api_env, "wallet"))
    assert_problem(res, 403)


# --- JWKS, health, unknown routes ------------------------------------------------------


def test_jwks_publishes_public_keys_only(api):
    res = call(api, "GET", "/api/auth/.well-known/jwks.json")
    assert res.status == 200, res
    keys = res.body["keys"]
    assert keys
    for key in keys:
        assert {"kid", "kty", "n", "e"} <= set(key)
        assert key["kty"] == "RSA"
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    # the key that signs login tokens is among them
    token = register_and_login()["access_token"]
    assert jwt.get_unverified_header(token)["kid"] in {k["kid"] for k in keys}


@pytest.mark.parametrize("path", ["/health", "/api/auth/health"])
def test_health_reports_healthy_with_cascade_info(api, path):
    res = call(api, "GET", path)
    assert res.status == 200, res
    assert res.body["status"] == "healthy"
    assert res.body["service"] == "auth-service"
    assert res.body["dependencies"] == {}
    assert res.body["cascade_info"]["direct_dependency"] == "none"
    assert "token validation" in res.body["cascade_info"]["cascaded_validations"]


def test_unknown_route_is_404_problem(api):
    token = register_and_login()["access_token"]
    res = call(api, "GET", "/api/auth/nothing-here", token=token)
    assert_problem(res, 404, "/api/auth/nothing-here")
    assert_problem(call(api, "DELETE", "/api/auth/me", token=token), 404)


def test_responses_carry_the_callers_correlation_id(api):
    res = call(api, "GET", "/api/auth/health", headers={"X-Correlation-Id": "corr-123"})
    assert res.header("X-Correlation-Id") == "corr-123"
