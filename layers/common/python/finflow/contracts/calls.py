"""Every synchronous call one module makes to another, declared once.

A row names the caller, the callee, the route (method and path template), the reader
contract the caller parses the answer with (a model of `finflow.contracts.readers`, None
when the caller reads only the status) and the problem `type` codes the caller acts on.

The table is the allow-list of the private path: `finflow.service_client` refuses a call
it does not declare, CDK grants each caller `lambda:InvokeFunction` on exactly the API
functions it calls, and `make cascade` and tests/contract read it. The catalog's
`Module.calls` must agree with it (tests/unit/test_calls_table.py).

To change a call: edit its row here, in the same change as the code making it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import get_args

from finflow.contracts.producers import RefusalRule


@dataclass(frozen=True)
class Call:
    caller: str
    callee: str
    route: str  # "METHOD /path/{param}"
    reader: str | None = None  # readers.py model the caller parses a success with
    refusals: tuple[str, ...] = ()  # problem `type` codes (last segment) the caller acts on

    @property
    def method(self) -> str:
        return self.route.split(" ", 1)[0]

    @property
    def path(self) -> str:
        return self.route.split(" ", 1)[1]

    def matches(self, method: str, path: str) -> bool:
        return method.upper() == self.method and _pattern(self.path).fullmatch(path) is not None


def _token(caller: str) -> Call:
    """The OAuth2 client-credentials exchange every caller makes before its first call."""
    return Call(caller, "auth", "POST /api/auth/token", "ReadsServiceToken")


# Wallet's refusals of a posting (problem `type` codes, with PostingRefusal's members): each
# refuses the payment in Payment's words (functions/payment/rules.py refusal), except
# `conflict` (a reused posting id) and `invalid-posting`, which leave it pending for a human.
POSTING_REFUSALS = (*get_args(RefusalRule), "invalid-posting", "conflict")

CALLS: tuple[Call, ...] = (
    # Wallet: the KYC gate asks Auth when its replica cannot answer (functions/wallet/logic.py kyc_of)
    _token("wallet"),
    Call("wallet", "auth", "GET /api/auth/users/{user_id}", "WalletReadsUserView", ("not-found",)),
    # Payment: the posting, its one call per payment, and the reconciler's lookup (functions/payment/wallet_client.py)
    _token("payment"),
    Call("payment", "wallet", "POST /api/wallet/internal/postings", "PaymentReadsPostingResult", POSTING_REFUSALS),
    Call(
        "payment",
        "wallet",
        "GET /api/wallet/internal/postings/{posting_id}",
        "PaymentReadsPostingResult",
        ("not-found",),
    ),
    # Notification: a contact no event has told it about (functions/notification/logic.py)
    _token("notification"),
    Call(
        "notification", "auth", "GET /api/auth/users/{user_id}", "NotificationReadsUserView", ("forbidden", "not-found")
    ),
    # KYC: a wallet's age for AML, and AML freezes and their lifting (functions/kyc/wallet_client.py)
    _token("kyc"),
    Call("kyc", "wallet", "GET /api/wallet/internal/wallets/{wallet_id}", "KycReadsWalletView", ("not-found",)),
    Call("kyc", "wallet", "PUT /api/wallet/{wallet_id}/status", None, ("not-found",)),
)


@cache
def _pattern(template: str) -> re.Pattern:
    # a {param} is one path segment, as the callee's router reads it
    return re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)))


def declared(caller: str, callee: str, method: str, path: str) -> Call | None:
    """The row allowing `caller` to send `method path` (no query string) to `callee`."""
    return next((c for c in CALLS if (c.caller, c.callee) == (caller, callee) and c.matches(method, path)), None)


def edges() -> set[tuple[str, str]]:
    """(caller, callee) of every row: the catalog's `calls`, and each an invoke permission."""
    return {(c.caller, c.callee) for c in CALLS}


def callees_of(caller: str) -> tuple[str, ...]:
    return tuple(sorted({c.callee for c in CALLS if c.caller == caller}))


def callees() -> tuple[str, ...]:
    """Modules whose API function is invoked directly by another module."""
    return tuple(sorted({c.callee for c in CALLS}))


def into(callee: str) -> tuple[Call, ...]:
    return tuple(c for c in CALLS if c.callee == callee)


@cache
def internal_prefixes() -> tuple[str, ...]:
    """`<route prefix>/internal` of every module: routes for services only, which no gateway
    routes (API Gateway answers them 404 itself, as does the devserver's gateway)."""
    from functions import catalog

    prefixes = (p for m in catalog.MODULES for p in (*m.route_prefixes, f"/api/{m.key}"))
    return tuple(dict.fromkeys(f"{p}/internal" for p in prefixes))


def is_internal(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in internal_prefixes())
