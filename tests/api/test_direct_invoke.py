"""The private path as the callee sees it: a direct invoke carries no authorizer context, and
a function other modules invoke (FINFLOW_VERIFY_TOKENS) trusts only the token it verifies, so
an event claiming a principal does not make one; the public gateway routes no internal path."""

from __future__ import annotations

import uuid

import pytest

from finflow import config
from tests.api.helpers import auth_jwks, call, register_and_login, service_token  # noqa: F401

pytestmark = pytest.mark.usefixtures("auth_jwks")
FORGED = {"principalId": "svc-payment", "sub": "svc-payment", "roles": "svc:payment", "kind": "service"}


@pytest.fixture
def invoked_directly(monkeypatch):
    """Wallet's API function as deployed: other modules invoke it, it verifies tokens itself."""
    monkeypatch.setenv("FINFLOW_VERIFY_TOKENS", "true")
    config.settings.cache_clear()
    yield
    monkeypatch.delenv("FINFLOW_VERIFY_TOKENS")
    config.settings.cache_clear()


def posting_lookup(headers: dict[str, str], authorizer: dict):
    from functions.wallet.api import handler as wallet

    return call(wallet, "GET", f"/api/wallet/internal/postings/{uuid.uuid4()}", headers=headers, authorizer=authorizer)


def test_a_forged_authorizer_context_without_a_token_is_401(api_env, invoked_directly):
    r = posting_lookup({}, FORGED)
    assert r.status == 401 and r.body["detail"] == "missing bearer token", r


def test_a_forged_service_context_with_a_users_token_is_that_user(api_env, invoked_directly):
    person = register_and_login()
    r = posting_lookup({"Authorization": f"Bearer {person['access_token']}"}, FORGED)
    assert r.status == 403 and "payment" in r.body["detail"], r  # the token's user, not svc:payment


def test_the_callers_own_verified_token_is_served(api_env, invoked_directly):
    token = service_token(api_env, "payment")
    r = posting_lookup({"Authorization": f"Bearer {token}"}, {})
    assert r.status == 404 and r.body["detail"] == "Posting not found", r  # routed as Payment


def test_a_private_call_reaches_the_callee_without_the_gateway(gateway, monkeypatch):
    """Payment's client to Wallet, in process: the request never meets the gateway (which
    refuses internal paths), and Wallet answers as it answers Payment."""
    from devserver.gateway import Gateway
    from finflow.service_auth import token_provider
    from finflow.service_client import private_client

    seen, handle = [], Gateway.handle
    monkeypatch.setattr(Gateway, "handle", lambda self, request: seen.append(request.path) or handle(self, request))
    client = private_client("payment", "wallet", token_provider=token_provider("payment"))
    r = client.request("GET", f"/api/wallet/internal/postings/{uuid.uuid4()}")
    assert r.status_code == 404 and r.json()["detail"] == "Posting not found", r.text
    assert not [p for p in seen if "/internal/" in p], seen


def test_the_gateway_answers_no_internal_path(gateway):
    import httpx

    from devserver.gateway import Gateway

    public = httpx.Client(transport=httpx.WSGITransport(app=Gateway(gateway.functions)), base_url="http://gw.test")
    for method, path in (("GET", f"/api/wallet/internal/postings/{uuid.uuid4()}"), ("POST", "/api/v1/wallet/internal")):
        r = public.request(method, path, headers={"Authorization": "Bearer x"})
        assert r.status_code == 404 and r.headers["Content-Type"] == "application/problem+json", r.text
        assert r.json()["detail"] == f"no route for {method} {path}"
