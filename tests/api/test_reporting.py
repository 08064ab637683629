"""Reporting through its consumer and the in-process gateway: events in as SQS batches,
reports out; the same events in any order, delivered any number of times, give the same
figures; the rebuild from the producers' outboxes ends with the live figures; who may read."""

from __future__ import annotations

import json
import random
from concurrent.futures import Future

import pytest

from tests.api.kyc_helpers import assert_problem, compliance_officer
from tests.api.reporting_helpers import (
    DAY1,
    DAY2,
    DAY3,
    P,
    U,
    W,
    deliver,
    empty_read_model,
    figures,
    history,
    search_all,
)
from tests.support import service_headers

ROUTES = [
    "/api/reports/summary",
    "/api/reports/payments/daily",
    "/api/reports/payments/search",
    "/api/reports/kyc-funnel",
    "/api/reports/aml",
]


class _Inline:
    def submit(self, fn, *args):
        future: Future = Future()
        future.set_result(fn(*args))
        return future


@pytest.fixture(autouse=True)
def fresh_read_model(api_env):
    empty_read_model()
    yield


_people: dict[str, object] = {}


def granted(gateway, customer, role: str):
    """One user per role for this module's tests (tokens last 30 minutes; users outlive a test)."""
    if role not in _people:
        _people[role] = compliance_officer(gateway, customer, role=role)
    return _people[role]


@pytest.fixture
def analyst(gateway, customer):
    return granted(gateway, customer, "analyst")


@pytest.fixture
def reported(gateway, analyst):
    deliver(history())
    return analyst


# --- the figures -------------------------------------------------------------------------------


def test_summary_counts_users_wallets_and_keeps_money_per_currency(gateway, reported):
    body = gateway.get("/api/reports/summary", headers=reported.headers).json()
    assert body["users"] == {"total": 5, "by_kyc_status": {"pending": 1, "submitted": 1, "verified": 2, "rejected": 1}}
    assert body["wallets"] == {
        "total": 5,
        "by_currency": {
            "EUR": {"active": 1, "frozen": 0, "closed": 0},
            "JPY": {"active": 1, "frozen": 0, "closed": 1},
            "USD": {"active": 2, "frozen": 0, "closed": 0},
        },
    }
    usd, eur, jpy = (body["currencies"][c] for c in ("USD", "EUR", "JPY"))
    # balances from postings: 100 + 50 in, 10 out, 25.50 moved between two USD wallets
    assert (usd["balance"], eur["balance"], jpy["balance"]) == ("140.00", "20.00", "4000")
    assert usd["payments"] == {"count": 4, "volume": "185.50"}
    assert usd["by_kind"] == {
        "deposit": {"count": 2, "volume": "150.00"},
        "transfer": {"count": 1, "volume": "25.50"},
        "withdrawal": {"count": 1, "volume": "10.00"},
    }
    assert usd["failed"] == {"count": 1, "volume": "1000.00"}
    assert jpy["payments"] == {"count": 3, "volume": "7000"} and jpy["failed"] == {"count": 0, "volume": "0"}
    assert eur["wallets"] == 1 and set(body["currencies"]) == {"USD", "EUR", "JPY"}


def test_daily_figures_per_currency_in_its_exponent(gateway, reported):
    r = gateway.get("/api/reports/payments/daily", params={"from": DAY1, "to": DAY3}, headers=reported.headers)
    body = r.json()
    assert (body["from"], body["to"], body["currency"]) == (DAY1, DAY3, None)
    assert body["days"] == [
        {"day": DAY1, "currency": "EUR", "count": 1, "volume": "20.00"},
        {"day": DAY1, "currency": "USD", "count": 2, "volume": "150.00"},
        {"day": DAY2, "currency": "JPY", "count": 2, "volume": "6000"},
        {"day": DAY2, "currency": "USD", "count": 1, "volume": "25.50"},
        {"day": DAY3, "currency": "JPY", "count": 1, "volume": "1000"},
        {"day": DAY3, "currency": "USD", "count": 1, "volume": "10.00"},
    ]
    assert body["totals"] == {
        "EUR": {"count": 1, "volume": "20.00"},
        "JPY": {"count": 3, "volume": "7000"},
        "USD": {"count": 4, "volume": "185.50"},
    }
    one = gateway.get(
        "/api/reports/payments/daily", params={"from": DAY2, "to": DAY2, "currency": "jpy"}, headers=reported.headers
    ).json()
    assert one["days"] == [{"day": DAY2, "currency": "JPY", "count": 2, "volume": "6000"}]
    assert one["currency"] == "JPY"


def test_search_by_words_ids_currency_amounts_and_days(gateway, reported):
    def ids(**params):
        return search_all(gateway, reported.headers, params)["pages"]

    assert ids(q="rent MARCH") == [[P["rent"]]]
    # either party, newest first
    assert ids(q=U["eve"]) == [[P["yen_out"], P["atm"], P["yen"], P["rent"], P["dep_eve"]]]
    assert ids(q=W["eve_jpy"]) == [[P["yen_out"], P["yen"]]]
    assert ids(currency="USD", min_amount="25.5", max_amount="100.00") == [[P["rent"], P["dep_eve"], P["dep_ann"]]]
    assert ids(**{"from": DAY3, "to": DAY3, "limit": "2"}) == [[P["too_much"], P["yen_out"]], [P["atm"]]]
    result = search_all(gateway, reported.headers, {"currency": "JPY"})
    assert result["totals"] == {"JPY": {"count": 3, "volume": "7000"}}
    yen = next(p for p in result["items"] if p["id"] == P["yen"])
    assert yen | {"at": None} == {
        "id": P["yen"],
        "status": "completed",
        "kind": "transfer",
        "amount": "1000",
        "currency": "JPY",
        "from_wallet_id": W["ann_jpy"],
        "to_wallet_id": W["eve_jpy"],
        "from_user_id": U["ann"],
        "to_user_id": U["eve"],
        "description": "Sushi dinner",
        "failure_reason": None,
        "at": None,
    }
    failed = search_all(gateway, reported.headers, {"q": P["too_much"]})["items"]
    assert [(p["status"], p["failure_reason"], p["amount"]) for p in failed] == [
        ("failed", "insufficient-funds", "1000.00")
    ]


def test_kyc_funnel_and_aml_by_rule_and_status(gateway, reported):
    funnel = gateway.get("/api/reports/kyc-funnel", headers=reported.headers).json()
    assert funnel == {
        "users": {"registered": 5, "submitted": 4, "verified": 2, "rejected": 1},
        "submissions": {"submitted": 5, "verified": 2, "rejected": 2, "awaiting_decision": 1},
    }
    aml = gateway.get("/api/reports/aml", headers=reported.headers).json()
    assert aml["total"] == 3 and aml["by_status"] == {"open": 3}
    assert aml["by_rule"]["large_payment"] == {
        "total": 1,
        "by_status": {"open": 1},
        "by_severity": {"high": 1},
        "wallet_freezes": 1,
        "amounts": {"USD": "100.00"},
    }
    assert set(aml["by_rule"]) == {"large_payment", "velocity", "rapid_in_out"}


# --- order and duplicates never change a figure -------------------------------------------------


def test_any_order_and_redelivery_give_identical_figures(gateway, analyst):
    events = history()
    outputs = []
    deliver(events)
    outputs.append(figures(gateway, analyst.headers))
    empty_read_model()
    deliver(events[::-1])
    outputs.append(figures(gateway, analyst.headers))
    empty_read_model()
    shuffled = events + random.Random(7).sample(events, len(events) // 2)  # duplicates: the same event ids
    random.Random(11).shuffle(shuffled)
    deliver(shuffled, batch=7)
    deliver(random.Random(3).sample(events, 10))  # redelivered later, in another batch
    outputs.append(figures(gateway, analyst.headers))
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0]["/api/reports/summary?[]"]["currencies"]["USD"]["balance"] == "140.00"


def test_a_status_change_before_its_wallet_and_a_payment_before_both(gateway, analyst):
    def find(detail_type, **data):
        return next(
            e for e in history() if e["detail-type"] == detail_type and data.items() <= e["detail"]["data"].items()
        )

    frozen = find("WalletStatusChanged", wallet_id=W["ann_usd"], status="frozen")  # its later "active" left out
    deliver([find("PaymentCompleted", payment_id=P["dep_ann"])])  # no wallet event yet
    summary = gateway.get("/api/reports/summary", headers=analyst.headers).json()
    assert summary["wallets"]["by_currency"]["USD"]["unknown"] == 1
    assert summary["currencies"]["USD"]["balance"] == "100.00"
    deliver([frozen, find("WalletCreated", wallet_id=W["ann_usd"])])  # created arrives after the newer freeze
    summary = gateway.get("/api/reports/summary", headers=analyst.headers).json()
    assert summary["wallets"]["by_currency"]["USD"] == {"active": 0, "frozen": 1, "closed": 0}
    assert summary["currencies"]["USD"]["balance"] == "100.00"


def test_an_older_kyc_status_change_arriving_late_is_ignored(gateway, analyst):
    eve = [
        e
        for e in history()
        if e["detail"]["data"].get("user_id") == U["eve"] and e["detail-type"] == "UserKycStatusChanged"
    ]
    verified, rejected = sorted(eve, key=lambda e: e["detail"]["data"]["kyc_status"] == "rejected")
    deliver([verified, rejected])
    body = gateway.get("/api/reports/summary", headers=analyst.headers).json()
    assert body["users"]["by_kyc_status"]["verified"] == 1 and body["users"]["by_kyc_status"]["rejected"] == 0


def test_a_malformed_event_fails_only_its_own_record(gateway, analyst):
    from devserver.lambda_runtime import LambdaContext
    from functions.reporting.events import handler
    from tests.support import envelope, sqs_batch

    good = history()[0]
    bad = envelope("finflow.payment", "PaymentCompleted", {"payment_id": "x", "amount_minor": "lots"})
    result = handler(sqs_batch(good, bad), LambdaContext("reporting-events"))
    assert result["batchItemFailures"] == [{"itemIdentifier": "m1"}]
    assert gateway.get("/api/reports/summary", headers=analyst.headers).json()["users"]["total"] == 1


# --- rebuild from the producers' outboxes ----------------------------------------------------------


def test_rebuild_from_outboxes_ends_with_the_live_figures(gateway, analyst, verified_customer, capsys):
    from functions.reporting import rebuild

    a, b = verified_customer(), verified_customer()
    wa = gateway.post("/api/v2/wallet/create", json={"currency": "EUR"}, headers=a.headers).json()
    wb = gateway.post("/api/v2/wallet/create", json={"currency": "EUR"}, headers=b.headers).json()
    for path, body in [
        ("/api/payment/deposit", {"wallet_id": wa["id"], "amount": "70.00"}),
        (
            "/api/payment/transfer",
            {"from_wallet_id": wa["id"], "to_wallet_id": wb["id"], "amount": "12.34", "description": "rebuild check"},
        ),
        ("/api/payment/withdraw", {"wallet_id": wb["id"], "amount": "2.34"}),
    ]:
        assert (
            gateway.post(
                path,
                json=body,
                headers=a.headers if "from" in str(body) or body.get("wallet_id") == wa["id"] else b.headers,
            ).status_code
            == 201
        )
    # live: every outbox event, newest first, in SQS batches
    live = [e for e in rebuild.outbox_events()][::-1]
    deliver(
        [
            {
                "source": e.source,
                "detail-type": e.detail_type,
                "detail": {
                    "event_id": e.event_id,
                    "occurred_at": e.occurred_at,
                    "version": e.version,
                    "correlation_id": e.correlation_id,
                    "data": e.data,
                },
            }
            for e in live
        ]
    )
    expected = figures(gateway, analyst.headers)
    found = search_all(gateway, analyst.headers, {"q": "rebuild check"})["items"]
    assert [(p["amount"], p["currency"]) for p in found] == [("12.34", "EUR")]
    assert rebuild.main([]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["failed"] == 0 and report["applied"] == len(live)
    assert report["figures"]["summary"] == expected["/api/reports/summary?[]"]
    assert figures(gateway, analyst.headers) == expected
    assert rebuild.main(["--order", "shuffled", "--seed", "5"]) == 0
    assert figures(gateway, analyst.headers) == expected


# --- who may read, and bad parameters ----------------------------------------------------------------


@pytest.mark.parametrize("path", ROUTES)
def test_customers_and_services_are_refused_every_report(gateway, customer, path):
    assert_problem(gateway.get(path, headers=customer().headers), 403)
    assert_problem(gateway.get(path, headers=service_headers("notification")), 403)
    assert gateway.get(path).status_code == 401


def test_analysts_and_admins_read_every_report_compliance_only_aml(gateway, customer, analyst):
    officer, admin = granted(gateway, customer, "compliance"), granted(gateway, customer, "admin")
    for path in ROUTES:
        assert gateway.get(path, headers=analyst.headers).status_code == 200, path
        assert gateway.get(path, headers=admin.headers).status_code == 200, path
        expected = 200 if path.endswith("/aml") else 403
        assert gateway.get(path, headers=officer.headers).status_code == expected, path


@pytest.mark.parametrize(
    "path, params, words",
    [
        ("daily", {"from": "2026-13-01"}, "from: expected a date"),
        ("daily", {"to": "yesterday"}, "to: expected a date"),
        ("daily", {"from": "2026-02-30"}, "from: expected a date"),
        ("daily", {"from": "2026-03-01", "to": "2026-02-01"}, "is after to"),
        ("daily", {"from": "2024-01-01", "to": "2026-01-01"}, "at most 366"),
        ("daily", {"currency": "XYZ"}, "currency: unknown currency"),
        ("daily", {"to": "9999-12-31"}, "out of range"),
        ("search", {"currency": "ABC"}, "currency: unknown currency"),
        ("search", {"min_amount": "10"}, "min_amount needs currency"),
        ("search", {"currency": "JPY", "min_amount": "10.5"}, "min_amount: amount has more decimals"),
        ("search", {"currency": "USD", "max_amount": "abc"}, "max_amount: amount must be a number"),
        ("search", {"currency": "USD", "min_amount": "-1"}, "greater than zero"),
        ("search", {"currency": "USD", "max_amount": "1e9999"}, "max_amount"),
        ("search", {"currency": "USD", "min_amount": "20", "max_amount": "10"}, "more than max_amount"),
        ("search", {"from": "2026-01-05", "to": "2026-01-01"}, "is after to"),
        ("search", {"q": "x" * 201}, "longer than 200"),
        ("search", {"limit": "0"}, "limit must be"),
        ("search", {"limit": "1000000000000"}, "limit must be"),
        ("search", {"cursor": "bm90LWEtY3Vyc29y"}, "cursor is not valid"),
        ("search", {"cursor": "WzEsMl0"}, "cursor is not valid"),  # [1, 2]
    ],
)
def test_bad_parameters_are_422_problems(gateway, analyst, path, params, words):
    r = gateway.get(f"/api/reports/payments/{path}", params=params, headers=analyst.headers)
    body = assert_problem(r, 422)
    assert words in body["detail"], body


# --- health --------------------------------------------------------------------------------------------


def test_health_reports_each_upstream_module(gateway, monkeypatch):
    from functions.reporting import freshness

    monkeypatch.setattr(freshness, "_pool", _Inline())  # one invocation at a time in-process
    body = gateway.get("/api/reporting/health").json()
    assert body["service"] == "reporting-service"
    assert body["dependencies"] == {
        "auth-service": "healthy",
        "wallet-service": "healthy",
        "payment-service": "healthy",
        "kyc-service": "healthy",
    }
    assert body["status"] == "healthy"
    assert body["cascade_info"]["direct_dependency"] == "none"
    gateway.functions["wallet.api"].enabled = False
    try:
        body = gateway.get("/api/reporting/health").json()
    finally:
        gateway.functions["wallet.api"].enabled = True
    assert body["status"] == "degraded" and body["dependencies"]["wallet-service"] != "healthy"
    assert gateway.get("/api/reporting/health?shallow=true").json()["dependencies"] == {}
