"""The module graph: the one source of truth for FinFlow's modules.

CDK stacks, the devserver, `/health` (`cascade_info`) and the cascade tooling read the
graph from here; none of them repeats it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

EVENT_BUS = "finflow"


@dataclass(frozen=True)
class Subscription:
    """Events of one producer that one consumer module receives (rule -> SQS -> consumer).

    `feedback` marks events flowing back to a module deployed in the same or an earlier
    wave (KYC's decision reaching Auth). Such a subscription does not order deployment:
    the consumer's queue simply starts filling once the producer is deployed.
    """

    producer: str
    detail_types: tuple[str, ...]
    feedback: bool = False


@dataclass(frozen=True)
class Function:
    name: str
    handler: str  # dotted path "package.module.callable"
    kind: str  # api | authorizer | consumer | schedule
    schedule_minutes: int | None = None


@dataclass(frozen=True)
class Module:
    key: str
    letter: str
    name: str
    port: int
    route_prefixes: tuple[str, ...]
    calls: tuple[str, ...]  # synchronous dependencies (service client)
    subscriptions: tuple[Subscription, ...]
    emits: tuple[str, ...]
    stores: tuple[str, ...]
    cascaded_validations: tuple[str, ...] = ()
    # routes reachable without a token (the gateway skips the authorizer for them)
    public_routes: tuple[tuple[str, str], ...] = ()
    extra_functions: tuple[Function, ...] = field(default=())

    @property
    def service(self) -> str:
        return f"{self.key}-service"

    @property
    def source(self) -> str:
        return f"finflow.{self.key}"

    @property
    def health_path(self) -> str:
        return f"/api/{self.key}/health"

    @property
    def functions(self) -> tuple[Function, ...]:
        fns = [Function("api", f"functions.{self.key}.api.handler", "api")]
        if self.subscriptions:
            fns.append(Function("events", f"functions.{self.key}.events.handler", "consumer"))
        if self.emits:
            fns.append(Function("outbox-sweeper", f"functions.{self.key}.sweeper.handler", "schedule", 1))
        return tuple(fns) + self.extra_functions


_DOCS = (("GET", "/api/{key}/docs"),)  # Swagger UI; the OpenAPI JSON is docs?format=json

MODULES: tuple[Module, ...] = (
    Module(
        key="auth",
        letter="A",
        name="User Authentication",
        port=8001,
        route_prefixes=("/api/auth",),
        calls=(),
        subscriptions=(Subscription("kyc", ("KycDecisionMade",), feedback=True),),
        emits=("UserRegistered", "UserKycStatusChanged", "UserRolesChanged", "UserErased", "UserExportRequested"),
        stores=("aurora:auth",),
        cascaded_validations=("token validation",),
        public_routes=(
            ("POST", "/api/auth/register"),
            ("POST", "/api/auth/login"),
            ("POST", "/api/auth/refresh"),
            ("POST", "/api/auth/token"),
            ("GET", "/api/auth/.well-known/jwks.json"),
        ),
        extra_functions=(Function("authorizer", "functions.auth.authorizer.handler", "authorizer"),),
    ),
    Module(
        key="wallet",
        letter="B",
        name="Wallet",
        port=8002,
        route_prefixes=("/api/wallet", "/api/v1/wallet", "/api/v2/wallet"),
        calls=("auth",),
        # Compliance freezes arrive through Wallet's API (immediate and attributed), not as events.
        # UserExportRequested: every module holding data about a user writes its part of their export
        subscriptions=(Subscription("auth", ("UserKycStatusChanged", "UserExportRequested")),),
        emits=("WalletCreated", "WalletStatusChanged"),
        stores=("aurora:wallet",),
        cascaded_validations=("KYC check", "token validation"),
    ),
    Module(
        key="payment",
        letter="C",
        name="Payment Processing",
        port=8003,
        route_prefixes=("/api/payment",),
        calls=("wallet", "auth"),
        # the replicas a payment is checked against (one synchronous call per payment: the posting)
        subscriptions=(
            Subscription("auth", ("UserKycStatusChanged", "UserExportRequested")),
            Subscription("wallet", ("WalletCreated", "WalletStatusChanged")),
        ),
        emits=("PaymentCompleted", "PaymentFailed"),
        stores=("aurora:payment",),
        cascaded_validations=("KYC check", "token validation", "wallet status"),
        # resolves payments left pending when Wallet did not answer a posting in time
        extra_functions=(Function("reconciler", "functions.payment.reconciler.handler", "schedule", 1),),
    ),
    Module(
        key="notification",
        letter="D",
        name="Notification",
        port=8004,
        route_prefixes=("/api/notifications",),
        calls=("auth",),
        subscriptions=(
            # UserRolesChanged: who the compliance officers are, for AML alerts
            Subscription(
                "auth",
                ("UserRegistered", "UserKycStatusChanged", "UserRolesChanged", "UserErased", "UserExportRequested"),
            ),
            Subscription("wallet", ("WalletCreated", "WalletStatusChanged")),
            Subscription("payment", ("PaymentCompleted",)),
            Subscription("kyc", ("AmlAlertRaised",), feedback=True),
        ),
        emits=(),
        stores=("documentdb:notifications",),
        cascaded_validations=("token validation", "contact details"),
        extra_functions=(Function("kyc-reminder", "functions.notification.reminders.handler", "schedule", 1440),),
    ),
    Module(
        key="kyc",
        letter="E",
        name="KYC/AML Compliance",
        port=8005,
        route_prefixes=("/api/kyc", "/api/aml"),
        # AML freezes (and lifts) wallets through Wallet's API, and reads a wallet's age from it
        calls=("wallet", "auth"),
        # UserErased: identity documents are deleted, the decision and AML records kept
        subscriptions=(
            Subscription("payment", ("PaymentCompleted",)),
            Subscription("auth", ("UserErased", "UserExportRequested")),
        ),
        emits=("KycSubmitted", "KycDecisionMade", "AmlAlertRaised"),
        stores=("aurora:kyc", "s3:kyc-documents"),
        cascaded_validations=("token validation", "wallet status"),
    ),
    Module(
        key="reporting",
        letter="F",
        name="Reporting & Analytics",
        port=8006,
        route_prefixes=("/api/reports",),
        calls=(),
        subscriptions=(
            Subscription("auth", ("UserRegistered", "UserKycStatusChanged", "UserErased")),
            Subscription("wallet", ("WalletCreated", "WalletStatusChanged")),
            Subscription("payment", ("PaymentCompleted", "PaymentFailed")),
            Subscription("kyc", ("KycSubmitted", "KycDecisionMade", "AmlAlertRaised")),
        ),
        emits=(),
        stores=("aurora:reporting", "opensearch:payments"),
        cascaded_validations=("KYC status", "wallet balances", "payment currency"),
    ),
)

BY_KEY: dict[str, Module] = {m.key: m for m in MODULES}
GATEWAY_PORT = 8000


@dataclass(frozen=True)
class Throttle:
    """API Gateway's stage throttling: a token bucket refilled at `rate` requests per second
    holding at most `burst`. Stage-wide (every client together), as API Gateway applies it."""

    rate: float
    burst: int


# The deployed stage's limits (CDK) and the devserver's gateway emulating them.
API_THROTTLE = Throttle(rate=100.0, burst=200)


def module(key: str) -> Module:
    return BY_KEY[key]


def public_routes(m: Module) -> tuple[tuple[str, str], ...]:
    """Routes served without a token: the module's own list, plus health and docs."""
    common = (("GET", m.health_path), ("GET", "/health")) + tuple(
        (method, path.format(key=m.key)) for method, path in _DOCS
    )
    return m.public_routes + common


def module_for_path(path: str) -> Module | None:
    """The module whose route prefix (or health path) owns `path`, longest prefix first."""
    best: tuple[int, Module] | None = None
    for m in MODULES:
        for prefix in m.route_prefixes + (f"/api/{m.key}",):
            if path == prefix or path.startswith(prefix + "/"):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), m)
    return best[1] if best else None


def transitive_calls(key: str) -> tuple[str, ...]:
    """Every module `key` depends on synchronously, nearest first, no repeats."""
    seen: list[str] = []
    frontier = list(BY_KEY[key].calls)
    while frontier:
        nxt: list[str] = []
        for dep in frontier:
            if dep not in seen:
                seen.append(dep)
                nxt.extend(BY_KEY[dep].calls)
        frontier = nxt
    return tuple(seen)


def dependents(key: str, feedback: bool = True) -> dict[str, set[str]]:
    """Modules that read `key` directly: {module: kinds}, "sync" (it calls `key`) and "async"
    (it consumes `key`'s events; feedback subscriptions too unless `feedback` is False)."""
    found: dict[str, set[str]] = {}
    for m in MODULES:
        if key in m.calls:
            found.setdefault(m.key, set()).add("sync")
        if any(s.producer == key and (feedback or not s.feedback) for s in m.subscriptions):
            found.setdefault(m.key, set()).add("async")
    return found


def deploy_dependencies(key: str) -> tuple[str, ...]:
    """Modules that must be deployed before `key`: sync calls plus non-feedback producers."""
    m = BY_KEY[key]
    deps = list(m.calls) + [s.producer for s in m.subscriptions if not s.feedback]
    return tuple(dict.fromkeys(deps))


@cache
def deploy_waves() -> tuple[tuple[str, ...], ...]:
    """Modules grouped in waves: each wave depends only on earlier ones. Raises on a cycle."""
    remaining = {m.key: set(deploy_dependencies(m.key)) for m in MODULES}
    done: set[str] = set()
    waves: list[tuple[str, ...]] = []
    while remaining:
        ready = tuple(k for k in BY_KEY if k in remaining and remaining[k] <= done)
        if not ready:
            raise ValueError(f"dependency cycle among {sorted(remaining)}")
        waves.append(ready)
        done.update(ready)
        for k in ready:
            del remaining[k]
    return tuple(waves)


def subscribers(producer: str, detail_type: str) -> tuple[str, ...]:
    return tuple(
        m.key for m in MODULES for s in m.subscriptions if s.producer == producer and detail_type in s.detail_types
    )


def export_parts() -> tuple[str, ...]:
    """The modules that write a part of a user's data export: Auth, which takes the request,
    and every consumer of its UserExportRequested."""
    return ("auth", *subscribers("auth", "UserExportRequested"))


def cascade_info(key: str) -> dict:
    """The `/health` cascade block: what this module depends on, directly and through others."""
    m = BY_KEY[key]
    # reached through another dependency, even when also called directly (Payment -> Wallet -> Auth)
    indirect = [d for d in transitive_calls(key) if any(d in transitive_calls(c) for c in m.calls)]
    via = {d: [c for c in m.calls if d in transitive_calls(c)] for d in indirect}
    return {
        "direct_dependency": ", ".join(BY_KEY[d].service for d in m.calls) or "none",
        "indirect_dependency": ", ".join(
            f"{BY_KEY[d].service} (via {', '.join(BY_KEY[v].service for v in via[d])})" for d in indirect
        )
        or "none",
        "event_sources": sorted({BY_KEY[s.producer].service for s in m.subscriptions}),
        "cascaded_validations": list(m.cascaded_validations),
    }
