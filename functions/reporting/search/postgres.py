"""PostgreSQL full-text search over Reporting's own `payments` table (the embedded default).

The table is its own index: the consumer writes each payment row in its transaction, the
`search` column is a generated tsvector (`simple` configuration) under a GIN index, and
B-tree indexes cover ids, currency with amount, and newest-first pages.

The two newest-first B-trees (all payments; per currency) also INCLUDE currency, amount and
the tsvector, so the totals (every match, not one page) are an index-only scan of the
currency's or time window's slice with the words matched in the index; through the GIN
index a common word meant a bitmap heap scan over nearly every heap page. A page walks the
same index in keyset order and stops after `limit + 1` matches. The planner still takes
the GIN or id indexes when they are selective.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, func, or_, select, tuple_

from functions.reporting.search.base import (
    ID_FIELDS,
    BadCursor,
    PaymentDoc,
    SearchPage,
    SearchQuery,
    Total,
    decode_cursor,
    encode_cursor,
)
from functions.reporting.tables import payments

_DOC_COLUMNS = [payments.c[f] for f in PaymentDoc.__dataclass_fields__]


def where_clauses(q: SearchQuery) -> list:
    t = payments.c
    clauses: list[ColumnElement[bool]] = []
    if q.text:
        clauses.append(t.search.bool_op("@@")(func.plainto_tsquery("simple", q.text)))
    if q.id:
        clauses.append(or_(*(t[f] == q.id for f in ID_FIELDS)))
    if q.currency:
        clauses.append(t.currency == q.currency)
    if q.min_minor is not None:
        clauses.append(t.amount_minor >= q.min_minor)
    if q.max_minor is not None:
        clauses.append(t.amount_minor <= q.max_minor)
    if q.start is not None:
        clauses.append(t.at >= q.start)
    if q.end is not None:
        clauses.append(t.at < q.end)
    return clauses


class PostgresSearch:
    name = "postgresql"

    def __init__(self, engine: Callable[[], Engine]):
        self._engine = engine

    def index(self, docs: Sequence[PaymentDoc]) -> None:
        """Nothing to do: the consumer's payment rows are the index."""

    def reset(self) -> None:
        """Nothing to do: a rebuild empties the payments table itself."""

    def check(self) -> None:
        """Nothing beyond the database check every module's /health already runs."""

    def search(self, q: SearchQuery) -> SearchPage:
        page, totals = page_statement(q), totals_statement(q)
        with self._engine().connect() as conn:
            rows = conn.execute(page).all()
            sums = conn.execute(totals).all()
        docs = [PaymentDoc.from_row(r) for r in rows[: q.limit]]
        cursor = encode_cursor([docs[-1].at.isoformat(), docs[-1].payment_id]) if len(rows) > q.limit else None
        return SearchPage(items=docs, next_cursor=cursor, totals={r.currency: Total(r.n, int(r.v)) for r in sums})


def _after(cursor: str) -> tuple[datetime, str]:
    at, payment_id = decode_cursor(cursor, 2)
    try:
        return datetime.fromisoformat(at), str(payment_id)
    except (TypeError, ValueError):
        raise BadCursor("cursor is not valid") from None


def page_statement(q: SearchQuery):
    """`limit + 1` matches newest first (one more says whether there is a next page)."""
    t = payments.c
    page = select(*_DOC_COLUMNS).where(*where_clauses(q))
    if q.cursor:
        page = page.where(tuple_(t.at, t.payment_id) < _after(q.cursor))
    return page.order_by(t.at.desc(), t.payment_id.desc()).limit(q.limit + 1)


def totals_statement(q: SearchQuery):
    """Count and volume per currency of every match (the cursor does not narrow them)."""
    t = payments.c
    return (
        select(t.currency, func.count().label("n"), func.sum(t.amount_minor).label("v"))
        .where(*where_clauses(q))
        .group_by(t.currency)
    )
