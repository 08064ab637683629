"""Local tracing: the collector of the functions' OpenTelemetry spans, and trace trees.

In AWS, ADOT's SDK in each function sends its spans to X-Ray, and API Gateway and the Lambda
service write the segments the functions cannot (the stage's, and each invocation's). Locally the
devserver plays those parts: the gateway and the worker pools write those spans here, and a UDP
collector receives the functions' spans (one JSON document per datagram, devserver.function_tracing)
at AWS_XRAY_DAEMON_ADDRESS, where ADOT's exporter sends them in a Lambda environment.

Traces are kept in memory, the newest MAX_TRACES only, keyed by their X-Ray form (`1-<8 hex>-<24
hex>`, what X-Amzn-Trace-Id and the X-Ray console show; the W3C form, 32 hex digits, finds them too)
and assembled into trees; a correlation id (span attribute `correlation_id`) finds the traces it
touched. devserver.trace_formats writes them for standard viewers.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import threading
import time
from collections import OrderedDict

MAX_TRACES = 500
MAX_DOCS_PER_TRACE = 2000
HEADER = "X-Amzn-Trace-Id"
LAMBDA, STAGE = "AWS::Lambda::Function", "AWS::ApiGateway::Stage"
_W3C_ID = re.compile(r"^[0-9a-f]{32}$")


# -- trace ids and headers (https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html) --


def new_root() -> str:
    return f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"


def new_id() -> str:
    return secrets.token_hex(8)


def xray_root(trace_id: str) -> str:
    """A W3C trace id (32 hex) in X-Ray's form; one already in that form is returned as is."""
    return f"1-{trace_id[:8]}-{trace_id[8:]}" if _W3C_ID.match(trace_id) else trace_id


def parse(header: str | None) -> dict[str, str]:
    """`Root=...;Parent=...;Sampled=1` -> {"Root": ..., "Parent": ..., "Sampled": ...}."""
    fields: dict[str, str] = {}
    for part in (header or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key and value:
            fields[key] = value
    return fields


def header(root: str, parent: str | None, sampled: bool = True) -> str:
    return f"Root={root}" + (f";Parent={parent}" if parent else "") + f";Sampled={1 if sampled else 0}"


def sampled(trace: str | None) -> bool:
    fields = parse(trace)
    return bool(fields.get("Root")) and fields.get("Sampled") != "0"


# -- the collector -------------------------------------------------------------------------


class Collector:
    """Span documents by trace, newest traces kept."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._traces: OrderedDict[str, list[dict]] = OrderedDict()
        self._lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.settimeout(0.5)
        self.address = "{}:{}".format(*self.sock.getsockname())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, name="trace-collector", daemon=True)

    def start(self) -> Collector:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self.add_datagram(data)

    def add_datagram(self, data: bytes) -> None:
        try:
            doc = json.loads(data)
        except ValueError:
            return  # not a span document: ignored
        if isinstance(doc, dict):
            self.add(doc)

    def add(self, doc: dict) -> None:
        trace_id = doc.get("trace_id")
        if not isinstance(trace_id, str) or not doc.get("span_id"):
            return
        root = xray_root(trace_id)
        with self._lock:
            docs = self._traces.get(root)
            if docs is None:
                docs = self._traces[root] = []
                while len(self._traces) > MAX_TRACES:
                    self._traces.popitem(last=False)
            if len(docs) < MAX_DOCS_PER_TRACE:
                docs.append(doc)

    def docs(self, trace_id: str) -> list[dict]:
        with self._lock:
            return list(self._traces.get(xray_root(trace_id), ()))

    def trace_ids_for(self, key: str) -> list[str]:
        """The traces of `key` (X-Ray form): itself if it is a trace id we hold, else every trace
        that carries it as correlation id (oldest first)."""
        with self._lock:
            if xray_root(key) in self._traces:
                return [xray_root(key)]
            items = list(self._traces.items())
        return [tid for tid, docs in items if key in _correlations(docs)]

    def recent(self, limit: int = 50) -> list[dict]:
        with self._lock:
            items = list(self._traces.items())[-limit:]
        return [summary(tid, docs) for tid, docs in reversed(items)]


# -- trees -------------------------------------------------------------------------------


def _correlations(docs: list[dict]) -> list[str]:
    found: list[str] = []
    for doc in docs:
        cid = (doc.get("attributes") or {}).get("correlation_id")
        if cid and cid not in found:
            found.append(cid)
    return found


def _node(doc: dict, trace_id: str) -> dict:
    attributes = doc.get("attributes") or {}
    start, end = doc.get("start"), doc.get("end")
    status = attributes.get("http.response.status_code")
    refused = isinstance(status, int) and 400 <= status < 500
    failed = doc.get("status") == "error"
    kind = doc.get("origin") or ("sql" if "db.system" in attributes else doc.get("kind", "internal"))
    node = {
        "id": doc["span_id"],
        "trace_id": trace_id,
        "name": doc.get("name", "?"),
        "service": doc.get("service"),
        "kind": kind,
        "start_time": start,
        "end_time": end,
        "duration_ms": round((end - start) * 1000, 1) if start and end else None,
        "in_progress": False,  # spans are exported when they end
        "error": bool(doc.get("error", failed and refused)),
        "fault": bool(doc.get("fault", failed and not refused)),
        "children": [],
    }
    http = {
        k: v
        for k, v in {
            "method": attributes.get("http.request.method"),
            "url": attributes.get("url.path"),
            "status": status,
        }.items()
        if v is not None
    }
    if http:
        node["http"] = http
    if attributes:
        node["attributes"] = attributes
    return node


def build_tree(trace_ids: list[str], collector: Collector) -> dict:
    """One forest over the given traces: every span under its parent, roots by start time."""
    nodes: dict[str, dict] = {}
    parents: dict[str, str | None] = {}
    docs = [(tid, d) for tid in trace_ids for d in collector.docs(tid)]
    for trace_id, doc in docs:
        nodes[doc["span_id"]] = _node(doc, trace_id)
        parents[doc["span_id"]] = doc.get("parent_id")
    roots: list[dict] = []
    for node_id, node in nodes.items():
        parent = nodes.get(parents.get(node_id) or "")
        (parent["children"] if parent else roots).append(node)
    key = lambda n: n["start_time"] or 0  # noqa: E731
    for node in nodes.values():
        node["children"].sort(key=key)
    roots.sort(key=key)
    return {
        "trace_ids": trace_ids,
        "correlation_ids": _correlations([d for _, d in docs]),
        "services": sorted({n["name"] for n in nodes.values() if n["kind"] == LAMBDA}),
        "segments": len(nodes),
        "roots": roots,
    }


def summary(trace_id: str, docs: list[dict]) -> dict:
    platform = [d for d in docs if d.get("origin")]
    starts = [d["start"] for d in docs if d.get("start")]
    ends = [d["end"] for d in docs if d.get("end")]
    first = min(platform or docs, key=lambda d: d.get("start") or 0)
    return {
        "trace_id": trace_id,
        "correlation_ids": _correlations(docs),
        "entry": first.get("name"),
        "start_time": min(starts) if starts else None,
        "duration_ms": round((max(ends) - min(starts)) * 1000, 1) if starts and ends else None,
        "functions": sorted({d["name"] for d in platform if d.get("origin") == LAMBDA}),
        "documents": len(docs),
    }


def render(tree: dict) -> str:
    """The tree as text: one line per span, SQL spans folded into a count."""
    roots = tree["roots"]
    if not roots:
        return "no trace found\n"
    t0 = min(n["start_time"] or 0 for n in roots)
    lines = [f"trace {', '.join(tree['trace_ids'])}   correlation {', '.join(tree['correlation_ids']) or '-'}"]

    def label(n: dict) -> str:
        bits = [n["name"]]
        kind = {LAMBDA: "lambda", STAGE: "api gateway"}.get(n["kind"])
        if kind:
            bits.append(f"[{kind}]")
        if "http" in n:
            h = n["http"]
            bits.append(" ".join(str(h[k]) for k in ("method", "url", "status") if k in h))
        if n["fault"] or n["error"]:
            bits.append("FAULT" if n["fault"] else "ERROR")
        offset = f"+{(n['start_time'] - t0) * 1000:.0f}ms" if n["start_time"] else ""
        duration = f"{n['duration_ms']:.1f}ms" if n["duration_ms"] is not None else "in progress"
        return f"{'  '.join(bits)}   {offset} {duration}"

    def walk(n: dict, prefix: str, last: bool, top: bool) -> None:
        lines.append((prefix + ("└─ " if last else "├─ ") if not top else "") + label(n))
        children = [c for c in n["children"] if c["kind"] != "sql"]
        sql = len(n["children"]) - len(children)
        inner = prefix + ("   " if last else "│  ") if not top else ""
        if sql:
            children_text = f"({sql} SQL {'query' if sql == 1 else 'queries'})"
            lines.append(inner + ("├─ " if children else "└─ ") + children_text)
        for i, c in enumerate(children):
            walk(c, inner, i == len(children) - 1, False)

    for root in roots:
        walk(root, "", True, True)
    return "\n".join(lines) + "\n"


# -- the active collector of this process (the devserver's) -----------------------------------

_active: Collector | None = None


def activate(collector: Collector | None) -> None:
    global _active
    _active = collector


def active() -> Collector | None:
    return _active


def record(doc: dict) -> None:
    if _active is not None:
        _active.add(doc)


def segment(
    name: str,
    trace: str | None,
    seg_id: str,
    start: float,
    end: float,
    *,
    origin: str,
    http: dict | None = None,
    fault: bool = False,
    error: bool = False,
    annotations: dict | None = None,
) -> None:
    """Record a span written by the platform (API Gateway's stage, or Lambda's per invocation):
    under the Parent of `trace`, the caller's X-Amzn-Trace-Id."""
    fields = parse(trace)
    if _active is None or not sampled(trace):
        return
    request, response = (http or {}).get("request") or {}, (http or {}).get("response") or {}
    attributes = {
        "http.request.method": request.get("method"),
        "url.path": request.get("url"),
        "http.response.status_code": response.get("status"),
        **(annotations or {}),
    }
    record(
        {
            "trace_id": fields["Root"],
            "span_id": seg_id,
            "parent_id": fields.get("Parent"),
            "name": name,
            "kind": "server",
            "service": name,
            "origin": origin,
            "start": start,
            "end": end,
            "status": "error" if fault or error else "unset",
            "fault": fault,
            "error": error,
            "attributes": {k: v for k, v in attributes.items() if v is not None},
            "links": [],
        }
    )


def enabled() -> bool:
    return _active is not None and os.environ.get("OTEL_SDK_DISABLED", "false").lower() != "true"
