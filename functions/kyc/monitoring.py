"""AML monitoring: PaymentCompleted -> observed payments -> rules (aml.py) -> alerts,
AmlAlertRaised through the outbox, and freezes of the wallet for high-severity alerts
through Wallet's API; compliance reads and resolves alerts (optionally lifting a freeze).

A payment is observed, evaluated and its alerts written in one transaction, claimed by
the event id. Freezes are sent to Wallet after that commit: an alert needing one is stored
with freeze_state `pending`, so if Wallet is unavailable the record fails, comes back, and the
retry only completes the freeze (the event is already claimed, the alert already raised).
"""

from __future__ import annotations

import uuid

from finflow import contracts, events, metrics, money, pages
from finflow.problems import Principal, Problem, require_role, unavailable
from finflow.service_client import ServiceUnavailable
from functions.kyc import aml, store, wallet_client
from functions.kyc.logic import db, obs, publish
from functions.kyc.schemas import Alert, AlertPage, ResolveRequest
from functions.kyc.tables import outbox, processed_events
from functions.kyc.wallet_client import WalletRefused


def _observed(data: dict) -> aml.Payment:
    pc = contracts.KycReadsPaymentCompleted.model_validate(data)  # malformed: raises, retried, then the DLQ
    return aml.Payment(
        id=pc.payment_id,
        kind=pc.kind,
        from_wallet_id=pc.from_wallet_id,
        to_wallet_id=pc.to_wallet_id,
        from_user_id=pc.from_user_id,
        to_user_id=pc.to_user_id,
        amount_minor=pc.amount_minor,
        currency=pc.currency,
        completed_at=pc.completed_at,
    )


def on_payment_completed(event: events.Event) -> None:
    p = _observed(event.data)
    created_at = _source_wallet_age(p)
    raised = []
    with db().begin() as conn:
        if events.first_delivery(conn, processed_events, event):
            store.lock_wallets(conn, [w for w in (p.from_wallet_id, p.to_wallet_id) if w])
            if store.observe(conn, p):  # the same payment under another event id adds nothing
                raised = _raise_alerts(conn, p, created_at)
    if raised:
        publish()
    for row in raised:  # counted once committed: a rolled-back alert was never raised
        metrics.aml_alert(row.rule, row.severity)
    complete_freezes(p.id)


def _source_wallet_age(p: aml.Payment):
    """The source wallet's creation time when the rapid in-and-out rule may need it; asked
    of Wallet once per wallet, outside any transaction."""
    if (wallet := p.from_wallet_id) is None:  # not outgoing
        return None
    with db().connect() as conn:
        known = store.wallet_age(conn, wallet)
        if known is not None:
            return known
        limits = store.limits(conn, p.currency)
        incoming = store.payments(
            conn, wallet, direction="in", since=p.completed_at - aml.RAPID_WINDOW, currency=p.currency
        )
    if not aml.needs_wallet_age(p, incoming, limits):
        return None
    try:
        view = wallet_client.view(wallet)  # ServiceUnavailable: the record is retried
    except WalletRefused as exc:
        obs.logger.error(
            "wallet view refused: rapid in-and-out not evaluated",
            extra={"wallet_id": wallet, "status": exc.status, "detail": exc.detail},
        )
        return None
    if view is None or view.created_at is None:
        return None
    with db().begin() as conn:
        store.remember_wallet_age(conn, wallet, view.created_at)
    return view.created_at


def _raise_alerts(conn, p: aml.Payment, created_at) -> list:
    limits = store.limits(conn, p.currency)
    outgoing = incoming = []
    if (wallet := p.from_wallet_id) is not None:  # outgoing
        since = p.completed_at - max(aml.VELOCITY_WINDOW, aml.STRUCTURING_WINDOW, aml.RAPID_WINDOW)
        outgoing = store.payments(conn, wallet, direction="out", since=since, currency=p.currency)
        incoming = store.payments(
            conn, wallet, direction="in", since=p.completed_at - aml.RAPID_WINDOW, currency=p.currency
        )
    raised = []
    for hit in aml.evaluate(p, outgoing=outgoing, incoming=incoming, wallet_created_at=created_at, limits=limits):
        row = store.insert_alert(
            conn,
            id=str(uuid.uuid4()),
            rule=hit.rule,
            severity=hit.severity,
            payment_id=p.id,
            wallet_id=hit.wallet_id,
            user_id=hit.user_id,
            currency=p.currency,
            amount_minor=p.amount_minor,
            reason=hit.reason,
            evidence=hit.evidence,
            freeze_state="pending" if hit.freezes_wallet else None,
        )
        if row is None:
            continue
        events.record(
            conn,
            outbox,
            "AmlAlertRaised",
            contracts.AmlAlertRaised(
                alert_id=row.id,
                rule=row.rule,
                severity=row.severity,
                payment_id=row.payment_id,
                wallet_id=row.wallet_id,
                user_id=row.user_id,
                currency=row.currency,
                amount=money.to_decimal_string(row.amount_minor, row.currency),
                amount_minor=row.amount_minor,
                reason=row.reason,
                evidence=row.evidence,
                freezes_wallet=hit.freezes_wallet,
                created_at=row.created_at,
            ).model_dump(mode="json"),
        )
        obs.logger.warning(
            "AML alert raised",
            extra={"alert_id": row.id, "rule": row.rule, "severity": row.severity, "wallet_id": row.wallet_id},
        )
        raised.append(row)
    return raised


def complete_freezes(payment_id: str) -> None:
    """Send the pending freezes of this payment's alerts to Wallet. Raises when Wallet gives
    no usable answer, so the consumer reports the record as failed and it is retried."""
    with db().connect() as conn:
        pending = store.pending_freezes(conn, payment_id)
    for alert_id in pending:
        with db().begin() as conn:
            row = store.lock_pending_freeze(conn, alert_id)  # a resolution waits for this one
            if row is None:
                continue  # cancelled by a resolution, or done by a concurrent retry
            try:
                found = wallet_client.set_status(row.wallet_id, "frozen", f"AML alert {row.id}: {row.rule}")
            except WalletRefused as exc:
                if exc.status != 409:  # e.g. our token refused: an operator must look (retries, then the DLQ)
                    raise RuntimeError(f"Wallet refused the freeze of {row.wallet_id}: {exc.detail}") from exc
                found = False  # the wallet is closed: nothing can leave it
            store.set_freeze(conn, row.id, "frozen" if found else "skipped")
        obs.logger.warning(
            "wallet frozen by AML alert" if found else "AML freeze skipped: wallet gone or closed",
            extra={"alert_id": row.id, "wallet_id": row.wallet_id},
        )


# --- compliance: alerts ----------------------------------------------------------------------


def to_alert(row) -> Alert:
    return Alert(
        id=row.id,
        rule=row.rule,
        severity=row.severity,
        status=row.status,
        payment_id=row.payment_id,
        wallet_id=row.wallet_id,
        user_id=row.user_id,
        currency=row.currency,
        amount=money.to_decimal_string(row.amount_minor, row.currency),
        reason=row.reason,
        evidence=row.evidence,
        freeze=row.freeze_state,
        created_at=row.created_at,
        resolution=row.resolution,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
    )


def list_alerts(p: Principal, status: str | None, limit: int, cursor: str | None) -> AlertPage:
    require_role(p, "compliance")
    pages.check_limit(limit)
    after = pages.decode_cursor("a", cursor)
    with db().connect() as conn:
        rows = store.alerts_page(conn, status, after, limit + 1)
    rows, next_cursor = pages.page(rows, limit, "a", "created_at")
    return AlertPage(items=[to_alert(r) for r in rows], next_cursor=next_cursor)


def get_alert(p: Principal, alert_id: str) -> Alert:
    require_role(p, "compliance")
    with db().connect() as conn:
        row = store.alert(conn, alert_id)
    if row is None:
        raise Problem(404, "AML alert not found")
    return to_alert(row)


def resolve(p: Principal, alert_id: str, req: ResolveRequest) -> Alert:
    """Close an open alert. With unfreeze, lift the freeze this alert made (Wallet first, so
    an outage leaves the alert open and nothing changed)."""
    require_role(p, "compliance")
    with db().begin() as conn:
        row = store.alert(conn, alert_id, for_update=True)
        if row is None:
            raise Problem(404, "AML alert not found")
        if row.status != "open":
            raise Problem(409, "AML alert is already resolved")
        freeze = row.freeze_state
        if req.unfreeze:
            freeze = _lift(conn, row, req.resolution)
        resolved = store.resolve(conn, row.id, resolution=req.resolution, resolved_by=p.subject, freeze=freeze)
    obs.logger.info("AML alert resolved", extra={"alert_id": row.id, "freeze": freeze})
    return to_alert(resolved)


def _lift(conn, row, resolution: str) -> str:
    if row.freeze_state == "pending":
        return "cancelled"  # never reached Wallet: nothing to lift
    if row.freeze_state != "frozen":
        raise Problem(409, f"AML alert {row.id} did not freeze wallet {row.wallet_id}: nothing to unfreeze")
    other = store.other_freeze(conn, row.wallet_id, row.id)
    if other is not None:
        raise Problem(
            409, f"Wallet {row.wallet_id} is also frozen by open AML alert {other.id}; resolve that alert first"
        )
    try:
        found = wallet_client.set_status(row.wallet_id, "active", f"AML alert {row.id} resolved: {resolution}")
    except ServiceUnavailable:
        raise unavailable("Wallet service unavailable; the alert stays open") from None
    except WalletRefused as exc:
        raise Problem(409, f"Wallet refused to unfreeze {row.wallet_id}: {exc.detail}") from None
    if not found:
        raise Problem(409, f"Wallet {row.wallet_id} no longer exists")
    return "lifted"
