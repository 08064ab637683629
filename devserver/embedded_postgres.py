"""A real PostgreSQL for the local runner and tests, without Docker.

server_url(): $DATABASE_URL, else the pgserver wheel (embedded PostgreSQL 16), else local
PostgreSQL binaries (initdb/pg_ctl). Servers listen on a Unix socket only (no port clashes).
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import logging
import os
import pathlib
import pwd
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from pgserver import PostgresServer

log = logging.getLogger(__name__)
NO_PG = (
    "No PostgreSQL available: install the pgserver wheel (Python 3.9–3.12), or PostgreSQL "
    "server binaries, or set DATABASE_URL=postgresql://user:pass@host/db"
)
FORCE_BINARIES_ENV = "FINFLOW_PG_FORCE_BINARIES"  # "1": skip pgserver (to test the fallback)
_SOCKET_MAX = 107  # sun_path is 108 bytes including the trailing NUL
_lock = threading.Lock()
_urls: dict[pathlib.Path, str] = {}
_handles: list = []  # pgserver handles; their own atexit hook stops the server
_restarts: dict[pathlib.Path, Callable[[], None]] = {}  # data_dir -> restart the server this process started


def server_url(data_dir: pathlib.Path) -> str:
    """SQLAlchemy URL of a PostgreSQL server that stays up for the life of this process."""
    env = os.environ.get("DATABASE_URL")
    if env:
        return re.sub(r"^postgres(?:ql)?://", "postgresql+psycopg://", env)
    data_dir = pathlib.Path(data_dir).expanduser().resolve()
    with _lock:
        if data_dir not in _urls:
            _urls[data_dir] = _start(data_dir)
        return _urls[data_dir]


def restart(data_dir: pathlib.Path) -> None:
    """Crash and restart the embedded server of `data_dir` (pg_ctl restart -m immediate: every
    connection dropped, uncommitted work gone, recovery from the WAL), as a database failover
    looks to its clients. Only a server this process started."""
    data_dir = pathlib.Path(data_dir).expanduser().resolve()
    if data_dir not in _restarts:
        raise RuntimeError(f"no embedded PostgreSQL started by this process in {data_dir}")
    _restarts[data_dir]()


def ensure_database(server_url: str, name: str) -> str:
    """Create database `name` if missing (race-safe); return its URL on the same server."""
    url = make_url(server_url)
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                quoted = conn.dialect.identifier_preparer.quote_identifier(name)
                try:
                    conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
                except DBAPIError as exc:
                    # A concurrent creator won: duplicate_database, or unique_violation on pg_database.
                    if getattr(exc.orig, "sqlstate", None) not in ("42P04", "23505"):
                        raise
    finally:
        engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _socket_url(sock_dir) -> str:
    return URL.create(
        "postgresql+psycopg", username="postgres", database="postgres", query={"host": str(sock_dir)}
    ).render_as_string(hide_password=False)


def _start(data_dir: pathlib.Path) -> str:
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    if os.environ.get(FORCE_BINARIES_ENV) != "1":
        try:
            with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
                warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
                import pgserver  # no wheels for Python >= 3.13
        except ImportError:
            pass
        else:
            # Refcounted across processes via data_dir/.handle_pids.json: reuses a running
            # postmaster, and the last process using it stops it at exit. As root it runs the
            # server as OS user "pgserver" and chmods data_dir's ancestors g+rx,o+rx.
            srv = pgserver.get_server(data_dir, cleanup_mode="stop")
            _handles.append(srv)
            _restarts[data_dir] = lambda: _restart_pgserver(srv)
            return _socket_url(srv.get_postmaster_info().socket_dir)
    bindir = _find_bindir()
    if bindir is None:
        raise RuntimeError(NO_PG)
    return _start_binaries(bindir, data_dir)


def _restart_pgserver(srv: PostgresServer) -> None:
    # pgserver sets its command functions (pg_ctl, initdb...) on its module at import; this
    # builds the same one under a name the type checker can see
    from pgserver._commands import create_command_function

    pg_ctl = create_command_function("pg_ctl")

    # restart keeps the options the server was started with (postmaster.opts); -l keeps its log file
    pg_ctl(
        ["-w", "-m", "immediate", "-l", str(srv.log), "restart"], pgdata=srv.pgdata, user=srv.system_user, timeout=60
    )
    srv.ensure_postgres_running()  # the new postmaster's pid, which pgserver stops at exit


def _find_bindir() -> pathlib.Path | None:
    # Debian/Ubuntu keep initdb/pg_ctl off PATH, under /usr/lib/postgresql/<version>/bin.
    on_path = shutil.which("initdb")
    debian = sorted(
        pathlib.Path("/usr/lib/postgresql").glob("*/bin"),
        reverse=True,
        key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.name)],
    )
    candidates = ([pathlib.Path(on_path).parent] if on_path else []) + debian
    return next((d for d in candidates if (d / "initdb").is_file() and (d / "pg_ctl").is_file()), None)


def _os_user() -> str | None:
    """initdb/postgres refuse to run as root: pick an unprivileged OS user when we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "finflow-pg"):
        try:
            return pwd.getpwnam(name).pw_name
        except KeyError:
            pass
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "finflow-pg"],
        check=True,
        capture_output=True,
    )
    return "finflow-pg"


def _start_binaries(bindir: pathlib.Path, data_dir: pathlib.Path) -> str:
    user = _os_user()

    def pg(*args: str) -> subprocess.CompletedProcess:
        cmd = [str(bindir / args[0]), *args[1:]]
        if user:
            cmd = (
                ["runuser", "-u", user, "--", *cmd]
                if shutil.which("runuser")
                else ["su", user, "-s", "/bin/sh", "-c", shlex.join(cmd)]
            )
        # cwd="/": the server user may not be able to enter our cwd (e.g. /root).
        return subprocess.run(cmd, check=False, cwd="/", capture_output=True, text=True, timeout=120)

    key = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    short_dir = pathlib.Path(tempfile.gettempdir()) / f"finflow-pg-{key}"
    # Deep data dirs would overflow the socket path, so use a short per-data_dir /tmp dir then.
    sock_dir = data_dir if len(f"{data_dir}/.s.PGSQL.5432") <= _SOCKET_MAX else short_dir
    # Serialise concurrent processes starting the same cluster (kept outside data_dir, since
    # initdb wants an empty directory).
    with open(f"{short_dir}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for d in (data_dir, sock_dir):
            d.mkdir(mode=0o700, exist_ok=True)
            if user and not (d / "PG_VERSION").exists():  # never re-own an existing cluster
                ent = pwd.getpwnam(user)
                os.chown(d, ent.pw_uid, ent.pw_gid)
                for parent in d.parents:  # the server user must be able to traverse (o+x only)
                    if not parent.stat().st_mode & 0o001:
                        log.info("chmod o+x %s so %s can reach %s", parent, user, d)
                        parent.chmod(parent.stat().st_mode | 0o001)
        if pg("pg_ctl", "status", "-D", str(data_dir)).returncode == 0:
            # Another process started it: reuse it, and leave stopping to that process.
            running_sock = (data_dir / "postmaster.pid").read_text().splitlines()[4].strip()
            return _socket_url(running_sock or sock_dir)
        if not (data_dir / "PG_VERSION").exists():
            r = pg(
                "initdb", "-D", str(data_dir), "--auth=trust", "-U", "postgres", "--encoding=UTF8", "--locale=C"
            )  # C locale: always available, deterministic
            if r.returncode:
                raise RuntimeError(f"initdb failed in {data_dir}:\n{r.stdout}{r.stderr}")
        logfile = data_dir / "server.log"
        opts = f"-c listen_addresses='' -c unix_socket_directories={shlex.quote(str(sock_dir))}"
        r = pg("pg_ctl", "-D", str(data_dir), "-l", str(logfile), "-o", opts, "-w", "start")
        if r.returncode:
            tail = logfile.read_text(errors="replace")[-2000:] if logfile.exists() else ""
            raise RuntimeError(f"pg_ctl start failed for {data_dir}:\n{r.stderr}\n{tail}")
        atexit.register(pg, "pg_ctl", "-D", str(data_dir), "-m", "fast", "-w", "stop")

        def restart() -> None:
            r = pg("pg_ctl", "-D", str(data_dir), "-l", str(logfile), "-m", "immediate", "-w", "restart")
            if r.returncode:
                raise RuntimeError(f"pg_ctl restart failed for {data_dir}:\n{r.stderr}")

        _restarts[data_dir] = restart
        log.info("started PostgreSQL (%s) in %s, socket dir %s", bindir, data_dir, sock_dir)
        return _socket_url(sock_dir)
