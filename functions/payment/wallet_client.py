"""Payment's calls to Wallet's internal routes (service token `svc:payment`): the posting,
and the reconciler's lookup of one.

Every outcome is one of: Payment's own contract model of the answer (contracts.PaymentReads*),
None (404), a PostingRefused (Wallet said no) or ServiceUnavailable (no usable answer: network,
timeout, 5xx, open breaker, no service token, or an answer that breaks the contract).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from finflow import contracts
from finflow.config import settings
from finflow.observability import for_module
from finflow.service_auth import token_provider
from finflow.service_client import ServiceClient, ServiceUnavailable, client_for

if TYPE_CHECKING:  # hints only: httpx loads with the first call (cold start)
    import httpx

obs = for_module("payment")


class PostingRefused(Exception):
    """Wallet answered a posting with a 4xx. With a `refusal` (a rule of its checks, nothing
    moved) the payment is refused; without one (a reused posting id, our token refused, an
    answer that is not a refusal) it stays pending for a human."""

    def __init__(self, status: int, code: str, detail: str, refusal: contracts.PaymentReadsPostingRefusal | None):
        super().__init__(f"HTTP {status} {code}: {detail}")
        self.status, self.code, self.detail, self.refusal = status, code, detail, refusal


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


def post(req: contracts.PostingRequest) -> contracts.PaymentReadsPostingResult:
    """Apply a posting: the one call a payment makes. Idempotent by posting_id, so it is
    retried on outages like a GET. Returns the applied posting (201, or 200 for a replay)."""
    response = _client().request(
        "POST", "/api/wallet/internal/postings", json=req.model_dump(mode="json", exclude_none=True), idempotent=True
    )
    if response.is_success:
        return _parse(contracts.PaymentReadsPostingResult, response)
    code, detail = problem_code(response)
    raise PostingRefused(response.status_code, code, detail, _refusal(response))


def _refusal(response: httpx.Response) -> contracts.PaymentReadsPostingRefusal | None:
    if response.status_code not in (400, 403, 404, 409, 422):
        return None
    try:
        return contracts.PaymentReadsPostingRefusal.model_validate(response.json())
    except (ValueError, ValidationError):
        return None


def find_posting(posting_id: str) -> contracts.PaymentReadsPostingResult | None:
    """The posting Wallet applied under this id, or None if it never applied one."""
    response = _client().request("GET", f"/api/wallet/internal/postings/{posting_id}")
    if response.status_code == 404:
        return None
    if not response.is_success:
        raise _unexpected(response, "posting lookup")
    return _parse(contracts.PaymentReadsPostingResult, response)
