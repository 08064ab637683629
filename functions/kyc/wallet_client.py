"""KYC's calls to Wallet with its service token (`svc:kyc`, which Wallet treats as
compliance): a wallet's view (its age, for the rapid in-and-out rule) and status changes
(AML freezes and their lifting).

Outcomes: a contract model, None (no such wallet), WalletRefused (Wallet said no), or
ServiceUnavailable (no usable answer: network, timeout, 5xx, open breaker, no token).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from finflow import contracts, ids
from finflow.config import settings
from finflow.service_auth import token_provider
from finflow.service_client import ServiceClient, ServiceUnavailable, client_for

if TYPE_CHECKING:  # annotations only: httpx loads with the first call (finflow.service_client)
    import httpx


class WalletRefused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status, self.detail = status, detail


def _client() -> ServiceClient:
    s = settings()
    return client_for("wallet", s.api_url, timeout=s.service_timeout_seconds, token_provider=token_provider("kyc"))


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail if isinstance(detail, str) else f"HTTP {response.status_code}"


def _view(response: httpx.Response) -> contracts.KycReadsWalletView:
    try:
        return contracts.KycReadsWalletView.model_validate(response.json())
    except (ValueError, ValidationError):
        raise ServiceUnavailable("wallet", "answer does not match WalletView") from None


def view(wallet_id: str) -> contracts.KycReadsWalletView | None:
    if ids.canonical(wallet_id) is None:
        return None
    response = _client().request("GET", f"/api/wallet/internal/wallets/{wallet_id}")
    if response.status_code == 404:
        return None
    if not response.is_success:
        raise WalletRefused(response.status_code, _detail(response))
    return _view(response)


def set_status(wallet_id: str, status: str, reason: str) -> bool:
    """Freeze or reactivate a wallet as compliance; idempotent (the same status is a no-op
    for Wallet), so retried like a read. False: Wallet has no such wallet."""
    if ids.canonical(wallet_id) is None:
        return False
    response = _client().request(
        "PUT", f"/api/wallet/{wallet_id}/status", json={"status": status, "reason": reason[:500]}
    )
    if response.status_code == 404:
        return False
    if not response.is_success:
        raise WalletRefused(response.status_code, _detail(response))
    return True
