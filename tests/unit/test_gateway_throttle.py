"""The devserver's emulation of API Gateway's stage throttling: a token bucket with the
catalog's rate and burst, shared by every port, answering 429 problem+json with Retry-After
before the authorizer or the module runs."""

from __future__ import annotations

import threading

import httpx
import pytest

from devserver.gateway import Gateway
from devserver.throttle import TokenBucket
from devserver.workers import InvocationError
from functions import catalog


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_lets_a_burst_through_then_refuses():
    bucket = TokenBucket(rate=2, burst=5, clock=Clock())
    assert [bucket.take() for _ in range(5)] == [None] * 5
    assert bucket.take() == 1  # half a second to the next token: Retry-After rounds up to 1 s


def test_tokens_come_back_at_the_rate_and_never_beyond_the_burst():
    clock = Clock()
    bucket = TokenBucket(rate=2, burst=3, clock=clock)
    for _ in range(3):
        bucket.take()
    clock.now += 1.0  # two tokens back
    assert [bucket.take() for _ in range(3)] == [None, None, 1]
    clock.now += 3600  # an idle hour refills to the burst, no more
    assert [bucket.take() for _ in range(4)] == [None, None, None, 1]


def test_retry_after_says_when_the_next_token_is_due():
    clock = Clock()
    bucket = TokenBucket(rate=0.1, burst=1, clock=clock)  # one request every 10 s
    assert bucket.take() is None
    assert bucket.take() == 10
    clock.now += 7
    assert bucket.take() == 3
    clock.now += 3
    assert bucket.take() is None


def test_concurrent_requests_never_get_more_than_the_burst():
    bucket = TokenBucket(rate=0.001, burst=50)  # practically no refill during the test
    passed = []

    def client():
        for _ in range(20):
            passed.append(bucket.take() is None)

    threads = [threading.Thread(target=client) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert passed.count(True) == 50 and len(passed) == 200


@pytest.mark.parametrize("rate, burst", [(0, 10), (-1, 10), (10, 0)])
def test_nonsense_limits_are_refused(rate, burst):
    with pytest.raises(ValueError, match="throttle needs"):
        TokenBucket(rate, burst)


def test_the_bucket_of_the_catalog_has_the_deployed_limits():
    bucket = TokenBucket.of(catalog.API_THROTTLE)
    assert (bucket.rate, bucket.burst) == (catalog.API_THROTTLE.rate, catalog.API_THROTTLE.burst)


class Refusing:
    """A function that must not run: throttled requests never reach the authorizer or a module."""

    enabled = True

    def invoke(self, event, timeout=30.0, trace=None):
        raise InvocationError("invoked")


def test_the_gateway_answers_429_problem_json_with_retry_after_on_every_port():
    pools = {f"{m.key}.api": Refusing() for m in catalog.MODULES} | {"auth.authorizer": Refusing()}
    bucket = TokenBucket(rate=0.001, burst=2)
    main = httpx.Client(transport=httpx.WSGITransport(app=Gateway(pools, throttle=bucket)), base_url="http://gw")
    seed = httpx.Client(
        transport=httpx.WSGITransport(app=Gateway(pools, only="wallet", throttle=bucket)), base_url="http://seed"
    )
    # the burst's two requests reach the API (and fail there: 401 without a token, 502 from the module)
    assert main.get("/api/wallet").status_code == 401
    assert seed.get("/health").status_code == 502
    for client, path in ((main, "/api/auth/me"), (seed, "/api/wallet"), (main, "/api/auth/health")):
        r = client.get(path, headers={"Authorization": "Bearer x"})
        assert r.status_code == 429, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert int(r.headers["retry-after"]) >= 1
        assert r.json() == {
            "type": "https://finflow.dev/problems/too-many-requests",
            "title": "Too Many Requests",
            "status": 429,
            "detail": "Too many requests",
        }


def test_without_a_bucket_the_gateway_does_not_throttle():
    pools = {"auth.api": Refusing(), "auth.authorizer": Refusing()}
    client = httpx.Client(transport=httpx.WSGITransport(app=Gateway(pools)), base_url="http://gw")
    assert {client.get("/api/auth/me").status_code for _ in range(300)} == {401}
