"""KYC's event consumer: Payment's PaymentCompleted feeds AML monitoring."""
from finflow.events import consumer_handler
from functions.kyc import monitoring
from functions.kyc.logic import obs

handler = consumer_handler(obs, {"PaymentCompleted": monitoring.on_payment_completed})
