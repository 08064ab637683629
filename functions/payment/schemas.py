"""Payment's request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, field_validator

from finflow.contracts import PostingKind


def _number_or_string(value: object) -> object:
    # Taken as sent, never coerced: `true` is not 1, and a list or null is not an amount.
    # Whether the value is a valid amount for the wallet's currency is decided later, in
    # the validation order (after KYC, wallets and currency), by finflow.money.
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("amount must be a number or a decimal string")
    return value


# A JSON number or string. JSON 1e309 arrives as float('inf') and is refused by money.to_minor.
Amount = Annotated[StrictInt | StrictFloat | StrictStr, BeforeValidator(_number_or_string)]
WalletId = Annotated[str, Field(min_length=1, max_length=64)]


class Request(BaseModel):
    # Unknown fields (`status`, `from_user_id`, ...) are ignored, never applied.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class TransferRequest(Request):
    from_wallet_id: WalletId
    to_wallet_id: WalletId
    amount: Amount
    description: str | None = Field(default=None, max_length=200)

    @field_validator("description")
    @classmethod
    def _blank_is_none(cls, v: str | None) -> str | None:
        return v or None


class WalletAmountRequest(Request):
    """Deposit and withdrawal: one wallet and an amount."""

    wallet_id: WalletId
    amount: Amount


class Payment(BaseModel):
    id: str
    kind: PostingKind
    status: Literal["pending", "completed", "failed"]
    amount: str  # decimal string in the currency's exponent, e.g. "10.00"
    currency: str | None  # null only while pending on a wallet Payment has not yet heard of
    from_wallet_id: str | None
    to_wallet_id: str | None
    description: str | None
    failure_reason: str | None
    created_at: datetime
    completed_at: datetime | None


class PaymentPage(BaseModel):
    items: list[Payment]
    next_cursor: str | None
