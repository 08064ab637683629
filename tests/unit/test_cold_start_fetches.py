"""The first outbound fetches of a cold container: the service token and the JWKS.

Found by the e2e burst of 50 parallel transfers on a cold devserver (2 cores): several
answers were 503 "Wallet service unavailable" (Payment's log: target auth, "no service
token: ReadTimeout") and one 500 "authorizer failed", because these fetches had no retry
and the token fetch was not shared by the threads of one container. ARCHITECTURE.md: every outbound call
has a timeout and bounded retries with jitter for idempotent calls (a JWKS GET is; a
client-credentials exchange changes nothing either).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from finflow import service_auth, service_client, token_check


class TokenEndpoint:
    """A fake Auth: POST /api/auth/token and the JWKS, failing with the queued errors first."""

    def __init__(self, *failures: str, delay: float = 0.0):
        self.failures, self.delay = list(failures), delay
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.calls += 1
            failure = self.failures.pop(0) if self.failures else None
        time.sleep(self.delay)
        if failure == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if request.url.path.endswith("jwks.json"):
            return httpx.Response(200, json={"keys": [{"kid": "k1", "kty": "RSA", "n": "AQAB", "e": "AQAB"}]})
        return httpx.Response(200, json={"access_token": "svc-token", "token_type": "bearer", "expires_in": 1800})


@pytest.fixture
def auth_endpoint(monkeypatch):
    def install(endpoint: TokenEndpoint) -> TokenEndpoint:
        service_client.route_all_http_through(httpx.MockTransport(endpoint))
        return endpoint

    monkeypatch.setattr(service_auth, "secret_json", lambda _id: {"client_id": "payment", "client_secret": "s"})
    service_auth.forget_tokens()
    token_check.forget_keys()
    yield install
    service_client.route_all_http_through(None)
    service_auth.forget_tokens()
    token_check.forget_keys()


def test_concurrent_callers_in_one_container_share_one_token_fetch(auth_endpoint):
    # Payment asks Wallet three things at once per transfer: three threads, one cold cache.
    endpoint = auth_endpoint(TokenEndpoint(delay=0.2))
    with ThreadPoolExecutor(max_workers=3) as pool:
        tokens = list(pool.map(lambda _: service_auth.service_token("payment"), range(3)))
    assert tokens == ["svc-token"] * 3
    assert endpoint.calls == 1


def test_a_timed_out_token_fetch_is_retried(auth_endpoint):
    endpoint = auth_endpoint(TokenEndpoint("timeout"))
    assert service_auth.service_token("payment") == "svc-token"
    assert endpoint.calls == 2


def test_a_timed_out_jwks_fetch_is_retried(auth_endpoint):
    endpoint = auth_endpoint(TokenEndpoint("timeout"))
    assert token_check.fetch_jwks()["keys"][0]["kid"] == "k1"
    assert endpoint.calls == 2


def test_the_fakes_answer_when_nothing_fails(auth_endpoint):
    # the fakes themselves answer: failures above come from the code under test
    endpoint = auth_endpoint(TokenEndpoint())
    assert service_auth.service_token("payment") == "svc-token"
    assert token_check.fetch_jwks()["keys"][0]["kid"] == "k1"
    assert endpoint.calls == 2
