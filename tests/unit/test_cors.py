"""CORS from one setting (CORS_ALLOWED_ORIGINS): the preflight the gateway answers (the
devserver here, API Gateway's OPTIONS methods when deployed) and the headers the functions
add to their answers, for an allowed origin and not for any other."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from devserver.gateway import Gateway
from devserver.lambda_runtime import proxy_event
from finflow import config
from finflow.http import Problem, _proxy_problem, make_resolver

ALLOWED = "https://app.example.com"
OTHER = "https://evil.example.net"


@pytest.fixture
def cors(monkeypatch):
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", f"{ALLOWED}, http://localhost:5173")
    config.settings.cache_clear()
    yield
    monkeypatch.delenv("CORS_ALLOWED_ORIGINS")
    config.settings.cache_clear()


def _preflight(origin: str):
    environ = EnvironBuilder(
        path="/api/payment/transfer",
        method="OPTIONS",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
        },
    ).get_environ()
    return Gateway(pools={}).handle(Request(environ))


def _resolved(origin: str) -> dict:
    app = make_resolver("auth", "User Authentication")

    @app.get("/api/auth/.well-known/jwks.json", operation_id="auth_jwks")
    def jwks():
        return {"keys": []}

    event = proxy_event("GET", "/api/auth/.well-known/jwks.json", headers={"Origin": origin})
    return app.resolve(event, None)


def test_a_preflight_from_an_allowed_origin_is_answered_by_the_gateway(cors):
    r = _preflight(ALLOWED)
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed


def test_a_preflight_from_another_origin_gets_no_cors_headers(cors):
    r = _preflight(OTHER)
    assert "Access-Control-Allow-Origin" not in r.headers


def test_an_answer_to_an_allowed_origin_carries_its_cors_headers(cors):
    headers = _resolved(ALLOWED)["multiValueHeaders"]
    assert headers["Access-Control-Allow-Origin"] == [ALLOWED]
    assert "X-Correlation-Id" in headers["Access-Control-Expose-Headers"][0]


def test_an_answer_to_another_origin_carries_none(cors):
    headers = _resolved(OTHER)["multiValueHeaders"]
    assert not [h for h in headers if h.startswith("Access-Control-")]


def test_a_request_refused_before_routing_still_tells_an_allowed_browser_why(cors):
    refused = _proxy_problem(_problem(), ALLOWED)
    assert refused["statusCode"] == 413 and refused["headers"]["Access-Control-Allow-Origin"] == ALLOWED
    assert "Access-Control-Allow-Origin" not in _proxy_problem(_problem(), OTHER)["headers"]


def test_without_the_setting_there_is_no_cors_at_all():
    config.settings.cache_clear()
    assert not config.settings().cors_origins
    assert _preflight(ALLOWED).status_code != 204  # not answered as a preflight: routed like any request
    headers = _resolved(ALLOWED)["multiValueHeaders"]
    assert not [h for h in headers if h.startswith("Access-Control-")]


@pytest.mark.parametrize("value", ["*", "app.example.com", "https://app.example.com/", "ftp://x.example"])
def test_an_origin_that_is_not_one_is_refused_at_start_up(monkeypatch, value):
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", value)
    with pytest.raises(ValidationError, match="is not an origin"):
        config.Settings()


def _problem() -> Problem:
    return Problem(413, "request body exceeds 65536 bytes")
