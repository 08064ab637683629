"""The gateway with every function invoked in this process (api tests).

Same routing, public routes and authorizer as `make dev`, without worker processes: a
test drives one module through httpx and the module's own calls to other modules go
through the same gateway (finflow.service_client.route_all_http_through).

One invocation at a time: Powertools keeps the current request in state shared by every
resolver of a process, so a function that fans out calls in parallel threads must run them
inline here (tests do); the devserver runs each function in its own processes instead.
"""

from __future__ import annotations

import importlib
import traceback

import httpx

from devserver.gateway import Gateway
from devserver.lambda_runtime import LambdaContext
from devserver.system import built_modules
from devserver.workers import InvocationError


class InProcessFunction:
    def __init__(self, name: str, handler_path: str):
        self.name, self.handler_path = name, handler_path
        self.enabled = True

    def invoke(self, event: dict, timeout: float = 30.0, trace: str | None = None):
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


def transport(gw: Gateway | None = None) -> httpx.WSGITransport:
    return httpx.WSGITransport(app=gw or gateway())
