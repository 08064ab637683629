"""Scheduled (every minute): resolves payments left pending because Wallet gave no answer
to their posting. See functions.payment.logic.reconcile."""

from __future__ import annotations

from typing import Any

from functions.payment import logic

obs = logic.obs


@obs.logger.inject_lambda_context(log_event=False)
def handler(event: dict, context: Any) -> dict:
    return logic.reconcile()
