"""`GET /health` for every module: own stores, live dependency checks, cascade info.

Dependencies and `cascade_info` come from the catalog. Dependencies are asked with
`?shallow=true` so one health call never fans out through the whole graph.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from sqlalchemy import text

from finflow.config import settings
from finflow.db import engine
from finflow.http import documented, json_response
from finflow.service_client import breaker_states, http
from functions import catalog

Check = Callable[[], None]  # raises when the thing it checks is not usable
_pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="health")


def database_check(module: str) -> Check:
    def check() -> None:
        with engine(module).connect() as conn:
            conn.execute(text("SELECT 1"))

    return check


def dependency_status(dep: str, timeout: float = 1.0) -> str:
    import httpx  # deferred like the client itself (finflow.service_client)

    url = f"{settings().api_url.rstrip('/')}/api/{dep}/health?shallow=true"
    try:
        response = http().get(url, timeout=timeout)
        status = response.json().get("status") if response.status_code in (200, 503) else None
        return status if status in ("healthy", "degraded", "unhealthy") else "unreachable"
    except (httpx.HTTPError, ValueError):
        return "unreachable"


def add_health(
    app: APIGatewayRestResolver,
    module: str,
    checks: dict[str, Check] | None = None,
    extra_dependencies: Callable[[], dict[str, str]] | None = None,
) -> None:
    m = catalog.module(module)
    own: dict[str, Check] = dict(checks or {})
    if f"aurora:{module}" in m.stores:
        own.setdefault("database", database_check(module))

    def health():
        shallow = (app.current_event.get_query_string_value("shallow") or "").lower() == "true"
        failures = []
        for name, check in own.items():
            try:
                check()
            except Exception:
                failures.append(name)
        deps: dict[str, str] = {}
        if not shallow:
            futures = {catalog.module(d).service: _pool.submit(dependency_status, d) for d in m.calls}
            deps = {name: f.result() for name, f in futures.items()}
            deps.update(extra_dependencies() if extra_dependencies else {})
        status = "unhealthy" if failures else ("healthy" if all(v == "healthy" for v in deps.values()) else "degraded")
        body = {
            "status": status,
            "service": m.service,
            "dependencies": deps,
            # this container's breakers (per target it has called): open = failing fast
            "circuit_breakers": breaker_states(),
            "cascade_info": catalog.cascade_info(module),
        }
        if failures:
            body["failing"] = failures
        return json_response(body, 503 if failures else 200)

    # 503: one of the module's own stores is unusable (the body says which)
    responses = documented(200, None, public=True) | {503: {"description": "Unhealthy"}}
    summary = f"{m.service}'s health: its stores, its dependencies and its cascade"
    app.get("/health", responses=responses, operation_id=f"{module}_health_local", summary=summary)(health)
    app.get(m.health_path, responses=responses, operation_id=f"{module}_health", summary=summary)(health)
