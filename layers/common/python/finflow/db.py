"""SQLAlchemy 2 engines (psycopg 3), one per module database, reused across invocations."""

from __future__ import annotations

import time
from threading import Lock

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url

from finflow.aws import secret_json
from finflow.config import settings


def normalize_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def database_url(module: str) -> URL:
    """The module's own database: from its Secrets Manager secret in AWS, else DATABASE_URL's server."""
    s = settings()
    if s.db_secret_arn:
        sec = secret_json(s.db_secret_arn)
        return URL.create(
            "postgresql+psycopg",
            username=sec["username"],
            password=sec["password"],
            host=sec["host"],
            port=int(sec.get("port", 5432)),
            database=sec.get("dbname", module),
        )
    if s.database_url:
        return make_url(normalize_url(s.database_url)).set(database=f"{s.db_name_prefix}{module}")
    raise RuntimeError("no database configured: set DATABASE_URL (or DB_SECRET_ARN in AWS)")


_engines: dict[str, Engine] = {}
_lock = Lock()
# A pooled connection idle this long is pinged before use (a frozen Lambda container's
# connection may have been dropped); one reused within a request is not, which saves a
# round trip on every checkout compared with pool_pre_ping.
PING_AFTER_IDLE_SECONDS = 5.0


def _ping_when_idle(e: Engine) -> None:
    @event.listens_for(e, "checkin")
    def checked_in(dbapi_conn, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(e, "checkout")
    def checked_out(dbapi_conn, record, proxy) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            e.dialect.do_ping(dbapi_conn)
        except Exception as error:
            raise exc.DisconnectionError(f"stale pooled connection: {error}") from error


def engine(module: str) -> Engine:
    with _lock:
        if module not in _engines:
            e = create_engine(
                database_url(module),
                pool_size=settings().db_pool_size,
                max_overflow=10,
                pool_recycle=300,
                # No table uses HSTORE: without this the dialect's first connect looks its type up
                # in pg_type, one more catalog query in every cold start's first invocation.
                use_native_hstore=False,
            )
            _ping_when_idle(e)
            _engines[module] = e
        return _engines[module]


def reading(module: str) -> Connection:
    """A connection for a single read statement, in autocommit: no BEGIN and ROLLBACK round
    trips around it. Reads that must see one snapshot use engine(module).connect()."""
    return one_statement(module)


def one_statement(module: str) -> Connection:
    """A connection in autocommit for a single statement, a read or a write that is a transaction
    of its own: committed when it returns, without the BEGIN and COMMIT round trips of begin()."""
    return engine(module).connect().execution_options(isolation_level="AUTOCOMMIT")


def reset_engines() -> None:
    """Forget engines (tests and the devserver point DATABASE_URL elsewhere between runs)."""
    with _lock:
        for e in _engines.values():
            e.dispose()
        _engines.clear()
