"""The benchmark's own world: embedded PostgreSQL under .local/bench, moto, fresh databases
(prefix b<run>_, dropped at the end), the devserver's secrets and an event bus."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".local" / "bench"
QUICK = os.environ.get("BENCH_QUICK") == "1"


def knob(name: str, default: float, quick: float) -> float:
    return float(os.environ.get(name, quick if QUICK else default))


@dataclass
class World:
    pg: str
    moto: str
    prefix: str
    moto_server: object

    def url(self, module: str) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.pg).set(database=f"{self.prefix}{module}").render_as_string(hide_password=False)

    def libpq(self, module: str) -> str:
        """A psycopg conninfo for the module's database (raw-SQL baselines)."""
        return conninfo(self.url(module))


def conninfo(url: str) -> str:
    """A psycopg conninfo from a SQLAlchemy URL (the embedded server listens on a Unix socket)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    host = u.query.get("host") or u.host
    return f"host={host} dbname={u.database} user={u.username or 'postgres'}"


def start() -> World:
    import logging

    from moto.server import ThreadedMotoServer

    from devserver.embedded_postgres import ensure_database, server_url

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every AWS call otherwise
    pg = server_url(DATA / "pg")
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    prefix = f"b{uuid.uuid4().hex[:6]}_"
    os.environ.update(
        {
            "DATABASE_URL": pg,
            "FINFLOW_DB_PREFIX": prefix,
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "BCRYPT_ROUNDS": "4",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "FINFLOW_API_URL": "http://127.0.0.1:9",
            "KYC_AUTO_VERIFY": "false",
        }
    )
    from finflow import aws, config, db, migrations

    config.settings.cache_clear()
    aws.client.cache_clear()
    db.reset_engines()
    from functions import catalog

    for m in catalog.MODULES:
        if (ROOT / "functions" / m.key / "migrations").is_dir():
            ensure_database(pg, f"{prefix}{m.key}")
            migrations.upgrade(m.key)
    from devserver.bootstrap import create_secrets, create_storage

    create_secrets()
    create_storage()
    # The bus without rules: no consumer runs in these benchmarks, and moto's rule -> SQS
    # fan-out costs ~20 ms of Python per PutEvents on these same cores (AWS's work, not ours).
    aws.client("events").create_event_bus(Name=config.settings().event_bus_name)
    return World(pg=pg, moto=f"http://{host}:{port}", prefix=prefix, moto_server=moto)


def drop(world: World) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from finflow import db

    db.reset_engines()
    e = create_engine(make_url(world.pg).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with e.connect() as conn:
        names = conn.scalars(
            text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": world.prefix + "%"}
        ).all()
        for name in names:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    e.dispose()


def machine(world_pg: str | None = None) -> dict[str, str]:
    cpu = "unknown"
    try:
        m = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = m.group(1).strip() if m else platform.processor()
    except OSError:
        pass
    mem = "unknown"
    try:
        found = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        if found:
            mem = f"{int(found.group(1)) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    pgv = "unknown"
    if world_pg:
        from sqlalchemy import create_engine, text

        e = create_engine(world_pg)
        with e.connect() as conn:
            pgv = conn.scalar(text("SHOW server_version"))
        e.dispose()
    return {
        # the cores are shared: a load above nproc at the start says the figures carry others' work
        "load average at start": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "python": sys.version.split()[0],
        "postgresql": pgv,
        "os": platform.platform(),
    }


def git_head() -> str:
    """The commit measured; said so when the work tree had changes beyond it."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], check=False, cwd=ROOT, capture_output=True, text=True).stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        return head + (" with uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else "")
    except OSError:
        return "unknown"
