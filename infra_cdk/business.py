"""Alarms and widgets on FinFlow's business metrics (finflow.metrics, EMF in namespace FinFlow)
and on each consumer's dead-letter queue, per module of the catalog.

Two kinds of alarm. *Health* alarms (an outbox that stopped draining, payments stuck pending)
join the module's `failing` composite, so the cascade composites tell whose fault they are:
Payment's pending payments age while Wallet fails reads as `payment-failing-because-wallet`.
*Signal* alarms (the share of payments failing, a high-severity AML alert) are no fault of the
system; they notify the alarm topic directly, for people to look at.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from finflow import metrics as biz
from functions import catalog
from infra_cdk.deployment import module_alarm_name
from infra_cdk.settings import DeploySettings

PERIOD = cdk.Duration.minutes(5)
# The sweeper runs every minute: an event still unpublished after 5 minutes, two periods in a
# row, means the bus or the module's database is failing, not a slow sweep.
OUTBOX_MAX_AGE = cdk.Duration.minutes(5)
# The reconciler resolves a pending payment within a minute once Wallet answers: 10 minutes
# pending means Wallet has been unreachable that long, or a posting needs a person.
PENDING_MAX_AGE = cdk.Duration.minutes(10)
# Refusals (insufficient funds, frozen wallets) are normal; a quarter of all payments in five
# minutes, over at least 20 of them, is not.
FAILED_PERCENT = 25
FAILED_MIN_PAYMENTS = 20
AML_SEVERITY_PAGED = "high"
SEVERITIES = ("low", "medium", "high")


def metric(module: str, m: biz.Metric, statistic: str, label: str | None = None, **breakdown: str) -> cw.Metric:
    return cw.Metric(
        namespace=biz.NAMESPACE,
        metric_name=m.name,
        dimensions_map={"service": biz.service(module), **breakdown},
        statistic=statistic,
        period=PERIOD,
        label=label,
    )


def has_outbox(m: catalog.Module) -> bool:
    return any(fn.name == "outbox-sweeper" for fn in m.functions)


def has_reconciler(m: catalog.Module) -> bool:
    return any(fn.name == "reconciler" for fn in m.functions)


def failed_percent(module: str) -> cw.MathExpression:
    """Failed payments as a percentage of those decided, 0 below FAILED_MIN_PAYMENTS."""
    return cw.MathExpression(
        expression=(
            f"IF((FILL(c, 0) + FILL(f, 0)) >= {FAILED_MIN_PAYMENTS}, 100 * FILL(f, 0) / (FILL(c, 0) + FILL(f, 0)), 0)"
        ),
        using_metrics={
            "c": metric(module, biz.PAYMENT_COMPLETED, "Sum"),
            "f": metric(module, biz.PAYMENT_FAILED, "Sum"),
        },
        label="failed %",
        period=PERIOD,
    )


class BusinessAlarms:
    """One module's business alarms (`health` joins its composite, `signals` page) and widgets."""

    def __init__(self, scope: Construct, settings: DeploySettings, m: catalog.Module, action: cw.IAlarmAction) -> None:
        self.health: list[cw.IAlarm] = []
        self.signals: list[cw.IAlarm] = []
        self.widgets: list[cw.IWidget] = []
        tag, key = m.key.capitalize(), m.key
        if has_outbox(m):
            age = metric(key, biz.OUTBOX_OLDEST_AGE, "Maximum")  # no label: an alarm on a label is a query
            self.health.append(
                age.create_alarm(
                    scope,
                    f"{tag}OutboxStuck",
                    alarm_name=module_alarm_name(settings, key, "outbox-stuck"),
                    threshold=OUTBOX_MAX_AGE.to_seconds(),
                    evaluation_periods=2,
                    datapoints_to_alarm=2,
                    treat_missing_data=cw.TreatMissingData.NOT_BREACHING,  # a silent sweeper: its errors alarm
                    alarm_description=f"{m.service}: an event unpublished for over {OUTBOX_MAX_AGE.to_minutes()} min",
                )
            )
            self.widgets.append(
                cw.GraphWidget(
                    title=f"{key}: outbox backlog",
                    width=6,
                    height=4,
                    left=[metric(key, biz.OUTBOX_BACKLOG, "Maximum", "unpublished events")],
                    right=[age.with_(label="oldest unpublished (s)")],
                    right_annotations=[cw.HorizontalAnnotation(value=OUTBOX_MAX_AGE.to_seconds(), label="alarm")],
                )
            )
        if has_reconciler(m):
            oldest = metric(key, biz.PENDING_OLDEST_AGE, "Maximum")
            self.health.append(
                oldest.create_alarm(
                    scope,
                    f"{tag}PendingStuck",
                    alarm_name=module_alarm_name(settings, key, "pending-stuck"),
                    threshold=PENDING_MAX_AGE.to_seconds(),
                    evaluation_periods=1,
                    treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                    alarm_description=f"{m.service}: a payment pending for over {PENDING_MAX_AGE.to_minutes()} min",
                )
            )
            self.widgets.append(
                cw.GraphWidget(
                    title=f"{key}: pending payments",
                    width=6,
                    height=4,
                    left=[metric(key, biz.PENDING_PAYMENTS, "Maximum", "pending")],
                    right=[oldest.with_(label="oldest pending (s)")],
                    right_annotations=[cw.HorizontalAnnotation(value=PENDING_MAX_AGE.to_seconds(), label="alarm")],
                )
            )
            self._payments(scope, settings, m, action)
        if m.key == "kyc":
            self._aml(scope, settings, m, action)

    def _payments(self, scope: Construct, settings: DeploySettings, m: catalog.Module, action) -> None:
        rate = failed_percent(m.key)
        alarm = rate.create_alarm(
            scope,
            f"{m.key.capitalize()}FailureRate",
            alarm_name=module_alarm_name(settings, m.key, "failure-rate"),
            threshold=FAILED_PERCENT,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description=(
                f"{m.service}: over {FAILED_PERCENT}% of at least {FAILED_MIN_PAYMENTS} payments failed in 5 min"
            ),
        )
        alarm.add_alarm_action(action)
        self.signals.append(alarm)
        self.widgets.append(
            cw.GraphWidget(
                title=f"{m.key}: payments completed, failed, replayed",
                width=6,
                height=4,
                left=[
                    metric(m.key, biz.PAYMENT_COMPLETED, "Sum", "completed"),
                    metric(m.key, biz.PAYMENT_FAILED, "Sum", "failed"),
                    metric(m.key, biz.PAYMENT_REPLAYED, "Sum", "replayed"),
                ],
                right=[rate],
                right_annotations=[cw.HorizontalAnnotation(value=FAILED_PERCENT, label="alarm")],
            )
        )

    def _aml(self, scope: Construct, settings: DeploySettings, m: catalog.Module, action) -> None:
        paged = metric(m.key, biz.AML_ALERT, "Sum", severity=AML_SEVERITY_PAGED)
        alarm = paged.create_alarm(
            scope,
            f"{m.key.capitalize()}AmlHigh",
            alarm_name=module_alarm_name(settings, m.key, f"aml-{AML_SEVERITY_PAGED}"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description="a high-severity AML alert was raised (its wallet is frozen): compliance must review it",
        )
        alarm.add_alarm_action(action)
        self.signals.append(alarm)
        self.widgets.append(
            cw.GraphWidget(
                title=f"{m.key}: AML alerts by severity",
                width=6,
                height=4,
                left=[metric(m.key, biz.AML_ALERT, "Sum", s, severity=s) for s in SEVERITIES],
                stacked=True,
            )
        )
