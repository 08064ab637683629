"""The payment search engine this process uses: OpenSearch when OPENSEARCH_ENDPOINT is set,
else PostgreSQL full-text search in Reporting's own database."""

from __future__ import annotations

from threading import Lock

from finflow.config import settings
from finflow.db import engine as db_engine
from functions.reporting.search.base import PaymentSearch

_engine: PaymentSearch | None = None
_lock = Lock()


def engine() -> PaymentSearch:
    global _engine
    with _lock:
        if _engine is None:
            s = settings()
            if s.opensearch_endpoint:
                from functions.reporting.search.opensearch import OpenSearchSearch

                _engine = OpenSearchSearch.from_settings(s.opensearch_endpoint, s.opensearch_index, s.aws_region)
            else:
                from functions.reporting.search.postgres import PostgresSearch

                _engine = PostgresSearch(lambda: db_engine("reporting"))
        return _engine


def use(search: PaymentSearch | None) -> None:
    """Replace the engine (tests; None: choose again from the settings)."""
    global _engine
    with _lock:
        _engine = search


def external() -> bool:
    """True when payments must also be sent to a search engine outside the database."""
    return engine().name != "postgresql"
