"""The chaos soak's parts: a seeded schedule of failures, the driver that injects them into a
running devserver, and clients that retry as a careful client does.

Failures (what each does to a running system):
- kill-wallet / kill-payment: SIGKILL of a Wallet or Payment API worker, a busy one when there
  is one (mid-posting: Payment's only synchronous call is Wallet's posting);
- kill-worker: SIGKILL of another function's worker (a consumer, Auth's or KYC's API);
- postgres-restart: the embedded PostgreSQL crashes and restarts (every connection dropped);
- aws-down: the AWS endpoint (moto: the bus, the queues, Secrets Manager, S3) refuses every
  connection for a few seconds;
- module-down: every function of one module down for a few seconds (devserver.chaos).

The clients send soak.py's traffic; a money call answered 502, 503 or 429 is sent again with
the same Idempotency-Key (after Retry-After) until it gets a final answer.
"""

from __future__ import annotations

import os
import random
import re
import signal
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx

from tests.e2e import soak

KINDS = ("kill-wallet", "kill-payment", "kill-worker", "postgres-restart", "aws-down", "module-down")
WEIGHTS = (4, 3, 2, 1, 1, 2)
# the authorizer is part of the gateway (a failing one is API Gateway's 500): never killed here
OTHER_WORKERS = ("auth-api", "kyc-api", "wallet-events", "payment-events", "kyc-events", "reporting-events")
MODULES_DOWN = ("wallet", "payment", "kyc", "notification", "reporting")
RETRIED = (429, 502, 503)
RETRY_FOR = 120.0  # a killed Payment worker's lease holds its payment for 30 s


@dataclass(frozen=True)
class Fault:
    at: float  # seconds from the start (at the earliest: the previous fault may still be running)
    kind: str
    target: str | None = None
    seconds: float = 0.0  # how long an outage lasts

    def __str__(self) -> str:
        target = f" {self.target}" if self.target else ""
        lasting = f" for {self.seconds:g}s" if self.seconds else ""
        return f"{self.at:6.1f}s {self.kind}{target}{lasting}"


def schedule(seed: int, seconds: float) -> list[Fault]:
    """The failures of a run: the same seed gives the same schedule."""
    rng = random.Random(seed)
    faults, at = [], rng.uniform(2, 5)
    while at < seconds - 3:
        kind = rng.choices(KINDS, WEIGHTS)[0]
        target = {"kill-worker": rng.choice(OTHER_WORKERS), "module-down": rng.choice(MODULES_DOWN)}.get(kind)
        lasting = round(rng.uniform(2, 6), 1) if kind in ("aws-down", "module-down") else 0.0
        faults.append(Fault(round(at, 1), kind, target, lasting))
        at += rng.uniform(3, 8)
    return faults


@dataclass
class Figures:
    kills: Counter = field(default_factory=Counter)  # "wallet-api busy" -> n
    injected: Counter = field(default_factory=Counter)  # fault kind -> n
    failed_injections: list[str] = field(default_factory=list)


class Driver(threading.Thread):
    """Injects `faults` into the devserver at `url`, on time, until done or stopped."""

    def __init__(self, url: str, faults: list[Fault], started: float):
        super().__init__(name="chaos-driver", daemon=True)
        self.http = httpx.Client(base_url=url, timeout=60.0)
        self.faults, self.started = faults, started
        self.figures = Figures()
        self.halt = threading.Event()

    def run(self) -> None:
        try:
            for fault in self.faults:
                if self.halt.wait(max(0.0, self.started + fault.at - time.monotonic())):
                    return
                try:
                    self.inject(fault)
                    self.figures.injected[fault.kind] += 1
                except (httpx.HTTPError, AssertionError, OSError) as exc:
                    self.figures.failed_injections.append(f"{fault}: {exc!r}")
        finally:
            self.http.close()

    def inject(self, fault: Fault) -> None:
        if fault.kind == "kill-wallet":
            self.kill("wallet-api")
        elif fault.kind == "kill-payment":
            self.kill("payment-api")
        elif fault.kind == "kill-worker":
            self.kill(fault.target)
        elif fault.kind == "postgres-restart":
            self.post("/_dev/postgres/restart")
        elif fault.kind == "aws-down":
            self.post("/_dev/aws/down")
            try:
                self.halt.wait(fault.seconds)
            finally:
                self.post("/_dev/aws/up")
        elif fault.kind == "module-down":
            self.post(f"/_dev/modules/{fault.target}/down")
            try:
                self.halt.wait(fault.seconds)
            finally:
                self.post(f"/_dev/modules/{fault.target}/up")

    def post(self, path: str) -> None:
        r = self.http.post(path)
        assert r.status_code == 200, f"{path}: {r.status_code} {r.text}"

    def kill(self, function: str, look_for: float = 3.0) -> None:
        """SIGKILL a busy worker of `function` if one shows up within `look_for` seconds, else an idle one."""
        deadline = time.monotonic() + look_for
        while True:
            workers = self.http.get("/_dev/workers").json()["functions"][function]["workers"]
            busy = [w for w in workers if w["busy"]]
            if busy or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        victims = busy or workers
        if not victims:
            self.figures.kills[f"{function} none running"] += 1
            return
        try:
            os.kill(victims[0]["pid"], signal.SIGKILL)
        except ProcessLookupError:  # it ended by itself meanwhile
            return
        self.figures.kills[f"{function} {'busy' if busy else 'idle'}"] += 1


class Record(soak.Record):
    """soak's record, where a 503 with Retry-After and a 502 are answers a client retries: they
    are counted, and each 502 is judged afterwards by its cause in the devserver's log."""

    def __init__(self) -> None:
        super().__init__()
        self.retried: Counter = Counter()  # status -> n
        self.unresolved: list[str] = []  # money calls still 5xx when the client gave up

    def add(self, method: str, path: str, r: httpx.Response, seconds: float) -> None:
        with self.lock:
            self.statuses[r.status_code] += 1
            self.latencies.append(seconds)
            if r.status_code in RETRIED:
                self.retried[r.status_code] += 1
                if r.status_code == 503 and not r.headers.get("Retry-After"):
                    self.server_errors.append(f"{method} {path} -> 503 without Retry-After: {r.text[:200]}")
            elif r.status_code >= 500:
                self.server_errors.append(f"{method} {path} -> {r.status_code} {r.text[:200]}")


class Client(soak.Client):
    """soak's client with a user's pause between requests (`think` seconds on average): the soak
    measures the system flat out, the chaos run how it recovers, which needs spare capacity to
    drain what an outage held back (moto's SQS slows down as a queue grows, so a saturated
    devserver would never catch up)."""

    label = "Chaos"
    think = 0.0

    def step(self) -> None:
        super().step()
        if self.think:
            time.sleep(self.rng.uniform(0, 2 * self.think))

    def call(self, method: str, path: str, headers: dict | None = None, **kw) -> httpx.Response:
        started = time.perf_counter()
        try:
            r = self.http.request(method, path, headers=headers or self.me.auth, **kw)
        except httpx.TimeoutException:
            # a request the system never answered: a user would notice, the run records it
            with self.record.lock:
                self.record.server_errors.append(f"{method} {path}: no answer within {self.http.timeout.read}s")
            return httpx.Response(504, request=httpx.Request(method, path))
        self.record.add(method, path, r, time.perf_counter() - started)
        return r

    def money(self, path: str, body: dict) -> None:
        """Sent until a final answer, the same key each time; a third of the finals sent once more,
        which must answer the same."""
        headers = self.me.auth | {"Idempotency-Key": str(uuid.uuid4())}
        deadline = time.monotonic() + RETRY_FOR
        while True:
            r = self.call("POST", path, headers, json=body)
            if r.status_code not in RETRIED and r.status_code != 504:
                break
            if time.monotonic() > deadline:
                with self.record.lock:
                    self.record.unresolved.append(f"{path}: still {r.status_code} after {RETRY_FOR:.0f}s")
                return
            time.sleep(min(float(r.headers.get("Retry-After", "1")), 5.0))
        if r.status_code == 201:
            with self.record.lock:
                self.record.created[r.json()["id"]] = path.rsplit("/", 1)[-1]
        if self.rng.random() < 1 / 3:
            again = self.call("POST", path, headers, json=body)
            if again.status_code not in RETRIED and (again.status_code, again.text) != (r.status_code, r.text):
                with self.record.lock:
                    self.record.replay_mismatches.append(f"{path}: {r.status_code} then {again.status_code}")


_BAD_GATEWAY = re.compile(r"\[gateway\] (\S+) failed: (.*?)(?=\[gateway\] |$)", re.MULTILINE)


def bad_gateway_causes(log: str) -> Counter:
    """Why the gateway answered each 502 ("[gateway] wallet.api failed: <why>"), by cause; the
    lines of concurrent threads may run into each other."""
    causes: Counter = Counter()
    for function, why in _BAD_GATEWAY.findall(log):
        if "Runtime exited with error" in why:
            causes["worker killed"] += 1
        elif why.endswith(" is down"):
            causes["module down"] += 1
        else:
            causes[f"{function}: {why[:160]}"] += 1
    return causes


EXPECTED_502 = ("worker killed", "module down")
