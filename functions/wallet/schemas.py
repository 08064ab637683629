"""Wallet's request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from finflow.contracts import WalletStatus


class CreateV2(BaseModel):
    model_config = ConfigDict(extra="ignore")  # `balance`, `user_id`, ... are never applied
    currency: str = Field(min_length=1, max_length=8)


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: WalletStatus
    reason: str | None = Field(default=None, max_length=500)


class Wallet(BaseModel):
    id: str
    user_id: str
    currency: str
    balance: str  # decimal string in the currency's exponent
    status: WalletStatus
    created_at: datetime


class WalletList(BaseModel):
    items: list[Wallet]


class Entry(BaseModel):
    id: str
    posting_id: str
    kind: Literal["transfer", "deposit", "withdrawal"]
    amount: str  # signed: "-10.00" left the wallet
    balance_after: str
    currency: str
    description: str | None
    created_at: datetime


class EntryPage(BaseModel):
    items: list[Entry]
    next_cursor: str | None
