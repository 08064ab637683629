"""The whole of FinFlow on localhost: PostgreSQL, an AWS endpoint, the functions of every
module in Lambda-like workers, the gateway on one port plus each module's seed port,
event delivery and the scheduled functions."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, make_server

from devserver import tracing
from devserver.console import Console
from devserver.embedded_postgres import ensure_database, server_url
from devserver.gateway import Gateway
from devserver.lambda_api import LambdaApi
from devserver.terminal import AccessLog
from devserver.throttle import TokenBucket
from devserver.workers import FunctionPool
from finflow.contracts import calls
from functions import catalog

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ADMIN = ("admin@finflow.dev", "finflow-admin-dev")
LAMBDA_PORT_OFFSET = 9  # the local Lambda Invoke API (modules' private calls): port base + 9


@dataclass
class Options:
    port_base: int = 8000
    data_dir: Path = ROOT / ".local" / "dev"
    db_prefix: str = ""
    max_workers: int = 8
    sweep_seconds: float = 5.0
    host: str = "127.0.0.1"
    # the stage's throttling (catalog.API_THROTTLE unless raised for load tests)
    rate_limit: float = catalog.API_THROTTLE.rate
    burst_limit: int = catalog.API_THROTTLE.burst
    env: dict[str, str] = field(default_factory=dict)


def _handler_present(handler: str) -> bool:
    try:
        return importlib.util.find_spec(handler.rpartition(".")[0]) is not None
    except ModuleNotFoundError:  # the module's package itself is not in this build
        return False


def built_modules() -> list[catalog.Module]:
    """Modules whose code is present in this build (the catalog lists all six)."""
    return [m for m in catalog.MODULES if _handler_present(f"functions.{m.key}.api.handler")]


def function_env(module: str, fn: catalog.Function) -> dict[str, str]:
    """A function's own variables, as the deployment sets them: an API function other modules
    invoke directly trusts no authorizer context, only a token it verifies (infra_cdk/module_stack.py)."""
    if fn.kind == "api" and module in calls.callees():
        return {"FINFLOW_VERIFY_TOKENS": "true"}
    return {}


class DevSystem:
    def __init__(self, options: Options):
        self.options = options
        self.stop_event = threading.Event()
        self.pools: dict[str, FunctionPool] = {}
        self.servers: list[tuple[str, BaseWSGIServer]] = []
        self.moto = None
        self.modules = built_modules()
        self.collector: tracing.Collector | None = None

    # -- start-up, in dependency order ----------------------------------------------
    def start(self, progress: Callable[[str, str], None] = lambda step, detail: None) -> DevSystem:
        """progress(step, detail): told as each step is done (`make dev` prints a line for each)."""
        o = self.options
        self._check_ports()
        pg = server_url(o.data_dir / "pg")
        progress("PostgreSQL", "DATABASE_URL" if os.environ.get("DATABASE_URL") else f"embedded, {o.data_dir}/pg")
        self._environment(pg)
        progress("AWS endpoint", f"{os.environ['AWS_ENDPOINT_URL']}{' (moto)' if self.moto else ''}")
        progress("migrations", " ".join(self._migrate(pg)))
        from devserver import bootstrap

        bootstrap.create_secrets()
        bootstrap.create_storage()
        self.queues = bootstrap.create_event_routing()
        self._bootstrap_admin()
        progress("AWS resources", f"secrets, buckets, {sum(map(len, self.queues.values()))} event queues, admin user")
        self._start_functions()
        progress("workers", f"{len(self.pools)} functions; the API and authorizer ones warm")
        self._start_delivery()
        self._start_servers()
        progress("HTTP", f"{len(self.servers)} ports from {o.port_base}")
        return self

    def _check_ports(self) -> None:
        o = self.options
        ports = [o.port_base + offset for offset in (*range(0, 7), LAMBDA_PORT_OFFSET)]
        if not os.environ.get("AWS_ENDPOINT_URL"):
            ports.append(o.port_base + 10)
        for port in ports:
            with socket.socket() as probe:
                try:
                    probe.bind((o.host, port))
                except OSError:
                    raise SystemExit(
                        f"port {port} is in use: is another FinFlow running? "
                        f"Stop it, or choose other ports with --port-base"
                    ) from None

    def _environment(self, pg: str) -> None:
        o = self.options
        env = {
            "DATABASE_URL": pg,
            "FINFLOW_DB_PREFIX": o.db_prefix,
            "FINFLOW_API_URL": f"http://{o.host}:{o.port_base}",
            # modules call each other by Lambda Invoke, here the devserver's own Lambda API (whatever
            # AWS_ENDPOINT_URL is: a LocalStack does not run these functions), by their pools' names
            "AWS_ENDPOINT_URL_LAMBDA": f"http://{o.host}:{o.port_base + LAMBDA_PORT_OFFSET}",
            "FINFLOW_CALLEES": json.dumps({callee: f"{callee}-api" for callee in calls.callees()}),
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "KYC_AUTO_VERIFY": "true",
            "POWERTOOLS_TRACE_DISABLED": "false",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        # the user may tune these; where the modules and their database are is ours to say
        tunable = {
            "KYC_AUTO_VERIFY",
            "POWERTOOLS_TRACE_DISABLED",
            "POWERTOOLS_METRICS_DISABLED",
            "POWERTOOLS_LOG_LEVEL",
        }
        env = {k: os.environ.get(k, v) if k in tunable else v for k, v in env.items()} | o.env
        if not os.environ.get("AWS_ENDPOINT_URL"):
            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every AWS call otherwise
            from moto.server import ThreadedMotoServer

            self.moto = ThreadedMotoServer(ip_address=o.host, port=o.port_base + 10, verbose=False)
            self.moto.start()
            env |= {
                "AWS_ENDPOINT_URL": f"http://{o.host}:{o.port_base + 10}",
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
            }
        if env["POWERTOOLS_TRACE_DISABLED"].lower() != "true":
            # the X-Ray daemon stand-in: the functions' SDK sends its documents here
            self.collector = tracing.Collector(o.host).start()
            tracing.activate(self.collector)
            env |= {"AWS_XRAY_DAEMON_ADDRESS": self.collector.address, "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR"}
        os.environ.update(env)  # inherited by every worker process
        from finflow import aws, config

        config.settings.cache_clear()
        aws.client.cache_clear()

    def _migrate(self, pg: str) -> list[str]:
        """Every module that keeps Alembic migrations gets its database, as the tests do:
        the Aurora owners and Notification (its PostgreSQL adapter, used unless DOCUMENTDB_URI is set)."""
        from finflow import migrations

        migrated = [m.key for m in self.modules if (ROOT / "functions" / m.key / "migrations").is_dir()]
        for key in migrated:
            ensure_database(pg, f"{self.options.db_prefix}{key}")
            migrations.upgrade(key)
        return migrated

    def _bootstrap_admin(self) -> None:
        from functions.auth.logic import ensure_admin

        email = os.environ.get("FINFLOW_ADMIN_EMAIL", DEFAULT_ADMIN[0])
        password = os.environ.get("FINFLOW_ADMIN_PASSWORD", DEFAULT_ADMIN[1])
        try:
            ensure_admin(email, password, "FinFlow Admin")
        except ValueError as exc:  # pydantic's ValidationError: a bad email or password in the env
            raise SystemExit(f"FINFLOW_ADMIN_EMAIL / FINFLOW_ADMIN_PASSWORD are not valid: {exc}") from None
        self.admin = (email, password)

    def _start_functions(self) -> None:
        for m in self.modules:
            for fn in (fn for fn in m.functions if _handler_present(fn.handler)):
                self.pools[f"{m.key}.{fn.name}"] = FunctionPool(
                    f"{m.key}-{fn.name}", fn.handler, self.options.max_workers, env=function_env(m.key, fn)
                )
        warm = [p for name, p in self.pools.items() if name.endswith((".api", ".authorizer"))]
        threads = [threading.Thread(target=p.warm) for p in warm]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _start_delivery(self) -> None:
        from devserver.delivery import QueuePoller, Scheduler

        for module, urls in self.queues.items():
            pool = self.pools.get(f"{module}.events")
            for url in urls if pool else ():
                QueuePoller(url, pool, self.stop_event).start()
        jobs = []
        for m in self.modules:
            for fn in m.functions:
                pool = self.pools.get(f"{m.key}.{fn.name}")
                if pool and fn.kind == "schedule":
                    # sweepers run often locally so events are never held up for a minute
                    period = self.options.sweep_seconds if fn.name == "outbox-sweeper" else fn.schedule_minutes * 60
                    jobs.append((pool, period))
        Scheduler(jobs, self.stop_event).start()

    def _start_servers(self) -> None:
        o = self.options
        self.throttle = TokenBucket(o.rate_limit, o.burst_limit)  # one stage: the seed ports count too
        console = Console(self.pools, [m.key for m in self.modules], self.throttle)
        apps = [
            (
                "gateway",
                o.port_base,
                Gateway(self.pools, system_health=self.health, console=console, throttle=self.throttle),
            )
        ]
        apps += [
            (
                m.key,
                o.port_base + (m.port - catalog.GATEWAY_PORT),
                Gateway(self.pools, only=m.key, throttle=self.throttle),
            )
            for m in catalog.MODULES
        ]
        apps.append(("lambda", o.port_base + LAMBDA_PORT_OFFSET, LambdaApi(self.pools)))
        for name, port, app in apps:
            server = make_server(o.host, port, AccessLog(app, name), threaded=True)
            threading.Thread(target=server.serve_forever, name=f"http-{name}", daemon=True).start()
            self.servers.append((name, server))

    # -- runtime -----------------------------------------------------------------------
    def health(self) -> dict:
        built = {m.key for m in self.modules}
        return {
            "status": "healthy",
            "service": "finflow-gateway",
            "modules": {m.service: ("deployed" if m.key in built else "not in this build") for m in catalog.MODULES},
        }

    def urls(self) -> list[str]:
        o = self.options
        lines = [f"gateway          http://{o.host}:{o.port_base}  (every /api route)"]
        built = {m.key for m in self.modules}
        for m in catalog.MODULES:
            port = o.port_base + (m.port - catalog.GATEWAY_PORT)
            note = f"docs http://{o.host}:{port}/api/{m.key}/docs" if m.key in built else "not in this build yet"
            lines.append(f"{m.service:<20} http://{o.host}:{port}  {note}")
        lines.append(f"AWS endpoint     {os.environ['AWS_ENDPOINT_URL']}")
        lines.append(f"Lambda API       {os.environ['AWS_ENDPOINT_URL_LAMBDA']}  (modules' private calls)")
        traces = (
            f"http://{o.host}:{o.port_base}/_dev/traces  (python -m devserver.trace <id>)"
            if self.collector
            else "off (POWERTOOLS_TRACE_DISABLED=true)"
        )
        lines.append(f"traces           {traces}")
        lines.append(
            f"failures         http://{o.host}:{o.port_base}/_dev/modules  (python -m devserver.chaos down <module>)"
        )
        # where the modules' databases are, for operator tools (python -m functions.reporting.rebuild)
        from sqlalchemy.engine import make_url

        database = make_url(os.environ["DATABASE_URL"]).render_as_string(hide_password=True)
        prefix = f", names prefixed {o.db_prefix!r}" if o.db_prefix else ""
        lines.append(f"database         {database}  (DATABASE_URL: one database per module{prefix})")
        return lines

    def stop(self) -> None:
        self.stop_event.set()
        for _, server in self.servers:
            server.shutdown()
        stopping = [threading.Thread(target=pool.stop) for pool in self.pools.values()]
        for t in stopping:  # all pools at once, as above for each pool's workers
            t.start()
        for t in stopping:
            t.join()
        if self.moto:
            self.moto.stop()
        if self.collector:
            tracing.activate(None)
            self.collector.stop()
