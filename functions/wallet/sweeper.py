"""Scheduled outbox sweeper: republishes Wallet events that were not sent after commit.
It needs the outbox table and the engine only: the module's logic (contracts, HTTP glue)
would add ~80 ms to its cold start for nothing."""

from finflow.db import engine
from finflow.events import sweeper_handler
from finflow.observability import for_module
from functions.wallet.tables import outbox

handler = sweeper_handler(lambda: engine("wallet"), outbox, "wallet", for_module("wallet"))
