"""Business metrics as CloudWatch reads them: the EMF records the functions print (Powertools
Metrics, namespace FinFlow), captured from stdout. The outbox sweeper reports its backlog (also
while EventBridge is down), the reconciler the payments still pending, KYC each AML alert."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text

from devserver.lambda_runtime import LambdaContext
from tests.api.test_aml import completed, consume
from tests.api.test_faults_events import DeadEventBridge


@pytest.fixture
def emf(monkeypatch, capsys):
    """Metrics on (tests keep them off), and a reader of the EMF records printed since the last read."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    capsys.readouterr()

    def records(metric: str) -> list[dict]:
        lines = (line for line in capsys.readouterr().out.splitlines() if line.startswith("{"))
        found = [json.loads(line) for line in lines]
        return [r for r in found if "_aws" in r and metric in r]

    return records


def _only(records: list[dict]) -> dict:
    assert len(records) == 1, records
    (definition,) = records[0]["_aws"]["CloudWatchMetrics"]
    assert definition["Namespace"] == "FinFlow"
    return records[0] | {"dimension_sets": definition["Dimensions"]}


def test_the_outbox_sweeper_reports_its_backlog_even_while_the_bus_is_down(gateway, emf, monkeypatch):
    from finflow import events
    from finflow.db import engine
    from functions.auth import sweeper
    from functions.auth.tables import outbox

    with engine("auth").begin() as conn:  # an event left behind an hour ago (no rule routes this type)
        held = events.record(conn, outbox, "MetricsProbe", {"probe": True})
        conn.execute(
            text("UPDATE outbox SET created_at = now() - interval '1 hour' WHERE event_id = :id"),
            {"id": held["event_id"]},
        )
    with monkeypatch.context() as bus_down, pytest.raises(Exception, match="unreachable"):
        bus_down.setattr(events, "client", DeadEventBridge(events.client))
        sweeper.handler({"source": "aws.events"}, LambdaContext("auth-outbox-sweeper"))
    stuck = _only(emf("OutboxBacklog"))
    assert stuck["service"] == "auth-service" and stuck["dimension_sets"] == [["service"]]
    assert stuck["OutboxBacklog"][0] >= 1 and stuck["OutboxOldestAge"][0] >= 3600

    # the bus is back: the sweep empties the outbox and says so
    assert sweeper.handler({"source": "aws.events"}, LambdaContext("auth-outbox-sweeper"))["published"] >= 1
    cleared = _only(emf("OutboxBacklog"))
    assert (cleared["OutboxBacklog"], cleared["OutboxOldestAge"]) == ([0.0], [0.0])


def test_the_reconciler_reports_pending_payments_and_the_oldest_age(gateway, emf):
    from finflow.db import engine
    from functions.payment import reconciler

    stuck = str(uuid.uuid4())
    with engine("payment").begin() as conn:  # pending for a day, its lease held: reconcile leaves it be
        conn.execute(
            text(
                "INSERT INTO payments (id, kind, amount_minor, currency, to_wallet_id, initiator_user_id, "
                "request_hash, created_at, lease_until) VALUES (:id, 'deposit', 100, 'USD', :wallet, :user, "
                "'probe', now() - interval '1 day', now() + interval '1 hour')"
            ),
            {"id": stuck, "wallet": str(uuid.uuid4()), "user": str(uuid.uuid4())},
        )
    try:
        reconciler.handler({"source": "aws.events"}, LambdaContext("payment-reconciler"))
        before = _only(emf("PendingPayments"))
        assert before["service"] == "payment-service"
        assert before["PendingPayments"][0] >= 1 and before["PendingPaymentOldestAge"][0] >= 86_400
    finally:
        with engine("payment").begin() as conn:
            conn.execute(text("DELETE FROM payments WHERE id = :id"), {"id": stuck})
    reconciler.handler({"source": "aws.events"}, LambdaContext("payment-reconciler"))
    after = _only(emf("PendingPayments"))
    assert after["PendingPayments"][0] == before["PendingPayments"][0] - 1
    assert after["PendingPaymentOldestAge"][0] < 86_400


def test_an_aml_alert_is_counted_once_by_rule_and_severity(gateway, emf):
    payment = completed(12_000_00)  # over the USD threshold (10000.00), under 5x: medium
    assert consume(payment) == {"batchItemFailures": []}
    alert = _only(emf("AmlAlertRaised"))
    assert alert["AmlAlertRaised"] == [1.0]
    assert (alert["service"], alert["rule"], alert["severity"]) == ("kyc-service", "large_payment", "medium")
    assert alert["dimension_sets"] == [["service"], ["service", "severity"], ["service", "rule", "severity"]]
    assert not {"wallet_id", "user_id", "payment_id"} & set(alert)  # never a high-cardinality dimension

    assert consume(payment) == {"batchItemFailures": []}  # delivered again: no second alert, no count
    assert emf("AmlAlertRaised") == []
