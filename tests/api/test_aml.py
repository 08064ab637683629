"""AML monitoring: KYC's consumer (functions.kyc.events.handler) invoked with SQS batches of
PaymentCompleted envelopes, alerts read and resolved through the in-process gateway, and
the E -> B -> C cascade: a high-severity alert freezes the wallet, and Payment refuses
transfers from it until compliance lifts the freeze."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from devserver.lambda_runtime import LambdaContext
from tests.api import payment_helpers as pay
from tests.api.kyc_helpers import assert_problem, compliance_officer, kyc_outbox
from tests.support import envelope, sqs_batch


@pytest.fixture
def officer(gateway, customer):
    return compliance_officer(gateway, customer)


def consume(*envelopes: dict) -> dict:
    from functions.kyc.events import handler

    return handler(sqs_batch(*envelopes), LambdaContext("kyc-events"))


def completed(
    amount_minor: int,
    *,
    kind: str = "transfer",
    src: str | None = None,
    dst: str | None = None,
    src_user: str | None = None,
    dst_user: str | None = None,
    currency: str = "USD",
    at: datetime | None = None,
    payment_id: str | None = None,
    event_id: str | None = None,
) -> dict:
    """A PaymentCompleted envelope as Payment publishes it (contracts.PaymentCompleted)."""
    from finflow import contracts, money

    if kind != "deposit":
        src = src or str(uuid.uuid4())
    if kind != "withdrawal":
        dst = dst or str(uuid.uuid4())
    data = contracts.PaymentCompleted(
        payment_id=payment_id or str(uuid.uuid4()),
        kind=kind,
        from_wallet_id=src,
        to_wallet_id=dst,
        from_user_id=src_user or (str(uuid.uuid4()) if src else None),
        to_user_id=dst_user or (str(uuid.uuid4()) if dst else None),
        amount=money.to_decimal_string(amount_minor, currency),
        amount_minor=amount_minor,
        currency=currency,
        completed_at=at or datetime.now(UTC),
    ).model_dump(mode="json")
    return envelope("finflow.payment", "PaymentCompleted", data, event_id=event_id)


def alerts_of(wallet_id: str) -> list:
    from finflow.db import engine

    with engine("kyc").connect() as conn:
        return list(
            conn.execute(
                text("SELECT *, id::text AS id FROM alerts WHERE wallet_id = :w ORDER BY created_at"), {"w": wallet_id}
            )
        )


def alert_view(gateway, officer, alert_id: str) -> dict:
    r = gateway.get(f"/api/aml/alerts/{alert_id}", headers=officer.headers)
    assert r.status_code == 200, r.text
    return r.json()


def raised_events(wallet_id: str) -> list[dict]:
    return [e for e in kyc_outbox(wallet_id=wallet_id) if e["detail_type"] == "AmlAlertRaised"]


def test_a_payment_over_the_threshold_raises_an_alert_visible_to_compliance(gateway, officer):
    wallet = str(uuid.uuid4())
    env = completed(12_345_67, src=wallet)
    assert consume(env) == {"batchItemFailures": []}
    (row,) = alerts_of(wallet)
    alert = alert_view(gateway, officer, row.id)
    assert (alert["rule"], alert["severity"], alert["status"], alert["freeze"]) == (
        "large_payment",
        "medium",
        "open",
        None,
    )
    assert (alert["amount"], alert["currency"], alert["payment_id"]) == (
        "12345.67",
        "USD",
        env["detail"]["data"]["payment_id"],
    )
    assert alert["user_id"] == env["detail"]["data"]["from_user_id"]
    assert alert["evidence"]["payments"][0]["amount"] == "12345.67"
    assert alert["evidence"]["threshold"] == "10000.00"

    listed, cursor = [], None
    while True:
        page = gateway.get(
            "/api/aml/alerts",
            params={"status": "open", "limit": 100} | ({"cursor": cursor} if cursor else {}),
            headers=officer.headers,
        ).json()
        listed += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert row.id in [a["id"] for a in listed] and all(a["status"] == "open" for a in listed)

    (event,) = raised_events(wallet)
    assert event["data"]["alert_id"] == row.id and event["data"]["freezes_wallet"] is False
    assert (event["data"]["rule"], event["data"]["severity"], event["data"]["amount"]) == (
        "large_payment",
        "medium",
        "12345.67",
    )


def test_under_the_threshold_and_in_other_currencies_nothing_is_raised(gateway):
    wallet = str(uuid.uuid4())
    assert consume(
        completed(9_999_99, src=wallet),
        completed(1_400_000, src=wallet, currency="JPY"),
        completed(10**10, src=wallet, currency="SEK"),
    ) == {"batchItemFailures": []}
    assert alerts_of(wallet) == []


def test_velocity_eleven_payments_out_within_an_hour_raise_one_alert(gateway):
    wallet = str(uuid.uuid4())
    start = datetime.now(UTC) - timedelta(minutes=50)
    burst = [completed(5_00, src=wallet, at=start + timedelta(minutes=4 * i)) for i in range(12)]
    assert consume(*burst[:6]) == {"batchItemFailures": []}
    assert consume(*burst[6:]) == {"batchItemFailures": []}
    (row,) = alerts_of(wallet)
    assert (row.rule, row.severity, row.payment_id) == ("velocity", "low", burst[10]["detail"]["data"]["payment_id"])
    assert row.evidence["count"] == 11 and row.evidence["total"] == "55.00"


def test_structuring_is_high_and_freezes_the_wallet(gateway):
    owner = pay.customer(gateway)
    wallet = pay.funded_wallet(gateway, owner, "30000.00")
    start = datetime.now(UTC) - timedelta(hours=20)
    envs = [
        completed(amount, src=wallet, src_user=owner.id, at=start + timedelta(hours=h))
        for amount, h in ((9_500_00, 0), (9_100_00, 8), (9_900_00, 16))
    ]
    assert consume(*envs) == {"batchItemFailures": []}
    (row,) = alerts_of(wallet)
    assert (row.rule, row.severity, row.freeze_state) == ("structuring", "high", "frozen")
    assert [p["amount"] for p in row.evidence["payments"]] == ["9500.00", "9100.00", "9900.00"]
    assert gateway.get(f"/api/wallet/{wallet}", headers=owner.headers).json()["status"] == "frozen"


def test_rapid_in_and_out_of_a_new_wallet(gateway):
    owner = pay.customer(gateway)
    wallet = pay.wallet(gateway, owner)  # created just now: Wallet says so to svc:kyc
    now = datetime.now(UTC)
    envs = [
        completed(3_000_00, kind="deposit", dst=wallet, dst_user=owner.id, at=now - timedelta(minutes=30)),
        completed(1_000_00, src=wallet, src_user=owner.id, at=now - timedelta(minutes=20)),
        completed(1_500_00, src=wallet, src_user=owner.id, at=now - timedelta(minutes=10)),
    ]
    assert consume(*envs) == {"batchItemFailures": []}
    (row,) = alerts_of(wallet)
    assert (row.rule, row.severity, row.freeze_state) == ("rapid_in_out", "medium", None)
    assert (row.evidence["received"], row.evidence["sent"]) == ("3000.00", "2500.00")


def test_duplicates_raise_nothing_twice(gateway):
    wallet = str(uuid.uuid4())
    env = completed(20_000_00, src=wallet)
    again = dict(env, detail=dict(env["detail"], event_id=str(uuid.uuid4())))  # republished: new event id
    assert consume(env, env) == {"batchItemFailures": []}
    assert consume(env, again) == {"batchItemFailures": []}
    assert len(alerts_of(wallet)) == 1 and len(raised_events(wallet)) == 1


def test_a_malformed_record_fails_alone(gateway):
    wallet = str(uuid.uuid4())
    bad = envelope("finflow.payment", "PaymentCompleted", {"payment_id": "x"})
    result = consume(bad, completed(15_000_00, src=wallet))
    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert len(alerts_of(wallet)) == 1


# --- the cascade: E freezes, B refuses, C fails -------------------------------------------------


def _payment_completed_envelope(payment_id: str) -> dict:
    """The PaymentCompleted Payment itself wrote to its outbox, as the bus delivers it."""
    (event,) = [e for e in pay.outbox_events(payment_id) if e["detail_type"] == "PaymentCompleted"]
    detail = {k: v for k, v in event.items() if k != "detail_type"}
    return envelope(
        "finflow.payment",
        "PaymentCompleted",
        detail["data"],
        event_id=detail["event_id"],
        occurred_at=detail["occurred_at"],
    )


def test_a_high_severity_alert_freezes_the_wallet_and_payment_refuses_it_until_compliance_lifts_it(gateway, officer):
    sender, receiver = pay.customer(gateway), pay.customer(gateway)
    source = pay.funded_wallet(gateway, sender, "60000.00")
    destination = pay.wallet(gateway, receiver)
    big = pay.transfer(gateway, sender, source, destination, "55000.00")
    assert big.status_code == 201, big.text

    assert consume(_payment_completed_envelope(big.json()["id"])) == {"batchItemFailures": []}
    alerts = {a.rule: a for a in alerts_of(source)}
    large = alerts["large_payment"]
    assert (large.severity, large.freeze_state, large.user_id) == ("high", "frozen", sender.id)
    wallet = gateway.get(f"/api/wallet/{source}", headers=sender.headers).json()
    assert wallet["status"] == "frozen"
    pay.assert_problem(pay.transfer(gateway, sender, source, destination, "1.00"), 400, "Source wallet is frozen")
    # the owner cannot lift a compliance freeze
    assert (
        gateway.put(f"/api/wallet/{source}/status", json={"status": "active"}, headers=sender.headers).status_code
        == 403
    )

    r = gateway.post(
        f"/api/aml/alerts/{large.id}/resolve",
        json={"resolution": "source of funds documented", "unfreeze": True},
        headers=officer.headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["freeze"], r.json()["resolved_by"]) == ("resolved", "lifted", officer.id)
    assert gateway.get(f"/api/wallet/{source}", headers=sender.headers).json()["status"] == "active"
    assert pay.transfer(gateway, sender, source, destination, "1.00").status_code == 201
    assert_problem(
        gateway.post(f"/api/aml/alerts/{large.id}/resolve", json={"resolution": "again"}, headers=officer.headers),
        409,
        "AML alert is already resolved",
    )


def test_wallet_down_while_freezing_the_record_is_retried_and_only_the_freeze_completes(gateway, officer):
    owner = pay.customer(gateway)
    wallet = pay.funded_wallet(gateway, owner, "10.00")
    env = completed(75_000_00, src=wallet, src_user=owner.id)

    gateway.functions["wallet.api"].enabled = False
    try:  # (a batch whose every record fails is one failure to Powertools: keep one that succeeds)
        assert consume(env, completed(1_00)) == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    finally:
        gateway.functions["wallet.api"].enabled = True
    (row,) = alerts_of(wallet)
    assert row.freeze_state == "pending"
    assert gateway.get(f"/api/wallet/{wallet}", headers=owner.headers).json()["status"] == "active"

    assert consume(env) == {"batchItemFailures": []}  # SQS redelivers the same record
    (row,) = alerts_of(wallet)
    assert row.freeze_state == "frozen" and row.frozen_at is not None
    assert len(raised_events(wallet)) == 1
    assert gateway.get(f"/api/wallet/{wallet}", headers=owner.headers).json()["status"] == "frozen"


def test_resolving_with_unfreeze_while_wallet_is_down_is_503_and_changes_nothing(gateway, officer):
    owner = pay.customer(gateway)
    wallet = pay.funded_wallet(gateway, owner, "10.00")
    assert consume(completed(60_000_00, src=wallet, src_user=owner.id)) == {"batchItemFailures": []}
    (row,) = alerts_of(wallet)
    gateway.functions["wallet.api"].enabled = False
    try:
        assert_problem(
            gateway.post(
                f"/api/aml/alerts/{row.id}/resolve",
                json={"resolution": "ok", "unfreeze": True},
                headers=officer.headers,
            ),
            503,
            "Wallet service unavailable; the alert stays open",
        )
    finally:
        gateway.functions["wallet.api"].enabled = True
    assert alert_view(gateway, officer, row.id)["status"] == "open"
    assert gateway.get(f"/api/wallet/{wallet}", headers=owner.headers).json()["status"] == "frozen"


def test_unfreeze_lifts_only_a_freeze_this_alert_made_and_no_other_alerts(gateway, officer):
    owner = pay.customer(gateway)
    wallet = pay.funded_wallet(gateway, owner, "10.00")
    assert consume(
        completed(12_000_00, src=wallet, src_user=owner.id),
        completed(80_000_00, src=wallet, src_user=owner.id),
        completed(90_000_00, src=wallet, src_user=owner.id),
    ) == {"batchItemFailures": []}
    (velocity,) = [a for a in alerts_of(wallet) if a.rule == "velocity"]  # 12,000 + 80,000 within an hour
    assert velocity.severity == "medium" and velocity.freeze_state is None
    medium, first_high, second_high = sorted(
        (a for a in alerts_of(wallet) if a.rule == "large_payment"), key=lambda a: a.amount_minor
    )
    assert (medium.freeze_state, first_high.freeze_state, second_high.freeze_state) == (None, "frozen", "frozen")

    assert_problem(
        gateway.post(
            f"/api/aml/alerts/{medium.id}/resolve", json={"resolution": "x", "unfreeze": True}, headers=officer.headers
        ),
        409,
        f"AML alert {medium.id} did not freeze wallet {wallet}: nothing to unfreeze",
    )
    assert_problem(
        gateway.post(
            f"/api/aml/alerts/{first_high.id}/resolve",
            json={"resolution": "x", "unfreeze": True},
            headers=officer.headers,
        ),
        409,
        f"Wallet {wallet} is also frozen by open AML alert {second_high.id}; resolve that alert first",
    )
    kept = gateway.post(
        f"/api/aml/alerts/{second_high.id}/resolve",
        json={"resolution": "escalated to the FIU"},
        headers=officer.headers,
    )
    assert kept.status_code == 200 and kept.json()["freeze"] == "frozen"
    lifted = gateway.post(
        f"/api/aml/alerts/{first_high.id}/resolve", json={"resolution": "ok", "unfreeze": True}, headers=officer.headers
    )
    assert lifted.status_code == 200 and lifted.json()["freeze"] == "lifted"
    assert gateway.get(f"/api/wallet/{wallet}", headers=owner.headers).json()["status"] == "active"


def test_alert_routes_check_ids_and_bodies(gateway, officer):
    for alert_id in (str(uuid.uuid4()), "abc"):
        assert_problem(
            gateway.post(f"/api/aml/alerts/{alert_id}/resolve", json={"resolution": "x"}, headers=officer.headers),
            404,
            "AML alert not found",
        )
    assert_problem(gateway.post(f"/api/aml/alerts/{uuid.uuid4()}/resolve", json={}, headers=officer.headers), 422)
    assert_problem(gateway.get("/api/aml/alerts", params={"status": "closed"}, headers=officer.headers), 422)
    resolved = gateway.get("/api/aml/alerts", params={"status": "resolved"}, headers=officer.headers)
    assert resolved.status_code == 200 and all(a["status"] == "resolved" for a in resolved.json()["items"])
