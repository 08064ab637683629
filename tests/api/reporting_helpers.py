"""Helpers for Reporting's api tests: a fixed history of events covering every event type
Reporting reads (with the out-of-order traps the read model must survive), delivery to its
consumer as SQS batches, and every report's output for comparison."""

from __future__ import annotations

import uuid

import httpx

from tests.support import envelope, sqs_batch

U = {k: str(uuid.UUID(int=0x1000 + i)) for i, k in enumerate(("ann", "bob", "cid", "dee", "eve"))}
W = {k: str(uuid.UUID(int=0x2000 + i)) for i, k in enumerate(("ann_usd", "ann_eur", "ann_jpy", "eve_usd", "eve_jpy"))}
S = {k: str(uuid.UUID(int=0x3000 + i)) for i, k in enumerate(("ann", "bob", "cid", "eve1", "eve2"))}
P = {
    k: str(uuid.UUID(int=0x4000 + i))
    for i, k in enumerate(("dep_ann", "dep_eve", "dep_eur", "dep_jpy", "rent", "yen", "atm", "yen_out", "too_much"))
}
ALERT = {k: str(uuid.UUID(int=0x5000 + i)) for i, k in enumerate(("large", "velocity", "rapid"))}
DAY1, DAY2, DAY3 = "2026-01-01", "2026-01-02", "2026-01-03"


def at(day: str, clock: str) -> str:
    return f"{day}T{clock}+00:00"


def _ev(source: str, detail_type: str, when: str, data: dict) -> dict:
    return envelope(f"finflow.{source}", detail_type, data, event_id=str(uuid.uuid4()), occurred_at=when)


def _user(key: str, when: str) -> dict:
    return _ev(
        "auth",
        "UserRegistered",
        when,
        {
            "id": U[key],
            "email": f"{key}@example.com",
            "name": key.title(),
            "kyc_status": "pending",
            "roles": ["customer"],
            "created_at": when,
        },
    )


def _kyc(key: str, status: str, when: str, previous: str = "pending") -> dict:
    return _ev(
        "auth",
        "UserKycStatusChanged",
        when,
        {"user_id": U[key], "kyc_status": status, "previous_status": previous, "changed_at": when},
    )


def _submitted(sub: str, user: str, when: str) -> dict:
    return _ev(
        "kyc",
        "KycSubmitted",
        when,
        {"submission_id": S[sub], "user_id": U[user], "document_type": "passport", "submitted_at": when},
    )


def _decided(sub: str | None, user: str, status: str, when: str) -> dict:
    return _ev(
        "kyc",
        "KycDecisionMade",
        when,
        {"submission_id": S[sub] if sub else None, "user_id": U[user], "status": status, "decided_at": when},
    )


def _wallet(key: str, user: str, currency: str, when: str) -> dict:
    return _ev(
        "wallet",
        "WalletCreated",
        when,
        {"wallet_id": W[key], "user_id": U[user], "currency": currency, "status": "active", "created_at": when},
    )


def _status(key: str, user: str, currency: str, status: str, previous: str, when: str) -> dict:
    return _ev(
        "wallet",
        "WalletStatusChanged",
        when,
        {
            "wallet_id": W[key],
            "user_id": U[user],
            "currency": currency,
            "status": status,
            "previous_status": previous,
            "actor_id": U[user],
            "actor_role": "owner",
            "reason": None,
            "changed_at": when,
        },
    )


def _paid(
    pay: str,
    kind: str,
    amount: str,
    minor: int,
    currency: str,
    when: str,
    source: str | None = None,
    target: str | None = None,
    description: str | None = None,
) -> dict:
    owner = {
        w: u
        for w, u in (("ann_usd", "ann"), ("ann_eur", "ann"), ("ann_jpy", "ann"), ("eve_usd", "eve"), ("eve_jpy", "eve"))
    }
    return _ev(
        "payment",
        "PaymentCompleted",
        when,
        {
            "payment_id": P[pay],
            "kind": kind,
            "from_wallet_id": W[source] if source else None,
            "to_wallet_id": W[target] if target else None,
            "from_user_id": U[owner[source]] if source else None,
            "to_user_id": U[owner[target]] if target else None,
            "amount": amount,
            "amount_minor": minor,
            "currency": currency,
            "description": description,
            "completed_at": when,
        },
    )


def _alert(
    key: str,
    rule: str,
    severity: str,
    pay: str,
    wallet: str,
    user: str,
    currency: str,
    amount: str,
    minor: int,
    when: str,
) -> dict:
    return _ev(
        "kyc",
        "AmlAlertRaised",
        when,
        {
            "alert_id": ALERT[key],
            "rule": rule,
            "severity": severity,
            "payment_id": P[pay],
            "wallet_id": W[wallet],
            "user_id": U[user],
            "currency": currency,
            "amount": amount,
            "amount_minor": minor,
            "reason": f"{rule} hit",
            "evidence": {},
            "freezes_wallet": severity == "high",
            "created_at": when,
        },
    )


def history() -> list[dict]:
    """A fixed history, oldest first (fresh event ids on every call)."""
    return [
        _user("ann", at(DAY1, "08:00:00")),
        _user("bob", at(DAY1, "08:01:00")),
        _user("cid", at(DAY1, "08:02:00")),
        _user("dee", at(DAY1, "08:03:00")),
        _user("eve", at(DAY1, "08:04:00")),
        _submitted("ann", "ann", at(DAY1, "09:00:00")),
        _decided("ann", "ann", "verified", at(DAY1, "09:00:01")),
        _kyc("ann", "verified", at(DAY1, "09:00:01")),
        _submitted("bob", "bob", at(DAY1, "09:10:00")),
        _decided("bob", "bob", "rejected", at(DAY1, "09:10:01")),
        _kyc("bob", "rejected", at(DAY1, "09:10:01")),
        _submitted("cid", "cid", at(DAY1, "09:20:00")),  # awaiting a decision
        # eve: rejected, submits again, verified; the stale "rejected" must never win
        _submitted("eve1", "eve", at(DAY1, "09:30:00")),
        _decided("eve1", "eve", "rejected", at(DAY1, "09:30:01")),
        _kyc("eve", "rejected", at(DAY1, "09:30:01")),
        _submitted("eve2", "eve", at(DAY1, "09:40:00")),
        _decided("eve2", "eve", "verified", at(DAY1, "09:40:01")),
        _kyc("eve", "verified", at(DAY1, "09:40:01"), previous="rejected"),
        _decided(None, "dee", "verified", at(DAY1, "09:50:00")),  # no submission: placed nowhere
        _wallet("ann_usd", "ann", "USD", at(DAY1, "10:00:00")),
        _wallet("ann_eur", "ann", "EUR", at(DAY1, "10:00:01")),
        _wallet("ann_jpy", "ann", "JPY", at(DAY1, "10:00:02")),
        _wallet("eve_usd", "eve", "USD", at(DAY1, "10:00:03")),
        _wallet("eve_jpy", "eve", "JPY", at(DAY1, "10:00:04")),
        _paid(
            "dep_ann",
            "deposit",
            "100.00",
            10000,
            "USD",
            at(DAY1, "11:00:00"),
            target="ann_usd",
            description="Salary January",
        ),
        _paid("dep_eve", "deposit", "50.00", 5000, "USD", at(DAY1, "11:05:00"), target="eve_usd"),
        _paid("dep_eur", "deposit", "20.00", 2000, "EUR", at(DAY1, "11:10:00"), target="ann_eur"),
        _paid(
            "dep_jpy", "deposit", "5000", 5000, "JPY", at(DAY2, "08:00:00"), target="ann_jpy", description="Yen top-up"
        ),
        _paid(
            "rent",
            "transfer",
            "25.50",
            2550,
            "USD",
            at(DAY2, "09:00:00"),
            source="ann_usd",
            target="eve_usd",
            description="Rent for March",
        ),
        _alert(
            "large", "large_payment", "high", "dep_ann", "ann_usd", "ann", "USD", "100.00", 10000, at(DAY2, "09:00:05")
        ),
        _status("ann_usd", "ann", "USD", "frozen", "active", at(DAY2, "09:00:06")),
        _status("ann_usd", "ann", "USD", "active", "frozen", at(DAY2, "12:00:00")),
        _paid(
            "yen",
            "transfer",
            "1000",
            1000,
            "JPY",
            at(DAY2, "13:00:00"),
            source="ann_jpy",
            target="eve_jpy",
            description="Sushi dinner",
        ),
        _alert("velocity", "velocity", "medium", "yen", "ann_jpy", "ann", "JPY", "1000", 1000, at(DAY2, "13:00:01")),
        _paid(
            "atm", "withdrawal", "10.00", 1000, "USD", at(DAY3, "10:00:00"), source="eve_usd", description="ATM cash"
        ),
        _paid("yen_out", "withdrawal", "1000", 1000, "JPY", at(DAY3, "11:00:00"), source="eve_jpy"),
        _alert("rapid", "rapid_in_out", "high", "yen_out", "eve_jpy", "eve", "JPY", "1000", 1000, at(DAY3, "11:00:01")),
        _status("eve_jpy", "eve", "JPY", "closed", "active", at(DAY3, "12:00:00")),
        _ev(
            "payment",
            "PaymentFailed",
            at(DAY3, "13:00:00"),
            {
                "payment_id": P["too_much"],
                "kind": "withdrawal",
                "from_wallet_id": W["ann_usd"],
                "to_wallet_id": None,
                "amount": "1000.00",
                "amount_minor": 100000,
                "currency": "USD",
                "reason": "insufficient-funds",
                "failed_at": at(DAY3, "13:00:00"),
            },
        ),
    ]


def deliver(envelopes: list[dict], batch: int = 10) -> None:
    """To Reporting's consumer as SQS would: batches of up to 10; every record must succeed."""
    from devserver.lambda_runtime import LambdaContext
    from functions.reporting.events import handler

    for i in range(0, len(envelopes), batch):
        result = handler(sqs_batch(*envelopes[i : i + batch]), LambdaContext("reporting-events"))
        assert result["batchItemFailures"] == [], result


def empty_read_model() -> None:
    from finflow.db import engine
    from functions.reporting.rebuild import empty_read_model as truncate

    with engine("reporting").begin() as conn:
        truncate(conn)


SEARCHES = [
    {},
    {"limit": "2"},
    {"q": "rent"},
    {"q": "RENT march"},
    {"q": "march rent for"},
    {"q": "dinner"},
    {"q": U["eve"]},
    {"q": W["ann_usd"]},
    {"q": P["yen"]},
    {"currency": "usd"},
    {"currency": "JPY", "min_amount": "1000"},
    {"currency": "USD", "min_amount": "25.50", "max_amount": "100"},
    {"from": DAY2, "to": DAY2},
    {"from": DAY3},
    {"to": DAY1, "currency": "EUR"},
    {"q": "nothing-matches-this"},
]


def figures(gw: httpx.Client, headers: dict) -> dict:
    """Every report's output (search: every page followed)."""
    out = {}
    for path, params in [
        ("/api/reports/summary", {}),
        ("/api/reports/kyc-funnel", {}),
        ("/api/reports/aml", {}),
        ("/api/reports/payments/daily", {"from": DAY1, "to": DAY3}),
        ("/api/reports/payments/daily", {"from": DAY1, "to": DAY3, "currency": "JPY"}),
    ]:
        r = gw.get(path, params=params, headers=headers)
        assert r.status_code == 200, r.text
        out[f"{path}?{sorted(params.items())}"] = r.json()
    for params in SEARCHES:
        out[f"search?{sorted(params.items())}"] = search_all(gw, headers, params)
    return out


def search_all(gw: httpx.Client, headers: dict, params: dict) -> dict:
    pages, items, cursor = [], [], None
    while True:
        r = gw.get(
            "/api/reports/payments/search", params=params | ({"cursor": cursor} if cursor else {}), headers=headers
        )
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append([p["id"] for p in body["items"]])
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return {"pages": pages, "totals": body["totals"], "items": items}
