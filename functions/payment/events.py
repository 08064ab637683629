"""Payment's event consumers: Wallet's wallet events and Auth's KYC changes keep the replicas
a payment is checked against; Auth's UserExportRequested gets the user's payments exported."""

from finflow import exports
from finflow.events import consumer_handler
from functions.payment import export, replica
from functions.payment.logic import obs

handler = consumer_handler(
    obs,
    {
        "WalletCreated": replica.wallet_created,
        "WalletStatusChanged": replica.wallet_status_changed,
        "UserKycStatusChanged": replica.kyc_status_changed,
        "UserExportRequested": exports.consumer("payment", export.part),
    },
)
