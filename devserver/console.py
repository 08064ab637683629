"""The devserver's own routes under /_dev (served by its gateway on loopback, never by a module).

GET  /_dev/traces                      recent traces, newest first (?limit=)
GET  /_dev/traces/<trace-or-correlation-id>   the tree as JSON, or text with ?format=text
GET  /_dev/modules                     which modules are up, and their functions
POST /_dev/modules/<key>/down          take every function of a module down
POST /_dev/modules/<key>/up            bring it back
GET  /_dev/throttle                    the gateway's throttling {rate, burst}
PUT  /_dev/throttle {rate, burst}      change it (a full bucket), e.g. to see 429s at once
GET  /_dev/workers                     every function's live worker processes: pid, busy or idle
POST /_dev/postgres/restart            crash and restart the embedded PostgreSQL
POST /_dev/aws/down, /_dev/aws/up      stop the local AWS endpoint (moto; what it holds stays), start it
"""

from __future__ import annotations

import json
from collections.abc import Callable

from werkzeug.wrappers import Request, Response

from devserver import trace_formats, tracing
from devserver.gateway import problem
from devserver.throttle import TokenBucket
from devserver.workers import FunctionPool

# The API's authorizer is part of the gateway (it verifies tokens against the JWKS it has
# cached): taking the Auth module down leaves it running, as an Auth outage in AWS would.
EDGE_FUNCTIONS = {"auth.authorizer"}


class Console:
    def __init__(
        self,
        pools: dict[str, FunctionPool],
        module_keys: list[str],
        throttle: TokenBucket | None = None,
        faults: dict[str, Callable[[], dict]] | None = None,
    ):
        """faults: system-wide failures by route ("postgres/restart", "aws/down", ...), each
        answering what it did."""
        self.pools, self.module_keys, self.throttle = pools, module_keys, throttle
        self.faults = faults or {}

    def __call__(self, request: Request) -> Response:
        parts = [p for p in request.path.split("/") if p][1:]
        if parts[:1] == ["traces"] and request.method == "GET":
            if len(parts) == 1:
                return self.traces(request)
            if len(parts) == 2:
                return self.trace(parts[1], request.args.get("format", "json"))
        if parts[:1] == ["modules"]:
            if len(parts) == 1 and request.method == "GET":
                return _json({"modules": self.modules()})
            if len(parts) == 3 and parts[2] in ("down", "up"):
                if request.method != "POST":
                    return problem(405, "Method Not Allowed", f"use POST /_dev/modules/{parts[1]}/{parts[2]}")
                return self.switch(parts[1], parts[2] == "up")
        if parts == ["workers"] and request.method == "GET":
            return _json(
                {"functions": {p.name: {"deaths": p.deaths, "workers": p.workers()} for p in self.pools.values()}}
            )
        if "/".join(parts) in self.faults:
            if request.method != "POST":
                return problem(405, "Method Not Allowed", f"use POST {request.path}")
            return self.inject("/".join(parts))
        throttle = self.throttle
        if parts == ["throttle"] and throttle is not None and request.method in ("GET", "PUT"):
            return set_throttle(throttle, request) if request.method == "PUT" else _json(throttle.settings())
        return problem(404, "Not Found", f"no route for {request.method} {request.path}")

    # -- traces ---------------------------------------------------------------------------
    def traces(self, request: Request) -> Response:
        collector = tracing.active()
        if collector is None:
            return problem(503, "Service Unavailable", "tracing is off (OTEL_SDK_DISABLED=true)")
        limit = request.args.get("limit", "50")
        return _json({"traces": collector.recent(int(limit) if limit.isdigit() else 50)})

    def trace(self, key: str, fmt: str) -> Response:
        collector = tracing.active()
        if collector is None:
            return problem(503, "Service Unavailable", "tracing is off (OTEL_SDK_DISABLED=true)")
        trace_ids = collector.trace_ids_for(key)
        if not trace_ids:
            return problem(404, "Not Found", f"no trace or correlation id {key!r} among the recent traces")
        if fmt == "otlp":  # for Jaeger UI (trace_formats)
            return _json(trace_formats.otlp([d for tid in trace_ids for d in collector.docs(tid)]))
        tree = tracing.build_tree(trace_ids, collector)
        if fmt == "text":
            return Response(tracing.render(tree), content_type="text/plain; charset=utf-8")
        if fmt == "chrome":  # for Perfetto / chrome://tracing
            return _json(trace_formats.chrome(tree))
        return _json(tree)

    # -- failure injection ------------------------------------------------------------------
    def inject(self, fault: str) -> Response:
        try:
            done = self.faults[fault]()
        except Exception as exc:  # the devserver's own tooling: say why, keep serving
            return problem(500, "Internal Server Error", f"{fault} failed: {exc}")
        print(f"[chaos] {fault}: {done}", flush=True)
        return _json(done)

    def _functions(self, key: str) -> dict:
        return {
            name: pool
            for name, pool in self.pools.items()
            if name.split(".", 1)[0] == key and name not in EDGE_FUNCTIONS
        }

    def modules(self) -> dict:
        result = {}
        for key in self.module_keys:
            functions = self._functions(key)
            up = all(p.enabled for p in functions.values())
            result[key] = {"status": "up" if up else "down", "functions": sorted(functions)}
        return result

    def switch(self, key: str, up: bool) -> Response:
        if key not in self.module_keys:
            return problem(
                404, "Not Found", f"no module {key!r} in this build (modules: {', '.join(self.module_keys)})"
            )
        for pool in self._functions(key).values():
            pool.enabled = up
        state = "up" if up else "down"
        print(f"[chaos] {key} is {state}", flush=True)
        return _json({"module": key, **self.modules()[key]})


def set_throttle(throttle: TokenBucket, request: Request) -> Response:
    try:
        body = json.loads(request.get_data() or b"{}")
        throttle.reset(float(body["rate"]), int(body["burst"]))
    except (ValueError, TypeError, KeyError) as exc:
        return problem(422, "Unprocessable Content", f'send {{"rate": <per second, > 0>, "burst": <>= 1>}}: {exc}')
    print(f"[throttle] {throttle.settings()}", flush=True)
    return _json(throttle.settings())


def _json(body: dict) -> Response:
    return Response(json.dumps(body, indent=1), content_type="application/json")
