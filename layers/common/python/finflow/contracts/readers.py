"""Consumer contracts: what one consumer reads of one producer contract, field by field,
and the strict checker the contract tests use."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from finflow.contracts.producers import AmlSeverity, Contract, DocumentType, KycStatus, PostingKind, WalletStatus

# --- consumer contracts: exactly the fields each consumer reads ------------------------------
# Keep each list to what the consumer's code touches: a field listed here but not read makes
# a harmless producer change look breaking; a field read but not listed is an AttributeError.


class WalletReadsUserView(Contract):  # functions/wallet/logic.py kyc_of
    kyc_status: KycStatus


class WalletReadsUserKycStatusChanged(Contract):  # the KYC replica
    user_id: str
    kyc_status: KycStatus
    changed_at: datetime


class PaymentReadsPostingEntry(Contract):
    wallet_id: str
    user_id: str | None = None


class PaymentReadsPostingResult(Contract):  # the amount and parties of a payment Payment had no replica for
    kind: PostingKind
    currency: str
    amount_minor: int
    entries: list[PaymentReadsPostingEntry]


class PaymentReadsPostingRefusal(Contract):  # functions/payment/refusals.py words the client's answer
    rule: str  # an unknown rule leaves the payment pending for a human, never a guess
    side: Literal["source", "destination"] | None = None
    source_currency: str | None = None
    destination_currency: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    detail: str


class PaymentReadsWalletCreated(Contract):  # Payment's wallet replica
    wallet_id: str
    user_id: str
    currency: str
    status: WalletStatus
    created_at: datetime


class PaymentReadsWalletStatusChanged(Contract):
    wallet_id: str
    user_id: str
    currency: str
    status: WalletStatus
    changed_at: datetime


class PaymentReadsUserKycStatusChanged(Contract):  # Payment's KYC replica
    user_id: str
    kyc_status: KycStatus
    changed_at: datetime


class KycReadsWalletView(Contract):  # the rapid in-and-out rule needs the wallet's age
    created_at: datetime | None = None


class KycReadsPaymentCompleted(Contract):  # AML monitoring
    payment_id: str
    kind: PostingKind
    from_wallet_id: str | None
    to_wallet_id: str | None
    from_user_id: str | None
    to_user_id: str | None
    amount_minor: int
    currency: str
    completed_at: datetime


class AuthReadsKycDecisionMade(Contract):
    user_id: str
    status: Literal["verified", "rejected"]
    decided_at: datetime | None = None  # absent: Auth falls back to the event's occurred_at


class NotificationReadsUserView(Contract):  # a contact no event has told Notification about
    id: str
    email: str
    name: str
    kyc_status: KycStatus
    roles: list[str]
    created_at: datetime


class NotificationReadsUserRegistered(Contract):
    id: str
    email: str
    name: str
    kyc_status: KycStatus
    roles: list[str]
    created_at: datetime


class NotificationReadsUserKycStatusChanged(Contract):
    user_id: str
    kyc_status: KycStatus
    changed_at: datetime
    email: str | None = None
    name: str | None = None


class NotificationReadsUserRolesChanged(Contract):
    user_id: str
    roles: list[str]


class NotificationReadsWalletCreated(Contract):
    wallet_id: str
    user_id: str
    currency: str


class NotificationReadsWalletStatusChanged(Contract):
    wallet_id: str
    user_id: str
    currency: str
    status: WalletStatus
    previous_status: WalletStatus
    actor_role: str
    reason: str | None = None


class NotificationReadsPaymentCompleted(Contract):
    payment_id: str
    kind: PostingKind
    from_user_id: str | None
    to_user_id: str | None
    amount: str
    amount_minor: int
    currency: str
    description: str | None = None


class NotificationReadsAmlAlertRaised(Contract):
    alert_id: str
    rule: str
    severity: AmlSeverity
    payment_id: str
    wallet_id: str
    user_id: str | None
    currency: str
    amount: str
    amount_minor: int
    reason: str
    freezes_wallet: bool


class ReportingReadsUserRegistered(Contract):
    id: str
    kyc_status: KycStatus
    created_at: datetime


class ReportingReadsUserKycStatusChanged(Contract):
    user_id: str
    kyc_status: KycStatus
    changed_at: datetime


class ReportingReadsKycSubmitted(Contract):
    submission_id: str
    user_id: str
    document_type: DocumentType
    submitted_at: datetime


class ReportingReadsKycDecisionMade(Contract):
    user_id: str
    status: Literal["verified", "rejected"]
    decided_at: datetime
    submission_id: str | None = None


class ReportingReadsWalletCreated(Contract):
    wallet_id: str
    user_id: str
    currency: str
    status: WalletStatus
    created_at: datetime


class ReportingReadsWalletStatusChanged(Contract):
    wallet_id: str
    user_id: str
    currency: str
    status: WalletStatus
    changed_at: datetime


class ReportingReadsPaymentCompleted(Contract):
    payment_id: str
    kind: PostingKind
    from_wallet_id: str | None
    to_wallet_id: str | None
    from_user_id: str | None
    to_user_id: str | None
    amount_minor: int
    currency: str
    description: str | None = None
    completed_at: datetime


class ReportingReadsPaymentFailed(Contract):
    payment_id: str
    kind: PostingKind
    from_wallet_id: str | None
    to_wallet_id: str | None
    amount_minor: int
    currency: str
    reason: str
    failed_at: datetime


class ReportingReadsAmlAlertRaised(Contract):
    alert_id: str
    rule: str
    severity: AmlSeverity
    payment_id: str
    wallet_id: str
    user_id: str | None
    currency: str
    amount_minor: int
    freezes_wallet: bool
    created_at: datetime


class ReadsUserErased(Contract):  # Notification, KYC and Reporting: whose personal data to pseudonymise
    user_id: str
    erased_at: datetime


class ReadsUserExportRequested(Contract):  # Wallet, Payment, Notification and KYC write their part
    export_id: str
    user_id: str


class ReadsServiceToken(Contract):  # finflow.service_auth, for every module that calls another
    access_token: str
    expires_in: int


# (consumer, producer, contract name) -> the consumer's model. The keys are the catalog's
# subscriptions (one per detail type) and sync calls (one per view read); a test keeps them equal.
CONSUMER_CONTRACTS: dict[tuple[str, str, str], type[Contract]] = {
    ("auth", "kyc", "KycDecisionMade"): AuthReadsKycDecisionMade,
    ("wallet", "auth", "UserView"): WalletReadsUserView,
    ("wallet", "auth", "ServiceToken"): ReadsServiceToken,
    ("wallet", "auth", "UserKycStatusChanged"): WalletReadsUserKycStatusChanged,
    ("payment", "auth", "ServiceToken"): ReadsServiceToken,
    ("payment", "wallet", "PostingResult"): PaymentReadsPostingResult,
    ("payment", "wallet", "PostingRefusal"): PaymentReadsPostingRefusal,
    ("payment", "wallet", "WalletCreated"): PaymentReadsWalletCreated,
    ("payment", "wallet", "WalletStatusChanged"): PaymentReadsWalletStatusChanged,
    ("payment", "auth", "UserKycStatusChanged"): PaymentReadsUserKycStatusChanged,
    ("notification", "auth", "ServiceToken"): ReadsServiceToken,
    ("notification", "auth", "UserView"): NotificationReadsUserView,
    ("notification", "auth", "UserRegistered"): NotificationReadsUserRegistered,
    ("notification", "auth", "UserKycStatusChanged"): NotificationReadsUserKycStatusChanged,
    ("notification", "auth", "UserRolesChanged"): NotificationReadsUserRolesChanged,
    ("notification", "auth", "UserErased"): ReadsUserErased,
    ("notification", "auth", "UserExportRequested"): ReadsUserExportRequested,
    ("wallet", "auth", "UserExportRequested"): ReadsUserExportRequested,
    ("payment", "auth", "UserExportRequested"): ReadsUserExportRequested,
    ("notification", "wallet", "WalletCreated"): NotificationReadsWalletCreated,
    ("notification", "wallet", "WalletStatusChanged"): NotificationReadsWalletStatusChanged,
    ("notification", "payment", "PaymentCompleted"): NotificationReadsPaymentCompleted,
    ("notification", "kyc", "AmlAlertRaised"): NotificationReadsAmlAlertRaised,
    ("kyc", "auth", "ServiceToken"): ReadsServiceToken,
    ("kyc", "wallet", "WalletView"): KycReadsWalletView,
    ("kyc", "payment", "PaymentCompleted"): KycReadsPaymentCompleted,
    ("kyc", "auth", "UserErased"): ReadsUserErased,
    ("kyc", "auth", "UserExportRequested"): ReadsUserExportRequested,
    ("reporting", "auth", "UserRegistered"): ReportingReadsUserRegistered,
    ("reporting", "auth", "UserKycStatusChanged"): ReportingReadsUserKycStatusChanged,
    ("reporting", "auth", "UserErased"): ReadsUserErased,
    ("reporting", "wallet", "WalletCreated"): ReportingReadsWalletCreated,
    ("reporting", "wallet", "WalletStatusChanged"): ReportingReadsWalletStatusChanged,
    ("reporting", "payment", "PaymentCompleted"): ReportingReadsPaymentCompleted,
    ("reporting", "payment", "PaymentFailed"): ReportingReadsPaymentFailed,
    ("reporting", "kyc", "KycSubmitted"): ReportingReadsKycSubmitted,
    ("reporting", "kyc", "KycDecisionMade"): ReportingReadsKycDecisionMade,
    ("reporting", "kyc", "AmlAlertRaised"): ReportingReadsAmlAlertRaised,
}

# consumers["notification"]["PaymentCompleted"] -> NotificationReadsPaymentCompleted
consumers: dict[str, dict[str, type[Contract]]] = {}
for (_consumer, _producer, _name), _model in CONSUMER_CONTRACTS.items():
    consumers.setdefault(_consumer, {})[_name] = _model


def readers(name: str) -> dict[str, type[Contract]]:
    """Every consumer of the producer contract `name`, with its model."""
    return {c: m for (c, _p, n), m in CONSUMER_CONTRACTS.items() if n == name}


def violations(consumer: str, name: str, payload: dict, model: type[BaseModel] | None = None) -> list[str]:
    """Why `consumer` could not read `payload` as contract `name`: one line per field,
    "<consumer> reads <name>.<field>: <problem>"; empty when it can.

    Checked strictly (JSON rules: a datetime may be an ISO string, but "100" is no int), so a
    retyped field is caught even where the consumer's lax parsing would coerce it today.
    `model` overrides the registered consumer model (tests of hypothetical consumers)."""
    import json

    from pydantic import ValidationError

    model = model or consumers[consumer][name]
    try:
        model.model_validate_json(json.dumps(payload, default=str), strict=True)
    except ValidationError as exc:
        out = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "<payload>"
            problem = "missing" if err["type"] == "missing" else f"{err['msg']} (got {err.get('input')!r})"
            out.append(f"{consumer} reads {name}.{field}: {problem}")
        return out
    return []
