"""The invariants every fault test ends with, read straight from the modules' databases.

Scoped to a set of users (a test's own customers), because the api and e2e tiers share
their databases with every other test of the session:

- ledger: each wallet's balance is the sum of its entries and never negative; every
  posting has two entries that sum to zero;
- money: per currency, the wallets' balances equal what Payment recorded as completed
  (deposits - withdrawals, plus transfers from outside the scope, minus those leaving it);
- payments: a completed payment has its posting (same amount, currency and wallets), a
  failed one has none, no posting lacks its payment, nothing is both completed and failed;
  pending is a violation unless the caller says payments may still be in flight;
- events (`delivered=True`): every committed change produced its event exactly once, it
  was published, and each subscribed consumer applied it exactly once: its claim in the
  consumer's processed_events, and its effect (Auth's and Wallet's KYC status, one AML
  observed payment per PaymentCompleted, Reporting's row per payment and its balances,
  one in-app notification per event and recipient).

    report = check(Databases.in_process(), user_ids, delivered=True)
    report.assert_ok()
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict, namedtuple
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

from functions import catalog

# the event tables of each producer, and which of their events name which entity
PRODUCERS = ("auth", "wallet", "payment", "kyc")
CLAIMING_CONSUMERS = ("auth", "wallet", "kyc", "reporting")  # consumers with a processed_events table


@dataclass
class Databases:
    """How the checker reaches each module's database."""

    connect: Callable[[str], Connection]
    notifications: Callable[[], object] | None = None  # Notification's store (its port), when reachable

    @classmethod
    def in_process(cls) -> Databases:
        from finflow.db import engine
        from functions.notification import store

        return cls(connect=lambda m: engine(m).connect(), notifications=store.adapter)

    @classmethod
    def at(cls, database_url: str, prefix: str = "") -> Databases:
        """A devserver's databases (its `database` line); Notification's records are checked in process only."""
        engines: dict[str, Engine] = {}

        def connect(module: str) -> Connection:
            if module not in engines:
                url = make_url(database_url).set(database=f"{prefix}{module}")
                engines[module] = create_engine(url.set(drivername="postgresql+psycopg"), pool_size=1)
            return engines[module].connect()

        return cls(connect=connect)


@dataclass
class Report:
    checks: int = 0
    violations: list[str] = field(default_factory=list)
    figures: dict = field(default_factory=dict)

    def expect(self, ok: bool, message: str) -> None:
        self.checks += 1
        if not ok:
            self.violations.append(message)

    def assert_ok(self) -> Report:
        assert not self.violations, (
            f"{len(self.violations)} invariant violation(s) of {self.checks} checks:\n"
            + "\n".join(self.violations[:40])
        )
        return self


def _rows(conn: Connection, sql: str, **params) -> list:
    """Rows with every UUID as its string (the ids other modules and events carry)."""
    result = conn.execute(text(sql), params)
    Row = namedtuple("Row", result.keys())
    return [Row(*(str(v) if isinstance(v, uuid.UUID) else v for v in r)) for r in result]


def check(dbs: Databases, user_ids, *, delivered: bool = False, in_flight: bool = False) -> Report:
    users = sorted({str(u) for u in user_ids})
    report = Report()
    with dbs.connect("wallet") as wconn, dbs.connect("payment") as pconn:
        wallets = {
            r.id: r
            for r in _rows(
                wconn,
                "SELECT id, user_id, currency, balance_minor, status FROM wallets "
                "WHERE kind = 'user' AND user_id = ANY(CAST(:u AS uuid[]))",
                u=users,
            )
        }
        payments = {
            r.id: r
            for r in _rows(
                pconn,
                "SELECT * FROM payments WHERE from_user_id = ANY(CAST(:u AS uuid[])) "
                "OR to_user_id = ANY(CAST(:u AS uuid[])) OR initiator_user_id = ANY(CAST(:u AS uuid[]))",
                u=users,
            )
        }
        _ledger(wconn, wallets, report)
        _payments_and_postings(wconn, wallets, payments, report, in_flight)
        _money(wallets, payments, report)
        events = _events(dbs, users, list(wallets), list(payments))
        _produced_once(events["payment"], payments, report)
    if delivered:
        _published(events, report)
        _delivered(dbs, events, users, wallets, payments, report)
    report.figures.update(
        users=len(users), wallets=len(wallets), payments=len(payments), events=sum(len(v) for v in events.values())
    )
    return report


# --- the ledger ------------------------------------------------------------------------------


def _ledger(conn: Connection, wallets: dict, report: Report) -> None:
    ids = list(wallets)
    sums = {
        r.wallet_id: r.total
        for r in _rows(
            conn,
            "SELECT wallet_id, sum(amount_minor) AS total FROM ledger_entries "
            "WHERE wallet_id = ANY(CAST(:w AS uuid[])) GROUP BY wallet_id",
            w=ids,
        )
    }
    for w in wallets.values():
        report.expect(w.balance_minor >= 0, f"wallet {w.id} balance {w.balance_minor} is negative")
        report.expect(
            w.balance_minor == sums.get(w.id, 0),
            f"wallet {w.id} balance {w.balance_minor} != sum of its entries {sums.get(w.id, 0)}",
        )
    for p in _rows(
        conn,
        "SELECT e.posting_id, count(*) AS n, sum(e.amount_minor) AS total FROM ledger_entries e "
        "WHERE e.posting_id IN (SELECT posting_id FROM ledger_entries "
        "WHERE wallet_id = ANY(CAST(:w AS uuid[]))) GROUP BY e.posting_id",
        w=ids,
    ):
        report.expect(p.total == 0 and p.n == 2, f"posting {p.posting_id}: {p.n} entries summing to {p.total}")


def _payments_and_postings(conn: Connection, wallets: dict, payments: dict, report: Report, in_flight: bool) -> None:
    postings = {
        r.id: r
        for r in _rows(
            conn,
            "SELECT p.id, p.kind, p.currency, p.amount_minor FROM postings p WHERE p.id IN "
            "(SELECT posting_id FROM ledger_entries WHERE wallet_id = ANY(CAST(:w AS uuid[]))) OR p.id = ANY(:p)",
            w=list(wallets),
            p=list(payments),
        )
    }
    entries = defaultdict(dict)
    for e in _rows(
        conn,
        "SELECT e.posting_id, e.wallet_id, e.amount_minor, w.kind FROM ledger_entries e "
        "JOIN wallets w ON w.id = e.wallet_id WHERE e.posting_id = ANY(:p)",
        p=list(postings),
    ):
        entries[e.posting_id]["external" if e.kind == "external" else e.wallet_id] = e.amount_minor
    for p in payments.values():
        both = p.completed_at is not None and p.failed_at is not None
        report.expect(not both, f"payment {p.id} is both completed and failed")
        posting = postings.get(p.id)
        if p.status == "completed":
            report.expect(posting is not None, f"payment {p.id} completed without its posting in Wallet")
            if posting is not None:
                want = {p.from_wallet_id or "external": -p.amount_minor, p.to_wallet_id or "external": p.amount_minor}
                report.expect(
                    (posting.kind, posting.currency, posting.amount_minor) == (p.kind, p.currency, p.amount_minor)
                    and entries[p.id] == want,
                    f"payment {p.id} and its posting differ: {dict(entries[p.id])} != {want}",
                )
        elif p.status == "failed":
            report.expect(posting is None, f"payment {p.id} failed but Wallet posted it")
        else:
            report.expect(in_flight, f"payment {p.id} is still pending")
    for posting_id in postings:
        report.expect(posting_id in payments, f"posting {posting_id} has no payment in Payment")


def _money(wallets: dict, payments: dict, report: Report) -> None:
    """Per currency: the wallets' balances equal Payment's completed flows into and out of them."""
    balances, flows = Counter(), Counter()
    deposits, withdrawals = Counter(), Counter()
    for w in wallets.values():
        balances[w.currency] += w.balance_minor
    for p in payments.values():
        if p.status != "completed":
            continue
        if p.to_wallet_id in wallets:
            flows[p.currency] += p.amount_minor
        if p.from_wallet_id in wallets:
            flows[p.currency] -= p.amount_minor
        if p.kind == "deposit":
            deposits[p.currency] += p.amount_minor
        elif p.kind == "withdrawal":
            withdrawals[p.currency] += p.amount_minor
    for currency in set(balances) | set(flows):
        report.expect(
            balances[currency] == flows[currency],
            f"{currency}: balances sum to {balances[currency]}, Payment recorded {flows[currency]} "
            f"(deposits {deposits[currency]} - withdrawals {withdrawals[currency]} +- transfers)",
        )
    report.figures["balances"] = dict(balances)
    report.figures["deposits_minus_withdrawals"] = {c: deposits[c] - withdrawals[c] for c in deposits | withdrawals}


# --- events ----------------------------------------------------------------------------------


def _events(dbs: Databases, users: list[str], wallets: list[str], payments: list[str]) -> dict[str, list]:
    """Each producer's outbox rows about the scope's users, wallets and payments."""
    about = (
        "detail->'data'->>'user_id' = ANY(:u) OR detail->'data'->>'wallet_id' = ANY(:w) "
        "OR detail->'data'->>'payment_id' = ANY(:p)"
    )
    out = {}
    for producer in PRODUCERS:
        with dbs.connect(producer) as conn:
            out[producer] = _rows(
                conn,
                f"SELECT event_id, detail_type, detail, published_at FROM outbox WHERE {about} ORDER BY created_at",
                u=users,
                w=wallets,
                p=payments,
            )
    return out


def _produced_once(outbox: list, payments: dict, report: Report) -> None:
    produced = Counter((e.detail["data"]["payment_id"], e.detail_type) for e in outbox)
    for p in payments.values():
        want = {"completed": "PaymentCompleted", "failed": "PaymentFailed"}.get(p.status)
        for detail_type in ("PaymentCompleted", "PaymentFailed"):
            n = produced[(p.id, detail_type)]
            report.expect(
                n == (1 if detail_type == want else 0),
                f"payment {p.id} ({p.status}) has {n} {detail_type} event(s) in its outbox",
            )


def _published(events: dict, report: Report) -> None:
    for producer, rows in events.items():
        for e in rows:
            report.expect(e.published_at is not None, f"{producer} event {e.detail_type} {e.event_id} never published")


def _consumers(producer: str, detail_type: str) -> tuple[str, ...]:
    return catalog.subscribers(producer, detail_type)


def _delivered(dbs: Databases, events: dict, users: list[str], wallets: dict, payments: dict, report: Report) -> None:
    claimed: dict[str, set] = {}
    all_ids = [str(e.event_id) for rows in events.values() for e in rows]
    for consumer in CLAIMING_CONSUMERS:
        with dbs.connect(consumer) as conn:
            claimed[consumer] = {
                r.event_id
                for r in _rows(conn, "SELECT event_id FROM processed_events WHERE event_id = ANY(:e)", e=all_ids)
            }
    for producer, rows in events.items():
        for e in rows:
            for consumer in _consumers(producer, e.detail_type):
                if consumer in claimed:
                    report.expect(
                        str(e.event_id) in claimed[consumer],
                        f"{consumer} never applied {producer}'s {e.detail_type} {e.event_id}",
                    )
    _kyc_effects(dbs, users, payments, report)
    _reporting_effects(dbs, wallets, payments, report)
    if dbs.notifications is not None:
        _notification_effects(dbs.notifications(), events["payment"], report)


def _kyc_effects(dbs: Databases, users: list[str], payments: dict, report: Report) -> None:
    with dbs.connect("auth") as aconn, dbs.connect("wallet") as wconn:
        truth = {
            r.id: r.kyc_status
            for r in _rows(aconn, "SELECT id, kyc_status FROM users WHERE id = ANY(CAST(:u AS uuid[]))", u=users)
        }
        replica = {
            r.user_id: r.kyc_status
            for r in _rows(
                wconn, "SELECT user_id, kyc_status FROM kyc_replica WHERE user_id = ANY(CAST(:u AS uuid[]))", u=users
            )
        }
    for user, status in truth.items():
        if status != "pending":  # a pending user has had no change for Wallet to learn
            report.expect(
                replica.get(user) == status,
                f"Wallet's replica says {replica.get(user)} for user {user}, Auth says {status}",
            )
    completed = {p.id: p for p in payments.values() if p.status == "completed"}
    with dbs.connect("kyc") as conn:
        observed = {
            r.payment_id: r
            for r in _rows(
                conn,
                "SELECT payment_id, amount_minor, currency FROM observed_payments WHERE payment_id = ANY(:p)",
                p=list(payments),
            )
        }
        alerts = Counter(
            (r.rule, r.payment_id)
            for r in _rows(conn, "SELECT rule, payment_id FROM alerts WHERE payment_id = ANY(:p)", p=list(payments))
        )
    for p in completed.values():
        o = observed.get(p.id)
        report.expect(
            o is not None and (o.amount_minor, o.currency) == (p.amount_minor, p.currency),
            f"AML did not observe payment {p.id} as Payment completed it",
        )
    report.expect(
        set(observed) <= set(completed),
        f"AML observed payments that did not complete: {sorted(set(observed) - set(completed))}",
    )
    for (rule, payment_id), n in alerts.items():
        report.expect(n == 1, f"AML raised {rule} {n} times for payment {payment_id}")
    report.figures["aml_alerts"] = sum(alerts.values())


def _reporting_effects(dbs: Databases, wallets: dict, payments: dict, report: Report) -> None:
    with dbs.connect("reporting") as conn:
        rows = {
            r.payment_id: r
            for r in _rows(
                conn,
                "SELECT payment_id, status, amount_minor FROM payments WHERE payment_id = ANY(:p)",
                p=list(payments),
            )
        }
        balances = {
            r.wallet_id: r.balance_minor
            for r in _rows(
                conn, "SELECT wallet_id, balance_minor FROM wallets WHERE wallet_id = ANY(:w)", w=list(wallets)
            )
        }
    for p in payments.values():
        if p.status == "pending":
            continue
        r = rows.get(p.id)
        report.expect(
            r is not None and (r.status, r.amount_minor) == (p.status, p.amount_minor),
            f"Reporting has {r and (r.status, r.amount_minor)} for payment {p.id} ({p.status})",
        )
    for w in wallets.values():
        report.expect(
            balances.get(w.id) == w.balance_minor,
            f"Reporting's balance {balances.get(w.id)} for wallet {w.id} != Wallet's {w.balance_minor}",
        )


def _recipients(data: dict) -> list[tuple[str, str]]:
    """(user, template) of the in-app notifications a PaymentCompleted gives (messages.payment_messages)."""
    kind = data["kind"]
    if kind == "transfer":
        return [
            (u, t)
            for u, t in ((data.get("from_user_id"), "payment_sent"), (data.get("to_user_id"), "payment_received"))
            if u
        ]
    if kind == "deposit":
        return [(data["to_user_id"], "deposit_completed")]
    return [(data["from_user_id"], "withdrawal_completed")]


def _notification_effects(store, payment_events: list, report: Report) -> None:
    completed = [e for e in payment_events if e.detail_type == "PaymentCompleted"]
    ids = [str(e.event_id) for e in completed]
    wanted = set(ids)
    seen = Counter(
        (d["event_id"], d["user_id"], d["type"]) for d in store.all_records("notifications") if d["event_id"] in wanted
    )
    sent = Counter(
        (d["event_id"], d["user_id"], d["template"], d["channel"])
        for event_id in wanted
        for d in store.deliveries(event_id=event_id, status="sent")
    )
    for e in completed:
        for user, template in _recipients(e.detail["data"]):
            n = seen[(str(e.event_id), user, template)]
            report.expect(n == 1, f"{n} in-app {template} notification(s) to {user} for event {e.event_id}")
    for key, n in sent.items():
        report.expect(n == 1, f"{key} sent {n} times")
    report.figures["notifications"] = sum(seen.values())
