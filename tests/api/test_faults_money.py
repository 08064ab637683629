"""Faults on the money path, each ending with the invariant check (tests/invariants.py): the
database connection dropped in the middle of Wallet's posting and of Payment's completion,
and Wallet going down in the middle of a burst of transfers."""

from __future__ import annotations

import contextlib
import time
import uuid

import httpx
from sqlalchemy import event, text

from tests import invariants
from tests.api import payment_helpers as h
from tests.api.payment_helpers import assert_problem

PENDING = "is pending and will be resolved automatically"


def check(*people: h.Customer, in_flight: bool = False) -> invariants.Report:
    return invariants.check(invariants.Databases.in_process(), [p.id for p in people], in_flight=in_flight).assert_ok()


@contextlib.contextmanager
def connection_dropped_before(module: str, statement: str, times: int):
    """The session of `module`'s database is terminated (pg_terminate_backend, as a failover
    or an idle-killer would) just before the next `times` statements containing `statement`."""
    from finflow.db import engine

    e = engine(module)
    state = {"left": times, "dropped": 0}

    def before(conn, cursor, sql, params, context, executemany):
        if state["left"] <= 0 or statement not in sql.upper():
            return
        state["left"] -= 1
        pid = conn.connection.dbapi_connection.info.backend_pid
        with e.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            for _ in range(100):  # the signal is asynchronous: wait until the session is gone
                if not other.execute(text("SELECT 1 FROM pg_stat_activity WHERE pid = :p"), {"p": pid}).first():
                    break
                time.sleep(0.02)
        state["dropped"] += 1

    event.listen(e, "before_cursor_execute", before)
    try:
        yield state
    finally:
        event.remove(e, "before_cursor_execute", before)


def test_wallet_connection_dropped_mid_posting_writes_nothing_and_the_same_key_converges(gateway):
    a, b = h.customer(gateway), h.customer(gateway)
    wa, wb = h.funded_wallet(gateway, a, "100.00"), h.wallet(gateway, b)
    with connection_dropped_before("wallet", "INSERT INTO LEDGER_ENTRIES", times=10) as dropped:
        res = h.transfer(gateway, a, wa, wb, "30.00", key="drop-1")
    assert dropped["dropped"] >= 1
    assert_problem(res, 503)  # Wallet's fault, not the client's: retry later
    assert PENDING in res.json()["detail"] and res.headers["Retry-After"]
    # the wallets' locks and the posting were in the dropped transaction: nothing is left of it
    assert (h.balance(gateway, a, wa), h.balance(gateway, b, wb)) == ("100.00", "0.00")
    check(a, b, in_flight=True)

    again = h.transfer(gateway, a, wa, wb, "30.00", key="drop-1")
    assert again.status_code == 201 and again.json()["status"] == "completed", again.text
    assert (h.balance(gateway, a, wa), h.balance(gateway, b, wb)) == ("70.00", "30.00")
    assert h.transfer(gateway, a, wa, wb, "30.00", key="drop-1").content == again.content
    check(a, b)


def test_payment_connection_dropped_while_completing_and_the_same_key_converges(gateway):
    """Wallet applied the posting; Payment's connection drops between marking the payment
    completed and recording its event. The request fails; the retry completes it, once."""
    a, b = h.customer(gateway), h.customer(gateway)
    wa, wb = h.funded_wallet(gateway, a, "100.00"), h.wallet(gateway, b)
    with connection_dropped_before("payment", "INSERT INTO OUTBOX", times=1) as dropped:
        res = h.transfer(gateway, a, wa, wb, "25.00", key="drop-2")
    assert dropped["dropped"] == 1
    assert_problem(res, 503)  # Payment's own trouble: the payment is pending, retry later
    assert PENDING in res.json()["detail"] and res.headers["Retry-After"]
    check(a, b, in_flight=True)  # posted in Wallet, still pending in Payment: in flight, nothing lost

    again = h.transfer(gateway, a, wa, wb, "25.00", key="drop-2")
    assert again.status_code == 201 and again.json()["status"] == "completed", again.text
    assert (h.balance(gateway, a, wa), h.balance(gateway, b, wb)) == ("75.00", "25.00")
    check(a, b)


class WalletFailsMidBurst(httpx.BaseTransport):
    """Modules' outbound calls: the answer to posting number `lose_at` is lost (Wallet applied
    it), and from the next call on Wallet is down (its function disabled, as in an outage)."""

    def __init__(self, lose_at: int):
        from devserver import inprocess

        self.gw = inprocess.gateway()
        self.inner = inprocess.transport(self.gw)
        self.lose_at, self.postings, self.failing = lose_at, 0, True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        posting = request.method == "POST" and request.url.path == "/api/wallet/internal/postings"
        if posting:
            self.postings += 1
        if self.failing and self.postings > self.lose_at:
            self.gw.pools["wallet.api"].enabled = False
        response = self.inner.handle_request(request)
        if self.failing and posting and self.postings == self.lose_at:
            response.read()
            raise httpx.ReadTimeout("answer lost (simulated)", request=request)
        return response

    def recover(self) -> None:
        from finflow import service_client

        self.failing = False
        self.gw.pools["wallet.api"].enabled = True
        service_client.route_all_http_through(self)  # fresh breakers: as once their reset time is over


def test_wallet_down_mid_burst_loses_nothing_and_the_reconciler_resolves_what_was_pending(gateway):
    from finflow import service_client
    from functions.payment import logic

    a, b = h.customer(gateway), h.customer(gateway)
    wa, wb = h.funded_wallet(gateway, a, "100.00"), h.wallet(gateway, b)
    fault = WalletFailsMidBurst(lose_at=3)
    service_client.route_all_http_through(fault)
    keys = [f"burst-{i}-{uuid.uuid4().hex[:6]}" for i in range(8)]
    answers = [h.transfer(gateway, a, wa, wb, "10.00", key=k) for k in keys]
    assert [r.status_code for r in answers] == [201, 201] + [503] * 6
    for r in answers[2:]:
        assert_problem(r, 503)
    assert PENDING in answers[2].json()["detail"]  # posted, answer lost: pending
    # Wallet unreachable: a posting may have arrived, so those stay pending, until the breaker
    # opens (the fifth failure): then nothing is sent, nothing is written
    pending = [PENDING in r.json()["detail"] for r in answers[2:]]
    assert pending == [True] * 5 + [False], [r.json()["detail"] for r in answers[2:]]
    check(a, b, in_flight=True)

    fault.recover()
    assert logic.reconcile(min_age_seconds=0)["completed"] == 5
    check(a, b)  # nothing pending any more; no money lost or created
    retried = [h.transfer(gateway, a, wa, wb, "10.00", key=k) for k in keys]
    assert [r.status_code for r in retried] == [201] * 8
    assert {r.json()["status"] for r in retried} == {"completed"}
    assert (h.balance(gateway, a, wa), h.balance(gateway, b, wb)) == ("20.00", "80.00")
    report = check(a, b)
    assert report.figures["payments"] == 9, report.figures  # the deposit and the eight transfers, once each
