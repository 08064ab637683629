"""Mixed traffic from many concurrent clients for a fixed time, and what it recorded.

Each client is a thread with its own HTTP connection, acting as one of the soak's
customers (KYC-verified, a funded USD wallet): deposits, transfers and withdrawals with
Idempotency-Key retries, wallet, ledger, payment and notification reads, now and then a
new registration and login; one client reads reports as an analyst. It stops by itself at
the deadline or after its request budget.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx

from tests.e2e.support import Account, unique_email

REPORTS = (
    "/api/reports/summary",
    "/api/reports/payments/daily",
    "/api/reports/kyc-funnel",
    "/api/reports/aml",
    "/api/reports/payments/search?q=soak",
)


@dataclass
class Record:
    """What every client saw, merged under a lock."""

    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    created: dict[str, str] = field(default_factory=dict)  # payment id answered 201 -> kind
    replay_mismatches: list[str] = field(default_factory=list)
    new_users: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path: str, r: httpx.Response, seconds: float) -> None:
        with self.lock:
            self.statuses[r.status_code] += 1
            self.latencies.append(seconds)
            if r.status_code >= 500:
                self.server_errors.append(f"{method} {path} -> {r.status_code} {r.text[:200]}")

    def figures(self, seconds: float, clients: int) -> dict:
        lat = sorted(self.latencies)
        pct = (lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 1)) if lat else (lambda q: None)
        return {
            "clients": clients,
            "duration_s": round(seconds, 1),
            "requests": len(lat),
            "requests_per_s": round(len(lat) / seconds, 1) if seconds else None,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "server_errors": len(self.server_errors),
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else None,
            "payments_created": len(self.created),
            "replay_mismatches": len(self.replay_mismatches),
            "new_users": len(self.new_users),
        }


class Client:
    label = "Soak"  # the new registrations' name and email prefix

    def __init__(
        self,
        base_url: str,
        me: Account,
        wallet_id: str,
        others: list[str],
        record: Record,
        seed: int,
        analyst_token: str | None = None,
    ):
        self.http = httpx.Client(base_url=base_url, timeout=30.0)
        self.me, self.wallet_id, self.others, self.record = me, wallet_id, others, record
        self.rng = random.Random(seed)
        self.analyst = {"Authorization": f"Bearer {analyst_token}"} if analyst_token else None

    def call(self, method: str, path: str, headers: dict | None = None, **kw) -> httpx.Response:
        started = time.perf_counter()
        r = self.http.request(method, path, headers=headers or self.me.auth, **kw)
        self.record.add(method, path, r, time.perf_counter() - started)
        return r

    def money(self, path: str, body: dict) -> None:
        """A money call; a third of them are sent twice with the same key (a client retry),
        and the replay must answer what the first call did."""
        key = str(uuid.uuid4())
        headers = self.me.auth | {"Idempotency-Key": key}
        first = self.call("POST", path, headers, json=body)
        if first.status_code == 201:
            with self.record.lock:
                self.record.created[first.json()["id"]] = path.rsplit("/", 1)[-1]
        if self.rng.random() < 1 / 3:
            again = self.call("POST", path, headers, json=body)
            throttled = 429 in (first.status_code, again.status_code)  # the gateway answered, not Payment
            if (again.status_code, again.text) != (first.status_code, first.text) and not throttled:
                with self.record.lock:
                    self.record.replay_mismatches.append(f"{path}: {first.status_code} then {again.status_code}")

    def amount(self) -> str:
        return f"{self.rng.randint(1, 5000) / 100:.2f}"

    def step(self) -> None:
        roll = self.rng.random()
        if self.analyst is not None and roll < 0.5:
            self.call("GET", self.rng.choice(REPORTS), self.analyst)
        elif roll < 0.25:
            self.money("/api/payment/deposit", {"wallet_id": self.wallet_id, "amount": self.amount()})
        elif roll < 0.45:
            self.money(
                "/api/payment/transfer",
                {
                    "from_wallet_id": self.wallet_id,
                    "to_wallet_id": self.rng.choice(self.others),
                    "amount": self.amount(),
                },
            )
        elif roll < 0.55:
            self.money("/api/payment/withdraw", {"wallet_id": self.wallet_id, "amount": self.amount()})
        elif roll < 0.65:
            self.call("GET", f"/api/wallet/{self.wallet_id}")
        elif roll < 0.72:
            self.call("GET", f"/api/wallet/{self.wallet_id}/transactions", params={"limit": 10})
        elif roll < 0.82:
            self.call("GET", "/api/payment", params={"limit": 10})
        elif roll < 0.92:
            self.call("GET", "/api/notifications")
        elif roll < 0.97:
            self.call("GET", "/api/wallet")
        else:
            self.register_and_login()

    def register_and_login(self) -> None:
        email, password = unique_email(f"{self.label.lower()}-new"), "password123"
        r = self.call("POST", "/api/auth/register", {}, json={"email": email, "password": password, "name": self.label})
        if r.status_code == 201:
            with self.record.lock:
                self.record.new_users.append(r.json()["id"])
            self.call("POST", "/api/auth/login", {}, json={"email": email, "password": password})

    def run(self, deadline: float, budget: int) -> None:
        try:
            for _ in range(budget):
                if time.monotonic() >= deadline:
                    return
                self.step()
        except httpx.HTTPError as exc:  # a dropped connection is an answer a user would notice
            with self.record.lock:
                self.record.server_errors.append(f"transport error: {exc!r}")
        finally:
            self.http.close()


def run(
    clients: list[Client], seconds: float, budget_per_client: int, started: float | None = None, grace: float = 120.0
) -> float:
    """Every client at once until `seconds` after `started` (time.monotonic(), now if None); the
    time it took. A request in flight at the deadline may still finish: each client is waited
    for `seconds + grace`."""
    started = time.monotonic() if started is None else started
    threads = [
        threading.Thread(target=c.run, args=(started + seconds, budget_per_client), daemon=True) for c in clients
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + grace)
    return time.monotonic() - started
