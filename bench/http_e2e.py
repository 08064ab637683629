"""2. End to end over loopback HTTP. The devserver: gateway, authorizer, each function in its
own Lambda-like worker process, every call between modules as the code makes it (the local
Lambda API for direct invocations) and events to moto. The peer: its three services as in
section 1. Bounded loops only."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import httpx

from bench.env import DATA, ROOT
from devserver.system import LAMBDA_PORT_OFFSET

POSTING = "posting alone (Wallet's function invoked directly, as Payment calls it)"


def _free_base() -> int:
    for base in range(21000, 60000, 20):
        ok = True
        for i in range(11):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", base + i))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free ports")


class Dev:
    def __init__(self, pg: str):
        self.base = _free_base()
        self.url = f"http://127.0.0.1:{self.base}"
        self.aws_endpoint = f"http://127.0.0.1:{self.base + 10}"
        self.lambda_api = httpx.Client(base_url=f"http://127.0.0.1:{self.base + LAMBDA_PORT_OFFSET}", timeout=30)
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("AWS_ENDPOINT_URL", "FINFLOW_API_URL", "JWKS_URL", "BCRYPT_ROUNDS")
        }
        env.update(
            {
                "DATABASE_URL": pg,
                "PYTHONUNBUFFERED": "1",
                "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'layers' / 'common' / 'python'}",
            }
        )
        self.prefix = f"d{uuid.uuid4().hex[:6]}_"
        # a data directory of its own: with `make dev`'s, each run started with the messages the
        # previous one left queued (its consumers delivered them during the measurement) and left
        # its own for the next `make dev`
        self.data_dir = DATA / f"devserver-{self.prefix.rstrip('_')}"
        self.log = open(DATA / "devserver.log", "w")
        # the stage's throttle (100/s) would measure itself, not the system: raised here
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devserver",
                "--port-base",
                str(self.base),
                "--db-prefix",
                self.prefix,
                "--data-dir",
                str(self.data_dir),
                "--rate-limit",
                "100000",
                "--burst-limit",
                "100000",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"devserver exited: see {DATA / 'devserver.log'}")
            try:
                if httpx.get(f"{self.url}/api/auth/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("devserver did not come up")

    def invoke(self, module: str, method: str, path: str, headers: dict, body: dict) -> dict:
        """A module's API function invoked directly (the private path between modules): the proxy
        event as the caller's transport builds it, to the devserver's local Lambda Invoke API."""
        from finflow import private_invoke

        event = private_invoke.proxy_event(
            httpx.Request(method, private_invoke.url(module) + path, headers=headers, json=body)
        )
        r = self.lambda_api.post(f"/2015-03-31/functions/{module}-api/invocations", json=event)
        assert r.status_code == 200 and "X-Amz-Function-Error" not in r.headers, r.text
        return r.json()

    def aws(self, service: str):
        return boto3.client(
            service,
            endpoint_url=self.aws_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.lambda_api.close()
        self.log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def _stats(latencies: list[float], wall: float | None = None) -> dict:
    s = sorted(latencies)
    return {
        "n": len(s),
        "p50": statistics.median(s),
        "p99": s[min(len(s) - 1, int(len(s) * 0.99))],
        "tps": (len(s) / wall) if wall else None,
    }


def _measure(fn, n: int, concurrency: int) -> dict:
    """n calls one at a time (latency), then n calls from `concurrency` threads (throughput)."""
    seq = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        seq.append(time.perf_counter() - t)
    par = []

    def one(i):
        t = time.perf_counter()
        fn(i)
        par.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as ex:
        list(ex.map(one, range(n)))
    wall = time.perf_counter() - t0
    return {"sequential": _stats(seq), "concurrent": _stats(par, wall), "concurrency": concurrency}


def run(world_pg: str, n: int = 200, concurrency: int = 8) -> dict:
    from tests.e2e import support as e2e

    dev = Dev(world_pg)
    try:
        http = httpx.Client(base_url=dev.url, timeout=30)
        users = e2e.verified_users(http, dev, concurrency + 1, tag="bench")
        wallets = []
        for u in users:
            w = e2e.create_wallet(http, u, "USD")
            e2e.deposit(http, u, w["id"], "100.00")  # below the AML threshold: no freeze
            wallets.append(w["id"])
        results = {}

        def read(i):
            u = users[i % concurrency]
            r = http.get(f"/api/v2/wallet/{wallets[i % concurrency]}", headers=u.auth)
            assert r.status_code == 200, r.text

        def transfer(i):
            k = i % concurrency
            r = http.post(
                "/api/payment/transfer",
                json={"from_wallet_id": wallets[k], "to_wallet_id": wallets[k + 1], "amount": "0.01"},
                headers={**users[k].auth, "Idempotency-Key": str(uuid.uuid4())},
            )
            assert r.status_code == 201, r.text

        def login(i):
            u = users[i % concurrency]
            r = http.post("/api/auth/login", json={"email": u.email, "password": u.password})
            assert r.status_code == 200, r.text

        # the posting alone: Wallet's internal route with Payment's service token, sent as Payment
        # sends it, by invoking Wallet's function through the devserver's local Lambda API
        creds = json.loads(
            dev.aws("secretsmanager").get_secret_value(SecretId="finflow/service-credentials/payment")["SecretString"]
        )
        tok = http.post("/api/auth/token", json={**creds, "grant_type": "client_credentials"}).json()["access_token"]
        svc = {"Authorization": f"Bearer {tok}"}

        def posting(i):
            k = i % concurrency
            body = {
                "posting_id": str(uuid.uuid4()),
                "kind": "transfer",
                "debit_wallet_id": wallets[k],
                "credit_wallet_id": wallets[k + 1],
                "amount_minor": 1,
                "currency": "USD",
            }
            result = dev.invoke("wallet", "POST", "/api/wallet/internal/postings", svc, body)
            assert result["statusCode"] == 201, result

        def health(i):  # public route: gateway + function, no authorizer, no database work beyond a ping
            assert http.get("/api/wallet/health").status_code == 200

        for name, fn, count in (
            ("wallet read", read, n),
            ("transfer", transfer, n),
            (POSTING, posting, n),
            ("wallet health (no authorizer)", health, n),
            ("login (bcrypt 12 rounds)", login, max(8, n // 10)),
        ):
            fn(0)  # warm
            results[name] = _measure(fn, count, concurrency)
        # wallet balances stay consistent: each user's balance is what the ledger says
        for u, w in zip(users, wallets, strict=False):
            entries = e2e.ledger_entries(http, u, w)
            bal = e2e.balance(http, u, w)
            assert entries and entries[0]["balance_after"] == bal, (entries[:1], bal)
        http.close()
        return results
    finally:
        dev.stop()


def direct_wallet_read(n: int = 200) -> dict:
    """Wallet's API function invoked directly in this process (warm), the same read as above
    with the authorizer's context already in the event: the function's own share."""
    import psycopg  # noqa: F401
    from sqlalchemy import text

    from devserver.lambda_runtime import LambdaContext, proxy_event
    from finflow.db import engine
    from functions.wallet import api

    with engine("wallet").connect() as conn:
        row = conn.execute(
            text("SELECT id, user_id FROM wallets WHERE kind = 'user' AND user_id IS NOT NULL LIMIT 1")
        ).one()
    event = proxy_event(
        "GET",
        f"/api/v2/wallet/{row.id}",
        body=b"",
        headers={},
        query={},
        authorizer={"principalId": str(row.user_id), "sub": str(row.user_id), "roles": "customer", "kind": "user"},
        source_ip="127.0.0.1",
    )
    ctx = LambdaContext("wallet-api")
    first = api.handler(event, ctx)
    lat = []
    for _ in range(n):
        t = time.perf_counter()
        api.handler(event, ctx)
        lat.append(time.perf_counter() - t)
    return {"status": first["statusCode"], **_stats(lat)}


def peer_run(peer, databases: dict[str, str], n: int = 200, concurrency: int = 8) -> dict:
    """The peer's transfer over loopback HTTP, measured as the devserver's above: n one at a
    time, then n from `concurrency` threads; its ledger verified after."""
    from bench.peer import schema
    from bench.transfers import FUNDS_MINOR, verify

    people = schema.customers(databases, concurrency + 1, FUNDS_MINOR)
    tokens = [peer.user_token(u) for u, _ in people]
    wallets = [w for _, w in people]
    http = httpx.Client(base_url=peer.url, timeout=30)

    def transfer(i):
        k = i % concurrency
        r = http.post(
            "/transfer",
            json={"from_wallet_id": wallets[k], "to_wallet_id": wallets[k + 1], "amount": "0.01"},
            headers={"Authorization": f"Bearer {tokens[k]}", "Idempotency-Key": str(uuid.uuid4())},
        )
        assert r.status_code == 201, r.text

    try:
        transfer(0)  # warm
        result = _measure(transfer, n, concurrency)
    finally:
        http.close()
    verify(databases["wallet"], None, None)
    return result
