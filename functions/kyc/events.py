"""KYC's event consumer: Payment's PaymentCompleted feeds AML monitoring; Auth's UserErased
deletes the user's identity documents; an export request gets their submissions exported."""

from finflow import exports
from finflow.events import consumer_handler
from functions.kyc import erasure, export, monitoring
from functions.kyc.logic import obs

handler = consumer_handler(
    obs,
    {
        "PaymentCompleted": monitoring.on_payment_completed,
        "UserErased": erasure.on_user_erased,
        "UserExportRequested": exports.consumer("kyc", export.part),
    },
)
