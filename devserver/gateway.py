"""The local API Gateway: HTTP -> authorizer -> proxy event -> module function -> HTTP.

Served by Werkzeug. Routing, public routes and the authorizer come from the catalog,
the same rules CDK deploys. Like the deployed stage, it routes no internal path
(finflow.contracts.calls.is_internal): modules reach those by invoking each other's
functions (devserver.lambda_api), never through here.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Mapping

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from devserver import public_docs, tracing
from devserver.lambda_runtime import proxy_event, token_authorizer_event
from devserver.throttle import TokenBucket
from devserver.workers import Invocable, InvocationError
from finflow.contracts import calls
from functions import catalog

MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway's own request limit


def problem(status: int, title: str, detail: str, headers: dict | None = None) -> Response:
    body = {
        "type": f"https://finflow.dev/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    return Response(json.dumps(body), status=status, content_type="application/problem+json", headers=headers)


class Gateway:
    def __init__(
        self,
        pools: Mapping[str, Invocable],
        only: str | None = None,
        system_health: Callable[[], dict] | None = None,
        console: Callable[[Request], Response] | None = None,
        throttle: TokenBucket | None = None,
    ):
        """pools: keyed "<module>.<function>"; only: serve one module (its seed port);
        console: the devserver's own /_dev routes (traces, failure injection);
        throttle: the stage's token bucket, shared by every port of the API (None: unlimited)."""
        self.pools, self.only, self.system_health, self.console = pools, only, system_health, console
        self.throttle = throttle

    def __call__(self, environ, start_response):
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        if request.path == "/_dev" or request.path.startswith("/_dev/"):
            # the devserver's own routes: never a module's, and only for this machine
            if self.console is None or request.remote_addr not in ("127.0.0.1", "::1"):
                return problem(404, "Not Found", f"no route for {request.method} {request.path}")
            return self.console(request)
        if public_docs.answers(request) and (self.only is None or request.method == "OPTIONS"):
            return public_docs.respond(request)  # the combined OpenAPI document, its Swagger UI, CORS preflights
        # API Gateway throttles before the authorizer or the integration runs
        wait = self.throttle.take() if self.throttle is not None else None
        if wait is not None:
            return problem(429, "Too Many Requests", "Too many requests", {"Retry-After": str(wait)})
        return self._traced(request)

    def _traced(self, request: Request) -> Response:
        """API Gateway with active tracing: continue the caller's trace or start one, write
        the stage's segment, and hand the function `Root=...;Parent=<this segment>`."""
        incoming = tracing.parse(request.headers.get(tracing.HEADER))
        if incoming.get("Sampled") == "0" or not tracing.enabled():
            return self._route(request, request.headers.get(tracing.HEADER))
        root, segment_id, started = incoming.get("Root") or tracing.new_root(), tracing.new_id(), time.time()
        notes: dict = {}
        response = self._route(request, tracing.header(root, segment_id), notes)
        caller = tracing.header(root, incoming.get("Parent")) if incoming.get("Parent") else tracing.header(root, None)
        tracing.segment(
            f"gateway {self.only or 'api'}",
            caller,
            segment_id,
            started,
            time.time(),
            origin="AWS::ApiGateway::Stage",
            fault=response.status_code >= 500,
            error=400 <= response.status_code < 500,
            http={
                "request": {"method": request.method, "url": request.path},
                "response": {"status": response.status_code},
            },
            annotations={k: v for k, v in notes.items() if v},
        )
        response.headers[tracing.HEADER] = f"Root={root}"
        return response

    def _route(self, request: Request, trace: str | None, notes: dict | None = None) -> Response:
        notes = {} if notes is None else notes
        notes["correlation_id"] = request.headers.get("X-Correlation-Id")
        path = request.path
        if self.only and path == "/health":
            path = catalog.module(self.only).health_path
        elif path == "/health" and self.system_health:
            return Response(json.dumps(self.system_health()), content_type="application/json")
        module = catalog.module_for_path(path)
        if module is None or (self.only and module.key != self.only) or calls.is_internal(path):
            return problem(404, "Not Found", f"no route for {request.method} {request.path}")
        api = self.pools.get(f"{module.key}.api")
        if api is None:
            return problem(503, "Service Unavailable", f"{module.service} is not part of this build")
        if (request.content_length or 0) > MAX_PAYLOAD:
            return problem(413, "Payload Too Large", "request body exceeds the gateway's 10 MB limit")
        authorizer = None
        if (request.method, path) not in catalog.public_routes(module):
            authorizer, refusal = self._authorize(request, path, trace)
            if refusal:
                return refusal
        headers = dict(request.headers)
        if trace:
            headers = {k: v for k, v in headers.items() if k.lower() != "x-amzn-trace-id"} | {tracing.HEADER: trace}
        event = proxy_event(
            request.method,
            path,
            body=request.get_data(),
            headers=headers,
            query={k: request.args.getlist(k) for k in request.args},
            authorizer=authorizer,
            source_ip=request.remote_addr or "127.0.0.1",
        )
        # what the function takes as correlation id when the caller sent none
        notes["correlation_id"] = notes["correlation_id"] or event["requestContext"]["requestId"]
        try:
            result = api.invoke(event, trace=trace)
        except InvocationError as exc:
            # What API Gateway answers when the integration fails: no internals leak out.
            print(f"[gateway] {module.key}.api failed: {str(exc).splitlines()[0]}", flush=True)
            return problem(502, "Bad Gateway", f"{module.service} failed to handle the request")
        return self._response(result)

    def _authorize(self, request: Request, path: str, trace: str | None) -> tuple[dict | None, Response | None]:
        header = request.headers.get("Authorization", "")
        unauthorized = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        if not header:
            return None, problem(401, "Unauthorized", "missing bearer token", unauthorized)
        try:
            policy = self.pools["auth.authorizer"].invoke(
                token_authorizer_event(header, request.method, path), trace=trace
            )
        except InvocationError as exc:
            print(f"[gateway] auth.authorizer failed: {str(exc).splitlines()[0]}", flush=True)
            return None, problem(500, "Internal Server Error", "authorizer failed")
        statement = policy["policyDocument"]["Statement"][0]
        if statement["Effect"] != "Allow":
            reason = (policy.get("context") or {}).get("reason", "token refused")
            return None, problem(401, "Unauthorized", reason, unauthorized)
        return {"principalId": policy["principalId"], **(policy.get("context") or {})}, None

    @staticmethod
    def _response(result: dict) -> Response:
        body = result.get("body") or ""
        data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        headers = Headers()
        for name, values in (result.get("multiValueHeaders") or {}).items():
            for value in values:
                headers.add(name, value)
        for name, value in (result.get("headers") or {}).items():
            headers.set(name, value)
        return Response(data, status=int(result.get("statusCode", 200)), headers=headers)
