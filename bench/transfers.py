"""1. Transfers through Payment's and Wallet's real handlers against a raw-SQL baseline.

Each worker is a process (fork) with its own in-process gateway: the authorizer, Payment's
API function and Wallet's/Auth's API functions run as their handlers do in Lambda, with
Powertools, pydantic, the service client (httpx over WSGI, no sockets), SQLAlchemy and
psycopg on the real database, and events published to moto after commit. Excluded: the
network between gateway and functions, and Lambda's own invoke overhead (section 2 covers
the devserver's HTTP path). The baseline does the same double-entry transfer (lock both
wallets in id order, check status, currency and funds, update both balances, insert the
posting and its two entries) in one transaction with raw psycopg on the same database.
"""

from __future__ import annotations

import multiprocessing as mp
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

AMOUNT_MINOR = 1  # 0.01 USD per transfer: funds never run out, every transfer succeeds
FUNDS = "100000.00"
FUNDS_MINOR = 10_000_000


def _value(conn: psycopg.Connection, sql: str) -> Any:
    """The one value of a query that always answers one row (a count, a row set up before)."""
    row = conn.execute(sql).fetchone()
    if row is None:
        raise LookupError(f"no row for: {sql}")
    return row[0]


@dataclass
class Pair:
    headers: dict
    src: str
    dst: str


def _gateway_client():
    import httpx

    from devserver import inprocess
    from finflow import service_client

    gw = inprocess.gateway()
    service_client.route_all_http_through(inprocess.transport(gw))
    return gw, httpx.Client(transport=inprocess.transport(gw), base_url="http://gateway.bench")


def setup_pairs(n: int) -> list[Pair]:
    """n customers' pairs of funded USD wallets (registered, verified, created, deposited via the API)."""
    from tests.support import kyc_decision

    _, client = _gateway_client()
    pairs = []
    for _ in range(n):
        email = f"{uuid.uuid4().hex[:12]}@bench.example"
        user = client.post("/api/auth/register", json={"email": email, "password": "password123", "name": "Bench"})
        assert user.status_code == 201, user.text
        kyc_decision(user.json()["id"], "verified")
        token = client.post("/api/auth/login", json={"email": email, "password": "password123"}).json()
        h = {"Authorization": f"Bearer {token['access_token']}"}
        src = client.post("/api/v2/wallet/create", json={"currency": "USD"}, headers=h)
        assert src.status_code == 201, src.text
        pairs.append(Pair(h, src.json()["id"], ""))
        dep = client.post(
            "/api/payment/deposit",
            json={"wallet_id": src.json()["id"], "amount": FUNDS},
            headers={**h, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert dep.status_code == 201, dep.text
    for i, p in enumerate(pairs):  # each pays the next customer (the baseline pairs the same way)
        p.dst = pairs[(i + 1) % n].src if n > 1 else p.src
    return pairs


def _fresh_process_state():
    """After fork: forget the parent's connections and clients (never close them from here)."""
    from finflow import aws, db, service_client

    db._engines.clear()
    aws.client.cache_clear()
    service_client._clients.clear()
    service_client._plain = None


def _timed(transfer, start_at: float, seconds: float) -> tuple[list[float], dict[int, int]]:
    """Every worker starts together at `start_at` and transfers for `seconds`: latencies
    and a count of status codes."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    while time.time() < start_at:
        time.sleep(0.001)
    end = start_at + seconds
    while time.time() < end:
        t = time.perf_counter()
        status = transfer()
        latencies.append(time.perf_counter() - t)
        statuses[status] = statuses.get(status, 0) + 1
    return latencies, statuses


def _count_database_work(counts: dict[str, int]) -> None:
    """Per database: SQL statements sent and explicit transactions (each one more BEGIN and
    COMMIT round trip); single reads in autocommit are statements only."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def statement(conn, *_args):
        key = f"db.{conn.engine.url.database.rsplit('_', 1)[-1]}.statements"
        counts[key] = counts.get(key, 0) + 1

    def transaction(conn):
        if not conn.connection.driver_connection.autocommit:
            key = f"db.{conn.engine.url.database.rsplit('_', 1)[-1]}.transactions"
            counts[key] = counts.get(key, 0) + 1

    event.listen(Engine, "before_cursor_execute", statement)
    event.listen(Engine, "commit", transaction)
    event.listen(Engine, "rollback", transaction)


def _app_worker(pair: Pair, start_at: float, seconds: float, out) -> None:
    _fresh_process_state()
    gw, client = _gateway_client()
    spent: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    for name, fn in gw.pools.items():

        def timed(event, timeout=30.0, _fn=fn, _inv=fn.invoke, _name=name, **kw):
            t = time.perf_counter()
            try:
                return _inv(event, timeout, **kw)  # the gateway passes the trace header along
            finally:
                spent.setdefault(_name, []).append(time.perf_counter() - t)

        fn.invoke = timed
    handle = gw.handle

    def through_gateway(request, _handle=handle):
        counts["gateway"] = counts.get("gateway", 0) + 1
        return _handle(request)

    gw.handle = through_gateway
    _count_database_work(counts)

    def transfer():
        r = client.post(
            "/api/payment/transfer",
            headers={**pair.headers, "Idempotency-Key": str(uuid.uuid4())},
            json={"from_wallet_id": pair.src, "to_wallet_id": pair.dst, "amount": "0.01"},
        )
        return r.status_code

    transfer()  # warm: imports, connections, JWKS and service tokens
    spent.clear()
    counts.clear()
    latencies, statuses = _timed(transfer, start_at, seconds)
    out.put(
        {
            "latencies": latencies,
            "statuses": statuses,
            "spent": {k: (len(v), sum(v)) for k, v in spent.items()},
            "counts": counts,
        }
    )


def _peer_worker(url: str, token: str, src: str, dst: str, start_at: float, seconds: float, out) -> None:
    """A client of the peer's Payment over loopback HTTP, one keep-alive connection."""
    import httpx

    with httpx.Client(base_url=url, timeout=30) as client:

        def transfer():
            r = client.post(
                "/transfer",
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
                json={"from_wallet_id": src, "to_wallet_id": dst, "amount": "0.01"},
            )
            return r.status_code

        transfer()
        latencies, statuses = _timed(transfer, start_at, seconds)
    out.put({"latencies": latencies, "statuses": statuses, "spent": {}, "counts": {}})


BASELINE_SQL = """
SELECT id, currency, status, balance_minor FROM wallets WHERE id = ANY(%(ids)s) AND kind = 'user'
ORDER BY id FOR UPDATE"""


def _baseline_worker(conninfo: str, src: str, dst: str, start_at: float, seconds: float, out) -> None:
    import psycopg

    with psycopg.connect(conninfo) as conn:

        def transfer():
            pid = str(uuid.uuid4())
            with conn.transaction():
                rows = {str(r[0]): r for r in conn.execute(BASELINE_SQL, {"ids": [src, dst]})}
                s, d = rows.get(src), rows.get(dst)
                if (
                    s is None
                    or d is None
                    or s[2] != "active"
                    or d[2] != "active"
                    or s[1] != d[1]
                    or s[3] < AMOUNT_MINOR
                ):
                    return 422
                conn.execute(
                    "INSERT INTO postings (id, kind, currency, amount_minor, description, request_hash) "
                    "VALUES (%s, 'transfer', %s, %s, NULL, %s)",
                    (pid, s[1], AMOUNT_MINOR, pid),
                )
                a = conn.execute(
                    "UPDATE wallets SET balance_minor = balance_minor - %s, updated_at = now() "
                    "WHERE id = %s RETURNING balance_minor",
                    (AMOUNT_MINOR, src),
                ).fetchone()[0]
                b = conn.execute(
                    "UPDATE wallets SET balance_minor = balance_minor + %s, updated_at = now() "
                    "WHERE id = %s RETURNING balance_minor",
                    (AMOUNT_MINOR, dst),
                ).fetchone()[0]
                conn.execute(
                    "INSERT INTO ledger_entries (id, posting_id, wallet_id, amount_minor, balance_after_minor) "
                    "VALUES (%s, %s, %s, %s, %s), (%s, %s, %s, %s, %s)",
                    (str(uuid.uuid4()), pid, src, -AMOUNT_MINOR, a, str(uuid.uuid4()), pid, dst, AMOUNT_MINOR, b),
                )
            return 201

        transfer()
        latencies, statuses = _timed(transfer, start_at, seconds)
    out.put({"latencies": latencies, "statuses": statuses, "spent": {}, "counts": {}})


def setup_baseline_pairs(conninfo: str, n: int) -> list[tuple[str, str]]:
    """n funded USD wallets for the baseline, in the same table, funded by a raw deposit posting."""
    import psycopg

    ids = [str(uuid.uuid4()) for _ in range(n)]
    with psycopg.connect(conninfo) as conn, conn.transaction():
        ext = _value(conn, "SELECT id FROM wallets WHERE kind = 'external' AND currency = 'USD'")
        for w in ids:
            pid = str(uuid.uuid4())
            conn.execute(
                "INSERT INTO wallets (id, kind, user_id, currency, balance_minor) "
                "VALUES (%s, 'user', %s, 'USD', 10000000)",
                (w, str(uuid.uuid4())),
            )
            conn.execute(
                "INSERT INTO postings (id, kind, currency, amount_minor, request_hash) "
                "VALUES (%s, 'deposit', 'USD', 10000000, %s)",
                (pid, pid),
            )
            conn.execute(
                "INSERT INTO ledger_entries (id, posting_id, wallet_id, amount_minor, balance_after_minor) "
                "VALUES (%s, %s, %s, -10000000, NULL), (%s, %s, %s, 10000000, 10000000)",
                (str(uuid.uuid4()), pid, ext, str(uuid.uuid4()), pid, w),
            )
    return [(ids[i], ids[(i + 1) % n]) for i in range(n)]


def verify(wallet_conninfo: str, payment_conninfo: str | None, expected_completed: int | None) -> None:
    """Every user wallet's balance equals the sum of its entries; every posting sums to zero;
    no balance is negative; Payment completed exactly the transfers that answered 201."""
    import psycopg

    with psycopg.connect(wallet_conninfo) as conn:
        off = _value(
            conn,
            "SELECT count(*) FROM wallets w WHERE kind = 'user' AND balance_minor <> "
            "(SELECT coalesce(sum(amount_minor), 0) FROM ledger_entries e WHERE e.wallet_id = w.id)",
        )
        unbalanced = _value(
            conn,
            "SELECT count(*) FROM (SELECT posting_id FROM ledger_entries GROUP BY posting_id "
            "HAVING sum(amount_minor) <> 0) x",
        )
        negative = _value(conn, "SELECT count(*) FROM wallets WHERE kind = 'user' AND balance_minor < 0")
    assert off == 0 and unbalanced == 0 and negative == 0, (off, unbalanced, negative)
    if payment_conninfo and expected_completed is not None:
        with psycopg.connect(payment_conninfo) as conn:
            n = _value(conn, "SELECT count(*) FROM payments WHERE kind = 'transfer' AND status = 'completed'")
        assert n == expected_completed, (n, expected_completed)


def _run(target, args_for, workers: int, seconds: float) -> dict:
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    start_at = time.time() + 1.0 + 0.15 * workers  # after every worker has forked and warmed up
    procs = [ctx.Process(target=target, args=(*args_for(i), start_at, seconds, out)) for i in range(workers)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120 + seconds) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    latencies = sorted(x for r in results for x in r["latencies"])
    statuses: dict = {}
    spent: dict = {}
    counts: dict = {}
    for r in results:
        for k, v in r["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
        for k, v in r["counts"].items():
            counts[k] = counts.get(k, 0) + v
        for k, (n, s) in r["spent"].items():
            a = spent.setdefault(k, [0, 0.0])
            a[0] += n
            a[1] += s
    return {
        "workers": workers,
        "count": len(latencies),
        "tps": len(latencies) / seconds,
        "p50": statistics.median(latencies) if latencies else 0,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0,
        "statuses": statuses,
        "spent": spent,
        "counts": counts,
    }


def run(world, peer_dbs: dict[str, str], peer_procs: int, levels=(1, 8, 32), seconds: float = 5.0) -> dict:
    """Each level: the raw-SQL baseline, FinFlow in-process, then the peer over HTTP (started for
    the level, so its idle connections never count against FinFlow's); each ledger verified after."""
    import functions.payment.api  # noqa: F401
    from bench.peer import schema
    from bench.peer.services import Peer
    from functions.auth import api as _a  # noqa: F401
    from functions.payment import logic as payment_logic  # noqa: F401 - imported before fork
    from functions.wallet import api as _w  # noqa: F401

    n = max(levels)
    pairs = setup_pairs(n + 1)  # the last worker pays the one after it
    wallet_db, payment_db = world.libpq("wallet"), world.libpq("payment")
    base_pairs = setup_baseline_pairs(wallet_db, n + 1)
    verify(wallet_db, None, None)
    people = schema.customers(peer_dbs, n + 1, FUNDS_MINOR)
    import psycopg

    with psycopg.connect(payment_db) as conn:
        completed = _value(conn, "SELECT count(*) FROM payments WHERE kind = 'transfer' AND status = 'completed'")
    peer_completed = 0
    rows = []
    from finflow import db

    db.reset_engines()  # the parent's pooled connections must not be shared with the children
    for w in levels:
        print(f"   {w} workers", flush=True)
        base = _run(_baseline_worker, lambda i: (wallet_db, *base_pairs[i]), w, seconds)
        verify(wallet_db, None, None)
        app = _run(_app_worker, lambda i: (pairs[i],), w, seconds)
        completed += app["statuses"].get(201, 0) + w  # and one warm-up each
        verify(wallet_db, payment_db, completed)
        with Peer(peer_dbs, peer_procs) as peer:
            tokens = [peer.user_token(u) for u, _ in people]
            other = _run(
                _peer_worker, lambda i, p=peer, t=tokens: (p.url, t[i], people[i][1], people[i + 1][1]), w, seconds
            )
        peer_completed += other["statuses"].get(201, 0) + w
        verify(peer_dbs["wallet"], peer_dbs["payment"], peer_completed)
        rows.append({"workers": w, "baseline": base, "app": app, "peer": other})
    return {"rows": rows, "seconds": seconds}
