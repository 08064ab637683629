"""Wallet's part of a user's data export: their wallets and every ledger entry of each."""

from __future__ import annotations

from functools import partial

from finflow.exports import every_page
from finflow.http import Principal
from functions.wallet import logic


def part(owner: Principal) -> dict:
    wallets = logic.list_mine(owner)
    return {
        "wallets": [w.model_dump(mode="json") for w in wallets],
        "transactions": {w.id: every_page(partial(logic.transactions, owner, w.id, 100)) for w in wallets},
    }
