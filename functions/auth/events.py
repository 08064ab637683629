"""Auth's event consumers (SQS <- EventBridge rule): KYC decisions update kyc_status."""

from finflow.events import consumer_handler
from functions.auth import logic

handler = consumer_handler(logic.obs, {"KycDecisionMade": logic.apply_kyc_decision})
