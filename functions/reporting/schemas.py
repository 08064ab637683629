"""Reporting's response models. Amounts are decimal strings in their currency's exponent
and are never added across currencies: every money figure sits under its currency code."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class Figure(BaseModel):
    count: int
    volume: str  # decimal string, e.g. "1250.00" (USD), "500" (JPY)


class CurrencyFigures(BaseModel):
    balance: str  # the sum of the balances of the wallets in this currency
    wallets: int
    payments: Figure  # completed payments of every kind (gross volume)
    by_kind: dict[str, Figure]  # deposit, transfer, withdrawal
    failed: Figure


class UserFigures(BaseModel):
    total: int
    by_kyc_status: dict[str, int]  # pending, submitted, verified, rejected


class WalletFigures(BaseModel):
    total: int
    by_currency: dict[str, dict[str, int]]  # currency -> status -> wallets


class Summary(BaseModel):
    users: UserFigures
    wallets: WalletFigures
    currencies: dict[str, CurrencyFigures]


class Day(BaseModel):
    day: date
    currency: str
    count: int
    volume: str


class Daily(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, populate_by_name=True)
    from_: date = Field(alias="from")  # "from" is a Python keyword
    to: date
    currency: str | None
    days: list[Day]  # days with completed payments, oldest first
    totals: dict[str, Figure]


class Payment(BaseModel):
    id: str
    status: str
    kind: str
    amount: str
    currency: str
    from_wallet_id: str | None
    to_wallet_id: str | None
    from_user_id: str | None
    to_user_id: str | None
    description: str | None
    failure_reason: str | None
    at: datetime


class SearchResult(BaseModel):
    items: list[Payment]
    next_cursor: str | None
    totals: dict[str, Figure]  # every match, per currency (not only this page)


class FunnelUsers(BaseModel):
    registered: int
    submitted: int
    verified: int
    rejected: int


class FunnelSubmissions(BaseModel):
    submitted: int
    verified: int
    rejected: int
    awaiting_decision: int


class KycFunnel(BaseModel):
    users: FunnelUsers
    submissions: FunnelSubmissions


class RuleFigures(BaseModel):
    total: int
    by_status: dict[str, int]
    by_severity: dict[str, int]
    wallet_freezes: int
    amounts: dict[str, str]  # currency -> the triggering payments' sum


class AmlReport(BaseModel):
    total: int
    by_status: dict[str, int]
    by_rule: dict[str, RuleFigures]
