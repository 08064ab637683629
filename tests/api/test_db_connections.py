"""Pooled connections: a connection the database dropped while it sat idle in the pool is
replaced before use (a frozen Lambda container, an RDS Proxy idle timeout), and single
reads run in autocommit."""

from __future__ import annotations

from sqlalchemy import text


def _backend_pid(conn) -> int:
    return conn.execute(text("SELECT pg_backend_pid()")).scalar()


def test_a_connection_dropped_while_idle_is_replaced_before_use(api_env, monkeypatch):
    from finflow import db

    db.reset_engines()
    e = db.engine("wallet")
    with e.connect() as conn:
        dropped = _backend_pid(conn)
    with db.engine("payment").connect() as other:  # the server ends the idle session
        assert other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": dropped}).scalar() is True
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    with e.connect() as conn:
        assert _backend_pid(conn) != dropped


def test_a_connection_reused_at_once_is_not_pinged_again(api_env, monkeypatch):
    from finflow import db

    db.reset_engines()
    e = db.engine("wallet")
    with e.connect() as conn:
        first = _backend_pid(conn)
    pings = []
    monkeypatch.setattr(e.dialect, "do_ping", lambda dbapi_conn: pings.append(dbapi_conn) or True)
    with e.connect() as conn:
        assert _backend_pid(conn) == first
    assert pings == []
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    with e.connect() as conn:
        _backend_pid(conn)
    assert len(pings) == 1


def test_single_reads_run_without_a_transaction(api_env):
    from finflow import db

    # now() is the transaction's start: inside BEGIN ... it is earlier than the statement's
    same_instant = text("SELECT now() = statement_timestamp()")
    with db.reading("wallet") as conn:
        assert conn.execute(same_instant).scalar() is True
    with db.engine("wallet").connect() as conn:
        assert conn.execute(same_instant).scalar() is False
