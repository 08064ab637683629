"""A stateful property test of the ledger (Hypothesis RuleBasedStateMachine) through the
in-process gateway and a real PostgreSQL: random deposits, withdrawals, transfers, freezes
and unfreezes, retries with the same Idempotency-Key, and bursts of concurrent transfers
from one wallet. A model predicts every answer and balance; after every step the model,
Wallet's balances and the shared invariants (tests/invariants.py) must agree.

Bounded for `make test` (derandomized, LEDGER_MODEL_EXAMPLES x LEDGER_MODEL_STEPS);
`make fuzz` may raise both through the environment.
"""

from __future__ import annotations

import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text

from tests import invariants
from tests.api import payment_helpers as h

EXAMPLES = int(os.environ.get("LEDGER_MODEL_EXAMPLES", "10"))
STEPS = int(os.environ.get("LEDGER_MODEL_STEPS", "15"))
WALLETS = 3
amounts = st.integers(min_value=1, max_value=40_000)  # minor units: 0.01 to 400.00 USD
FIGURES = {"steps": 0, "invariant_checks": 0, "concurrent_requests": 0, "retries": 0}


def usd(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


class SerialModules(httpx.BaseTransport):
    """Modules' outbound calls, one at a time: Powertools keeps the current request in
    class-level state, so in one process two API invocations must not overlap. Payment's
    own work (keys, leases, its transactions) still runs concurrently around them."""

    def __init__(self):
        from devserver import inprocess

        self.inner, self.lock = inprocess.transport(), threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            response = self.inner.handle_request(request)
            response.read()
            return response


class Ledger(RuleBasedStateMachine):
    gw: httpx.Client  # set by the test

    @initialize(funding=st.lists(amounts, min_size=WALLETS, max_size=WALLETS))
    def open_wallets(self, funding):
        self.people = [h.customer(self.gw) for _ in range(WALLETS)]
        self.wallets = [h.wallet(self.gw, p) for p in self.people]
        self.balance = [0] * WALLETS
        self.frozen = [False] * WALLETS
        # written requests, for retries: (owner index, key, path, body, status, answer)
        self.sent: list[tuple[int, str, str, dict, int, bytes]] = []
        for w, amount in enumerate(funding):  # every example starts with money to move
            self.deposit(w, amount)

    # --- the operations, each predicted by the model ---------------------------------------
    def _post(self, who: int, path: str, body: dict, want: int, detail: str | None = None) -> None:
        key = uuid.uuid4().hex
        res = self.gw.post(path, json=body, headers={**self.people[who].headers, "Idempotency-Key": key})
        assert res.status_code == want, (path, body, res.text)
        if detail:
            assert res.json()["detail"] == detail, res.text
        if want == 201 or detail == "Insufficient funds":  # recorded by Payment: replayed to a retry
            self.sent.append((who, key, path, body, res.status_code, res.content))
        FIGURES["steps"] += 1

    @rule(w=st.integers(0, WALLETS - 1), amount=amounts)
    def deposit(self, w, amount):
        if self.frozen[w]:
            return self._post(
                w,
                "/api/payment/deposit",
                {"wallet_id": self.wallets[w], "amount": usd(amount)},
                400,
                "Wallet is frozen",
            )
        self._post(w, "/api/payment/deposit", {"wallet_id": self.wallets[w], "amount": usd(amount)}, 201)
        self.balance[w] += amount

    @rule(w=st.integers(0, WALLETS - 1), amount=amounts)
    def withdraw(self, w, amount):
        body = {"wallet_id": self.wallets[w], "amount": usd(amount)}
        if self.frozen[w]:
            return self._post(w, "/api/payment/withdraw", body, 400, "Source wallet is frozen")
        if amount > self.balance[w]:
            return self._post(w, "/api/payment/withdraw", body, 422, "Insufficient funds")
        self._post(w, "/api/payment/withdraw", body, 201)
        self.balance[w] -= amount

    def _transfer_refusal(self, src: int, dst: int, amount: int) -> tuple[int, str] | None:
        """What Payment answers before (or instead of) moving money, in its documented order."""
        if self.frozen[src]:
            return 400, "Source wallet is frozen"
        if self.frozen[dst]:
            return 400, "Destination wallet is not active"
        if src == dst:
            return 422, "Source and destination wallets must be different"
        if amount > self.balance[src]:
            return 422, "Insufficient funds"
        return None

    @rule(src=st.integers(0, WALLETS - 1), dst=st.integers(0, WALLETS - 1), amount=amounts)
    def transfer(self, src, dst, amount):
        body = {"from_wallet_id": self.wallets[src], "to_wallet_id": self.wallets[dst], "amount": usd(amount)}
        refusal = self._transfer_refusal(src, dst, amount)
        if refusal:
            return self._post(src, "/api/payment/transfer", body, *refusal)
        self._post(src, "/api/payment/transfer", body, 201)
        self.balance[src] -= amount
        self.balance[dst] += amount

    @rule(w=st.integers(0, WALLETS - 1))
    def freeze_or_unfreeze(self, w):
        status = "active" if self.frozen[w] else "frozen"
        res = self.gw.put(
            f"/api/wallet/{self.wallets[w]}/status", json={"status": status}, headers=self.people[w].headers
        )
        assert res.status_code == 200 and res.json()["status"] == status, res.text
        self.frozen[w] = not self.frozen[w]
        FIGURES["steps"] += 1

    @precondition(lambda self: self.sent)
    @rule(pick=st.integers(min_value=0))
    def retry_same_key(self, pick):
        """The same request with the same key: the first answer again, byte for byte, and no money moves."""
        who, key, path, body, status, answer = self.sent[pick % len(self.sent)]
        res = self.gw.post(path, json=body, headers={**self.people[who].headers, "Idempotency-Key": key})
        assert (res.status_code, res.content) == (status, answer), res.text
        FIGURES["steps"] += 1
        FIGURES["retries"] += 1

    @rule(src=st.integers(0, WALLETS - 1), dst=st.integers(0, WALLETS - 1), n=st.integers(2, 6), amount=amounts)
    def concurrent_transfers(self, src, dst, n, amount):
        """n transfers from one wallet at once: exactly the ones the balance affords succeed."""
        from finflow.http import Principal, Problem
        from functions.payment import logic
        from functions.payment.schemas import TransferRequest

        if self._transfer_refusal(src, dst, 0):
            return  # refused before any money could move: covered by `transfer`
        p = Principal(subject=self.people[src].id, roles=frozenset({"customer"}), kind="user")
        req = TransferRequest(from_wallet_id=self.wallets[src], to_wallet_id=self.wallets[dst], amount=usd(amount))
        start = threading.Barrier(n)

        def one(_):
            start.wait()
            try:
                return logic.transfer(p, req, uuid.uuid4().hex).status
            except Problem as refused:
                return refused.status

        with ThreadPoolExecutor(n) as pool:
            statuses = sorted(pool.map(one, range(n)))
        affordable = min(n, self.balance[src] // amount)
        assert statuses == [201] * affordable + [422] * (n - affordable), (statuses, self.balance[src], amount)
        self.balance[src] -= affordable * amount
        self.balance[dst] += affordable * amount
        FIGURES["steps"] += 1
        FIGURES["concurrent_requests"] += n

    # --- after every step ----------------------------------------------------------------------
    @invariant()
    def database_agrees_with_the_model(self):
        from finflow.db import engine

        with engine("wallet").connect() as conn:
            rows = dict(
                conn.execute(
                    text("SELECT id::text, balance_minor FROM wallets WHERE id = ANY(CAST(:w AS uuid[]))"),
                    {"w": self.wallets},
                ).all()
            )
        assert [rows[w] for w in self.wallets] == self.balance
        invariants.check(invariants.Databases.in_process(), [p.id for p in self.people]).assert_ok()
        FIGURES["invariant_checks"] += 1


def test_the_ledger_model_holds_under_random_operations_and_concurrency(gateway):
    from finflow import service_client

    service_client.route_all_http_through(SerialModules())
    Ledger.gw = gateway
    run_state_machine_as_test(
        Ledger,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    print(f"ledger model: {FIGURES}")
    assert FIGURES["invariant_checks"] >= EXAMPLES and FIGURES["steps"] > 0 and FIGURES["retries"] > 0
