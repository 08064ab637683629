"""Producer contracts: what each module promises to answer (views) or emit (events).
A producer builds its responses and events from these models."""

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
    # defer_build: ~60 models, each function validates a few of them; the rest cost nothing at import
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


# --- synchronous views ---------------------------------------------------------------


class UserView(Contract):
    """Auth's answer about a user: GET /api/auth/users/{id} (self, admin or a service token).
    Wallet reads the KYC status of it, Notification the contact details."""

    id: str
    email: str
    name: str
    kyc_status: KycStatus
    roles: list[str]
    created_at: datetime


class ServiceToken(Contract):
    """Auth's client-credentials answer: POST /api/auth/token (every calling module)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class KycView(Contract):
    """Wallet's answer about a user's KYC (its gate, cascaded from Auth): where it came from."""

    user_id: str
    kyc_status: KycStatus
    # auth: asked just now; cache: Wallet's event-fed replica confirmed "verified" within
    # KYC_CACHE_SECONDS; replica: Auth was unreachable, the replica decided
    source: Literal["auth", "cache", "replica"]


class WalletView(Contract):
    """KYC's view of a wallet: GET /api/wallet/internal/wallets/{id} (svc:payment, svc:kyc)."""

    id: str
    user_id: str
    currency: str
    status: WalletStatus
    frozen_by: Literal["owner", "compliance", "admin"] | None = None
    created_at: datetime | None = None  # AML's "new wallet" rules read it


class PostingRequest(Contract):
    """Payment asks Wallet to post: POST /api/wallet/internal/postings (svc:payment).
    Idempotent by posting_id (the payment id).

    With `initiator_user_id`, Wallet is the authority on the payment's checks: it applies them
    in the documented order (the initiator's KYC, the initiating wallet's owner and status, the
    destination, one currency, the amount, the funds) under the wallets' locks, and refuses
    with a PostingRefusal. The amount is either `amount_minor` with `currency` (Payment knew the
    currency) or `requested_amount`, the client's amount as JSON text (Payment had not yet heard
    of a wallet), which Wallet converts with the wallet's currency by the same rules."""

    posting_id: str = Field(min_length=1, max_length=64)
    kind: PostingKind
    debit_wallet_id: str | None = None  # None: the external funding account (deposit)
    credit_wallet_id: str | None = None  # None: the external funding account (withdrawal)
    amount_minor: int | None = Field(default=None, gt=0)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    requested_amount: str | None = Field(default=None, max_length=400)
    initiator_user_id: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=200)


RefusalRule = Literal[
    "kyc-required",
    "not-found",
    "not-owner",
    "wallet-frozen",
    "wallet-closed",
    "wallet-not-active",
    "same-wallet",
    "currency-mismatch",
    "invalid-amount",
    "insufficient-funds",
]


class PostingRefusal(Contract):
    """Why Wallet refused a posting (a problem+json with these members): which rule, which
    side and wallet, and the facts the caller words its answer with. Nothing moved."""

    rule: RefusalRule
    side: Literal["source", "destination"] | None = None
    wallet_id: str | None = None
    source_currency: str | None = None  # currency-mismatch
    destination_currency: str | None = None
    amount_minor: int | None = None  # the posting's amount, once converted (insufficient-funds)
    currency: str | None = None
    detail: str


class PostingEntry(Contract):
    wallet_id: str
    user_id: str | None = None  # the wallet's owner; None on the external funding account
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


class UserErased(Contract):
    """A user's erasure (GDPR Art. 17): Auth has pseudonymised its own fields, revoked every
    session and blocked login. Each module holding personal data of `user_id` pseudonymises
    it too; financial and AML records are kept (docs/decisions.md)."""

    user_id: str
    erased_at: datetime


class UserExportRequested(Contract):
    """A user asked for their data (GDPR Art. 15/20): each module holding data about
    `user_id` writes its part of export `export_id` (finflow.exports)."""

    export_id: str
    user_id: str
    requested_at: datetime


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
    "UserRegistered": UserRegistered,
    "UserKycStatusChanged": UserKycStatusChanged,
    "UserRolesChanged": UserRolesChanged,
    "UserErased": UserErased,
    "UserExportRequested": UserExportRequested,
    "KycSubmitted": KycSubmitted,
    "KycDecisionMade": KycDecisionMade,
    "WalletCreated": WalletCreated,
    "WalletStatusChanged": WalletStatusChanged,
    "PaymentCompleted": PaymentCompleted,
    "PaymentFailed": PaymentFailed,
    "AmlAlertRaised": AmlAlertRaised,
}


# --- synchronous reads: which route answers each view --------------------------------------

SYNC_READS: dict[str, tuple[str, str]] = {
    # view name: (producer module, route)
    "UserView": ("auth", "GET /api/auth/users/{id}"),
    "ServiceToken": ("auth", "POST /api/auth/token"),
    "WalletView": ("wallet", "GET /api/wallet/internal/wallets/{id}"),
    # Payment's one call per payment: the posting answers a PostingResult or a PostingRefusal
    "PostingResult": ("wallet", "POST /api/wallet/internal/postings"),
    "PostingRefusal": ("wallet", "POST /api/wallet/internal/postings"),
}
VIEWS: dict[str, type[Contract]] = {
    "UserView": UserView,
    "ServiceToken": ServiceToken,
    "WalletView": WalletView,
    "PostingResult": PostingResult,
    "PostingRefusal": PostingRefusal,
}
PRODUCER_CONTRACTS: dict[str, type[Contract]] = {**VIEWS, **EVENTS}
