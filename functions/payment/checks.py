"""Payment's checks before a posting, decided from its replicas of Wallet and Auth (fed by
their events) without calling anyone. Pure: the replicas' rows come in, a plan or a refusal
goes out.

The order is the documented one: the caller's KYC, the initiating wallet (found, owned, not
frozen or closed), the destination (found, active, not the same), one currency, the amount.
Wallet's posting applies the same checks again, atomically, and is the authority. So Payment
refuses on its own only what a replica cannot have wrong, and only when every earlier check
passed on the replicas:

- facts that never change: a wallet's owner and currency, an id that is no wallet id at all,
  the two wallets being one, the amount's form;
- a closed wallet (closed is final).

Everything else is left to the posting: a wallet or user the replicas have not heard of yet
(a miss), a KYC status other than verified (it may have been verified a moment ago), a frozen
wallet (it may have been lifted). Then the posting carries the client's amount and Wallet
answers in the same order, with the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from finflow import ids, money
from finflow.http import Problem


@dataclass(frozen=True)
class Replica:
    """What Payment's replica knows of a wallet."""

    wallet_id: str
    user_id: str
    currency: str
    status: str


@dataclass(frozen=True)
class Plan:
    """A payment ready to be written and posted. `amount_minor` and `currency` are None when
    a wallet is unknown here: Wallet converts the client's amount with its currency."""

    source_id: str | None
    destination_id: str | None
    amount_minor: int | None
    currency: str | None
    destination_owner: str | None  # a transfer's payee, as far as the replica knows
    decided_here: bool  # every check passed on the replicas (the posting re-checks anyway)


class _Defer(Exception):
    """A check the replicas cannot decide: the posting will."""


def _names(kind: str) -> tuple[str, str]:
    return ("Wallet", "wallet") if kind == "deposit" else ("Source wallet", "source wallet")


def _initiating(kind: str, subject: str, raw_id: str, w: Replica | None) -> Replica:
    name, lower = _names(kind)
    if ids.canonical(raw_id) is None:
        raise Problem(404, f"{name} not found")  # no wallet can have this id
    if w is None:
        raise _Defer
    if w.user_id != subject:
        raise Problem(403, f"You do not own the {lower}")
    if w.status == "closed":
        raise Problem(400, f"{name} is closed")
    if w.status != "active":
        raise _Defer  # frozen: it may have been lifted since
    return w


def _destination(raw_id: str, w: Replica | None, source_id: str) -> Replica:
    if ids.canonical(raw_id) is None:
        raise Problem(404, "Destination wallet not found")
    if w is None:
        raise _Defer
    if w.status == "closed":
        raise Problem(400, "Destination wallet is not active")
    if w.status != "active":
        raise _Defer
    if w.wallet_id == source_id:
        raise Problem(422, "Source and destination wallets must be different")
    return w


# No wallet has it (wallet ids are random UUIDs): what an id that is no UUID at all is posted as,
# when a check before "not found" is left to Wallet, so Wallet answers that check or "not found".
NO_WALLET = "00000000-0000-0000-0000-000000000000"


def _as_wallet_id(raw: str | None) -> str | None:
    if raw is None:
        return None
    return ids.canonical(raw) or NO_WALLET


def amount_minor(amount: Any, currency: str, max_amount: int) -> int:
    try:
        return money.to_minor(amount, currency, max_minor=max_amount * 10 ** money.exponent(currency))
    except money.MoneyError as exc:
        raise Problem(422, str(exc)) from None


def plan(
    kind: str,
    subject: str,
    kyc_status: str | None,
    wallets: dict[str, Replica],
    *,
    source: str | None,
    destination: str | None,
    amount: Any,
    max_amount: int,
) -> Plan:
    """The plan for a payment, or the Problem of the first failing check when the replicas
    decide it. `source` is the debited wallet (transfer, withdrawal), `destination` the
    credited one (transfer, deposit); the wallets are keyed by canonical id."""
    initiating_raw = (destination if kind == "deposit" else source) or ""
    src = wallets.get(ids.canonical(source) or "") if source else None
    dst = wallets.get(ids.canonical(destination) or "") if destination else None
    initiating = dst if kind == "deposit" else src
    decided = False
    try:
        if kyc_status != "verified":
            raise _Defer  # refused KYC is Wallet's to say: Auth may have verified the user a moment ago
        mine = _initiating(kind, subject, initiating_raw, initiating)
        if kind == "transfer":
            other = _destination(destination or "", dst, mine.wallet_id)
            if mine.currency != other.currency:
                raise Problem(
                    422, f"Currency mismatch: source wallet is {mine.currency}, destination wallet is {other.currency}"
                )
        decided = True
    except _Defer:
        pass
    source_id = _as_wallet_id(source)
    destination_id = _as_wallet_id(destination)
    currency = initiating.currency if initiating else None
    minor = None
    if currency is not None:
        try:
            minor = amount_minor(amount, currency, max_amount)
        except Problem:
            if decided:
                raise  # every earlier check passed: the amount is the first failing one
    return Plan(
        source_id=source_id,
        destination_id=destination_id,
        amount_minor=minor,
        currency=currency if minor is not None else None,
        destination_owner=dst.user_id if dst else None,
        decided_here=decided,
    )
