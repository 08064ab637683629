"""FinFlow's business metrics: every name, unit and dimension in one place, emitted as
CloudWatch EMF (Powertools) and read by the alarms and dashboards of infra_cdk.observability.

Each call prints its EMF record at once (an EphemeralMetrics flushed on the spot) instead of
joining the invocation's shared Metrics: the same call works in an API function, an event
consumer and a schedule, carries its own breakdown dimensions, and needs no flushing
decorator. POWERTOOLS_METRICS_DISABLED=true (tests, the devserver by default) silences it.

Dimensions stay few and bounded: every metric has `service` alone (what alarms watch) and
some also a breakdown set (kind, reason, rule, severity). Never a user, wallet or payment id.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

NAMESPACE = "FinFlow"


@dataclass(frozen=True)
class Metric:
    name: str
    unit: MetricUnit
    breakdowns: tuple[tuple[str, ...], ...] = ()  # dimension sets besides ("service",)


PAYMENT_COMPLETED = Metric("PaymentCompleted", MetricUnit.Count, (("kind",),))
PAYMENT_FAILED = Metric("PaymentFailed", MetricUnit.Count, (("kind", "reason"),))
PAYMENT_REPLAYED = Metric("PaymentReplayed", MetricUnit.Count)
PENDING_PAYMENTS = Metric("PendingPayments", MetricUnit.Count)
PENDING_OLDEST_AGE = Metric("PendingPaymentOldestAge", MetricUnit.Seconds)
OUTBOX_BACKLOG = Metric("OutboxBacklog", MetricUnit.Count)
OUTBOX_OLDEST_AGE = Metric("OutboxOldestAge", MetricUnit.Seconds)
AML_ALERT = Metric("AmlAlertRaised", MetricUnit.Count, (("severity",), ("rule", "severity")))


def service(module: str) -> str:
    """The `service` dimension of a module's metrics (Powertools' service name, see observability)."""
    return f"{module}-service"


def _emit(module: str, values: dict[Metric, float], **dimensions: str) -> None:
    """One EMF record: `values` share the dimension sets, which `dimensions` must fill exactly."""
    (breakdowns,) = {m.breakdowns for m in values}  # one record, one shape
    needed = {d for dims in breakdowns for d in dims}
    if needed != set(dimensions):
        raise ValueError(f"{sorted(m.name for m in values)} take dimensions {sorted(needed)}, got {sorted(dimensions)}")
    emf = EphemeralMetrics(namespace=NAMESPACE, service=service(module))
    for metric, value in values.items():
        emf.add_metric(name=metric.name, unit=metric.unit, value=value)
    for dims in breakdowns:
        emf.add_dimensions(service=service(module), **{d: dimensions[d] for d in dims})
    emf.flush_metrics()


# --- Payment ---------------------------------------------------------------------------------


def payment_completed(kind: str) -> None:
    """A payment reached `completed` (kind: transfer | deposit | withdrawal)."""
    _emit("payment", {PAYMENT_COMPLETED: 1}, kind=kind)


def payment_failed(kind: str, reason: str) -> None:
    """A payment reached `failed`; `reason` is a problem code (insufficient-funds, ...), not free text."""
    _emit("payment", {PAYMENT_FAILED: 1}, kind=kind, reason=reason)


def payment_replayed() -> None:
    """A request answered from its Idempotency-Key's stored outcome."""
    _emit("payment", {PAYMENT_REPLAYED: 1})


def pending_payments(count: int, oldest_age_seconds: float) -> None:
    """Payments still pending after a reconciler run, and how long the oldest has waited."""
    _emit("payment", {PENDING_PAYMENTS: count, PENDING_OLDEST_AGE: oldest_age_seconds})


# --- every producer --------------------------------------------------------------------------


def outbox_backlog(module: str, count: int, oldest_age_seconds: float) -> None:
    """Events a module's outbox still holds unpublished after a sweep, and the oldest one's age."""
    _emit(module, {OUTBOX_BACKLOG: count, OUTBOX_OLDEST_AGE: oldest_age_seconds})


# --- KYC/AML ---------------------------------------------------------------------------------


def aml_alert(rule: str, severity: str) -> None:
    """An AML alert was raised (rule: large_payment | velocity | ...; severity: low | medium | high)."""
    _emit("kyc", {AML_ALERT: 1}, rule=rule, severity=severity)
