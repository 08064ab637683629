"""devserver.embedded_postgres: a real PostgreSQL without Docker (pgserver, or local binaries)."""

import os
import pathlib
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from devserver import embedded_postgres as ep

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv(ep.FORCE_BINARIES_ENV, raising=False)


def _start(data_dir):
    t0 = time.monotonic()
    try:
        url = ep.server_url(data_dir)
    except RuntimeError as exc:
        if str(exc) == ep.NO_PG:
            pytest.skip(str(exc))
        raise
    print(f"server_url({data_dir}) took {time.monotonic() - t0:.2f}s")
    assert ep.server_url(data_dir) == url  # cached for the life of the process
    return url


def _roundtrip(url):
    db_url = ep.ensure_database(url, "t_embedded")
    assert ep.ensure_database(url, "t_embedded") == db_url  # idempotent
    assert make_url(db_url).database == "t_embedded"
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            assert conn.scalar(text("SELECT version()")).startswith("PostgreSQL")
            conn.execute(text("CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY, note text)"))
            conn.execute(text("INSERT INTO t VALUES (1, 'hello') ON CONFLICT DO NOTHING"))
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT note FROM t WHERE id = 1")) == "hello"
            assert conn.scalar(text("SHOW listen_addresses")) == ""  # Unix socket only
    finally:
        engine.dispose()


def _reuse_from_child(data_dir, env_extra):
    """A second process must reuse the running server, and must not stop it when it exits."""
    code = "import sys; from devserver.embedded_postgres import server_url as s; print(s(sys.argv[1]))"
    env = {**os.environ, "PYTHONPATH": str(REPO), **env_extra}
    out = subprocess.run(
        [sys.executable, "-c", code, str(data_dir)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return out.strip().splitlines()[-1]


# Under the project's ignored .local/, not pytest's tmp dir: as root the server runs as
# another user, and every pytest session resets /tmp/pytest-of-root to 0700.
LOCAL = REPO / ".local" / "unit-pg"


def test_server_url_default_path():
    data_dir = LOCAL / "pgserver" / "data"
    url = _start(data_dir)
    _roundtrip(url)
    assert _reuse_from_child(data_dir, {}) == url
    _roundtrip(url)  # still up after the child exited


def test_binaries_fallback(monkeypatch):
    bindir = ep._find_bindir()
    if bindir is None:
        pytest.skip("no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin")
    monkeypatch.setenv(ep.FORCE_BINARIES_ENV, "1")
    # Deep on purpose: the socket path would exceed 107 chars, so a short /tmp dir is used.
    data_dir = LOCAL / "binaries" / ("d" * 90) / "data"
    url = _start(data_dir)
    assert make_url(url).query["host"].startswith("/tmp/finflow-pg-")
    _roundtrip(url)
    engine = create_engine(url)
    with engine.connect() as conn:  # really our cluster, not pgserver's
        assert conn.scalar(text("SHOW data_directory")) == str(data_dir)
    engine.dispose()
    assert _reuse_from_child(data_dir, {ep.FORCE_BINARIES_ENV: "1"}) == url
    _roundtrip(url)


def test_database_url_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p%40ss@db.example:5432/app")
    assert ep.server_url(tmp_path / "unused") == "postgresql+psycopg://u:p%40ss@db.example:5432/app"
    assert not (tmp_path / "unused").exists()  # nothing started


def test_nothing_available_names_database_url(monkeypatch, tmp_path):
    monkeypatch.setenv(ep.FORCE_BINARIES_ENV, "1")
    monkeypatch.setattr(ep, "_find_bindir", lambda: None)
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        ep.server_url(tmp_path / "none")
