"""Wallet's event consumers: Auth's KYC status changes feed the local replica."""
from finflow.events import consumer_handler
from functions.wallet import logic

handler = consumer_handler(logic.obs, {"UserKycStatusChanged": logic.apply_kyc_change})
