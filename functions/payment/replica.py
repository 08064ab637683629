"""Payment's replicas of Wallet's wallets and Auth's KYC statuses, kept from their events, so
a payment's checks need no call (functions/payment/checks.py). Each change keeps the newest
state by its own time: a duplicate, or an older change arriving late, changes nothing."""

from __future__ import annotations

from finflow import contracts, events
from finflow.db import engine
from functions.payment import store


def wallet_created(event: events.Event) -> None:
    w = contracts.PaymentReadsWalletCreated.model_validate(event.data)
    with engine("payment").begin() as conn:
        store.replicate_wallet(
            conn, wallet_id=w.wallet_id, user_id=w.user_id, currency=w.currency, status=w.status, at=w.created_at
        )


def wallet_status_changed(event: events.Event) -> None:
    # carries owner and currency too, so it can stand in for a WalletCreated not yet arrived
    w = contracts.PaymentReadsWalletStatusChanged.model_validate(event.data)
    with engine("payment").begin() as conn:
        store.replicate_wallet(
            conn, wallet_id=w.wallet_id, user_id=w.user_id, currency=w.currency, status=w.status, at=w.changed_at
        )


def kyc_status_changed(event: events.Event) -> None:
    change = contracts.PaymentReadsUserKycStatusChanged.model_validate(event.data)
    with engine("payment").begin() as conn:
        store.replicate_kyc(conn, user_id=change.user_id, status=change.kyc_status, at=change.changed_at)
