"""Scheduled outbox sweeper: republishes Payment events that were not sent after commit."""

from finflow.db import engine
from finflow.events import sweeper_handler
from functions.payment.logic import obs
from functions.payment.tables import outbox

handler = sweeper_handler(lambda: engine("payment"), outbox, "payment", obs)
