"""Spans and trace context with OpenTelemetry's API only; whoever runs the function brings the SDK.

On AWS the ADOT layer (AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-instrument) configures the SDK, wraps
the handler in the function's span and exports to X-Ray; locally the devserver's workers do the
same (devserver/function_tracing.py). This file adds what only FinFlow knows: the handler's span
with its correlation id, a span per call to another module and per event record, and the trace
context carried across the private Lambda Invoke hop (the proxy event's headers: W3C
`traceparent` and `X-Amzn-Trace-Id`, as OTEL_PROPAGATORS names them) and across events (the
envelope's `trace_header`, X-Ray's format, which EventBridge's TraceHeader takes too).

OpenTelemetry is used only where the process already loaded it (a wrapper configured it before the
handler was imported): everywhere else (LocalStack, which applies no layers; unit tests; the cold
start bench) every call here is a no-op that imports nothing, rather than ~30 ms of a first
invocation spent on the API's entry-point lookups for spans nobody exports.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

TRACER = "finflow"
# OTEL_PROPAGATORS wherever an SDK runs (ADOT on AWS, the devserver): extracting, X-Ray's header
# (API Gateway's, Lambda's) wins over a client's traceparent; injecting writes both.
PROPAGATORS = "tracecontext,xray"
HANDLER_SPAN = "## handler"  # the name Powertools gave it: the trace trees and their readers know it
XRAY_HEADER = "X-Amzn-Trace-Id"

# The context the handler's span was started in (the function's own span): what events carry,
# so a consumer's invocation sits beside the producer's synchronous calls, not under one of its spans.
_invocation: ContextVar[Any] = ContextVar("finflow_invocation_context", default=None)


def _otel():
    """opentelemetry's trace and propagate modules when this process has OpenTelemetry, else None."""
    if "opentelemetry.trace" not in sys.modules:
        return None
    from opentelemetry import propagate, trace

    return trace, propagate


@contextmanager
def invocation(headers: Mapping[str, str] | None, correlation_id: str | None) -> Iterator[None]:
    """The handler's span. Its parent is the span current when the handler was called (the
    function's span the ADOT wrapper or the devserver started), else the caller's context in the
    request `headers` (a caller that sent traceparent / X-Amzn-Trace-Id), else it starts a trace."""
    api = _otel()
    if api is None:
        yield
        return
    trace, propagate = api
    from opentelemetry import context

    parent = context.get_current()
    if not trace.get_current_span(parent).get_span_context().is_valid and headers:
        parent = propagate.extract(headers, getter=_any_case())
    attributes = {"correlation_id": correlation_id} if correlation_id else None
    with trace.get_tracer(TRACER).start_as_current_span(HANDLER_SPAN, context=parent, attributes=attributes):
        # no function span above (nothing wraps the handler, the caller sent no context): this one
        token = _invocation.set(parent if trace.get_current_span(parent).get_span_context().is_valid else None)
        try:
            yield
        finally:
            _invocation.reset(token)


@contextmanager
def span(name: str, *, kind: str = "internal", attributes: Mapping[str, Any] | None = None) -> Iterator[Any]:
    """A span under the current one (`kind`: internal, client...); yields it (None without OpenTelemetry)."""
    api = _otel()
    if api is None:
        yield None
        return
    trace = api[0]
    with trace.get_tracer(TRACER).start_as_current_span(
        name, kind=trace.SpanKind[kind.upper()], attributes=dict(attributes or {})
    ) as current:
        yield current


@contextmanager
def event_record(detail_type: str, trace_header: str | None, attributes: Mapping[str, Any]) -> Iterator[None]:
    """The span of one consumed event. It joins the producer's trace (the envelope's header): under
    the current span when this invocation already belongs to that trace (the platform continued it),
    else under the producer's context directly, with a link to this invocation's span."""
    api = _otel()
    if api is None:
        yield
        return
    trace, propagate = api
    current = trace.get_current_span().get_span_context()
    producer = propagate.extract({XRAY_HEADER: trace_header}) if trace_header else None
    produced = trace.get_current_span(producer).get_span_context() if producer is not None else None
    if produced is None or not produced.is_valid or produced.trace_id == current.trace_id:
        parent, links = None, None
    else:
        parent, links = producer, [trace.Link(current)] if current.is_valid else None
    with trace.get_tracer(TRACER).start_as_current_span(
        detail_type,
        context=parent,
        kind=trace.SpanKind.CONSUMER,
        attributes={k: v for k, v in attributes.items() if v is not None},
        links=links,
    ):
        yield


def set_attribute(key: str, value: Any) -> None:
    if (api := _otel()) is not None:
        api[0].get_current_span().set_attribute(key, value)


def mark_failed(description: str) -> None:
    """The current span ends in error (a call that found its target down, a 5xx)."""
    if (api := _otel()) is not None:
        trace = api[0]
        trace.get_current_span().set_status(trace.Status(trace.StatusCode.ERROR, description))


def inject(headers: dict[str, str]) -> None:
    """The current context into outbound `headers` (every propagator OTEL_PROPAGATORS names)."""
    if (api := _otel()) is not None:
        api[1].inject(headers)


def event_trace_header() -> str | None:
    """The X-Ray header of this invocation's function span, for the events it produces: None
    outside a traced invocation, or where no propagator writes X-Ray's format."""
    api = _otel()
    if api is None:
        return None
    carrier: dict[str, str] = {}
    api[1].inject(carrier, context=_invocation.get())  # None: the current context
    return carrier.get(XRAY_HEADER)


@cache
def _any_case():
    """A getter for HTTP headers as they come (API Gateway passes the client's case)."""
    from opentelemetry.propagators.textmap import Getter

    class AnyCase(Getter):
        def get(self, carrier, key):
            wanted = key.lower()
            return [v for k, v in carrier.items() if k.lower() == wanted] or None

        def keys(self, carrier):
            return list(carrier)

    return AnyCase()
