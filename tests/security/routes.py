"""Every operation of every module, read from the module's own OpenAPI document, and who
may call it.

The operations come from `app.get_openapi_schema()`, never from a hand-written list. Who
may call one is decided by a few path rules (internal routes are for services, reports for
analysts, ...); any other protected route with a path parameter is an owner's resource and
must name a parameter the security tests know how to fill with someone's real resource.
A route that fits nowhere fails `test_every_operation_is_classified`.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from functools import cache

from functions import catalog

METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class Operation:
    module: str
    method: str  # upper case
    template: str  # "/api/wallet/{wallet_id}"
    path_params: tuple[str, ...]
    query_params: tuple[tuple[str, bool], ...]  # (name, required)
    has_body: bool

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def public(self) -> bool:
        m = catalog.module(self.module)
        return (self.method, self.template) in catalog.public_routes(m)

    def path(self, ids: dict[str, str]) -> str:
        return re.sub(r"\{(\w+)\}", lambda g: ids[g.group(1)], self.template)

    def __str__(self) -> str:
        return self.key


@dataclass(frozen=True)
class Audience:
    """Who may call an operation. kind: user (the caller's own data, no id in the path),
    owner (a resource named in the path), role (one of `names`) or service (`names`)."""

    kind: str
    names: tuple[str, ...] = ()


def Role(*names: str) -> Audience:
    return Audience("role", names)


def Service(*modules: str) -> Audience:
    return Audience("service", modules)


# First match wins; matched against "METHOD /template".
RULES: tuple[tuple[str, Audience], ...] = (
    (r"^GET /api/wallet/internal/wallets/", Service("kyc")),
    (r"^\w+ /api/wallet/internal/", Service("payment")),
    (r"^PUT /api/auth/users/\{user_id\}/roles$", Role("admin")),
    (r"^POST /api/auth/users/\{user_id\}/erasure$", Role("admin")),
    (r"^POST /api/kyc/submissions/\{submission_id\}/decision$", Role("compliance")),
    (r"^GET /api/kyc/submissions$", Role("compliance")),
    (r"^\w+ /api/aml/", Role("compliance")),
    (r"^GET /api/reports/aml$", Role("analyst", "compliance")),
    (r"^\w+ /api/reports/", Role("analyst")),
)

# Path parameters naming a resource someone owns: the security tests' world has one of each.
RESOURCE_PARAMS = (
    "user_id",
    "wallet_id",
    "payment_id",
    "notification_id",
    "submission_id",
    "alert_id",
    "posting_id",
    "export_id",
)


# Operations whose positive control would destroy the world's owner: it runs on a
# throwaway resource instead (tests/security/world.py: throwaway_ids).
DESTRUCTIVE = (r"/erasure$",)


def destructive(op: Operation) -> bool:
    return any(re.search(pattern, op.key) for pattern in DESTRUCTIVE)


def audience(op: Operation) -> Audience:
    for pattern, who in RULES:
        if re.search(pattern, op.key):
            return who
    return Audience("owner") if op.path_params else Audience("user")


@cache
def operations() -> tuple[Operation, ...]:
    """Every operation of every built module's OpenAPI document, public ones included."""
    from devserver.system import built_modules

    found: list[Operation] = []
    for m in built_modules():
        schema = importlib.import_module(f"functions.{m.key}.api").app.get_openapi_schema()
        for template, item in schema.paths.items():
            ops = item.model_dump(exclude_none=True, by_alias=True)
            for method in METHODS:
                op = ops.get(method)
                if op is None:
                    continue
                params = [
                    (p["name"], str(getattr(p["in"], "value", p["in"])), bool(p.get("required")))
                    for p in op.get("parameters", [])
                ]
                found.append(
                    Operation(
                        module=m.key,
                        method=method.upper(),
                        template=template,
                        path_params=tuple(n for n, where, _ in params if where == "path"),
                        query_params=tuple((n, req) for n, where, req in params if where == "query"),
                        has_body="requestBody" in op,
                    )
                )
    return tuple(found)


def protected() -> tuple[Operation, ...]:
    return tuple(op for op in operations() if not op.public)


def by_audience(kind: str) -> tuple[Operation, ...]:
    return tuple(op for op in protected() if audience(op).kind == kind)


def with_param(name: str) -> tuple[Operation, ...]:
    return tuple(op for op in operations() if name in dict(op.query_params))
