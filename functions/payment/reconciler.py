"""Scheduled (every minute): resolves payments left pending because Wallet gave no answer
to their posting (see functions.payment.logic.reconcile), then reports what is still
pending and the oldest one's age (PendingPayments, PendingPaymentOldestAge)."""

from __future__ import annotations

from typing import Any

from finflow import metrics
from finflow.db import engine
from functions.payment import logic, pending

obs = logic.obs


@obs.logger.inject_lambda_context(log_event=False)
def handler(event: dict, context: Any) -> dict:
    counts = logic.reconcile()
    with engine("payment").connect() as conn:
        left, oldest_age = pending.backlog(conn)
    metrics.pending_payments(left, oldest_age)  # every run, zero too: no data means no reconciler
    return counts
