"""The gateway with every function invoked in this process (api tests).

Same routing, public routes and authorizer as `make dev`, without worker processes: a
test drives the modules through httpx (`transport()`), and the modules' own calls to each
other take the private path as they do everywhere (finflow.private_invoke), here invoking
the callee's function in this process (finflow.service_client.route_all_http_through).

A test's own request to an internal path (`/api/wallet/internal/...`) is invoked directly
too, as by a caller holding the invoke permission: the gateway routes none of them.

One invocation at a time: Powertools keeps the current request in state shared by every
resolver of a process, so a function that fans out calls in parallel threads must run them
inline here (tests do); the devserver runs each function in its own processes instead.
"""

from __future__ import annotations

import importlib
import json
import traceback
from typing import Any

import httpx

from devserver.gateway import Gateway
from devserver.lambda_runtime import LambdaContext
from devserver.system import built_modules
from devserver.workers import InvocationError
from finflow.contracts import calls
from finflow.private_invoke import InvokeRefused, LambdaInvoke, callee_of, url
from functions import catalog


class InProcessFunction:
    def __init__(self, name: str, handler_path: str):
        self.name, self.handler_path = name, handler_path
        self.enabled = True

    def invoke(self, event: dict, timeout: float = 30.0, trace: str | None = None) -> Any:
        if not self.enabled:
            raise InvocationError(f"{self.name} is down")
        module_name, _, attr = self.handler_path.rpartition(".")
        handler = getattr(importlib.import_module(module_name), attr)
        try:
            return handler(event, LambdaContext(self.name))
        except Exception as exc:
            raise InvocationError(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}") from exc


def gateway() -> Gateway:
    pools = {
        f"{m.key}.{fn.name}": InProcessFunction(f"{m.key}-{fn.name}", fn.handler)
        for m in built_modules()
        for fn in m.functions
        if fn.kind in ("api", "authorizer")
    }
    return Gateway(pools)


class Modules(httpx.BaseTransport):
    """Public paths through the gateway; private calls and internal paths straight to the
    owning module's API function, answered as Lambda Invoke would answer them."""

    def __init__(self, gw: Gateway):
        self.gw = gw
        self.public = httpx.WSGITransport(app=gw)
        self.private = LambdaInvoke(self._invoke)

    def _invoke(self, callee: str, event: bytes, timeout: float) -> tuple[bytes, str | None]:
        function = self.gw.pools.get(f"{callee}.api")
        if function is None:
            raise InvokeRefused(f"{callee}-api: Function not found")
        try:
            return json.dumps(function.invoke(json.loads(event), timeout)).encode(), None
        except InvocationError as exc:
            return json.dumps({"errorMessage": str(exc).splitlines()[0]}).encode(), "Unhandled"

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if callee_of(request) is not None:
            return self.private.handle_request(request)
        module = catalog.module_for_path(request.url.path)
        if module is not None and calls.is_internal(request.url.path):
            request.read()
            direct = httpx.Request(
                request.method,
                httpx.URL(url(module.key)).copy_with(raw_path=request.url.raw_path),
                headers=request.headers,
                content=request.content,
                extensions=request.extensions,
            )
            return self.private.handle_request(direct)
        return self.public.handle_request(request)


def transport(gw: Gateway | None = None) -> Modules:
    return Modules(gw or gateway())
