"""Events -> read model. Each function applies one event inside the caller's transaction
(the consumer's, or the rebuild's), parsing its data with Reporting's own contract of
what it reads (contracts.ReportingReads*).

Times come from the event's data (when the thing happened), never from delivery.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection

from finflow import contracts, ids
from finflow.events import Event, first_delivery
from finflow.observability import for_module
from functions.reporting import store
from functions.reporting.tables import processed_events

obs = for_module("reporting")


def canon(value: str | None) -> str | None:
    """Ids as the producers spell them canonically (a UUID in any spelling is one id)."""
    return canon_id(value) if value else None


def canon_id(value: str) -> str:
    """A required id, canonically; an empty one is a broken event (it fails, as it did when
    its None reached the store, and is retried, then dead-lettered)."""
    if not value:
        raise ValueError("the event names an empty id")
    return ids.canonical(value) or value


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def user_registered(conn: Connection, event: Event) -> None:
    d = contracts.ReportingReadsUserRegistered.model_validate(event.data)
    at = _utc(d.created_at)
    store.upsert_user(
        conn, canon_id(d.id), registered_at=at, kyc_status=d.kyc_status, kyc_at=at, event_id=event.event_id
    )


def kyc_status_changed(conn: Connection, event: Event) -> None:
    d = contracts.ReportingReadsUserKycStatusChanged.model_validate(event.data)
    store.upsert_user(
        conn, canon_id(d.user_id), kyc_status=d.kyc_status, kyc_at=_utc(d.changed_at), event_id=event.event_id
    )


def kyc_submitted(conn: Connection, event: Event) -> None:
    d = contracts.ReportingReadsKycSubmitted.model_validate(event.data)
    store.submission_received(
        conn, canon_id(d.submission_id), canon_id(d.user_id), d.document_type, _utc(d.submitted_at)
    )


def kyc_decision_made(conn: Connection, event: Event) -> None:
    d = contracts.ReportingReadsKycDecisionMade.model_validate(event.data)
    if d.submission_id is None:
        # Nothing to place in the funnel; the user's status still arrives from Auth.
        obs.logger.info(
            "KYC decision without a submission: users' figures follow Auth's status change",
            extra={"user_id": d.user_id},
        )
        return
    store.submission_decided(
        conn, canon_id(d.submission_id), canon_id(d.user_id), d.status, _utc(d.decided_at), event.event_id
    )


def wallet_created(conn: Connection, event: Event) -> None:
    d = contracts.ReportingReadsWalletCreated.model_validate(event.data)
    at = _utc(d.created_at)
    store.wallet_status(
        conn,
        canon_id(d.wallet_id),
        user_id=canon_id(d.user_id),
        currency=d.currency.upper(),
        status=d.status,
        at=at,
        event_id=event.event_id,
        created_at=at,
    )


def wallet_status_changed(conn: Connection, event: Event) -> None:
    d = contracts.ReportingReadsWalletStatusChanged.model_validate(event.data)
    store.wallet_status(
        conn,
        canon_id(d.wallet_id),
        user_id=canon_id(d.user_id),
        currency=d.currency.upper(),
        status=d.status,
        at=_utc(d.changed_at),
        event_id=event.event_id,
    )


def _new_payment(
    conn: Connection, *, status: str, payment_id: str, kind: str, currency: str, amount_minor: int, at: datetime, **row
) -> bool:
    """Insert the payment; on the first insert only, add it to its day's figures."""
    if not store.insert_payment(
        conn,
        payment_id=payment_id,
        status=status,
        kind=kind,
        currency=currency,
        amount_minor=amount_minor,
        at=at,
        **row,
    ):
        known = store.payment_status(conn, payment_id)
        if known != status:  # Payment's state machine makes this impossible; say so loudly
            obs.logger.error(
                "payment reported both completed and failed; the first report stands",
                extra={"payment_id": payment_id, "kept": known, "ignored": status},
            )
        return False
    store.add_to_daily(conn, day=at.date(), currency=currency, kind=kind, status=status, amount_minor=amount_minor)
    return True


def payment_completed(conn: Connection, event: Event) -> None:
    d = contracts.ReportingReadsPaymentCompleted.model_validate(event.data)
    currency, source, target = d.currency.upper(), canon(d.from_wallet_id), canon(d.to_wallet_id)
    if not _new_payment(
        conn,
        status="completed",
        payment_id=canon_id(d.payment_id),
        kind=d.kind,
        currency=currency,
        amount_minor=d.amount_minor,
        at=_utc(d.completed_at),
        from_wallet_id=source,
        to_wallet_id=target,
        from_user_id=canon(d.from_user_id),
        to_user_id=canon(d.to_user_id),
        description=_description(conn, d),
    ):
        return
    # deposits add, withdrawals subtract, transfers move; wallets in id order (no deadlocks)
    postings = [
        (w, u, sign * d.amount_minor)
        for w, u, sign in ((source, canon(d.from_user_id), -1), (target, canon(d.to_user_id), 1))
        if w
    ]
    for wallet_id, user_id, delta in sorted(postings):
        store.add_to_balance(conn, wallet_id, currency=currency, user_id=user_id, delta=delta)


def _description(conn: Connection, d) -> str | None:
    """Free text may name people: none is kept for a payment of an erased user (an erasure
    that overtook this event)."""
    if d.description is None or store.any_erased(conn, canon(d.from_user_id), canon(d.to_user_id)):
        return None
    return d.description


def user_erased(conn: Connection, event: Event) -> None:
    d = contracts.ReadsUserErased.model_validate(event.data)
    user_id = canon_id(d.user_id)
    store.mark_erased(conn, user_id, _utc(d.erased_at))
    store.forget_descriptions(conn, user_id)


def payment_failed(conn: Connection, event: Event) -> None:
    d = contracts.ReportingReadsPaymentFailed.model_validate(event.data)
    _new_payment(
        conn,
        status="failed",
        payment_id=canon_id(d.payment_id),
        kind=d.kind,
        currency=d.currency.upper(),
        amount_minor=d.amount_minor,
        at=_utc(d.failed_at),
        from_wallet_id=canon(d.from_wallet_id),
        to_wallet_id=canon(d.to_wallet_id),
        failure_reason=d.reason,
    )


def aml_alert_raised(conn: Connection, event: Event) -> None:
    d = contracts.ReportingReadsAmlAlertRaised.model_validate(event.data)
    store.insert_alert(
        conn,
        alert_id=canon(d.alert_id),
        rule=d.rule,
        severity=d.severity,
        payment_id=canon_id(d.payment_id),
        wallet_id=canon(d.wallet_id),
        user_id=canon(d.user_id),
        currency=d.currency.upper(),
        amount_minor=d.amount_minor,
        freezes_wallet=d.freezes_wallet,
        created_at=_utc(d.created_at),
    )


PROJECTIONS: dict[str, Callable[[Connection, Event], None]] = {
    "UserRegistered": user_registered,
    "UserKycStatusChanged": kyc_status_changed,
    "KycSubmitted": kyc_submitted,
    "KycDecisionMade": kyc_decision_made,
    "WalletCreated": wallet_created,
    "WalletStatusChanged": wallet_status_changed,
    "PaymentCompleted": payment_completed,
    "PaymentFailed": payment_failed,
    "AmlAlertRaised": aml_alert_raised,
    "UserErased": user_erased,
}
PAYMENT_EVENTS = ("PaymentCompleted", "PaymentFailed")


def apply(conn: Connection, event: Event) -> bool:
    """Apply `event` once (claimed by its id in the same transaction); False if seen before
    or of a type Reporting does not read."""
    project = PROJECTIONS.get(event.detail_type)
    if project is None or not first_delivery(conn, processed_events, event):
        return False
    project(conn, event)
    return True
