import contextvars
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from finflow.service_client import (
    ServiceClient,
    ServiceError,
    ServiceUnavailable,
    client_for,
    reset_clients,
    set_request_context,
)


class Target:
    """A fake downstream module: answers with the queued statuses, then `default`."""

    def __init__(self, *statuses, default=200, body=None):
        self.queue = list(statuses)
        self.default = default
        self.body = body if body is not None else {"ok": True}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status = self.queue.pop(0) if self.queue else self.default
        if status == "connect":
            raise httpx.ConnectError("connection refused", request=request)
        if status == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if status >= 400:
            return httpx.Response(status, json={"title": "Error", "detail": f"status {status}"})
        return httpx.Response(status, json=self.body)

    @property
    def calls(self) -> int:
        return len(self.requests)


def make(target, **kw):
    kw.setdefault("backoff_max", 0.01)
    return ServiceClient("ledger", "http://ledger.test", transport=httpx.MockTransport(target), **kw)


def run_in_fresh_context(fn):
    # Each test gets its own contextvars, like each Lambda invocation.
    return contextvars.Context().run(fn)  # empty: every variable at its default


def test_get_retries_on_503_then_succeeds():
    target = Target(503, 503)
    response = make(target).request("GET", "/accounts/1")
    assert response.status_code == 200
    assert target.calls == 3


def test_get_retries_on_connect_error_and_timeout():
    target = Target("connect", "timeout")
    assert make(target).request("GET", "/x").status_code == 200
    assert target.calls == 3


def test_post_is_not_retried_unless_marked_idempotent():
    target = Target(503)
    with pytest.raises(ServiceUnavailable) as err:
        make(target).request("POST", "/payments", json={"amount": "1.00"})
    assert target.calls == 1
    assert err.value.target == "ledger" and err.value.reason == "HTTP 503"

    target = Target(503)
    assert make(target).request("POST", "/payments", idempotent=True).status_code == 200
    assert target.calls == 2


def test_gives_up_after_retries_with_reason():
    target = Target(default="timeout")
    with pytest.raises(ServiceUnavailable) as err:
        make(target, retries=2).request("GET", "/x")
    assert target.calls == 3
    assert "timeout" in err.value.reason


def test_4xx_is_returned_and_does_not_trip_breaker():
    target = Target(default=404)
    client = make(target, fail_max=2)
    for _ in range(5):
        assert client.request("GET", "/missing").status_code == 404
    assert target.calls == 5  # 4xx is an answer: no retries
    assert client.state == "closed"


def test_breaker_opens_after_fail_max_then_fails_fast():
    target = Target(default=500)
    client = make(target, fail_max=5, retries=0)
    for _ in range(5):
        with pytest.raises(ServiceUnavailable) as err:
            client.request("GET", "/x")
        assert err.value.reason == "HTTP 500"
    assert client.state == "open"
    calls = target.calls
    with pytest.raises(ServiceUnavailable) as err:
        client.request("GET", "/x")
    assert err.value.reason == "circuit open"
    assert target.calls == calls  # network not touched


def test_breaker_half_opens_after_reset_timeout_and_closes_on_success():
    target = Target(*["connect"] * 2)
    client = make(target, fail_max=2, retries=0, reset_timeout=0.2)
    for _ in range(2):
        with pytest.raises(ServiceUnavailable):
            client.request("GET", "/x")
    assert client.state == "open"
    time.sleep(0.25)
    assert client.request("GET", "/x").status_code == 200  # trial call let through
    assert client.state == "closed"


def test_failed_trial_call_reopens_breaker():
    target = Target(default=503)
    client = make(target, fail_max=1, retries=0, reset_timeout=0.1)
    with pytest.raises(ServiceUnavailable):
        client.request("GET", "/x")
    time.sleep(0.15)
    with pytest.raises(ServiceUnavailable):
        client.request("GET", "/x")
    assert target.calls == 2
    assert client.state == "open"


def test_half_open_lets_one_trial_through_and_fails_others_fast():
    calls, trial_started, release_trial = [], threading.Event(), threading.Event()

    def target(request):
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        trial_started.set()
        release_trial.wait(5)
        return httpx.Response(200, json={"ok": True})

    client = make(target, fail_max=1, retries=0, reset_timeout=0.05)
    with pytest.raises(ServiceUnavailable):
        client.request("GET", "/x")
    time.sleep(0.1)
    with ThreadPoolExecutor(max_workers=1) as pool:
        trial = pool.submit(client.request, "GET", "/x")
        assert trial_started.wait(5)
        assert client.state == "half-open"
        with pytest.raises(ServiceUnavailable) as err:
            client.request("GET", "/x")  # a second caller while the trial is in flight
        assert err.value.reason == "circuit open"
        release_trial.set()
        assert trial.result().status_code == 200
    assert client.state == "closed"
    assert len(calls) == 2


def test_concurrent_requests_are_not_serialised():
    lock = threading.Lock()
    in_flight = max_in_flight = 0

    def target(request):
        nonlocal in_flight, max_in_flight
        with lock:
            in_flight += 1
            max_in_flight = max(max_in_flight, in_flight)
        time.sleep(0.2)
        with lock:
            in_flight -= 1
        return httpx.Response(200, json={"ok": True})

    client = make(target)
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda _: client.request("GET", "/x").status_code, range(10)))
    assert statuses == [200] * 10
    assert max_in_flight > 1  # the breaker must not hold a lock across the network call
    assert client.state == "closed"


def test_propagates_correlation_and_auth_headers():
    target = Target()
    client = make(target, token_provider=lambda: "tok-123")

    def call():
        set_request_context("corr-1")
        client.request("GET", "/x", headers={"X-Extra": "1"})

    run_in_fresh_context(call)
    sent = target.requests[0].headers
    assert sent["X-Correlation-Id"] == "corr-1"
    assert sent["Authorization"] == "Bearer tok-123"
    assert sent["X-Extra"] == "1"


def test_no_context_headers_when_unset():
    target = Target()
    run_in_fresh_context(lambda: make(target).request("GET", "/x"))
    sent = target.requests[0].headers
    assert "X-Correlation-Id" not in sent and "X-Amzn-Trace-Id" not in sent and "Authorization" not in sent


def test_get_json_returns_stale_body_when_target_down():
    target = Target(200, default="connect", body={"rate": "1.10"})
    client = make(target, retries=0)
    assert client.get_json("/fx/EUR") == ({"rate": "1.10"}, False)
    assert client.get_json("/fx/EUR") == ({"rate": "1.10"}, True)
    with pytest.raises(ServiceUnavailable):
        client.get_json("/fx/GBP")  # nothing cached for this path


def test_get_json_cache_expires():
    target = Target(200, default="connect")
    client = make(target, retries=0)
    client.get_json("/x", cache_ttl=0.05)
    time.sleep(0.1)
    with pytest.raises(ServiceUnavailable):
        client.get_json("/x")


def test_get_json_raises_service_error_with_problem_detail():
    client = make(Target(default=422))
    with pytest.raises(ServiceError) as err:
        client.get_json("/x")
    assert err.value.status == 422
    assert err.value.detail == "status 422"


def test_client_for_reuses_client_per_target():
    reset_clients()
    try:
        a = client_for("ledger", "http://ledger.test")
        assert client_for("ledger", "http://ledger.test") is a
        assert client_for("fx", "http://fx.test") is not a
    finally:
        reset_clients()
    assert client_for("ledger", "http://ledger.test") is not a
    reset_clients()


def test_client_for_keeps_one_client_per_calling_module():
    from finflow.service_auth import token_provider

    reset_clients()
    try:
        as_payment = client_for("wallet", "http://wallet.test", token_provider=token_provider("payment"))
        as_kyc = client_for("wallet", "http://wallet.test", token_provider=token_provider("kyc"))
        assert as_kyc is not as_payment  # each sends its own service token
        assert client_for("wallet", "http://wallet.test", token_provider=token_provider("kyc")) is as_kyc
    finally:
        reset_clients()
