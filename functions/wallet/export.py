"""Wallet's part of a user's data export: their wallets and every ledger entry of each."""

from __future__ import annotations

from finflow.exports import every_page
from finflow.http import Principal
from functions.wallet import logic


def part(owner: Principal) -> dict:
    wallets = logic.list_mine(owner)
    return {
        "wallets": [w.model_dump(mode="json") for w in wallets],
        "transactions": {w.id: every_page(lambda c, w=w: logic.transactions(owner, w.id, 100, c)) for w in wallets},
    }
