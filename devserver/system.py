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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, make_server

from devserver import aws_state, embedded_postgres, tracing
from devserver.aws_endpoint import LocalAws
from devserver.console import Console
from devserver.embedded_postgres import ensure_database, server_url
from devserver.gateway import Gateway
from devserver.lambda_api import LambdaApi
from devserver.terminal import AccessLog
from devserver.throttle import TokenBucket
from devserver.workers import FunctionPool
from finflow.contracts import calls
from finflow.tracing import PROPAGATORS
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


def _aws_down(moto: LocalAws) -> dict:
    moto.stop()
    return {"aws_endpoint": "down"}


def _aws_up(moto: LocalAws) -> dict:
    moto.start()
    return {"aws_endpoint": "up"}


class DevSystem:
    def __init__(self, options: Options):
        self.options = options
        self.stop_event = threading.Event()
        self.pools: dict[str, FunctionPool] = {}
        self.servers: list[tuple[str, BaseWSGIServer]] = []
        self.threads: list[threading.Thread] = []  # event delivery and the scheduler
        self.moto: LocalAws | None = None  # the AWS endpoint, when it is ours (no AWS_ENDPOINT_URL)
        self.modules = built_modules()
        self.collector: tracing.Collector | None = None
        self.embedded_pg = False

    # -- start-up, in dependency order ----------------------------------------------
    def start(self, progress: Callable[[str, str], None] = lambda step, detail: None) -> DevSystem:
        """progress(step, detail): told as each step is done (`make dev` prints a line for each)."""
        o = self.options
        self._check_ports()
        self.embedded_pg = not os.environ.get("DATABASE_URL")
        pg = server_url(o.data_dir / "pg")
        progress("PostgreSQL", "DATABASE_URL" if os.environ.get("DATABASE_URL") else f"embedded, {o.data_dir}/pg")
        self._environment(pg)
        progress("AWS endpoint", f"{os.environ['AWS_ENDPOINT_URL']}{' (moto)' if self.moto else ''}")
        progress("migrations", " ".join(self._migrate(pg)))
        from devserver import bootstrap

        bootstrap.create_secrets(kept=self.state_dir / aws_state.SECRETS)
        bootstrap.create_storage()
        self.queues = bootstrap.create_event_routing()
        restored = aws_state.restore(self.state_dir) if self.moto else {}
        self._bootstrap_admin()
        kept = (
            ", kept: {objects} S3 objects, {messages} queued messages".format(**restored)
            if any(restored.values())
            else ""
        )
        progress(
            "AWS resources",
            f"secrets, buckets, {sum(map(len, self.queues.values()))} event queues, admin user{kept}",
        )
        self._start_functions()
        progress("workers", f"{len(self.pools)} functions; the API and authorizer ones warm")
        self._start_delivery()
        self._start_servers()
        progress("HTTP", f"{len(self.servers)} ports from {o.port_base}")
        return self

    @property
    def state_dir(self) -> Path:
        """What the AWS endpoint held, kept across restarts (devserver.aws_state)."""
        return self.options.data_dir / "aws-state"

    def _check_ports(self) -> None:
        o = self.options
        ports = [o.port_base + offset for offset in (*range(0, 7), LAMBDA_PORT_OFFSET)]
        if not os.environ.get("AWS_ENDPOINT_URL"):
            ports.append(o.port_base + 10)
        for port in ports:
            with socket.socket() as probe:
                # as the servers bind (werkzeug's allow_reuse_address): the connections a previous
                # run closed (TIME_WAIT) do not hold a port, a server still listening does
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
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
            "OTEL_SDK_DISABLED": "false",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        # the user may tune these; where the modules and their database are is ours to say
        tunable = {
            "KYC_AUTO_VERIFY",
            "OTEL_SDK_DISABLED",
            "POWERTOOLS_METRICS_DISABLED",
            "POWERTOOLS_LOG_LEVEL",
        }
        env = {k: os.environ.get(k, v) if k in tunable else v for k, v in env.items()} | o.env
        if not os.environ.get("AWS_ENDPOINT_URL"):
            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every AWS call otherwise
            self.moto = LocalAws(o.host, o.port_base + 10).start()
            env |= {
                "AWS_ENDPOINT_URL": self.moto.url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
            }
        if env["OTEL_SDK_DISABLED"].lower() != "true":
            # the functions' spans come here (devserver.function_tracing), their context travels in
            # W3C's and X-Ray's headers: as ADOT is configured on AWS (infra_cdk.lambdas)
            self.collector = tracing.Collector(o.host).start()
            tracing.activate(self.collector)
            env |= {"AWS_XRAY_DAEMON_ADDRESS": self.collector.address, "OTEL_PROPAGATORS": PROPAGATORS}
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
            if pool is not None:
                self.threads += [QueuePoller(url, pool, self.stop_event) for url in urls]
        jobs: list[tuple[FunctionPool, float]] = []
        for m in self.modules:
            for fn in m.functions:
                pool = self.pools.get(f"{m.key}.{fn.name}")
                if pool is None or fn.kind != "schedule":
                    continue
                if fn.name == "outbox-sweeper":  # run often locally so events are never held up for a minute
                    jobs.append((pool, self.options.sweep_seconds))
                elif fn.schedule_minutes is None:  # as the CDK app refuses it (infra_cdk/module_stack.py)
                    raise ValueError(f"{m.key}/{fn.name}: a scheduled function needs schedule_minutes")
                else:
                    jobs.append((pool, fn.schedule_minutes * 60))
        self.threads.append(Scheduler(jobs, self.stop_event))
        for thread in self.threads:
            thread.start()

    def _start_servers(self) -> None:
        o = self.options
        self.throttle = TokenBucket(o.rate_limit, o.burst_limit)  # one stage: the seed ports count too
        console = Console(self.pools, [m.key for m in self.modules], self.throttle, faults=self._faults())
        apps: list[tuple[str, int, Gateway | LambdaApi]] = [
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

    def _faults(self) -> dict[str, Callable[[], dict]]:
        """The system-wide failures the console injects (POST /_dev/<name>): a module down is the console's own."""
        faults: dict[str, Callable[[], dict]] = {}
        if self.embedded_pg:
            faults["postgres/restart"] = self._restart_postgres
        if self.moto:
            faults["aws/down"] = partial(_aws_down, self.moto)
            faults["aws/up"] = partial(_aws_up, self.moto)
        return faults

    def _restart_postgres(self) -> dict:
        started = time.monotonic()
        embedded_postgres.restart(self.options.data_dir / "pg")
        return {"postgres": "restarted", "seconds": round(time.monotonic() - started, 2)}

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
            else "off (OTEL_SDK_DISABLED=true)"
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

    def stop(self, patience: float = 15.0) -> None:
        """Requests first, then event delivery and the scheduler, then what is still running;
        then what the AWS endpoint holds is saved (devserver.aws_state) and everything stops."""
        deadline = time.monotonic() + patience
        for _, server in self.servers:
            server.shutdown()
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        while any(pool.busy() for pool in self.pools.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.moto:
            self.moto.start()  # back up if a failure test left it down
            saved = aws_state.save(self.state_dir)
            print(f"kept for the next start: {saved['objects']} S3 objects, {saved['messages']} queued messages")
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
