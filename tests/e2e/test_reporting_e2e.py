"""Reporting over real HTTP: money moved in USD, EUR and JPY between verified users shows
up in the analyst's summary per currency (equal to what Wallet says the wallets hold),
and rebuilding the read model from the producers' outboxes ends with the same figures.

The devserver is shared by every e2e test, so figures are compared as deltas over this
test's own wallets, read once event delivery has settled. The rebuild runs as the operator
would, `python -m functions.reporting.rebuild` in a subprocess, pointed at the devserver's
databases (the devserver prints their DATABASE_URL as `database`).

Named *_e2e: with no __init__.py in tests/, pytest imports test modules by basename, and
tests/api/test_reporting.py exists."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.e2e.support import (
    Account,
    assert_problem,
    balance,
    create_wallet,
    deposit,
    login,
    payment_ids,
    register,
    transfer,
    verified_users,
    withdraw,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
WAIT = 20.0
SETTLE = 1.5  # event delivery is settled when figures hold still this long (sweeper runs every 5 s)


def grant(http: httpx.Client, devserver, role: str) -> Account:
    """A new user given `role` by the devserver's admin, logged in again for a token with it."""
    admin = login(http, *devserver.admin)["access_token"]
    person = register(http, role)
    r = http.put(
        f"/api/auth/users/{person.id}/roles", json={"roles": [role]}, headers={"Authorization": f"Bearer {admin}"}
    )
    assert r.status_code == 200, r.text
    tokens = login(http, person.email, person.password)
    return Account(person.id, person.email, person.password, tokens["access_token"], tokens["refresh_token"])


def reports(http: httpx.Client, analyst: Account) -> dict:
    out = {}
    for path in ("/api/reports/summary", "/api/reports/kyc-funnel", "/api/reports/aml", "/api/reports/payments/daily"):
        r = http.get(path, headers=analyst.auth)
        assert r.status_code == 200, r.text
        out[path] = r.json()
    return out


def settled(http: httpx.Client, analyst: Account) -> dict:
    """Every report, once two reads SETTLE seconds apart agree (nothing in flight)."""
    deadline = time.monotonic() + WAIT
    last = reports(http, analyst)
    while True:
        time.sleep(SETTLE)
        now = reports(http, analyst)
        if now == last or time.monotonic() > deadline:
            return now
        last = now


def balances(summary: dict) -> dict[str, Decimal]:
    return {c: Decimal(f["balance"]) for c, f in summary["currencies"].items()}


def counts(summary: dict) -> dict[str, int]:
    return {c: f["payments"]["count"] for c, f in summary["currencies"].items()}


def database_url(devserver) -> str:
    """The devserver's DATABASE_URL, from the `database` line it prints once it is up."""
    deadline = time.monotonic() + 10
    while True:
        found = re.search(
            r"^\s*database\s+(\S+)\s+\(DATABASE_URL", devserver.log_path.read_text(errors="replace"), re.MULTILINE
        )
        if found:
            return found.group(1)
        assert time.monotonic() < deadline, "the devserver did not print its database"
        time.sleep(0.2)


def rebuild(devserver, *args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT_URL", "FINFLOW_", "OPENSEARCH_"))}
    env.update(
        {
            "DATABASE_URL": database_url(devserver),
            "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'layers/common/python'}",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
        }
    )
    done = subprocess.run(
        [sys.executable, "-m", "functions.reporting.rebuild", *args],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return json.loads(done.stdout)


def test_summary_balances_per_currency_follow_wallet_and_a_rebuild_gives_the_same_figures(http, devserver):
    analyst = grant(http, devserver, "analyst")
    ann, bob = verified_users(http, devserver, 2, tag="reporting")
    wallets = {
        (who.id, c): create_wallet(http, who, None if c == "USD" else c)["id"]
        for who in (ann, bob)
        for c in ("USD", "EUR", "JPY")
    }
    w = {(("ann" if uid == ann.id else "bob"), c): wid for (uid, c), wid in wallets.items()}
    before = settled(http, analyst)["/api/reports/summary"]

    topped = deposit(http, ann, w["ann", "USD"], "100.00")
    deposit(http, ann, w["ann", "EUR"], 50)
    deposit(http, ann, w["ann", "JPY"], 5000)
    deposit(http, bob, w["bob", "USD"], "20")
    paid = transfer(http, ann, w["ann", "USD"], w["bob", "USD"], "30.25")
    transfer(http, ann, w["ann", "EUR"], w["bob", "EUR"], "10.50")
    transfer(http, ann, w["ann", "JPY"], w["bob", "JPY"], 1200)
    withdraw(http, bob, w["bob", "USD"], "5.00")
    withdraw(http, bob, w["bob", "JPY"], 200)
    withdraw(http, ann, w["ann", "EUR"], "0.50")

    held = {
        c: sum(Decimal(balance(http, ann if who == "ann" else bob, w[who, c])) for who in ("ann", "bob"))
        for c in ("USD", "EUR", "JPY")
    }
    assert held == {"USD": Decimal("115.00"), "EUR": Decimal("49.50"), "JPY": Decimal("4800")}
    moved = {"USD": 4, "EUR": 3, "JPY": 3}
    deadline = time.monotonic() + WAIT
    while True:
        summary = http.get("/api/reports/summary", headers=analyst.auth).json()
        delta = {c: balances(summary).get(c, 0) - balances(before).get(c, 0) for c in held}
        made = {c: counts(summary).get(c, 0) - counts(before).get(c, 0) for c in held}
        if (delta, made) == (held, moved) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert delta == held, f"Reporting's balances moved {delta}; Wallet's by {held}"
    assert made == moved
    assert summary["currencies"]["JPY"]["balance"] == str(balances(summary)["JPY"])  # no decimals in yen

    # search: everything Ann's USD wallet took part in, and nothing else
    r = http.get("/api/reports/payments/search", params={"q": w["ann", "USD"], "limit": 100}, headers=analyst.auth)
    assert r.status_code == 200, r.text
    found = {p["id"]: p for p in r.json()["items"]}
    assert set(found) == {topped["id"], paid["id"]} and set(found) <= set(payment_ids(http, ann))
    assert (found[paid["id"]]["amount"], found[paid["id"]]["currency"]) == ("30.25", "USD")

    # the rebuild replays every producer's outbox into an emptied read model: same figures
    live = settled(http, analyst)
    result = rebuild(devserver)
    assert result["failed"] == 0 and result["events"] > 0
    assert result["figures"]["summary"] == live["/api/reports/summary"]
    assert reports(http, analyst) == live  # (shuffled rebuilds: tests/api/test_reporting.py)


def test_a_customer_is_refused_the_reports_and_compliance_sees_only_aml(http, devserver):
    person = register(http, "curious")
    for path in ("/api/reports/summary", "/api/reports/payments/search", "/api/reports/aml"):
        assert_problem(http.get(path, headers=person.auth), 403, "analyst")
    officer = grant(http, devserver, "compliance")
    assert http.get("/api/reports/aml", headers=officer.auth).status_code == 200
    assert_problem(http.get("/api/reports/kyc-funnel", headers=officer.auth), 403)
    health = httpx.get(f"{devserver.seed_url('reporting')}/health", timeout=10).json()
    assert health["service"] == "reporting-service"
    assert set(health["dependencies"]) == {"auth-service", "wallet-service", "payment-service", "kyc-service"}
    assert set(health["dependencies"].values()) <= {"healthy", "degraded", "unhealthy", "unreachable"}
