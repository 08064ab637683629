"""Contracts between modules: every cross-module read and every event's data.

A consumer parses what it reads from another module with these models (unknown fields
ignored, so a producer may add optional fields); a producer builds its responses and
events from them. Changing a field here is a change to a contract between modules.
"""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

KycStatus = Literal["pending", "submitted", "verified", "rejected"]
WalletStatus = Literal["active", "frozen", "closed"]
PostingKind = Literal["transfer", "deposit", "withdrawal"]
DocumentType = Literal["passport", "national_id", "drivers_license", "residence_permit"]
AmlSeverity = Literal["low", "medium", "high"]


class Contract(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# --- synchronous views ---------------------------------------------------------------

class UserView(Contract):
    """Wallet's view of a user: GET /api/auth/users/{id} (service token)."""
    id: str
    kyc_status: KycStatus


class KycView(Contract):
    """Payment's view of a user's KYC, cascaded through Wallet:
    GET /api/wallet/internal/users/{user_id}/kyc (svc:payment)."""
    user_id: str
    kyc_status: KycStatus
    source: Literal["auth", "replica"]  # replica: Auth was unreachable, Wallet's event-fed copy


class WalletView(Contract):
    """Payment's view of a wallet: GET /api/wallet/internal/wallets/{id} (svc:payment)."""
    id: str
    user_id: str
    currency: str
    status: WalletStatus
    frozen_by: Literal["owner", "compliance", "admin"] | None = None
    created_at: datetime | None = None  # AML's "new wallet" rules read it


class PostingRequest(Contract):
    """Payment asks Wallet to post: POST /api/wallet/internal/postings (svc:payment).
    Idempotent by posting_id (the payment id)."""
    posting_id: str = Field(min_length=1, max_length=64)
    kind: PostingKind
    debit_wallet_id: str | None = None   # None: the external funding account (deposit)
    credit_wallet_id: str | None = None  # None: the external funding account (withdrawal)
    amount_minor: int = Field(gt=0)
    currency: str = Field(min_length=3, max_length=3)
    description: str | None = Field(default=None, max_length=200)


class PostingEntry(Contract):
    wallet_id: str
    amount_minor: int  # signed: credit > 0, debit < 0
    balance_after_minor: int | None  # None on the external funding account


class PostingResult(Contract):
    posting_id: str
    kind: PostingKind
    currency: str
    amount_minor: int
    created_at: datetime
    entries: list[PostingEntry]


# --- event data (detail.data) ----------------------------------------------------------

class UserRegistered(Contract):
    id: str
    email: str
    name: str
    kyc_status: KycStatus
    roles: list[str]
    created_at: datetime


class UserKycStatusChanged(Contract):
    user_id: str
    kyc_status: KycStatus
    previous_status: KycStatus | None = None
    changed_at: datetime
    email: str | None = None
    name: str | None = None


class UserRolesChanged(Contract):
    user_id: str
    roles: list[str]
    previous_roles: list[str]
    changed_by: str


class KycSubmitted(Contract):
    submission_id: str
    user_id: str
    document_type: DocumentType
    submitted_at: datetime


class KycDecisionMade(Contract):
    user_id: str
    status: Literal["verified", "rejected"]
    decided_at: datetime
    submission_id: str | None = None
    reason: str | None = None


class WalletCreated(Contract):
    wallet_id: str
    user_id: str
    currency: str
    status: WalletStatus
    created_at: datetime


class WalletStatusChanged(Contract):
    wallet_id: str
    user_id: str
    currency: str
    status: WalletStatus
    previous_status: WalletStatus
    actor_id: str
    actor_role: str
    reason: str | None = None
    changed_at: datetime


class PaymentCompleted(Contract):
    payment_id: str
    kind: PostingKind
    from_wallet_id: str | None
    to_wallet_id: str | None
    from_user_id: str | None
    to_user_id: str | None
    amount: str  # decimal string in the currency's exponent, e.g. "100.00"
    amount_minor: int
    currency: str
    description: str | None = None
    completed_at: datetime


class PaymentFailed(Contract):
    payment_id: str
    kind: PostingKind
    from_wallet_id: str | None
    to_wallet_id: str | None
    amount: str
    amount_minor: int
    currency: str
    reason: str
    failed_at: datetime


class AmlAlertRaised(Contract):
    """One hit of an AML rule on one payment. The alert is about `wallet_id` (the wallet the
    money left; for a deposit, the wallet it arrived in) and its owner `user_id`."""
    alert_id: str
    rule: str  # large_payment | velocity | structuring | rapid_in_out (more may come: read leniently)
    severity: AmlSeverity
    payment_id: str  # the payment that triggered the rule
    wallet_id: str
    user_id: str | None
    currency: str
    amount: str  # the triggering payment, decimal string ("10000.00")
    amount_minor: int
    reason: str  # one sentence for a compliance officer
    evidence: dict  # payment ids, amounts as decimal strings, the window
    freezes_wallet: bool  # severity high: KYC freezes the wallet through Wallet's API
    created_at: datetime


EVENTS: dict[str, type[Contract]] = {
    "UserRegistered": UserRegistered, "UserKycStatusChanged": UserKycStatusChanged,
    "UserRolesChanged": UserRolesChanged, "KycSubmitted": KycSubmitted, "KycDecisionMade": KycDecisionMade,
    "WalletCreated": WalletCreated, "WalletStatusChanged": WalletStatusChanged,
    "PaymentCompleted": PaymentCompleted, "PaymentFailed": PaymentFailed, "AmlAlertRaised": AmlAlertRaised,
}
