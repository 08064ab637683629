"""Alarms and dashboards on the business metrics (finflow.metrics) and dead letters."""

from __future__ import annotations

import json

import pytest

from finflow import metrics as biz
from functions import catalog
from infra_cdk import business
from infra_cdk.app import stack_id

OBSERVABILITY = stack_id("observability")


@pytest.fixture(scope="module")
def alarms(aws) -> dict[str, dict]:
    return {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in aws.resources(OBSERVABILITY, "AWS::CloudWatch::Alarm").values()
    }


def _composite_rule(aws, name: str) -> str:
    (alarm,) = [
        a["Properties"]
        for a in aws.resources(OBSERVABILITY, "AWS::CloudWatch::CompositeAlarm").values()
        if a["Properties"]["AlarmName"] == name
    ]
    return json.dumps(alarm["AlarmRule"])


def _logical_id(aws, alarm_name: str) -> str:
    resources = aws.resources(OBSERVABILITY, "AWS::CloudWatch::Alarm")
    return next(k for k, v in resources.items() if v["Properties"]["AlarmName"] == alarm_name)


def test_every_module_with_an_outbox_alarms_on_an_event_stuck_in_it_and_its_cascade_sees_it(aws, alarms):
    producers = [m for m in catalog.MODULES if m.emits]
    assert producers
    for m in producers:
        alarm = alarms[f"finflow-dev-{m.key}-outbox-stuck"]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
            "FinFlow",
            biz.OUTBOX_OLDEST_AGE.name,
            "Maximum",
        )
        assert alarm["Dimensions"] == [{"Name": "service", "Value": m.service}]
        assert alarm["Threshold"] == business.OUTBOX_MAX_AGE.to_seconds()
        assert _logical_id(aws, alarm["AlarmName"]) in _composite_rule(aws, f"finflow-dev-{m.key}-failing")
    assert not any(f"-{m.key}-outbox-stuck" in name for m in catalog.MODULES if not m.emits for name in alarms)


def test_payments_pending_too_long_make_payment_fail_and_so_read_as_a_wallet_cascade(aws, alarms):
    stuck = alarms["finflow-dev-payment-pending-stuck"]
    assert (stuck["Namespace"], stuck["MetricName"], stuck["Threshold"]) == (
        "FinFlow",
        "PendingPaymentOldestAge",
        business.PENDING_MAX_AGE.to_seconds(),
    )
    assert stuck["Dimensions"] == [{"Name": "service", "Value": "payment-service"}]
    assert "AlarmActions" not in stuck  # no page of its own: the cascade composites page
    assert _logical_id(aws, stuck["AlarmName"]) in _composite_rule(aws, "finflow-dev-payment-failing")


def test_the_payment_failure_rate_is_a_share_of_decided_payments_and_pages(alarms):
    rate = alarms["finflow-dev-payment-failure-rate"]
    assert rate["Threshold"] == business.FAILED_PERCENT and rate["AlarmActions"]
    queries = {q["Id"]: q for q in rate["Metrics"]}
    used = {q["MetricStat"]["Metric"]["MetricName"] for q in queries.values() if "MetricStat" in q}
    assert used == {"PaymentCompleted", "PaymentFailed"}
    for q in queries.values():
        if "MetricStat" in q:
            stat = q["MetricStat"]
            assert stat["Metric"]["Namespace"] == "FinFlow" and stat["Stat"] == "Sum"
            assert stat["Metric"]["Dimensions"] == [{"Name": "service", "Value": "payment-service"}]
    (expression,) = [q["Expression"] for q in queries.values() if "Expression" in q]
    assert f">= {business.FAILED_MIN_PAYMENTS}" in expression and "100 *" in expression


def test_a_high_severity_aml_alert_pages_compliance(alarms):
    aml = alarms["finflow-dev-kyc-aml-high"]
    assert (aml["Namespace"], aml["MetricName"], aml["Statistic"], aml["Threshold"]) == (
        "FinFlow",
        "AmlAlertRaised",
        "Sum",
        1,
    )
    assert sorted(aml["Dimensions"], key=lambda d: d["Name"]) == [
        {"Name": "service", "Value": "kyc-service"},
        {"Name": "severity", "Value": "high"},
    ]
    assert aml["AlarmActions"]


def test_every_consumer_queue_has_a_dead_letter_alarm(alarms):
    for m in catalog.MODULES:
        for sub in m.subscriptions:
            dlq = alarms[f"finflow-dev-{m.key}-from-{sub.producer}-dlq-depth"]
            assert (dlq["Namespace"], dlq["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")


def test_the_cascade_dashboard_shows_business_metrics_module_by_module_in_catalog_order(aws):
    (dashboard,) = [
        d["Properties"]
        for d in aws.resources(OBSERVABILITY, "AWS::CloudWatch::Dashboard").values()
        if d["Properties"]["DashboardName"] == "finflow-dev-cascade"
    ]
    body = json.dumps(dashboard["DashboardBody"])
    for metric in ("OutboxBacklog", "PendingPaymentOldestAge", "PaymentFailed", "PaymentReplayed", "AmlAlertRaised"):
        assert metric in body, metric
    titles = [body.find(f"{m.letter} {m.name}: business and dead-letter alarms") for m in catalog.MODULES]
    assert -1 not in titles and titles == sorted(titles)
