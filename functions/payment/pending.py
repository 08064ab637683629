"""How many payments are pending and how long the oldest has waited: what the reconciler
reports after each run (finflow.metrics.pending_payments), by the database's clock."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from functions.payment.tables import payments


def backlog(conn: Connection) -> tuple[int, float]:
    """(pending payments, seconds since the oldest was created; 0 when none). Reads the
    partial index payments_pending."""
    count, age = conn.execute(
        select(
            func.count(),
            func.coalesce(func.extract("epoch", func.now() - func.min(payments.c.created_at)), 0),
        ).where(payments.c.status == "pending")
    ).one()
    return count, float(age)
