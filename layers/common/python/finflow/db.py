"""SQLAlchemy 2 engines (psycopg 3), one per module database, reused across invocations."""
from __future__ import annotations

from threading import Lock

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url

from finflow.aws import secret_json
from finflow.config import settings


def normalize_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def database_url(module: str) -> URL:
    """The module's own database: from its Secrets Manager secret in AWS, else DATABASE_URL's server."""
    s = settings()
    if s.db_secret_arn:
        sec = secret_json(s.db_secret_arn)
        return URL.create("postgresql+psycopg", username=sec["username"], password=sec["password"],
                          host=sec["host"], port=int(sec.get("port", 5432)), database=sec.get("dbname", module))
    if s.database_url:
        return make_url(normalize_url(s.database_url)).set(database=f"{s.db_name_prefix}{module}")
    raise RuntimeError("no database configured: set DATABASE_URL (or DB_SECRET_ARN in AWS)")


_engines: dict[str, Engine] = {}
_lock = Lock()


def engine(module: str) -> Engine:
    with _lock:
        if module not in _engines:
            _engines[module] = create_engine(
                database_url(module), pool_pre_ping=True, pool_size=settings().db_pool_size,
                max_overflow=10, pool_recycle=300)
        return _engines[module]


def reset_engines() -> None:
    """Forget engines (tests and the devserver point DATABASE_URL elsewhere between runs)."""
    with _lock:
        for e in _engines.values():
            e.dispose()
        _engines.clear()
