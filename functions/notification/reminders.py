"""Scheduled (daily in AWS; catalog `kyc-reminder`): remind users who registered more than
KYC_REMINDER_AFTER_HOURS ago and are still pending KYC, once each."""

from __future__ import annotations

from typing import Any

from functions.notification.logic import obs, send_kyc_reminders

_MARGIN_MS = 10_000  # stop starting new batches this close to the Lambda timeout


@obs.logger.inject_lambda_context(log_event=False)
def handler(event: dict, context: Any) -> dict:
    result = send_kyc_reminders(time_left=lambda: context.get_remaining_time_in_millis() > _MARGIN_MS)
    if result["reminded"] or result["retry_later"]:
        obs.logger.info("KYC reminders sent", extra=result)
    return result
