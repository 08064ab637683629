"""A trace in formats standard viewers open.

chrome: the Trace Event Format (JSON object form) that https://ui.perfetto.dev and chrome://tracing
open: one process per service (the gateway, each function), one thread per invocation, a complete
event ("X") per span and a flow arrow from a call to the invocation it caused.
https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU

otlp: OTLP's JSON encoding of the spans (an ExportTraceServiceRequest, as the OpenTelemetry
Collector's file exporter writes it), which Jaeger UI loads from a file.
https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding
"""

from __future__ import annotations

from devserver.tracing import LAMBDA, STAGE

INVOCATIONS = (LAMBDA, STAGE)
# OTLP's Span.SpanKind numbers
SPAN_KINDS = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
STATUS_CODES = {"unset": 0, "ok": 1, "error": 2}


def chrome(tree: dict) -> dict:
    """The tree (devserver.tracing.build_tree) as Trace Event Format JSON; times in microseconds
    from the trace's first span."""
    nodes = list(_walk(tree["roots"], None))
    starts = [n["start_time"] for n, _, _ in nodes if n["start_time"] is not None]
    t0 = min(starts) if starts else 0.0
    pids: dict[str, int] = {}
    tids: dict[str, tuple[int, int]] = {}  # invocation node id -> (pid, tid)
    events: list[dict] = []
    tracks: dict[str, tuple[int, int]] = {}  # every node id -> its invocation's (pid, tid)
    for node, owner, _ in nodes:
        if owner["id"] not in tids:
            service = owner.get("service") or owner["name"]
            if service not in pids:
                pids[service] = len(pids) + 1
                events.append(_meta("process_name", pids[service], 0, service))
            pid = pids[service]
            tid = 1 + sum(1 for p, _ in tids.values() if p == pid)
            tids[owner["id"]] = (pid, tid)
            events.append(
                _meta("thread_name", pid, tid, f"{owner['name']} +{_us(owner['start_time'], t0) / 1000:.0f}ms")
            )
        tracks[node["id"]] = tids[owner["id"]]
    flows = 0
    for node, _, parent in nodes:
        if node["start_time"] is None or node["end_time"] is None:
            continue
        pid, tid = tracks[node["id"]]
        ts = _us(node["start_time"], t0)
        events.append(
            {
                "name": node["name"],
                "cat": node["kind"],
                "ph": "X",
                "ts": ts,
                "dur": max(0.0, round(_us(node["end_time"], t0) - ts, 3)),
                "pid": pid,
                "tid": tid,
                "args": {"span_id": node["id"], "trace_id": node["trace_id"], **(node.get("attributes") or {})},
            }
        )
        if parent is not None and tracks[parent["id"]] != (pid, tid) and parent["end_time"] is not None:
            flows += 1  # a call into another invocation: an arrow from the caller's span to it
            ppid, ptid = tracks[parent["id"]]
            # from inside the caller's span (an event's consumer may start after its producer ended)
            start = max(_us(parent["start_time"], t0), min(ts, _us(parent["end_time"], t0) - 0.001))
            events.append(
                {"name": "call", "cat": "flow", "ph": "s", "id": flows, "ts": start, "pid": ppid, "tid": ptid}
            )
            events.append(
                {"name": "call", "cat": "flow", "ph": "f", "bp": "e", "id": flows, "ts": ts, "pid": pid, "tid": tid}
            )
    return {"traceEvents": events, "displayTimeUnit": "ms", "otherData": {"trace_ids": tree["trace_ids"]}}


def otlp(docs: list[dict]) -> dict:
    """The collector's span documents (devserver.tracing.Collector.docs) as OTLP JSON."""
    by_service: dict[str, list[dict]] = {}
    for doc in docs:
        by_service.setdefault(doc.get("service") or "unknown_service", []).append(_otlp_span(doc))
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [_attribute("service.name", service)]},
                "scopeSpans": [{"scope": {"name": "finflow"}, "spans": spans}],
            }
            for service, spans in by_service.items()
        ]
    }


def _walk(nodes: list[dict], invocation: dict | None, parent: dict | None = None):
    """(node, the invocation it belongs to: itself if it is one or a root, its parent) depth first."""
    for node in nodes:
        owner = node if node["kind"] in INVOCATIONS or invocation is None else invocation
        yield node, owner, parent
        yield from _walk(node["children"], owner, node)


def _us(seconds: float, t0: float) -> float:
    return round((seconds - t0) * 1e6, 3)


def _meta(name: str, pid: int, tid: int, label: str) -> dict:
    return {"name": name, "ph": "M", "pid": pid, "tid": tid, "args": {"name": label}}


def _trace_id(doc: dict) -> str:
    """W3C's 32 hex digits, whichever form the document holds (the platform's are X-Ray's)."""
    trace_id = doc["trace_id"]
    return trace_id[2:10] + trace_id[11:] if trace_id.startswith("1-") else trace_id


def _otlp_span(doc: dict) -> dict:
    attributes = doc.get("attributes") or {}
    span = {
        "traceId": _trace_id(doc),
        "spanId": doc["span_id"],
        "parentSpanId": doc.get("parent_id") or "",
        "name": doc.get("name", ""),
        "kind": SPAN_KINDS.get(doc.get("kind", "internal"), 0),
        "startTimeUnixNano": str(round(doc["start"] * 1e9)),
        "endTimeUnixNano": str(round(doc["end"] * 1e9)),
        "attributes": [_attribute(k, v) for k, v in attributes.items()]
        + ([_attribute("aws.origin", doc["origin"])] if doc.get("origin") else []),
        "status": {"code": STATUS_CODES.get(doc.get("status", "unset"), 0)},
    }
    if doc.get("links"):
        span["links"] = [{"traceId": link["trace_id"], "spanId": link["span_id"]} for link in doc["links"]]
    return span


def _attribute(key: str, value) -> dict:
    return {"key": key, "value": _any_value(value)}


def _any_value(value) -> dict:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}  # int64 is a string in OTLP JSON
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [_any_value(v) for v in value]}}
    return {"stringValue": str(value)}
