"""API Gateway's stage throttling as the devserver emulates it, over real HTTP: one bucket
for the gateway and every seed port, 429 problem+json with Retry-After once it is empty."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture
def low_limit(devserver):
    """A bucket of 3 that practically never refills, for this test only."""
    before = httpx.get(f"{devserver.url}/_dev/throttle").json()
    r = httpx.put(f"{devserver.url}/_dev/throttle", json={"rate": 0.001, "burst": 3})
    assert r.status_code == 200 and r.json() == {"rate": 0.001, "burst": 3}, r.text
    try:
        yield
    finally:
        assert httpx.put(f"{devserver.url}/_dev/throttle", json=before).status_code == 200


def test_requests_beyond_the_burst_are_429_with_retry_after_on_every_port(devserver, low_limit):
    urls = [f"{devserver.url}/api/auth/health", devserver.seed_url("wallet") + "/health"] * 4
    answers = [httpx.get(url) for url in urls]
    passed = [r for r in answers if r.status_code == 200]
    throttled = [r for r in answers if r.status_code == 429]
    assert len(passed) <= 3 and len(passed) + len(throttled) == len(answers), [r.status_code for r in answers]
    assert {r.url.port for r in throttled} == {devserver.port("wallet"), int(devserver.url.rsplit(":", 1)[1])}
    for r in throttled:
        assert r.headers["content-type"] == "application/problem+json"
        assert int(r.headers["retry-after"]) >= 1
        assert r.json()["detail"] == "Too many requests"


def test_the_throttle_can_only_be_set_to_something_sensible(devserver):
    for body in ({"rate": 0, "burst": 3}, {"rate": 1}, {"rate": "fast", "burst": 3}):
        r = httpx.put(f"{devserver.url}/_dev/throttle", json=body)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    assert httpx.get(f"{devserver.url}/_dev/throttle").json() == {"rate": 1000.0, "burst": 2000}
