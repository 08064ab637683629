"""Payment's calls to Wallet's internal routes (service token `svc:payment`).

Every outcome is one of: Payment's own contract model of the answer (contracts.PaymentReads*), None (404), a PostingRefused (Wallet said no)
or ServiceUnavailable (no usable answer: network, timeout, 5xx, open breaker, no service
token, or an answer that breaks the contract). Payment caches none of Wallet's answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from pydantic import ValidationError

from finflow import contracts, ids
from finflow.config import settings
from finflow.observability import for_module
from finflow.service_auth import token_provider
from finflow.service_client import ServiceClient, ServiceUnavailable, client_for

if TYPE_CHECKING:  # hints only: httpx loads with the first call (cold start)
    import httpx

obs = for_module("payment")

# Wallet's problem `type` codes that mean "this posting was refused and nothing moved":
# a re-send would be refused the same way, so the payment fails.
BUSINESS_REFUSALS = frozenset(
    {"insufficient-funds", "wallet-frozen", "wallet-not-active", "currency-mismatch", "not-found", "invalid-posting"}
)


class PostingRefused(Exception):
    """Wallet answered a posting with a 4xx. `final` refusals fail the payment; anything
    else (a reused posting id, our token refused) leaves it pending for a human."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"HTTP {status} {code}: {detail}")
        self.status, self.code, self.detail = status, code, detail

    @property
    def final(self) -> bool:
        return self.code in BUSINESS_REFUSALS


def _client() -> ServiceClient:
    s = settings()
    # token_provider turns any failure to get a token into ServiceUnavailable("auth"):
    # an Auth outage is a 503 naming Auth, never a 500.
    return client_for("wallet", s.api_url, timeout=s.service_timeout_seconds, token_provider=token_provider("payment"))


def problem_code(response: httpx.Response) -> tuple[str, str]:
    """(code, detail) of a problem+json answer: the code is the last segment of `type`."""
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    code = str(body.get("type") or "").rstrip("/").rsplit("/", 1)[-1]
    detail = body.get("detail") if isinstance(body.get("detail"), str) else response.reason_phrase
    return code or f"http-{response.status_code}", detail or f"HTTP {response.status_code}"


def _broken(contract: str, exc: Exception) -> ServiceUnavailable:
    obs.logger.error("wallet answer breaks the contract", extra={"model": contract, "error": str(exc)})
    return ServiceUnavailable("wallet", f"answer does not match {contract}")


def _parse(model, response: httpx.Response):
    try:
        return model.model_validate(response.json())
    except (ValueError, ValidationError) as exc:
        raise _broken(model.__name__, exc) from None


def _unexpected(response: httpx.Response, what: str) -> ServiceUnavailable:
    code, detail = problem_code(response)
    obs.logger.error(
        "unexpected wallet answer", extra={"call": what, "status": response.status_code, "code": code, "detail": detail}
    )
    return ServiceUnavailable("wallet", f"{what}: HTTP {response.status_code}")


def checks(
    user_id: str, wallet_ids: list[str]
) -> tuple[contracts.PaymentReadsKycView, list[contracts.PaymentReadsWalletView | None]]:
    """The user's KYC status (cascaded from Auth through Wallet) and Wallet's view of each
    wallet id, None where there is none, in one call. IDs are UUIDs, so anything else is
    not found without asking."""
    canonical = [ids.canonical(w) for w in wallet_ids]
    asked = [w for w in canonical if w]
    query = urlencode({"user_id": user_id, "wallet_ids": ",".join(asked)})
    response = _client().request("GET", f"/api/wallet/internal/payment-checks?{query}")
    if not response.is_success:
        raise _unexpected(response, "payment checks")
    try:
        body = response.json()
        kyc = contracts.PaymentReadsKycView.model_validate(body["kyc"])
        views = [None if v is None else contracts.PaymentReadsWalletView.model_validate(v) for v in body["wallets"]]
        if len(views) != len(asked):
            raise ValueError(f"{len(views)} wallets answered for {len(asked)} asked")
    except (ValueError, TypeError, KeyError, ValidationError) as exc:
        raise _broken("PaymentChecks", exc) from None
    answers = iter(views)
    return kyc, [next(answers) if w else None for w in canonical]


def post(req: contracts.PostingRequest) -> None:
    """Apply a posting. Idempotent by posting_id, so it is retried on outages like a GET.
    Returns when the posting is applied (201, or 200 for a replay)."""
    response = _client().request(
        "POST", "/api/wallet/internal/postings", json=req.model_dump(mode="json"), idempotent=True
    )
    if response.is_success:
        return
    code, detail = problem_code(response)
    raise PostingRefused(response.status_code, code, detail)


def find_posting(posting_id: str) -> contracts.PaymentReadsPostingResult | None:
    """The posting Wallet applied under this id, or None if it never applied one."""
    response = _client().request("GET", f"/api/wallet/internal/postings/{posting_id}")
    if response.status_code == 404:
        return None
    if not response.is_success:
        raise _unexpected(response, "posting lookup")
    return _parse(contracts.PaymentReadsPostingResult, response)
