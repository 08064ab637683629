"""A bounded soak through the devserver on loopback: mixed traffic from many concurrent
clients for SOAK_SECONDS (SOAK_CLIENTS clients, SOAK_BUDGET requests each at most), then
zero 5xx and zero invariant violations, read straight from the modules' databases.

Only in `make fuzz` (marker `fuzz`). The figures go to .local/soak.json and the output.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import pytest

from tests import invariants
from tests.e2e import soak
from tests.e2e.support import create_wallet, deposit, login, register, verified_users
from tests.e2e.test_reporting_e2e import database_url

SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))
CLIENTS = int(os.environ.get("SOAK_CLIENTS", "12"))
BUDGET = int(os.environ.get("SOAK_BUDGET", "5000"))
SETTLE_SECONDS = 60.0  # for the last events to reach every consumer
FIGURES = Path(__file__).resolve().parents[2] / ".local" / "soak.json"

pytestmark = pytest.mark.fuzz


def _analyst_token(http: httpx.Client, devserver) -> str:
    analyst = register(http, "soak-analyst")
    admin = {"Authorization": f"Bearer {login(http, *devserver.admin)['access_token']}"}
    r = http.put(f"/api/auth/users/{analyst.id}/roles", json={"roles": ["customer", "analyst"]}, headers=admin)
    assert r.status_code == 200, r.text
    return login(http, analyst.email, analyst.password)["access_token"]


def _settled(devserver, user_ids: list[str]) -> invariants.Report:
    """The invariants, events included, once the last events were delivered (or the
    settling time is up: what is still wrong then is a violation)."""
    dbs = invariants.Databases.at(database_url(devserver))
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        report = invariants.check(dbs, user_ids, delivered=True)
        if not report.violations or time.monotonic() > deadline:
            return report
        time.sleep(1.0)


def test_soak_no_5xx_and_no_invariant_violation(devserver, http):
    customers = verified_users(http, devserver, CLIENTS, tag="soak")
    wallets = [create_wallet(http, c)["id"] for c in customers]
    for c, w in zip(customers, wallets, strict=False):
        deposit(http, c, w, "500.00")
    record = soak.Record()
    clients = [
        soak.Client(
            devserver.url,
            c,
            w,
            [o for o in wallets if o != w],
            record,
            seed=i,
            analyst_token=_analyst_token(http, devserver) if i == 0 else None,
        )
        for i, (c, w) in enumerate(zip(customers, wallets, strict=False))
    ]

    took = soak.run(clients, SECONDS, BUDGET)

    users = [c.id for c in customers] + record.new_users
    report = _settled(devserver, users)
    completed = _completed(devserver, list(record.created))
    unposted = sorted(set(record.created) - completed)
    figures = record.figures(took, CLIENTS) | {
        "invariant_checks": report.checks,
        "violations": len(report.violations) + len(unposted),
        "answered_201_not_completed_and_posted": len(unposted),
        "checked": report.figures,
    }
    FIGURES.parent.mkdir(exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=2))
    print(f"\nsoak: {json.dumps(figures)}")

    assert record.statuses, "the soak sent nothing"
    assert not record.server_errors, f"{len(record.server_errors)} 5xx/transport errors:\n" + "\n".join(
        record.server_errors[:20]
    )
    assert not record.replay_mismatches, record.replay_mismatches[:20]
    assert not unposted, f"answered 201 but not completed with its posting: {unposted[:10]}"
    report.assert_ok()


def _completed(devserver, payment_ids: list[str]) -> set[str]:
    """Of `payment_ids`, those Payment recorded completed and Wallet posted exactly once."""
    dbs = invariants.Databases.at(database_url(devserver))
    from sqlalchemy import text

    with dbs.connect("payment") as pconn, dbs.connect("wallet") as wconn:
        done = {
            str(r[0])
            for r in pconn.execute(
                text("SELECT id FROM payments WHERE status = 'completed' AND id = ANY(CAST(:p AS uuid[]))"),
                {"p": payment_ids},
            )
        }
        posted = {
            str(r[0]) for r in wconn.execute(text("SELECT id FROM postings WHERE id = ANY(:p)"), {"p": payment_ids})
        }
    return done & posted
