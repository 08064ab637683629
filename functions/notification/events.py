"""Notification's event consumers (SQS <- EventBridge rules): Auth's user events keep the
contacts and say hello, Wallet's and Payment's tell users what happened to their money,
KYC's AML alerts go to every known compliance officer."""

from finflow import exports
from finflow.events import consumer_handler
from functions.notification import export, logic

handler = consumer_handler(
    logic.obs,
    {
        "UserRegistered": logic.on_user_registered,
        "UserKycStatusChanged": logic.on_kyc_status_changed,
        "UserRolesChanged": logic.on_roles_changed,
        "WalletCreated": logic.on_wallet_created,
        "WalletStatusChanged": logic.on_wallet_status_changed,
        "PaymentCompleted": logic.on_payment_completed,
        "AmlAlertRaised": logic.on_aml_alert,
        "UserErased": logic.on_user_erased,
        "UserExportRequested": exports.consumer("notification", export.part),
    },
)
