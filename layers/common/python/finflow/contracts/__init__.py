"""Contracts between modules: every cross-module read and every event's data.

Two kinds of model live here:

- producer contracts (`producers.py`: `UserView`, `WalletView`, ..., `EVENTS`): what a
  module promises to answer or emit. A producer builds its responses and events from them.
- consumer contracts (`readers.py`: `CONSUMER_CONTRACTS`): what one consumer actually reads of one
  producer contract, field by field, and nothing else. Each consumer parses with its own
  model (unknown fields ignored), so a producer may add optional fields freely, and the
  contract tests (tests/contract) tell exactly which consumer a removed, renamed or
  retyped field would break: "<consumer> reads <Contract>.<field>".

Both are imported here, so every model is `contracts.<Name>`. Changing a field is a change to a contract between modules; `make cascade
CHANGE=<module>.<Contract>.<field>` shows who is affected and in which order to deploy.
"""

from __future__ import annotations

from finflow.contracts.producers import *  # noqa: F403 - one namespace: contracts.<Model>
from finflow.contracts.readers import *  # noqa: F403
