"""The chaos soak: mixed traffic from concurrent clients on a devserver of its own while a seeded
schedule (printed) kills Wallet and Payment workers mid-posting and other functions' workers,
crashes PostgreSQL, takes the AWS endpoint away and modules down (tests/e2e/chaos.py).

Afterwards, once the reconciler has run and the sweepers have published (dead letters redriven,
as an operator would): no money created or lost, nothing left pending, every 201 completed and
posted once, every event applied once per consumer, no 5xx but a 503 with Retry-After or the 502
of a killed worker or a module down (both retried by the clients with the same key). A money
call still refused when its client gives up (chaos.RETRY_FOR) is counted, not failed: its
payment is judged in the database like every other.

`make test` runs it for CHAOS_SECONDS=40; `make chaos` for 600 (CHAOS_SEED=<n> replays a run's
schedule). The figures go to .local/chaos.json and the output, the devserver's output to
.local/chaos-devserver.log.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from pathlib import Path

import httpx
import pytest

from devserver import redrive
from tests import invariants
from tests.e2e import chaos, own_devserver, soak
from tests.e2e.support import create_wallet, deposit, verified_users
from tests.e2e.test_reporting_e2e import database_url
from tests.e2e.test_soak import _completed

pytestmark = pytest.mark.e2e

SECONDS = float(os.environ.get("CHAOS_SECONDS", "40"))
CLIENTS = int(os.environ.get("CHAOS_CLIENTS", "6"))
BUDGET = int(os.environ.get("CHAOS_BUDGET", "100000"))
SEED = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(1_000_000))
THINK = float(os.environ.get("CHAOS_THINK", "0.5"))  # seconds between a client's requests, on average
# for the last events to reach every consumer: a killed request's lease holds its payment 30 s,
# and an outage near the end leaves a backlog
SETTLE_SECONDS = max(240.0, SECONDS / 2)
FIGURES = Path(__file__).resolve().parents[2] / ".local" / "chaos.json"
SCHEDULED = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


@pytest.fixture
def data_dir():
    with own_devserver.scratch_data_dir("finflow-chaos-") as path:
        yield path


def test_chaos_loses_no_money_and_leaves_nothing_pending(data_dir):
    server = own_devserver.start(data_dir)
    FIGURES.parent.mkdir(exist_ok=True)
    try:
        figures, record, report, unposted, causes = _run(server)
        FIGURES.write_text(json.dumps(figures, indent=2))
        print(f"\nchaos: {json.dumps(figures)}")
    finally:
        try:
            own_devserver.stop(server, data_dir, timeout=60)  # busy workers may take long to finish on 2 cores
        finally:
            shutil.copy(server.log_path, FIGURES.with_name("chaos-devserver.log"))  # the causes, for a failed run

    assert record.statuses, "the run sent nothing"
    assert not record.server_errors, f"{len(record.server_errors)} unexpected 5xx or no answer:\n" + "\n".join(
        record.server_errors[:20]
    )
    unexpected = {why: n for why, n in causes.items() if why not in chaos.EXPECTED_502}
    assert not unexpected, f"502s that no injected failure explains (seed {SEED}): {unexpected}"
    assert not record.replay_mismatches, record.replay_mismatches[:20]
    assert not unposted, f"answered 201 but not completed with its posting (seed {SEED}): {unposted[:10]}"
    report.assert_ok()


def _run(server):
    faults = chaos.schedule(SEED, SECONDS)
    print(
        f"\nchaos: seed {SEED} (CHAOS_SEED={SEED} replays it), {SECONDS:g}s, {CLIENTS} clients, {len(faults)} failures:"
    )
    for fault in faults:
        print(f"  {fault}")
    with httpx.Client(base_url=server.url, timeout=30) as http:
        customers = verified_users(http, server, CLIENTS, tag="chaos")
        wallets = [create_wallet(http, c)["id"] for c in customers]
        for c, w in zip(customers, wallets, strict=True):
            deposit(http, c, w, "500.00")
    record = chaos.Record()
    clients = [
        chaos.Client(server.url, c, w, [o for o in wallets if o != w], record, seed=SEED * 100 + i)
        for i, (c, w) in enumerate(zip(customers, wallets, strict=True))
    ]
    for c in clients:
        c.http.timeout = httpx.Timeout(60.0)
        c.think = THINK
    started = time.monotonic()
    driver = chaos.Driver(server.url, faults, started)
    driver.start()
    took = soak.run(clients, SECONDS, BUDGET, started=started, grace=chaos.RETRY_FOR + 60)
    driver.halt.set()
    driver.join(timeout=30)

    users = [c.id for c in customers] + record.new_users
    report, settled = _settled(server, users)
    unposted = sorted(set(record.created) - _completed(server, list(record.created)))
    causes = chaos.bad_gateway_causes(server.log_path.read_text(errors="replace"))
    figures = record.figures(took, CLIENTS) | {
        "seed": SEED,
        "think_s": THINK,
        "failures_scheduled": len(faults),
        "failures_injected": dict(driver.figures.injected),
        "workers_killed": dict(driver.figures.kills),
        "failed_injections": driver.figures.failed_injections,
        "retried_answers": {str(k): v for k, v in sorted(record.retried.items())},
        "bad_gateway_causes": dict(causes),
        "unresolved_money_calls": len(record.unresolved),
        "settle": settled,
        "invariant_checks": report.checks,
        "violations": len(report.violations) + len(unposted),
        "answered_201_not_completed_and_posted": len(unposted),
        "first_violations": report.violations[:10] + unposted[:10],
        "unresolved": record.unresolved[:10],
        "checked": report.figures,
    }
    return figures, record, report, unposted, causes


def _settled(server, users: list[str]) -> tuple[invariants.Report, dict]:
    """The invariants with event delivery once they hold, or once SETTLE_SECONDS are up (what
    is wrong then is a violation). Meanwhile the reconciler runs every few seconds, as its
    schedule would in time, and the dead-letter queues are redriven, as an operator would."""
    dbs = invariants.Databases.at(database_url(server))
    lambda_api = f"{server.url.rsplit(':', 1)[0]}:{own_devserver.base_of(server) + 9}"
    sqs = redrive.sqs_client(server.aws_endpoint)
    started, redriven, reconciled = time.monotonic(), 0, []
    while True:
        r = httpx.post(f"{lambda_api}/2015-03-31/functions/payment-reconciler/invocations", json=SCHEDULED, timeout=60)
        if r.status_code == 200 and "X-Amz-Function-Error" not in r.headers:
            reconciled.append(r.json())
        redriven += sum(redrive.redrive(sqs, url) for url in redrive.dead_letter_queues(sqs))
        report = invariants.check(dbs, users, delivered=True)
        if not report.violations or time.monotonic() - started > SETTLE_SECONDS:
            break
        time.sleep(3.0)
    resolved = {k: sum(run.get(k, 0) for run in reconciled) for k in ("completed", "failed", "pending", "error")}
    return report, {
        "seconds": round(time.monotonic() - started, 1),
        "reconciler_runs": len(reconciled),
        "reconciled": resolved,
        "dead_letters_redriven": redriven,
    }
