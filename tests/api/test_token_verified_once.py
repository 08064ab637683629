"""A function other modules invoke directly verifies the caller's token before routing; the
route's principal is that same verification, not a second RS256 check of the same token."""

from __future__ import annotations

import uuid

import pytest

from finflow import token_check
from tests.api.helpers import auth_jwks, call, service_token  # noqa: F401

pytestmark = pytest.mark.usefixtures("auth_jwks")


def test_a_direct_invoke_verifies_the_callers_token_once(api_env, monkeypatch):
    from functions.wallet.api import handler as wallet

    token = service_token(api_env, "payment")
    verified = []
    authorize = token_check.authorize
    monkeypatch.setattr(token_check, "authorize", lambda t: verified.append(t) or authorize(t))
    path = f"/api/wallet/internal/postings/{uuid.uuid4()}"
    r = call(wallet, "GET", path, headers={"Authorization": f"Bearer {token}"}, authorizer={})  # a direct invoke
    assert r.status == 404 and r.body["detail"] == "Posting not found", r  # served as Payment
    assert verified == [token]
