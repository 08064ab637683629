"""Tracing on OpenTelemetry: the context crosses the private Lambda Invoke hop and events, the
code imports nothing where no SDK runs, and the devserver's exports are what Perfetto and Jaeger
UI read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from opentelemetry import propagate, trace
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from devserver import function_tracing, trace_formats, tracing
from finflow import private_invoke, service_client
from finflow import tracing as spans
from finflow.service_client import private_client
from tests import trace_viewers

ROOT = Path(__file__).resolve().parents[2]
_exporter = InMemorySpanExporter()


@pytest.fixture
def exported():
    """The SDK as ADOT configures it (W3C and X-Ray propagation); the spans each test ends."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):  # the global provider is set once
        provider = TracerProvider(resource=Resource.create({"service.name": "finflow-tests"}))
        provider.add_span_processor(SimpleSpanProcessor(_exporter))
        trace.set_tracer_provider(provider)
    before = propagate.get_global_textmap()
    propagate.set_global_textmap(CompositePropagator([TraceContextTextMapPropagator(), AwsXRayPropagator()]))
    _exporter.clear()
    yield _exporter
    propagate.set_global_textmap(before)


@pytest.fixture
def callee_runs():
    """Private calls answered by a callee that starts its handler's span from the proxy event."""
    seen: list[dict] = []

    def function(callee: str, event: bytes, timeout: float) -> tuple[bytes, str | None]:
        proxy = json.loads(event)
        seen.append(proxy)
        with spans.invocation(proxy["headers"], "corr-1"):  # in the callee: nothing wraps this handler
            pass
        return json.dumps({"statusCode": 200, "headers": {}, "body": "{}"}).encode(), None

    service_client.route_all_http_through(private_invoke.LambdaInvoke(function))
    yield seen
    service_client.route_all_http_through(None)


def _by_name(exporter) -> dict:
    return {s.name: s for s in exporter.get_finished_spans()}


def test_a_private_call_carries_its_span_to_the_callee_in_both_headers(exported, callee_runs):
    with spans.invocation({}, "corr-1"):
        private_client("kyc", "wallet", timeout=1.0).request("PUT", "/api/wallet/w-1/status", json={})
    (proxy,) = callee_runs
    headers = {k.lower(): v for k, v in proxy["headers"].items()}
    call = _by_name(exported)["wallet PUT /api/wallet/w-1/status"]
    trace_id, span_id = f"{call.context.trace_id:032x}", f"{call.context.span_id:016x}"
    version, sent_trace, sent_span, flags = headers["traceparent"].split("-")
    assert (version, sent_trace, sent_span) == ("00", trace_id, span_id) and int(flags, 16) & 1  # sampled
    assert headers["x-amzn-trace-id"] == f"Root=1-{trace_id[:8]}-{trace_id[8:]};Parent={span_id};Sampled=1"
    handlers = [s for s in exported.get_finished_spans() if s.name == spans.HANDLER_SPAN]
    callee = next(s for s in handlers if s.parent is not None and s.parent.span_id == call.context.span_id)
    assert callee.context.trace_id == call.context.trace_id and callee.attributes["correlation_id"] == "corr-1"
    assert call.attributes["http.response.status_code"] == 200 and call.kind == trace.SpanKind.CLIENT


def test_an_event_carries_the_producing_function_and_its_consumer_joins_that_trace(exported):
    producer_function = trace.get_tracer("lambda").start_span("payment-api")  # what ADOT's wrapper starts
    with trace.use_span(producer_function, end_on_exit=True), spans.invocation({}, "corr-2"):
        header = spans.event_trace_header()
    produced = producer_function.get_span_context()
    root = tracing.xray_root(f"{produced.trace_id:032x}")
    assert header == f"Root={root};Parent={produced.span_id:016x};Sampled=1"  # the function's span, not the handler's
    # a consumer whose invocation is in another trace (SQS started a new one): the record joins the producer's
    with trace.get_tracer("lambda").start_as_current_span("notification-events") as consumer:
        with spans.event_record("PaymentCompleted", header, {"event_id": "e-1", "correlation_id": "corr-2"}):
            pass
    record = _by_name(exported)["PaymentCompleted"]
    assert (record.context.trace_id, record.parent.span_id) == (produced.trace_id, produced.span_id)
    assert [link.context.span_id for link in record.links] == [consumer.get_span_context().span_id]


def test_without_an_sdk_loaded_the_code_imports_no_opentelemetry_and_still_runs():
    code = (
        "import sys\n"
        "from finflow import tracing\n"
        "with tracing.invocation({'traceparent': '00-' + '1' * 32 + '-' + '2' * 16 + '-01'}, 'c'):\n"
        "    with tracing.span('call', kind='client'):\n"
        "        headers = {}\n"
        "        tracing.inject(headers)\n"
        "assert headers == {} and tracing.event_trace_header() is None\n"
        "assert not [m for m in sys.modules if m.startswith('opentelemetry')], 'opentelemetry was imported'\n"
    )
    env = os.environ | {"PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'layers/common/python'}"}
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


# --- the devserver's trace and its exports --------------------------------------------------------


@pytest.fixture
def collected(exported):
    """One traced request as the devserver collects it: the gateway's and Lambda's platform spans,
    the function's own spans (sent as function_tracing documents), a callee, an event's consumer."""
    collector = tracing.Collector()  # not started: documents are added directly
    tracing.activate(collector)
    root, gateway_id, function_id = tracing.new_root(), tracing.new_id(), tracing.new_id()
    start = time.time()
    with function_tracing.invocation(tracing.header(root, function_id)):  # what the worker attaches
        with spans.invocation({}, "corr-3"):
            with spans.span("wallet POST /api/wallet/internal/postings", kind="client") as call:
                callee_id = tracing.new_id()
                called = f"{call.get_span_context().span_id:016x}"
                tracing.segment(
                    "wallet-api",
                    tracing.header(root, called),
                    callee_id,
                    time.time(),
                    time.time() + 0.001,
                    origin=tracing.LAMBDA,
                )
                with function_tracing.invocation(tracing.header(root, callee_id)), spans.invocation({}, "corr-3"):
                    pass
            event = spans.event_trace_header()
    end = time.time()
    tracing.segment(
        "payment-api", tracing.header(root, gateway_id), function_id, start - 0.001, end + 0.001, origin=tracing.LAMBDA
    )
    consumer_id = tracing.new_id()
    tracing.segment("notification-events", event, consumer_id, end + 0.01, end + 0.02, origin=tracing.LAMBDA)
    http = {"request": {"method": "POST", "url": "/api/payment/transfer"}, "response": {"status": 201}}
    tracing.segment(
        "gateway api",
        tracing.header(root, None),
        gateway_id,
        start - 0.002,
        end + 0.002,
        origin=tracing.STAGE,
        http=http,
        annotations={"correlation_id": "corr-3"},
    )
    for span in exported.get_finished_spans():
        collector.add_datagram(json.dumps(function_tracing.document(span)).encode())
    yield collector, root
    tracing.activate(None)


def test_the_tree_is_one_request_from_the_gateway_down(collected):
    collector, root = collected
    tree = tracing.build_tree(collector.trace_ids_for("corr-3"), collector)
    assert tree["trace_ids"] == [root] and tree["services"] == ["notification-events", "payment-api", "wallet-api"]
    (top,) = tree["roots"]
    assert top["kind"] == tracing.STAGE and top["http"] == {
        "method": "POST",
        "url": "/api/payment/transfer",
        "status": 201,
    }
    (payment,) = top["children"]
    assert [c["name"] for c in payment["children"]] == [spans.HANDLER_SPAN, "notification-events"]
    (call,) = payment["children"][0]["children"]
    assert [c["name"] for c in call["children"]] == ["wallet-api"]
    assert collector.trace_ids_for(root[2:10] + root[11:]) == [root]  # the W3C form finds it too


def test_the_chrome_export_is_trace_event_format_perfetto_opens(collected):
    collector, root = collected
    exported = json.loads(json.dumps(trace_formats.chrome(tracing.build_tree([root], collector))))
    processes, flows = trace_viewers.check_chrome(exported)
    assert set(processes) == {"gateway api", "payment-api", "wallet-api", "notification-events"}
    # the gateway -> payment-api, Payment's call -> wallet-api, payment-api -> the event's consumer
    assert flows == 3
    assert sum(e["ph"] == "X" for e in exported["traceEvents"]) == len(collector.docs(root))


def test_the_otlp_export_is_the_json_encoding_jaeger_ui_loads(collected):
    collector, root = collected
    exported = json.loads(json.dumps(trace_formats.otlp(collector.docs(root))))
    services = trace_viewers.check_otlp(exported)
    # the platform's spans by function, the functions' own by their resource (one SDK in this test)
    assert set(services) == {"gateway api", "payment-api", "wallet-api", "notification-events", "finflow-tests"}
    assert {s["traceId"] for group in services.values() for s in group} == {root[2:10] + root[11:]}
