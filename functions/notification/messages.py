"""What each notification says (pure: no I/O). Amounts are shown in their own currency
with finflow.money.format_display ("$100.00", "€12.50", "¥500")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from finflow import contracts, money


@dataclass(frozen=True)
class Message:
    template: str  # the notification's `type`; one event may carry several templates for one user
    title: str
    body: str
    data: dict[str, Any] = field(default_factory=dict)
    # users named in the text (a counterparty): their erasure scrubs the name from it
    mentions: tuple[str, ...] = ()

    @property
    def email_text(self) -> str:
        return f"{self.body}\n\n-- FinFlow"

    @property
    def sms_text(self) -> str:
        return f"FinFlow: {self.body}"


def _display(minor: int, currency: str) -> str:
    try:
        return money.format_display(minor, currency)
    except money.MoneyError:  # a currency Babel does not know: still say something exact
        return f"{minor} (minor units) {currency}"


def welcome(name: str | None) -> Message:
    hello = f"Welcome to FinFlow, {name}!" if name else "Welcome to FinFlow!"
    return Message("welcome", "Welcome to FinFlow", f"{hello} Your account is ready.")


def kyc_reminder() -> Message:
    return Message(
        "kyc_reminder",
        "Verify your identity",
        "Verify your identity to open a wallet and send payments: submit an identity document "
        "in the app. It only takes a few minutes.",
        {"kyc_status": "pending"},
    )


def kyc_changed(status: str) -> Message | None:
    if status == "verified":
        return Message(
            "kyc_verified",
            "KYC verified",
            "Your identity is verified. You can now open wallets and send payments.",
            {"kyc_status": status},
        )
    if status == "rejected":
        return Message(
            "kyc_rejected",
            "KYC rejected",
            "We could not verify your identity. Please submit a new identity document.",
            {"kyc_status": status},
        )
    return None  # pending / submitted: nothing the user needs to hear about


def wallet_created(e: contracts.NotificationReadsWalletCreated) -> Message:
    return Message(
        "wallet_created",
        f"Your {e.currency} wallet is ready",
        f"Your new {e.currency} wallet is open and ready to use.",
        {"wallet_id": e.wallet_id, "currency": e.currency},
    )


def wallet_status(e: contracts.NotificationReadsWalletStatusChanged) -> Message:
    reason = f" Reason: {e.reason}" if e.reason else ""
    if e.status == "frozen":
        by = {"compliance": " by our compliance team", "admin": " by an administrator"}.get(e.actor_role, "")
        title, body = "Wallet frozen", f"Your {e.currency} wallet was frozen{by}.{reason}"
    elif e.status == "active":
        title, body = "Wallet active again", f"Your {e.currency} wallet is active again.{reason}"
    else:
        title, body = "Wallet closed", f"Your {e.currency} wallet was closed.{reason}"
    return Message(
        f"wallet_{e.status}",
        title,
        body,
        {
            "wallet_id": e.wallet_id,
            "currency": e.currency,
            "status": e.status,
            "previous_status": e.previous_status,
            "reason": e.reason,
        },
    )


def _payment_data(e: contracts.NotificationReadsPaymentCompleted, direction: str) -> dict[str, Any]:
    return {
        "payment_id": e.payment_id,
        "kind": e.kind,
        "direction": direction,
        "amount": e.amount,
        "currency": e.currency,
        "description": e.description,
    }


def _mentions(name: str | None, user_id: str | None) -> tuple[str, ...]:
    return (user_id,) if name and user_id else ()


def payment_messages(
    e: contracts.NotificationReadsPaymentCompleted, names: dict[str, str | None]
) -> list[tuple[str, Message]]:
    """(user id, message) for each party of a completed payment; `names` maps user ids to names."""
    shown = _display(e.amount_minor, e.currency)
    out: list[tuple[str, Message]] = []
    if e.kind == "transfer":
        if e.from_user_id:
            named = names.get(e.to_user_id or "")
            out.append(
                (
                    e.from_user_id,
                    Message(
                        "payment_sent",
                        "Payment sent",
                        f"You sent {shown} to {named or 'another FinFlow user'}.",
                        _payment_data(e, "sent"),
                        _mentions(named, e.to_user_id),
                    ),
                )
            )
        if e.to_user_id:
            sender = names.get(e.from_user_id or "")
            frm = f" from {sender}" if sender else ""
            out.append(
                (
                    e.to_user_id,
                    Message(
                        "payment_received",
                        "Payment received",
                        f"You received {shown}{frm}.",
                        _payment_data(e, "received"),
                        _mentions(sender, e.from_user_id),
                    ),
                )
            )
    elif e.kind == "deposit" and e.to_user_id:
        out.append(
            (
                e.to_user_id,
                Message(
                    "deposit_completed",
                    "Deposit completed",
                    f"You deposited {shown} into your {e.currency} wallet.",
                    _payment_data(e, "received"),
                ),
            )
        )
    elif e.kind == "withdrawal" and e.from_user_id:
        out.append(
            (
                e.from_user_id,
                Message(
                    "withdrawal_completed",
                    "Withdrawal completed",
                    f"You withdrew {shown} from your {e.currency} wallet.",
                    _payment_data(e, "sent"),
                ),
            )
        )
    return out


def aml_alert(a: contracts.NotificationReadsAmlAlertRaised) -> Message:
    """For compliance officers: which rule fired, on which payment, wallet and user."""
    frozen = " The wallet has been frozen." if a.freezes_wallet else ""
    owner = f" (user {a.user_id})" if a.user_id else ""
    return Message(
        "aml_alert",
        f"AML alert: {a.rule} ({a.severity})",
        f"{a.reason} Payment {a.payment_id} of {_display(a.amount_minor, a.currency)} "
        f"on wallet {a.wallet_id}{owner}.{frozen}",
        {
            "alert_id": a.alert_id,
            "rule": a.rule,
            "severity": a.severity,
            "payment_id": a.payment_id,
            "wallet_id": a.wallet_id,
            "user_id": a.user_id,
            "amount": a.amount,
            "currency": a.currency,
            "freezes_wallet": a.freezes_wallet,
        },
    )
