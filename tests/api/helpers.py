"""Helpers for api tests: call a module's API function in-process the way the gateway does.

`call()` mirrors devserver/gateway.py: a route that is not public goes through the real
Lambda authorizer first (a refusal is the gateway's 401 problem+json with the
authorizer's reason), and the module function gets the authorizer context exactly as
API Gateway passes it on. The authorizer reads Auth's real key ring through the
`auth_jwks` fixture (import it into the test module, or list it in `usefixtures`).

    from tests.api.helpers import auth_jwks, call, register_and_login  # noqa: F401
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple

import jwt
import pytest

from devserver.lambda_runtime import LambdaContext, proxy_event, token_authorizer_event
from functions import catalog

DEFAULT_PASSWORD = "correct horse battery staple"


class Result(NamedTuple):
    """What a client sees: status, decoded JSON body (None if empty), response headers."""

    status: int
    body: Any
    headers: dict[str, str]

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    @property
    def content_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip()


@pytest.fixture
def auth_jwks(api_env, monkeypatch):
    """Point the authorizer's JWKS fetch at Auth's real key ring (no HTTP), with a cold cache."""
    from finflow import token_check
    from functions.auth import keys

    monkeypatch.setattr(token_check, "fetch_jwks", lambda: keys.key_ring().jwks())
    token_check.forget_keys()
    yield
    token_check.forget_keys()


def auth_handler() -> Callable[[dict, Any], dict]:
    from functions.auth.api import handler

    return handler


def authorize(
    token: str, method: str = "GET", path: str = "/api/auth/me", scheme: str = "Bearer"
) -> tuple[dict | None, str | None]:
    """Run the real authorizer: (context for the module, None) or (None, reason it denied)."""
    from functions.auth import authorizer

    policy = authorizer.handler(
        token_authorizer_event(f"{scheme} {token}", method, path), LambdaContext("auth-authorizer")
    )
    statement = policy["policyDocument"]["Statement"][0]
    if statement["Effect"] != "Allow":
        return None, (policy.get("context") or {}).get("reason", "token refused")
    return {"principalId": policy["principalId"], **(policy.get("context") or {})}, None


def _problem(status: int, title: str, detail: str, headers: dict[str, str]) -> Result:
    body = {"type": f"https://finflow.dev/problems/{title.lower()}", "title": title, "status": status, "detail": detail}
    return Result(status, body, {"Content-Type": "application/problem+json", **headers})


def call(
    handler: Callable[[dict, Any], dict],
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str | list[str]] | None = None,
    authorizer: dict | None = None,
) -> Result:
    """Invoke `handler` with an API Gateway proxy event, after the authorizer as the gateway would.

    body: a dict/list is sent as JSON with `Content-Type: application/json`; str/bytes are
    sent as they are (add the header yourself). authorizer: skip the token check and pass
    this context directly (for tests of a function's own checks).
    """
    headers = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    module = catalog.module_for_path(path)
    public = module is None or (method, path) in catalog.public_routes(module)
    if authorizer is None and not public:
        unauthorized = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        if token is None:
            return _problem(401, "Unauthorized", "missing bearer token", unauthorized)
        headers["Authorization"] = f"Bearer {token}"
        authorizer, reason = authorize(token, method, path)
        if authorizer is None:
            return _problem(401, "Unauthorized", reason, unauthorized)
    query_lists = {k: v if isinstance(v, list) else [v] for k, v in (query or {}).items()}
    name = (module.key if module else "unknown") + "-api"
    response = handler(
        proxy_event(method, path, body=body, headers=headers, query=query_lists, authorizer=authorizer),
        LambdaContext(name),
    )
    raw = response.get("body") or ""
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        decoded = raw
    out_headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items() if v}
    out_headers.update(response.get("headers") or {})
    return Result(int(response["statusCode"]), decoded, out_headers)


def unique_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


def register(email: str | None = None, password: str = DEFAULT_PASSWORD, name: str = "Test User") -> Result:
    body = {"email": email or unique_email(), "password": password, "name": name}
    return call(auth_handler(), "POST", "/api/auth/register", body)


def login(email: str, password: str = DEFAULT_PASSWORD) -> Result:
    return call(auth_handler(), "POST", "/api/auth/login", {"email": email, "password": password})


def register_and_login(email: str | None = None, password: str = DEFAULT_PASSWORD, name: str = "Test User") -> dict:
    """A fresh customer: {"user": <register body>, "access_token", "refresh_token"}."""
    email = email or unique_email()
    reg = register(email, password, name)
    assert reg.status == 201, reg
    res = login(email, password)
    assert res.status == 200, res
    return {"user": reg.body, "access_token": res.body["access_token"], "refresh_token": res.body["refresh_token"]}


def admin_login(email: str | None = None, password: str = DEFAULT_PASSWORD) -> dict:
    """A fresh admin (made the way the devserver bootstraps one) and its tokens."""
    from functions.auth.logic import ensure_admin

    email = email or unique_email("admin")
    ensure_admin(email, password, "Admin User")
    res = login(email, password)
    assert res.status == 200, res
    me = call(auth_handler(), "GET", "/api/auth/me", token=res.body["access_token"])
    assert me.status == 200, me
    return {"user": me.body, "access_token": res.body["access_token"], "refresh_token": res.body["refresh_token"]}


def service_token(api_env: dict, module: str) -> str:
    """A client-credentials token for `module`, with the credentials create_secrets() made."""
    creds = api_env["secrets"][module]
    res = call(
        auth_handler(),
        "POST",
        "/api/auth/token",
        {"client_id": creds["client_id"], "client_secret": creds["client_secret"]},
    )
    assert res.status == 200, res
    return res.body["access_token"]


def claims(token: str) -> dict:
    """The token's claims, unverified (the tests check what Auth put in them)."""
    return jwt.decode(token, options={"verify_signature": False})
