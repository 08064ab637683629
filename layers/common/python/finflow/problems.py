"""The errors a client can act on and the principal a call is made as, with the role checks.

Apart from finflow.http (which re-exports them and renders a Problem as problem+json) so that
a module's logic, which its consumers and sweepers import too, loads no HTTP framework: Powertools'
event handler is ~25 ms of every such cold start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Problem(Exception):
    """An error a client can act on; rendered as RFC 9457 problem+json."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ):
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}
        self.extensions = extensions or {}  # RFC 9457 extension members a caller acts on
        self.title = title or TITLES.get(status, "Error")
        self.code = code or self.title.lower().replace(" ", "-")


RETRY_AFTER_SECONDS = 5  # what a 503 asks a client to wait: a restart, failover or open breaker's window


def unavailable(detail: str) -> Problem:
    """503 with Retry-After: something this call needs did not answer; a retry (with the same
    Idempotency-Key for money) is safe."""
    return Problem(503, detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


# --- the principal the Lambda authorizer passed on (finflow.http.principal reads it) ----


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    kind: str  # "user" or "service"

    @property
    def is_service(self) -> bool:
        return self.kind == "service"

    @property
    def is_admin(self) -> bool:
        return self.kind == "user" and "admin" in self.roles

    def has_role(self, *roles: str) -> bool:
        return self.is_admin or bool(self.roles.intersection(roles))

    def is_service_of(self, *modules: str) -> bool:
        return self.is_service and any(f"svc:{m}" in self.roles for m in modules)


def require_role(p: Principal, *roles: str) -> None:
    if not p.has_role(*roles):
        raise Problem(403, f"this action requires one of the roles: {', '.join(roles)}")


def require_user(p: Principal) -> None:
    if p.is_service:
        raise Problem(403, "this route is for users; service tokens are not accepted")


def require_service(p: Principal, *modules: str) -> None:
    if not p.is_service_of(*modules):
        raise Problem(403, f"this route is only for the service(s): {', '.join(modules)}")
