"""Scheduled outbox sweeper: republishes Auth events that were not sent after commit."""

from finflow.db import engine
from finflow.events import sweeper_handler
from functions.auth.logic import obs
from functions.auth.tables import outbox

handler = sweeper_handler(lambda: engine("auth"), outbox, "auth", obs)
