"""Scheduled outbox sweeper: republishes KYC events that were not sent after commit."""

from finflow.db import engine
from finflow.events import sweeper_handler
from functions.kyc.logic import obs
from functions.kyc.tables import outbox

handler = sweeper_handler(lambda: engine("kyc"), outbox, "kyc", obs)
