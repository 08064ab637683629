"""Outbound client for module-to-module calls: timeouts, retries, circuit breaker.

httpx carries the request, tenacity the retries, pybreaker the breaker; this file only
decides what counts as retryable and what counts as the target being down. A call to
another module never goes through the public stage: its transport invokes the callee's API
function directly (finflow.private_invoke), and only calls the table declares are sent
(finflow.contracts.calls). httpx and tenacity are imported when the first client is built
(~40 ms of a cold start with httpx's own imports): most invocations never call another module.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, Any

import pybreaker
from cachetools import TLRUCache

from finflow import tracing
from functions import catalog

if TYPE_CHECKING:
    import httpx

# Set once per incoming request (see set_request_context) so every outbound call carries the
# caller's correlation id without threading it through each function; the trace context is
# OpenTelemetry's own (finflow.tracing).
correlation_id: ContextVar[str | None] = ContextVar("finflow_correlation_id", default=None)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Gateway/overload answers: the request most likely never ran, so a retry is safe.
RETRY_STATUSES = frozenset({502, 503, 504})


def set_request_context(correlation: str | None) -> None:
    correlation_id.set(correlation)


class ServiceUnavailable(Exception):
    """The target could not give an answer: network error, timeout, 5xx or open breaker.
    `sent` is False when no attempt was made at all (open breaker, no service token): a caller
    may then treat the call as never made."""

    def __init__(self, target: str, reason: str, *, sent: bool = True) -> None:
        super().__init__(f"{target} unavailable: {reason}")
        self.target = target
        self.reason = reason
        self.sent = sent


class UndeclaredCall(Exception):
    """A module called another with a route finflow.contracts.calls does not declare: a bug."""


class ServiceError(Exception):
    """The target answered with a client error (4xx); `detail` is its explanation."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


class _BadStatus(Exception):
    """Internal: a 5xx response, raised so tenacity can retry it and pybreaker count it."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


class _Retryable(_BadStatus):
    pass


class _OneTrial(pybreaker.CircuitBreakerListener):
    """pybreaker lets every call through while half-open (breaker.call() used to queue
    them behind its lock); admit one trial call and fail the others fast meanwhile."""

    in_flight = False

    def before_call(self, cb: Any, func: Any, *args: Any, **kwargs: Any) -> None:
        if cb.current_state == pybreaker.STATE_HALF_OPEN:  # runs under the breaker's lock
            if self.in_flight:
                raise pybreaker.CircuitBreakerError("trial call in flight")
            self.in_flight = True

    def state_change(self, *_: Any) -> None:
        self.in_flight = False  # the trial closed or reopened the breaker


class ServiceClient:
    def __init__(
        self,
        target: str,
        base_url: str,
        *,
        timeout: float = 2.0,
        retries: int = 3,
        fail_max: int = 5,
        reset_timeout: float | None = None,
        backoff_max: float = 0.5,
        token_provider: Callable[[], str] | None = None,
        transport: httpx.BaseTransport | None = None,
        calls_as: tuple[str, str] | None = None,
    ) -> None:
        """calls_as: (caller, callee) modules: the private path, only for the routes declared."""
        import httpx  # deferred to the first client: see the module docstring

        if reset_timeout is None:
            from finflow.config import settings  # SERVICE_BREAKER_RESET_SECONDS, 30 s by default

            reset_timeout = settings().service_breaker_reset_seconds
        self.target = target
        self.retries = retries  # extra attempts after the first; 0 disables retrying
        self.backoff_max = backoff_max
        self._token_provider = token_provider
        self.calls_as = calls_as
        transport = transport or _transport_override
        if calls_as is not None and transport is None:
            from finflow.private_invoke import LambdaInvoke

            transport = LambdaInvoke()
        # One long-lived httpx.Client keeps connections open across warm invocations.
        self._http = httpx.Client(
            base_url=base_url, timeout=timeout, verify=True if transport else _tls(), transport=transport
        )
        # Only outages count against the breaker; a caller bug (bad URL, unserialisable
        # body) must not take a healthy target out of service. throw_new_error_on_trip
        # is off so the tripping call reports its real cause, not "circuit open".
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=fail_max,
            reset_timeout=reset_timeout,
            name=target,
            listeners=[_OneTrial()],
            exclude=[lambda exc: not isinstance(exc, (httpx.TransportError, _BadStatus))],
            throw_new_error_on_trip=False,
        )
        # Each entry expires after the ttl given with it; maxsize bounds Lambda memory.
        self._cache: TLRUCache = TLRUCache(maxsize=256, ttu=lambda _k, v, now: now + v[1])
        self._cache_lock = threading.Lock()

    @property
    def state(self) -> str:
        return self._breaker.current_state

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers: dict[str, str] = {}
        if (cid := correlation_id.get()) is not None:
            headers["X-Correlation-Id"] = cid
        tracing.inject(headers)  # traceparent, X-Amzn-Trace-Id: the call's span is the callee's parent
        if self._token_provider is not None:
            headers["Authorization"] = f"Bearer {self._token_provider()}"
        headers.update(extra or {})
        return headers

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one logical request, in its own span. 2xx-4xx responses are returned; outages raise."""
        method, route = method.upper(), path.partition("?")[0]
        attributes = {"http.request.method": method, "url.path": route, "server.address": self.target}
        with tracing.span(f"{self.target} {method} {route}", kind="client", attributes=attributes):
            try:
                response = self._request(method, path, json=json, headers=headers, idempotent=idempotent)
            except ServiceUnavailable as exc:
                tracing.mark_failed(exc.reason)
                raise
            tracing.set_attribute("http.response.status_code", response.status_code)
            return response

    def _request(
        self, method: str, path: str, *, json: Any, headers: dict[str, str] | None, idempotent: bool | None
    ) -> httpx.Response:
        import httpx  # loaded already by __init__; bound here for the except clauses below
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

        method = method.upper()
        if self.calls_as is not None:
            from finflow.contracts import calls  # the contracts load with the first call, not at import

            caller, callee = self.calls_as
            route = httpx.URL(path).path
            if calls.declared(caller, callee, method, route) is None:
                raise UndeclaredCall(f"{caller} -> {callee} {method} {route} is not in finflow/contracts/calls.py")
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        sent_headers = self._headers(headers)

        def attempt() -> httpx.Response:
            response = self._http.request(method, path, json=json, headers=sent_headers)
            if response.status_code in RETRY_STATUSES:
                raise _Retryable(response)
            if response.status_code >= 500:
                raise _BadStatus(response)  # e.g. 500: likely a bug there, retrying won't help
            return response

        # A POST that timed out may still have been applied: retrying could pay twice.
        retrying = Retrying(
            stop=stop_after_attempt(1 + (self.retries if idempotent else 0)),
            wait=wait_random_exponential(multiplier=0.05, max=self.backoff_max),
            retry=retry_if_exception_type((httpx.TransportError, _Retryable)),
            reraise=True,
        )
        try:
            # One breaker failure per logical call, counted after retries gave up. Not
            # breaker.call(): it holds the breaker's lock during the call, serialising all
            # requests; calling() holds it only while admitting the call.
            with self._breaker.calling():
                return retrying(attempt)
        except pybreaker.CircuitBreakerError:
            raise ServiceUnavailable(self.target, "circuit open", sent=False) from None
        except httpx.TimeoutException as exc:
            raise ServiceUnavailable(self.target, f"timeout ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise ServiceUnavailable(self.target, f"connection failed ({type(exc).__name__})") from exc
        except _BadStatus as exc:
            raise ServiceUnavailable(self.target, f"HTTP {exc.response.status_code}") from exc

    def get_json(self, path: str, *, cache_ttl: float = 300.0) -> tuple[dict | list, bool]:
        """GET a JSON body; returns (body, stale). Stale means the target is down and
        this is the last good body seen within cache_ttl; read paths may prefer that
        to an error, money-moving paths should not call this."""
        try:
            response = self.request("GET", path)
        except ServiceUnavailable:
            with self._cache_lock:
                cached = self._cache.get(path)
            if cached is None:
                raise
            return copy.deepcopy(cached[0]), True
        if not response.is_success:
            raise ServiceError(response.status_code, _problem_detail(response))
        try:
            body = response.json()
        except ValueError:
            raise ServiceError(response.status_code, "response body is not valid JSON") from None
        with self._cache_lock:
            # Copy so a caller mutating its result cannot alter a later stale answer.
            self._cache[path] = (copy.deepcopy(body), cache_ttl)
        return body, False

    def close(self) -> None:
        self._http.close()


def _problem_detail(response: httpx.Response) -> str:
    # RFC 9457 problem+json puts the human explanation in `detail` (else `title`).
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("detail", "title"):
            if isinstance(body.get(key), str):
                return body[key]
    return response.reason_phrase or f"HTTP {response.status_code}"


@cache
def _tls():
    """One TLS context for every client of the process, as httpx would build it (certifi's CA
    bundle, or SSL_CERT_FILE / SSL_CERT_DIR): httpx builds one per client otherwise, ~30 ms each."""
    import httpx

    return httpx.create_ssl_context()


# Tests route every outbound call through an in-process gateway (httpx.WSGITransport).
_transport_override: httpx.BaseTransport | None = None
_plain: httpx.Client | None = None


def route_all_http_through(transport: httpx.BaseTransport | None) -> None:
    global _transport_override, _plain
    _transport_override, _plain = transport, None
    reset_clients()


def http() -> httpx.Client:
    """A plain shared client for one-off calls (JWKS, health probes, service tokens)."""
    global _plain
    if _plain is None:
        import httpx  # deferred: see the module docstring

        _plain = httpx.Client(verify=_tls(), transport=_transport_override)
    return _plain


# Module-level so breakers and caches survive across warm Lambda invocations.
_clients: dict[tuple[str, str, str | None], ServiceClient] = {}
_clients_lock = threading.Lock()


def client_for(target: str, base_url: str, **kw: Any) -> ServiceClient:
    """Shared client per (target, base_url, calling identity); `kw` only applies when it is
    first created. The identity is the module of `token_provider` (service_auth sets it), so
    two modules calling one target in one process (api tests) never send each other's token.

    A module calling a module (`target` a catalog module, with the caller's token provider)
    gets its private client whatever `base_url` says: internal calls never use the public stage."""
    caller = getattr(kw.get("token_provider"), "module", None)
    if caller is not None and target in catalog.BY_KEY:
        return private_client(caller, target, **kw)
    key = (target, base_url, caller)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = ServiceClient(target, base_url, **kw)
        return client


def private_client(caller: str, callee: str, *, name: str | None = None, **kw: Any) -> ServiceClient:
    """The client `caller` uses for `callee`'s routes, over the private path; `name` names its
    breaker (the callee by default). `kw` (timeout, token_provider...) applies when first created."""
    from finflow.private_invoke import url

    key = (name or callee, url(callee), caller)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = ServiceClient(name or callee, url(callee), calls_as=(caller, callee), **kw)
        return client


_SEVERITY = {pybreaker.STATE_CLOSED: 0, pybreaker.STATE_HALF_OPEN: 1, pybreaker.STATE_OPEN: 2}


def breaker_states() -> dict[str, str]:
    """The circuit breaker of every target this process has called: "closed", "half-open" or
    "open" (the worst, where one target has several clients). For /health."""
    states: dict[str, str] = {}
    with _clients_lock:
        clients = list(_clients.values())
    for c in clients:
        state = c.state
        if _SEVERITY.get(state, 0) >= _SEVERITY.get(states.get(c.target, pybreaker.STATE_CLOSED), 0):
            states[c.target] = state
    return dict(sorted(states.items()))


def reset_clients() -> None:
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
