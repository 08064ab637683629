"""Request limits on every operation of every module's OpenAPI: a body over MAX_BODY_BYTES
is 413 problem+json wherever it is sent, and every list refuses a `limit` outside
1..PAGE_SIZE_MAX and any cursor it did not issue with 422."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from tests.security import routes
from tests.security.world import allowed

LIST_ROUTES = tuple(op for op in routes.operations() if {"limit", "cursor"} & set(dict(op.query_params)))


def settings():
    from finflow.config import settings as current

    return current()


def caller(world, op) -> dict:
    return {} if op.public else world.headers(allowed(routes.audience(op)))


def assert_problem(r, status: int, *words: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["status"] == status and all(w in body["detail"] for w in words), body
    return body


def client_for(world, op) -> httpx.Client:
    """The gateway, or for the bare `/health` the module's own seed port (served nowhere else)."""
    if op.template != "/health":
        return world.gw
    from devserver.gateway import Gateway

    return httpx.Client(
        transport=httpx.WSGITransport(app=Gateway(world.gw.functions, only=op.module)), base_url="http://seed.test"
    )


@pytest.mark.parametrize("op", routes.operations(), ids=lambda op: f"{op.module}:{op}")
def test_a_body_over_the_limit_is_413_on_every_route(world, op):
    limit = settings().max_body_bytes
    body = json.dumps({"padding": "x" * limit})
    assert len(body) > limit
    r = client_for(world, op).request(
        op.method, op.path(world.ids), content=body, headers={"Content-Type": "application/json", **caller(world, op)}
    )
    assert_problem(r, 413, str(limit))


def test_a_body_at_the_limit_is_read(world):
    limit = settings().max_body_bytes
    filler = "x" * (limit - len(json.dumps({"email": "", "password": "", "name": ""})))
    body = json.dumps({"email": "", "password": "", "name": filler})
    assert len(body) == limit
    r = world.gw.post("/api/auth/register", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text  # judged on its content, not refused for its size


def test_a_body_over_the_gateways_own_limit_is_413_before_any_token_check(world):
    r = world.gw.post("/api/payment/transfer", content=b"{" + b" " * (10 * 1024 * 1024) + b"}")
    assert_problem(r, 413, "10 MB")


def test_every_list_route_is_found():
    assert {op.module for op in LIST_ROUTES} >= {"wallet", "payment", "notification", "kyc", "reporting"}
    for op in LIST_ROUTES:
        assert {"limit", "cursor"} <= set(dict(op.query_params)), f"{op}: pages need both limit and cursor"


@pytest.mark.parametrize("op", LIST_ROUTES, ids=str)
def test_limit_is_capped_at_page_size_max(world, op):
    cap = settings().page_size_max
    path, headers = op.path(world.ids), caller(world, op)
    ok = world.gw.get(path, params={"limit": cap}, headers=headers)
    assert ok.status_code == 200 and len(ok.json()["items"]) <= cap, ok.text
    assert_problem(world.gw.get(path, params={"limit": cap + 1}, headers=headers), 422, "limit", str(cap))
    for bad in ("0", "-1", "abc", "1.5", "1e9", str(2**70)):
        assert_problem(world.gw.get(path, params={"limit": bad}, headers=headers), 422, "limit")


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


GARBAGE_CURSORS = (
    "garbage",
    "!!!",
    "%00",
    _b64("x|y|z"),
    _b64("p|2026-01-01T00:00:00|not-a-uuid"),
    _b64("e:-1"),
    _b64("e:abc"),
    "A" * 60,
)


@pytest.mark.parametrize("op", LIST_ROUTES, ids=str)
def test_a_cursor_the_list_did_not_issue_is_422(world, op):
    path, headers = op.path(world.ids), caller(world, op)
    for cursor in GARBAGE_CURSORS:
        r = world.gw.get(path, params={"cursor": cursor}, headers=headers)
        assert r.status_code == 422, f"{op} cursor={cursor!r}: {r.status_code} {r.text}"
        assert r.headers["content-type"].startswith("application/problem+json") and r.json()["detail"]
