"""4. Reporting at N payments: Reporting's own queries (daily aggregates from its rollup,
search through its PostgreSQL search adapter) against plain SQL doing the same work over the same
rows and indexes (the search: the same first page and the same totals; and the page alone).

Rows are generated with generate_series straight into Reporting's `payments` table and
the rollup `payments_daily` is filled from them with one GROUP BY, as the consumer would
have left it. The database (bench<N>_reporting) is kept, so a rerun skips generation."""

from __future__ import annotations

import statistics
import time
from datetime import date, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

GENERATE = """
INSERT INTO payments (payment_id, status, kind, currency, amount_minor, from_wallet_id, to_wallet_id,
                      from_user_id, to_user_id, description, failure_reason, at)
SELECT md5(g::text)::uuid::text,
       CASE WHEN g % 20 = 0 THEN 'failed' ELSE 'completed' END,
       (ARRAY['transfer','deposit','withdrawal'])[1 + g % 3],
       (ARRAY['USD','EUR','GBP','JPY'])[1 + (g / 3) % 4],
       100 + (g * 7919) % 500000,
       md5('w' || (g % 5000))::uuid::text, md5('w' || ((g + 1) % 5000))::uuid::text,
       md5('u' || (g % 5000))::uuid::text, md5('u' || ((g + 1) % 5000))::uuid::text,
       (ARRAY['rent','groceries','salary','coffee','invoice','refund','gift','travel'])[1 + g % 8]
         || ' ' || (ARRAY['march','april','may','june'])[1 + (g / 8) % 4],
       CASE WHEN g % 20 = 0 THEN 'Insufficient funds' END,
       timestamptz '2026-01-01' + (g % 365) * interval '1 day' + (g % 86400) * interval '1 second'
FROM generate_series(1::bigint, :n) g
"""
ROLLUP = """
INSERT INTO payments_daily (day, currency, kind, status, count, volume_minor)
SELECT (at AT TIME ZONE 'UTC')::date, currency, kind, status, count(*), sum(amount_minor)
FROM payments GROUP BY 1, 2, 3, 4
"""
PLAIN_DAILY = """
SELECT (at AT TIME ZONE 'UTC')::date AS day, currency, count(*), sum(amount_minor)
FROM payments WHERE status = 'completed' AND at >= :a AND at < :b GROUP BY 1, 2 ORDER BY 1, 2
"""
# The search baselines are the SQL one would write by hand against the same table and its
# indexes (the stored tsvector `search`): the same first page (every column Reporting returns)
# and the same totals, so each row compares equal work.
PLAIN_PAGE = """
SELECT payment_id, status, kind, currency, amount_minor, from_wallet_id, to_wallet_id, from_user_id, to_user_id,
       description, failure_reason, at FROM payments
WHERE search @@ plainto_tsquery('simple', :q) AND currency = :c
ORDER BY at DESC, payment_id DESC LIMIT 51
"""
PLAIN_TOTALS = """
SELECT currency, count(*), sum(amount_minor) FROM payments
WHERE search @@ plainto_tsquery('simple', :q) AND currency = :c GROUP BY currency
"""


def _time(fn, repeats: int) -> float:
    fn()
    xs = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        xs.append(time.perf_counter() - t)
    return statistics.median(xs)


def run(pg: str, n: int, repeats: int = 5) -> dict:
    import os

    from devserver.embedded_postgres import ensure_database
    from finflow import config, db, migrations
    from functions.reporting import queries
    from functions.reporting.search.base import SearchQuery
    from functions.reporting.search.postgres import PostgresSearch, page_statement

    prefix = f"bench{n}_"
    url = ensure_database(pg, f"{prefix}reporting")
    old = os.environ.get("FINFLOW_DB_PREFIX", "")
    os.environ["FINFLOW_DB_PREFIX"] = prefix
    config.settings.cache_clear()
    db.reset_engines()
    try:
        migrations.upgrade("reporting")  # Reporting's own schema, by its Alembic head
        engine = create_engine(make_url(url))
        generated = None
        with engine.begin() as conn:
            have = conn.scalar(text("SELECT count(*) FROM payments"))
        if have != n:
            t = time.perf_counter()
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE payments, payments_daily"))
                conn.execute(text(GENERATE), {"n": n})
                conn.execute(text(ROLLUP))
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE payments"))
                conn.execute(text("VACUUM ANALYZE payments_daily"))
            generated = time.perf_counter() - t
        a, b = date(2026, 3, 1), date(2026, 3, 31)
        rows = {}

        def ours_daily():
            with engine.connect() as conn:
                return queries.daily_figures(conn, a, b, None)

        def plain_daily():
            with engine.connect() as conn:
                return conn.execute(text(PLAIN_DAILY), {"a": a, "b": b + timedelta(days=1)}).all()

        assert len(ours_daily()) == len(plain_daily())
        rows["daily aggregates, 31 days (rollup vs GROUP BY)"] = (
            _time(ours_daily, repeats),
            _time(plain_daily, repeats),
        )
        search = PostgresSearch(lambda: engine)
        q = SearchQuery(text="rent", currency="EUR", limit=50)
        args = {"q": "rent", "c": "EUR"}

        def ours_search():
            return search.search(q)

        def plain_search():
            with engine.connect() as conn:
                return conn.execute(text(PLAIN_PAGE), args).all(), conn.execute(text(PLAIN_TOTALS), args).all()

        def ours_page():
            with engine.connect() as conn:
                return conn.execute(page_statement(q)).all()

        def plain_page():
            with engine.connect() as conn:
                return conn.execute(text(PLAIN_PAGE), args).all()

        got, (want_page, want_totals) = ours_search(), plain_search()
        assert [d.payment_id for d in got.items] == [r.payment_id for r in want_page[:50]]
        assert {c: (t.count, t.volume_minor) for c, t in got.totals.items()} == {
            r[0]: (r[1], r[2]) for r in want_totals
        }
        rows["search 'rent' in EUR, first page + totals (vs the same in plain SQL)"] = (
            _time(ours_search, repeats),
            _time(plain_search, repeats),
        )
        rows["search 'rent' in EUR, first page only (vs the same in plain SQL)"] = (
            _time(ours_page, repeats),
            _time(plain_page, repeats),
        )
        return {"n": n, "generated_seconds": generated, "rows": rows}
    finally:
        os.environ["FINFLOW_DB_PREFIX"] = old
        config.settings.cache_clear()
        db.reset_engines()
