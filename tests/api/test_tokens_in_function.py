"""Where no gateway authorizer runs in front of the functions (LocalStack's community edition),
each API function checks the bearer token itself (FINFLOW_VERIFY_TOKENS), by the authorizer's
own rules: the same answers reach the user either way."""

from __future__ import annotations

import uuid

import pytest

from finflow import config
from tests.api.helpers import auth_handler, auth_jwks, call, register_and_login  # noqa: F401

pytestmark = pytest.mark.usefixtures("auth_jwks")
NO_AUTHORIZER: dict = {}  # the request context API Gateway passes when no authorizer ran


@pytest.fixture
def tokens_checked_in_function(monkeypatch):
    monkeypatch.setenv("FINFLOW_VERIFY_TOKENS", "true")
    config.settings.cache_clear()
    yield
    monkeypatch.delenv("FINFLOW_VERIFY_TOKENS")
    config.settings.cache_clear()


def me(headers: dict[str, str]):
    return call(auth_handler(), "GET", "/api/auth/me", headers=headers, authorizer=NO_AUTHORIZER)


def test_a_valid_token_is_accepted_and_names_its_user(api_env, tokens_checked_in_function):
    person = register_and_login()
    r = me({"Authorization": f"Bearer {person['access_token']}"})
    assert r.status == 200, r
    assert r.body["id"] == person["user"]["id"]


@pytest.mark.parametrize("header", ["", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer not.a.jwt"])
def test_a_missing_or_bad_token_is_401_problem_json(api_env, tokens_checked_in_function, header):
    r = me({"Authorization": header} if header else {})
    assert r.status == 401, r
    assert r.content_type.startswith("application/problem+json") and r.body["detail"]
    assert r.header("WWW-Authenticate") == 'Bearer error="invalid_token"'


def test_a_token_signed_by_someone_else_is_refused(api_env, tokens_checked_in_function):
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    person = register_and_login()
    claims = jwt.decode(person["access_token"], options={"verify_signature": False})
    header = jwt.get_unverified_header(person["access_token"])
    forged = jwt.encode(
        claims,
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
        headers={"kid": header["kid"]},
    )
    r = me({"Authorization": f"Bearer {forged}"})
    assert r.status == 401 and "signature" in r.body["detail"].lower(), r


def test_role_and_service_checks_still_apply_after_the_function_verified_the_token(api_env, tokens_checked_in_function):
    from functions.wallet.api import handler as wallet

    person = register_and_login()
    r = call(
        wallet,
        "GET",
        f"/api/wallet/internal/wallets/{uuid.uuid4()}",
        headers={"Authorization": f"Bearer {person['access_token']}"},
        authorizer=NO_AUTHORIZER,
    )
    assert r.status == 403, r


def test_without_an_authorizer_context_the_function_verifies_the_token_itself(api_env):
    # a direct invoke (another module's private call): no authorizer ran, the token is checked here
    person = register_and_login()
    assert me({"Authorization": f"Bearer {person['access_token']}"}).status == 200
    assert me({"Authorization": "Bearer not.a.jwt"}).status == 401
