"""In a worker, what the ADOT layer does in a Lambda container: the OpenTelemetry SDK, an exporter
to the devserver's collector, and the invocation's trace context around each handler call.

On AWS the layer's exporter sends each span to the X-Ray daemon of the Lambda environment
(AWS_XRAY_DAEMON_ADDRESS, over UDP); here one JSON span document per datagram goes to the same
variable's address, the devserver's collector (devserver.tracing). Spans are sent as they end, as
ADOT flushes them before the invocation returns: the trace is whole when the response is.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from opentelemetry import context, trace
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

COLLECTOR = "AWS_XRAY_DAEMON_ADDRESS"


def configure(function_name: str) -> bool:
    """The SDK for this worker, if the devserver collects traces (False: tracing is off)."""
    address = os.environ.get(COLLECTOR)
    if not address or os.environ.get("OTEL_SDK_DISABLED", "false").lower() == "true":
        return False
    provider = TracerProvider(resource=Resource.create({"service.name": function_name}))
    provider.add_span_processor(SimpleSpanProcessor(_ToCollector(address)))
    trace.set_tracer_provider(provider)
    return True


@contextmanager
def invocation(trace_header: str | None) -> Iterator[None]:
    """The invocation's context, as Lambda hands it over (`_X_AMZN_TRACE_ID`: Root, the function's
    span as Parent, Sampled) and ADOT's wrapper makes it current: the handler's spans go under it."""
    token = context.attach(AwsXRayPropagator().extract({"X-Amzn-Trace-Id": trace_header or ""}))
    try:
        yield
    finally:
        context.detach(token)


def document(span: ReadableSpan) -> dict:
    """One finished span as the collector stores it (ids in hex, times in seconds)."""
    parent = span.parent.span_id if span.parent is not None else None
    return {
        "trace_id": f"{span.context.trace_id:032x}",
        "span_id": f"{span.context.span_id:016x}",
        "parent_id": f"{parent:016x}" if parent else None,
        "name": span.name,
        "kind": span.kind.name.lower(),
        "service": span.resource.attributes.get("service.name"),
        "start": (span.start_time or 0) / 1e9,  # set on every ended span
        "end": (span.end_time or 0) / 1e9,
        "status": span.status.status_code.name.lower(),
        "attributes": {k: list(v) if isinstance(v, tuple) else v for k, v in (span.attributes or {}).items()},
        "links": [
            {"trace_id": f"{link.context.trace_id:032x}", "span_id": f"{link.context.span_id:016x}"}
            for link in span.links
        ],
    }


class _ToCollector(SpanExporter):
    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.address = (host, int(port))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        for span in spans:
            try:
                self.sock.sendto(json.dumps(document(span)).encode(), self.address)
            except OSError:
                return SpanExportResult.FAILURE  # the devserver is stopping
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.sock.close()
