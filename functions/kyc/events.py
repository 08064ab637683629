"""KYC's event consumer: Payment's PaymentCompleted feeds AML monitoring; Auth's UserErased
deletes the user's identity documents."""
from finflow.events import consumer_handler
from functions.kyc import erasure, monitoring
from functions.kyc.logic import obs

handler = consumer_handler(obs, {"PaymentCompleted": monitoring.on_payment_completed,
                                 "UserErased": erasure.on_user_erased})
