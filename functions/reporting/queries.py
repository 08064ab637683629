"""Reporting's reads: the figures behind each report, computed from the read model's rows
(never from event order), so the same set of events always gives the same answers."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, and_, case, exists, func, literal, select

from functions.reporting.tables import aml_alerts, daily, submissions, users, wallets

_undecided = exists().where(
    submissions.c.user_id == users.c.user_id, submissions.c.decision.is_(None), submissions.c.submitted_at.is_not(None)
)
_any_submission = exists().where(submissions.c.user_id == users.c.user_id)


def users_by_kyc_status(conn: Connection) -> dict[str, int]:
    """Auth's status for each user, except that a pending user with a submission awaiting a
    decision counts as `submitted` (Auth only learns of decisions)."""
    status = case(
        (and_(users.c.kyc_status == "pending", _undecided), literal("submitted")), else_=users.c.kyc_status
    ).label("status")
    return {r.status: r.n for r in conn.execute(select(status, func.count().label("n")).group_by(status))}


def kyc_funnel(conn: Connection) -> dict[str, int]:
    """Users at each stage: registered, submitted (a submission, or a decision already),
    verified and rejected (their current status)."""
    passed = users.c.kyc_status.in_(("submitted", "verified", "rejected")) | _any_submission
    row = conn.execute(
        select(
            func.count().label("registered"),
            func.count().filter(passed).label("submitted"),
            func.count().filter(users.c.kyc_status == "verified").label("verified"),
            func.count().filter(users.c.kyc_status == "rejected").label("rejected"),
        )
    ).one()
    return dict(row._mapping)


def submission_figures(conn: Connection) -> dict[str, int]:
    row = conn.execute(
        select(
            func.count().filter(submissions.c.submitted_at.is_not(None)).label("submitted"),
            func.count().filter(submissions.c.decision == "verified").label("verified"),
            func.count().filter(submissions.c.decision == "rejected").label("rejected"),
            func.count().filter(submissions.c.decision.is_(None)).label("awaiting_decision"),
        ).select_from(submissions)
    ).one()
    return dict(row._mapping)


def wallets_by_currency_and_status(conn: Connection) -> list:
    """(currency, status or None if no wallet event has arrived yet, wallets, balance)."""
    return list(
        conn.execute(
            select(
                wallets.c.currency,
                wallets.c.status,
                func.count().label("wallets"),
                func.sum(wallets.c.balance_minor).label("balance_minor"),
            ).group_by(wallets.c.currency, wallets.c.status)
        )
    )


def payment_totals(conn: Connection) -> list:
    """(currency, status, kind, count, volume) over all days, from the daily rollup."""
    return list(
        conn.execute(
            select(
                daily.c.currency,
                daily.c.status,
                daily.c.kind,
                func.sum(daily.c.count).label("count"),
                func.sum(daily.c.volume_minor).label("volume_minor"),
            ).group_by(daily.c.currency, daily.c.status, daily.c.kind)
        )
    )


def daily_figures(conn: Connection, start: date, end: date, currency: str | None) -> list:
    """(day, currency, count, volume) of completed payments, start..end inclusive."""
    q = (
        select(
            daily.c.day,
            daily.c.currency,
            func.sum(daily.c.count).label("count"),
            func.sum(daily.c.volume_minor).label("volume_minor"),
        )
        .where(daily.c.status == "completed", daily.c.day >= start, daily.c.day <= end)
        .group_by(daily.c.day, daily.c.currency)
        .order_by(daily.c.day, daily.c.currency)
    )
    if currency:
        q = q.where(daily.c.currency == currency)
    return list(conn.execute(q))


def alerts_by_rule(conn: Connection) -> list:
    """(rule, status, severity, currency, alerts, amount)."""
    return list(
        conn.execute(
            select(
                aml_alerts.c.rule,
                aml_alerts.c.status,
                aml_alerts.c.severity,
                aml_alerts.c.currency,
                func.count().label("alerts"),
                func.sum(aml_alerts.c.amount_minor).label("amount_minor"),
                func.count().filter(aml_alerts.c.freezes_wallet).label("freezes"),
            ).group_by(aml_alerts.c.rule, aml_alerts.c.status, aml_alerts.c.severity, aml_alerts.c.currency)
        )
    )
