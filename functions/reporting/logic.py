"""Reporting's reports: who may read them, and the figures shaped for the API.

Money figures are kept per currency from the query to the response: nothing here adds
amounts of two currencies. Amounts leave as decimal strings in the currency's exponent.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from finflow import money
from finflow.db import engine
from finflow.problems import Principal, Problem, require_role
from functions.reporting import params, queries, search
from functions.reporting.projections import obs  # noqa: F401 - one Observability per module
from functions.reporting.schemas import (
    AmlReport,
    CurrencyFigures,
    Daily,
    Day,
    Figure,
    FunnelSubmissions,
    FunnelUsers,
    KycFunnel,
    Payment,
    RuleFigures,
    SearchResult,
    Summary,
    UserFigures,
    WalletFigures,
)
from functions.reporting.search.base import BadCursor

ANALYSTS = ("analyst",)  # admin passes every role check
KYC_STATUSES = ("pending", "submitted", "verified", "rejected")
WALLET_STATUSES = ("active", "frozen", "closed")
KINDS = ("deposit", "transfer", "withdrawal")


def db():
    return engine("reporting")


def amount(minor: int, currency: str) -> str:
    return money.to_decimal_string(int(minor), currency)


def figure(count: int, volume_minor: int, currency: str) -> Figure:
    return Figure(count=int(count), volume=amount(volume_minor, currency))


def currency_figures(wallet_rows, payment_rows) -> tuple[dict[str, dict[str, int]], dict[str, CurrencyFigures]]:
    """Wallet counts by currency and status, and each currency's money figures, from the
    grouped rows (queries.wallets_by_currency_and_status, queries.payment_totals). Pure:
    every sum stays inside its currency."""
    wallets: dict[str, dict[str, int]] = {}
    balances: dict[str, int] = defaultdict(int)
    for r in wallet_rows:
        counts = wallets.setdefault(r.currency, dict.fromkeys(WALLET_STATUSES, 0))
        # a wallet seen only in payments so far (its WalletCreated not yet consumed)
        counts[r.status or "unknown"] = counts.get(r.status or "unknown", 0) + int(r.wallets)
        balances[r.currency] += int(r.balance_minor)
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])  # (currency, kind or "failed")
    for r in payment_rows:
        cell = sums[(r.currency, r.kind if r.status == "completed" else "failed")]
        cell[0] += int(r.count)
        cell[1] += int(r.volume_minor)
    currencies = {}
    for code in sorted(set(wallets) | {c for c, _ in sums}):
        kinds = {k: tuple(sums.get((code, k), (0, 0))) for k in KINDS}
        failed_count, failed_volume = sums.get((code, "failed"), (0, 0))
        currencies[code] = CurrencyFigures(
            balance=amount(balances.get(code, 0), code),
            wallets=sum(wallets.get(code, {}).values()),
            payments=figure(sum(n for n, _ in kinds.values()), sum(v for _, v in kinds.values()), code),
            by_kind={k: figure(n, v, code) for k, (n, v) in kinds.items()},
            failed=figure(failed_count, failed_volume, code),
        )
    return wallets, currencies


def summary(p: Principal) -> Summary:
    require_role(p, *ANALYSTS)
    with db().connect() as conn:
        by_status = queries.users_by_kyc_status(conn)
        wallets, currencies = currency_figures(
            queries.wallets_by_currency_and_status(conn), queries.payment_totals(conn)
        )
    return Summary(
        users=UserFigures(
            total=sum(by_status.values()),
            by_kyc_status={s: by_status.get(s, 0) for s in KYC_STATUSES}
            | {s: n for s, n in by_status.items() if s not in KYC_STATUSES},
        ),
        wallets=WalletFigures(total=sum(sum(c.values()) for c in wallets.values()), by_currency=wallets),
        currencies=currencies,
    )


def daily_totals(rows) -> dict[str, Figure]:
    """Count and volume per currency over the days of `rows` (queries.daily_figures)."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        totals[r.currency][0] += int(r.count)
        totals[r.currency][1] += int(r.volume_minor)
    return {c: figure(n, v, c) for c, (n, v) in sorted(totals.items())}


def daily(p: Principal, start: str | None, end: str | None, currency: str | None) -> Daily:
    require_role(p, *ANALYSTS)
    first, last = params.daily_range(start, end, today=datetime.now(UTC).date())
    code = params.currency(currency)
    with db().connect() as conn:
        rows = queries.daily_figures(conn, first, last, code)
    return Daily(
        from_=first,
        to=last,
        currency=code,
        days=[
            Day(day=r.day, currency=r.currency, count=int(r.count), volume=amount(r.volume_minor, r.currency))
            for r in rows
        ],
        totals=daily_totals(rows),
    )


def search_payments(p: Principal, **raw: str | None) -> SearchResult:
    require_role(p, *ANALYSTS)
    query = params.search(**raw)
    try:
        page = search.engine().search(query)
    except BadCursor as exc:
        raise Problem(422, str(exc)) from None
    return SearchResult(
        items=[
            Payment(
                id=d.payment_id,
                status=d.status,
                kind=d.kind,
                amount=amount(d.amount_minor, d.currency),
                currency=d.currency,
                from_wallet_id=d.from_wallet_id,
                to_wallet_id=d.to_wallet_id,
                from_user_id=d.from_user_id,
                to_user_id=d.to_user_id,
                description=d.description,
                failure_reason=d.failure_reason,
                at=d.at,
            )
            for d in page.items
        ],
        next_cursor=page.next_cursor,
        totals={c: figure(t.count, t.volume_minor, c) for c, t in sorted(page.totals.items())},
    )


def kyc_funnel(p: Principal) -> KycFunnel:
    require_role(p, *ANALYSTS)
    with db().connect() as conn:
        users = queries.kyc_funnel(conn)
        subs = queries.submission_figures(conn)
    return KycFunnel(users=FunnelUsers(**users), submissions=FunnelSubmissions(**subs))


def aml(p: Principal) -> AmlReport:
    require_role(p, "analyst", "compliance")
    with db().connect() as conn:
        rows = queries.alerts_by_rule(conn)
    rules: dict[str, dict] = {}
    by_status: dict[str, int] = defaultdict(int)
    for r in rows:
        rule = rules.setdefault(
            r.rule,
            {
                "total": 0,
                "by_status": defaultdict(int),
                "by_severity": defaultdict(int),
                "wallet_freezes": 0,
                "amounts": defaultdict(int),
            },
        )
        rule["total"] += r.alerts
        rule["by_status"][r.status] += r.alerts
        rule["by_severity"][r.severity] += r.alerts
        rule["wallet_freezes"] += r.freezes
        rule["amounts"][r.currency] += int(r.amount_minor)
        by_status[r.status] += r.alerts
    return AmlReport(
        total=sum(by_status.values()),
        by_status=dict(sorted(by_status.items())),
        by_rule={
            name: RuleFigures(
                total=f["total"],
                by_status=dict(sorted(f["by_status"].items())),
                by_severity=dict(sorted(f["by_severity"].items())),
                wallet_freezes=f["wallet_freezes"],
                amounts={c: amount(v, c) for c, v in sorted(f["amounts"].items())},
            )
            for name, f in sorted(rules.items())
        },
    )
