"""The callers the fuzzer and the soak act as, built over HTTP like any client would.

A KYC-verified customer with funded wallets (so wallet, payment and notification routes
answer past their KYC gate), an admin of the fuzzer's own (role-restricted routes past
their 403), and service tokens for the internal routes. Known ids let generated requests reach real
resources instead of only ever meeting 404.
"""

from __future__ import annotations

import socket
import time
import uuid
from dataclasses import dataclass, field

import httpx
import requests
from requests.adapters import HTTPAdapter

from tests.e2e.support import Account, create_wallet, deposit, login, register, verify

# The fuzzer's own loopback address: the login brute-force lock it trips (per source
# address) must not lock the rest of the session, which logs in from 127.0.0.1.
FUZZ_SOURCE = "127.0.0.2"


def _loopback_alias_works(address: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((address, 0))
        except OSError:
            return False
    return True


class _SourceAddressAdapter(HTTPAdapter):
    def __init__(self, address: str, **kwargs):
        self._address = (address, 0)
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = self._address
        super().init_poolmanager(*args, **kwargs)


def fuzz_session() -> requests.Session:
    """A requests session (schemathesis' transport) sending from FUZZ_SOURCE when it can."""
    session = requests.Session()
    if _loopback_alias_works(FUZZ_SOURCE):
        adapter = _SourceAddressAdapter(FUZZ_SOURCE)
        session.mount("http://", adapter)
    return session


@dataclass
class Principals:
    customer: Account
    admin_token: str
    service_tokens: dict[str, str]
    # path parameter name -> ids of real resources the customer can see
    known: dict[str, list[str]] = field(default_factory=dict)

    def bearer(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def service_token(http: httpx.Client, devserver, module: str) -> str:
    creds = devserver.secret(f"finflow/service-credentials/{module}")
    r = http.post(
        "/api/auth/token",
        json={
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "grant_type": "client_credentials",
        },
    )
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def _first_notification(http: httpx.Client, account: Account, timeout: float = 10.0) -> list[str]:
    """A notification id once the events of the set-up reached Notification (or none)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = http.get("/api/notifications", headers=account.auth)
        assert r.status_code == 200, r.text
        if items := r.json()["items"]:
            return [items[0]["id"]]
        time.sleep(0.2)
    return []


def _fuzz_admin(http: httpx.Client, devserver, tag: str) -> str:
    """An admin of the fuzzer's own: wrong passwords it sends (erasure asks for one) lock
    this account, never the session's admin."""
    account = register(http, f"{tag}-admin")
    admin = {"Authorization": f"Bearer {login(http, *devserver.admin)['access_token']}"}
    r = http.put(f"/api/auth/users/{account.id}/roles", json={"roles": ["customer", "admin"]}, headers=admin)
    assert r.status_code == 200, r.text
    return login(http, account.email, account.password)["access_token"]


def build(http: httpx.Client, devserver, tag: str = "fuzz") -> Principals:
    customer = register(http, tag)
    r = http.post(
        "/api/kyc/submit",
        json={"document_type": "passport", "document_url": "https://docs.example/p"},
        headers=customer.auth,
    )
    assert r.status_code == 202, r.text
    submission = r.json()["id"]
    verify(http, devserver, customer)  # also waits until Auth knows the verified status
    usd = create_wallet(http, customer)
    eur = create_wallet(http, customer, "EUR")
    payment = deposit(http, customer, usd["id"], "1000.00", key=str(uuid.uuid4()))
    deposit(http, customer, eur["id"], "500.00")
    admin = _fuzz_admin(http, devserver, tag)
    services = {m: service_token(http, devserver, m) for m in ("payment", "kyc")}
    # user ids name a bystander: the admin's role grants and erasures land on it, not on
    # the customer every later request acts as
    bystander = register(http, f"{tag}-bystander")
    known = {
        "wallet_id": [usd["id"], eur["id"]],
        "user_id": [bystander.id],
        "payment_id": [payment["id"]],
        "posting_id": [payment["id"]],
        "submission_id": [submission],
        "notification_id": _first_notification(http, customer),
    }
    return Principals(customer=customer, admin_token=admin, service_tokens=services, known=known)
