"""AML rules as pure functions over payments: no I/O, so every rule is unit-tested.

Each rule looks at one newly observed payment `p` together with the payments already
observed for the same wallet, and answers a Hit or None. Windows end at `p` (ordered by
completion time, then id) and reach back a fixed time. A window rule fires on the payment
that makes its window cross the limit; payments that keep it above add nothing, so a burst
raises one alert, not one per payment.

The subject of a payment is the wallet the money left (transfer, withdrawal) or, for a
deposit, the wallet it arrived in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from finflow import money

VELOCITY_WINDOW = timedelta(hours=1)
STRUCTURING_WINDOW = timedelta(hours=24)
RAPID_WINDOW = timedelta(hours=1)
NEW_WALLET_AGE = timedelta(hours=24)
HIGH_MULTIPLE = 5  # a single payment of 5x the threshold is high severity
STRUCTURING_LOW_PERCENT = 90  # "just below the threshold": 90% <= amount < 100%
STRUCTURING_COUNT = 3
RAPID_OUT_PERCENT = 80  # share of the inflow sent out again
UNCONFIGURED_VELOCITY_COUNT = 10


@dataclass(frozen=True)
class Payment:
    """A completed payment as AML observed it (PaymentCompleted)."""

    id: str
    kind: str  # transfer | deposit | withdrawal
    from_wallet_id: str | None
    to_wallet_id: str | None
    from_user_id: str | None
    to_user_id: str | None
    amount_minor: int
    currency: str
    completed_at: datetime

    @property
    def order(self) -> tuple[datetime, str]:
        return (self.completed_at, self.id)

    @property
    def subject(self) -> tuple[str | None, str | None]:
        """(wallet, user) an alert on this payment is about."""
        if self.kind == "deposit":
            return self.to_wallet_id, self.to_user_id
        return self.from_wallet_id, self.from_user_id

    @property
    def outgoing(self) -> bool:
        return self.from_wallet_id is not None


@dataclass(frozen=True)
class Limits:
    """One currency's limits in minor units. None: not configured for the currency, and
    the rules that need an amount are skipped (only the count of payments is watched)."""

    currency: str
    threshold_minor: int | None
    velocity_count: int
    velocity_amount_minor: int | None
    rapid_min_minor: int | None

    @classmethod
    def unconfigured(cls, currency: str) -> Limits:
        return cls(currency, None, UNCONFIGURED_VELOCITY_COUNT, None, None)


@dataclass(frozen=True)
class Hit:
    rule: str
    severity: str  # low | medium | high
    wallet_id: str
    user_id: str | None
    reason: str
    evidence: dict

    @property
    def freezes_wallet(self) -> bool:
        return self.severity == "high"


# --- helpers ------------------------------------------------------------------------------


def _amount(minor: int, currency: str) -> str:
    return money.to_decimal_string(minor, currency)


def _window(p: Payment, payments: Iterable[Payment], length: timedelta) -> list[Payment]:
    """Payments in (p.completed_at - length, p], ordered, p included exactly once."""
    start = p.completed_at - length
    found = {q.id: q for q in payments if start < q.completed_at and q.order <= p.order and q.id != p.id}
    return sorted([*found.values(), p], key=lambda q: q.order)


def _listed(payments: list[Payment]) -> list[dict]:
    return [
        {
            "payment_id": q.id,
            "kind": q.kind,
            "amount": _amount(q.amount_minor, q.currency),
            "completed_at": q.completed_at.isoformat(),
        }
        for q in payments
    ]


def _window_evidence(p: Payment, length: timedelta) -> dict:
    return {
        "from": (p.completed_at - length).isoformat(),
        "to": p.completed_at.isoformat(),
        "hours": length.total_seconds() / 3600,
    }


# --- the rules ----------------------------------------------------------------------------


def large_payment(p: Payment, limits: Limits) -> Hit | None:
    """One payment at or over the threshold: medium; at HIGH_MULTIPLE times it: high."""
    wallet, user = p.subject
    if limits.threshold_minor is None or wallet is None or p.amount_minor < limits.threshold_minor:
        return None
    high = p.amount_minor >= HIGH_MULTIPLE * limits.threshold_minor
    threshold = _amount(limits.threshold_minor, p.currency)
    return Hit(
        "large_payment",
        "high" if high else "medium",
        wallet,
        user,
        f"{p.kind} of {_amount(p.amount_minor, p.currency)} {p.currency} is at or over "
        f"{f'{HIGH_MULTIPLE}x ' if high else ''}the threshold of {threshold} {p.currency}",
        {"payments": _listed([p]), "threshold": threshold, "high_multiple": HIGH_MULTIPLE},
    )


def velocity(p: Payment, outgoing: Iterable[Payment], limits: Limits) -> Hit | None:
    """More than `velocity_count` payments, or more than `velocity_amount` in total over two
    or more payments (one payment alone is large_payment's business), out of one wallet
    within VELOCITY_WINDOW. Count alone: low; amount: medium."""
    if (wallet := p.from_wallet_id) is None:  # not outgoing
        return None
    window = _window(p, (q for q in outgoing if q.from_wallet_id == wallet), VELOCITY_WINDOW)
    before = window[:-1]

    def over_amount(ws: list[Payment]) -> bool:
        return (
            limits.velocity_amount_minor is not None
            and len(ws) > 1
            and sum(q.amount_minor for q in ws) > limits.velocity_amount_minor
        )

    count_crossed = len(window) > limits.velocity_count >= len(before)
    amount_crossed = over_amount(window) and not over_amount(before)
    total = sum(q.amount_minor for q in window)
    if not (count_crossed or amount_crossed):
        return None
    crossed = []
    if count_crossed:
        crossed.append(f"{len(window)} payments (more than {limits.velocity_count})")
    if amount_crossed and limits.velocity_amount_minor is not None:  # crossing an amount needs one
        crossed.append(
            f"{_amount(total, p.currency)} {p.currency} (more than {_amount(limits.velocity_amount_minor, p.currency)})"
        )
    evidence = {
        "payments": _listed(window),
        "window": _window_evidence(p, VELOCITY_WINDOW),
        "count": len(window),
        "total": _amount(total, p.currency),
        "limit_count": limits.velocity_count,
    }
    if limits.velocity_amount_minor is not None:
        evidence["limit_amount"] = _amount(limits.velocity_amount_minor, p.currency)
    return Hit(
        "velocity",
        "medium" if amount_crossed else "low",
        wallet,
        p.from_user_id,
        f"{' and '.join(crossed)} out of one wallet within 1 hour",
        evidence,
    )


def near_threshold(amount_minor: int, threshold_minor: int) -> bool:
    """STRUCTURING_LOW_PERCENT% of the threshold <= amount < the threshold."""
    return amount_minor * 100 >= threshold_minor * STRUCTURING_LOW_PERCENT and amount_minor < threshold_minor


def structuring(p: Payment, outgoing: Iterable[Payment], limits: Limits) -> Hit | None:
    """STRUCTURING_COUNT or more payments just below the threshold out of one wallet within
    STRUCTURING_WINDOW: amounts kept under the reporting threshold on purpose. High."""
    threshold = limits.threshold_minor
    wallet = p.from_wallet_id  # None: not outgoing
    if threshold is None or wallet is None or not near_threshold(p.amount_minor, threshold):
        return None
    window = _window(p, (q for q in outgoing if q.from_wallet_id == wallet), STRUCTURING_WINDOW)
    near = [q for q in window if near_threshold(q.amount_minor, threshold)]
    if len(near) < STRUCTURING_COUNT or len(near) - 1 >= STRUCTURING_COUNT:
        return None  # not there yet, or already crossed by an earlier payment
    low = -(-threshold * STRUCTURING_LOW_PERCENT // 100)
    return Hit(
        "structuring",
        "high",
        wallet,
        p.from_user_id,
        f"{len(near)} payments between {_amount(low, p.currency)} and "
        f"{_amount(threshold, p.currency)} {p.currency} (just below the threshold) out of one wallet "
        f"within 24 hours",
        {
            "payments": _listed(near),
            "window": _window_evidence(p, STRUCTURING_WINDOW),
            "count": len(near),
            "threshold": _amount(threshold, p.currency),
            "band": [_amount(low, p.currency), _amount(threshold, p.currency)],
        },
    )


def rapid_in_out(
    p: Payment,
    incoming: Iterable[Payment],
    outgoing: Iterable[Payment],
    wallet_created_at: datetime | None,
    limits: Limits,
) -> Hit | None:
    """A wallet younger than NEW_WALLET_AGE that received at least `rapid_min` within
    RAPID_WINDOW and sent RAPID_OUT_PERCENT% or more of it out again within that window
    (a pass-through, as mule accounts do). Medium."""
    wallet = p.from_wallet_id  # None: not outgoing
    if (
        limits.rapid_min_minor is None
        or wallet is None
        or wallet_created_at is None
        or p.completed_at - wallet_created_at >= NEW_WALLET_AGE
    ):
        return None
    start = p.completed_at - RAPID_WINDOW
    inflow = sorted(
        {
            q.id: q for q in incoming if q.to_wallet_id == wallet and start < q.completed_at and q.order <= p.order
        }.values(),
        key=lambda q: q.order,
    )
    received = sum(q.amount_minor for q in inflow)
    if received < limits.rapid_min_minor:
        return None
    out = _window(p, (q for q in outgoing if q.from_wallet_id == wallet), RAPID_WINDOW)
    sent = sum(q.amount_minor for q in out)
    if not (sent * 100 >= received * RAPID_OUT_PERCENT > (sent - p.amount_minor) * 100):
        return None
    return Hit(
        "rapid_in_out",
        "medium",
        wallet,
        p.from_user_id,
        f"a wallet created {wallet_created_at.isoformat()} received {_amount(received, p.currency)} "
        f"{p.currency} and sent {_amount(sent, p.currency)} out within 1 hour",
        {
            "payments_in": _listed(inflow),
            "payments_out": _listed(out),
            "window": _window_evidence(p, RAPID_WINDOW),
            "received": _amount(received, p.currency),
            "sent": _amount(sent, p.currency),
            "wallet_created_at": wallet_created_at.isoformat(),
            "out_percent": RAPID_OUT_PERCENT,
        },
    )


def evaluate(
    p: Payment,
    *,
    outgoing: Iterable[Payment],
    incoming: Iterable[Payment],
    wallet_created_at: datetime | None,
    limits: Limits,
) -> list[Hit]:
    """Every rule's hit on `p`. `outgoing`/`incoming`: payments already observed out of /
    into p's source wallet (p itself may be among them)."""
    outgoing, incoming = list(outgoing), list(incoming)
    hits = [
        large_payment(p, limits),
        velocity(p, outgoing, limits),
        structuring(p, outgoing, limits),
        rapid_in_out(p, incoming, outgoing, wallet_created_at, limits),
    ]
    return [h for h in hits if h is not None]


def needs_wallet_age(p: Payment, incoming: Iterable[Payment], limits: Limits) -> bool:
    """Whether rapid_in_out could fire on `p`, so the source wallet's age must be known."""
    if limits.rapid_min_minor is None or not p.outgoing:
        return False
    start = p.completed_at - RAPID_WINDOW
    received = sum(
        {
            q.id: q.amount_minor
            for q in incoming
            if q.to_wallet_id == p.from_wallet_id and start < q.completed_at and q.order <= p.order
        }.values()
    )
    return received >= limits.rapid_min_minor
