"""Scheduled outbox sweeper: republishes Wallet events that were not sent after commit."""

from finflow.db import engine
from finflow.events import sweeper_handler
from functions.wallet.logic import obs
from functions.wallet.tables import outbox

handler = sweeper_handler(lambda: engine("wallet"), outbox, "wallet", obs)
