"""Wallet's event consumers: Auth's KYC status changes feed the local replica; an export
request gets the user's wallets and ledger exported."""

from finflow import exports
from finflow.events import consumer_handler
from functions.wallet import export, logic

handler = consumer_handler(
    logic.obs,
    {"UserKycStatusChanged": logic.apply_kyc_change, "UserExportRequested": exports.consumer("wallet", export.part)},
)
