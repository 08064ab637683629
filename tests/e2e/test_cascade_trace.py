"""Watching a cascade: one transfer's trace, as the devserver collects it from the functions'
OpenTelemetry spans, and shows it by URL, by command and for standard viewers."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import pytest

from tests import trace_viewers
from tests.e2e.conftest import ROOT, _child_env
from tests.e2e.support import create_wallet, deposit, verified_users

pytestmark = pytest.mark.e2e

ASYNC_WAIT = 20.0
CONSUMERS = {"notification-events", "kyc-events", "reporting-events"}


def _names(nodes: list[dict]) -> set[str]:
    found = set()
    for n in nodes:
        found.add(n["name"])
        found |= _names(n["children"])
    return found


def _find(nodes: list[dict], name: str) -> list[dict]:
    return [n for n in nodes if n["name"] == name] + [m for n in nodes for m in _find(n["children"], name)]


def test_one_transfer_shows_its_whole_cascade_under_one_trace(http, devserver):
    payer, payee = verified_users(http, devserver, 2, "traced")
    source, destination = create_wallet(http, payer), create_wallet(http, payee)
    deposit(http, payer, source["id"], "20.00")
    correlation = f"e2e-trace-{uuid.uuid4().hex[:12]}"
    time.sleep(2.2)  # past Wallet's KYC cache (KYC_CACHE_SECONDS=2 here): Wallet asks Auth again

    r = http.post(
        "/api/payment/transfer",
        headers=payer.auth | {"X-Correlation-Id": correlation},
        json={"from_wallet_id": source["id"], "to_wallet_id": destination["id"], "amount": "7.00"},
    )
    assert r.status_code == 201, r.text
    assert r.headers["X-Correlation-Id"] == correlation
    root = r.headers["X-Amzn-Trace-Id"].removeprefix("Root=")

    # the synchronous hops are there at once; the consumers of PaymentCompleted join later
    deadline, tree = time.monotonic() + ASYNC_WAIT, {}
    while time.monotonic() < deadline:
        resp = http.get(f"/_dev/traces/{root}")
        assert resp.status_code == 200, resp.text
        tree = resp.json()
        if CONSUMERS <= set(tree["services"]):
            break
        time.sleep(0.3)
    assert tree["trace_ids"] == [root]
    assert correlation in tree["correlation_ids"], tree["correlation_ids"]
    assert {"auth-authorizer", "payment-api", "wallet-api", "auth-api"} <= set(tree["services"]), tree["services"]
    assert CONSUMERS <= set(tree["services"]), f"consumers missing from the trace: {tree['services']}"

    # one tree: the gateway's segment at the top, everything else under it
    assert len(tree["roots"]) == 1, [n["name"] for n in tree["roots"]]
    top = tree["roots"][0]
    assert top["kind"] == "AWS::ApiGateway::Stage" and top["http"]["url"] == "/api/payment/transfer", top
    payment = [c for c in top["children"] if c["name"] == "payment-api"]
    assert len(payment) == 1, [c["name"] for c in top["children"]]
    below_payment = _names(payment[0]["children"])
    # Payment -> gateway -> Wallet -> gateway -> Auth, and the events' consumers under Payment
    assert {"wallet-api", "auth-api"} <= below_payment, below_payment
    assert CONSUMERS <= {c["name"] for c in payment[0]["children"]}, [c["name"] for c in payment[0]["children"]]
    # what the functions' SDK itself sent: the handler's span inside the functions
    assert _find(payment, "## handler"), payment

    # the correlation id finds the same trace
    by_correlation = http.get(f"/_dev/traces/{correlation}").json()
    assert by_correlation["trace_ids"] == [root]
    assert any(t["trace_id"] == root for t in http.get("/_dev/traces").json()["traces"])

    # and the text rendering, by URL and by command
    text = http.get(f"/_dev/traces/{correlation}", params={"format": "text"}).text
    for name in ("payment-api", "wallet-api", "auth-api", *CONSUMERS):
        assert name in text, text
    printed = subprocess.run(
        [sys.executable, "-m", "devserver.trace", correlation, "--url", devserver.url],
        check=False,
        cwd=ROOT,
        env=_child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert printed.returncode == 0, printed.stderr
    assert root in printed.stdout and "notification-events" in printed.stdout, printed.stdout

    # and for the viewers: Perfetto / chrome://tracing, Jaeger UI
    chrome = http.get(f"/_dev/traces/{correlation}", params={"format": "chrome"})
    processes, flows = trace_viewers.check_chrome(chrome.json())
    assert {"payment-api", "wallet-api", "auth-api", *CONSUMERS} <= set(processes) and flows, processes
    otlp = trace_viewers.check_otlp(http.get(f"/_dev/traces/{correlation}", params={"format": "otlp"}).json())
    assert {"payment-api", "wallet-api", *CONSUMERS} <= set(otlp), set(otlp)


def _services(http, response) -> set[str]:
    root = response.headers["X-Amzn-Trace-Id"].removeprefix("Root=")
    deadline, services = time.monotonic() + 10, set()
    while time.monotonic() < deadline and not {"payment-api", "wallet-api"} <= services:
        services = set(http.get(f"/_dev/traces/{root}").json().get("services", []))
        time.sleep(0.2)
    return services


def test_a_transfer_right_after_another_takes_its_kyc_from_wallets_replica_not_auth(http, devserver):
    payer, payee = verified_users(http, devserver, 2, "cached")
    source, destination = create_wallet(http, payer), create_wallet(http, payee)
    deposit(http, payer, source["id"], "20.00")
    body = {"from_wallet_id": source["id"], "to_wallet_id": destination["id"], "amount": "1.00"}
    first, second = (http.post("/api/payment/transfer", headers=payer.auth, json=body) for _ in range(2))
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    one, two = _services(http, first), _services(http, second)
    assert {"payment-api", "wallet-api"} <= one & two, (one, two)
    # a transfer that asked Auth refreshed Wallet's replica, so the one right after it does not ask
    # again; if the first was already answered from the replica, that shows the same
    assert "auth-api" not in one or "auth-api" not in two, (one, two)


def test_an_unknown_trace_id_is_a_404(http):
    r = http.get("/_dev/traces/no-such-id")
    assert r.status_code == 404
    assert "no-such-id" in r.json()["detail"]
