"""Local X-Ray: a daemon stand-in that collects what the tracing SDK emits, and trace trees.

In AWS, the functions' X-Ray SDK (through Powertools Tracer) sends subsegment documents to
the X-Ray daemon over UDP, and API Gateway and the Lambda service write the segments the
SDK cannot (the gateway's, and each invocation's function segment). Locally the devserver
plays those parts: the gateway and the worker pools write those segments here, and a UDP
collector receives the SDK's documents (the daemon protocol: a header line
`{"format":"json","version":1}`, a newline, then one segment document).

Traces are kept in memory, the newest MAX_TRACES only, and assembled into trees by trace
id; a correlation id (annotation `correlation_id`) finds the traces it touched.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
from collections import OrderedDict

MAX_TRACES = 500
MAX_DOCS_PER_TRACE = 2000
HEADER = "X-Amzn-Trace-Id"


# -- trace ids and headers (https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html) --


def new_root() -> str:
    return f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"


def new_id() -> str:
    return secrets.token_hex(8)


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
    """The daemon stand-in: documents by trace id, newest traces kept."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._traces: OrderedDict[str, list[dict]] = OrderedDict()
        self._lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.settimeout(0.5)
        self.address = "{}:{}".format(*self.sock.getsockname())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, name="xray-collector", daemon=True)

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
        head, _, body = data.decode("utf-8", "replace").partition("\n")
        try:
            if json.loads(head).get("format") != "json":
                return
            self.add(json.loads(body))
        except (ValueError, AttributeError):
            return  # not a daemon document: ignore, as the daemon would

    def add(self, doc: dict) -> None:
        trace_id = doc.get("trace_id")
        if not trace_id or not doc.get("id"):
            return
        with self._lock:
            docs = self._traces.get(trace_id)
            if docs is None:
                docs = self._traces[trace_id] = []
                while len(self._traces) > MAX_TRACES:
                    self._traces.popitem(last=False)
            if len(docs) < MAX_DOCS_PER_TRACE:
                docs.append(doc)

    def docs(self, trace_id: str) -> list[dict]:
        with self._lock:
            return list(self._traces.get(trace_id, ()))

    def trace_ids_for(self, key: str) -> list[str]:
        """The trace ids of `key`: itself if it is a trace id we hold, else every trace that
        carries it as correlation id (oldest first)."""
        with self._lock:
            if key in self._traces:
                return [key]
            items = list(self._traces.items())
        return [tid for tid, docs in items if key in _correlations(docs)]

    def recent(self, limit: int = 50) -> list[dict]:
        with self._lock:
            items = list(self._traces.items())[-limit:]
        return [summary(tid, docs) for tid, docs in reversed(items)]


# -- trees -------------------------------------------------------------------------------


def _walk(doc: dict):
    yield doc
    for child in doc.get("subsegments") or ():
        yield from _walk(child)


def _correlations(docs: list[dict]) -> list[str]:
    found: list[str] = []
    for doc in docs:
        for entity in _walk(doc):
            cid = (entity.get("annotations") or {}).get("correlation_id")
            if cid and cid not in found:
                found.append(cid)
    return found


def _node(entity: dict, trace_id: str) -> dict:
    http = entity.get("http") or {}
    request, response = http.get("request") or {}, http.get("response") or {}
    start, end = entity.get("start_time"), entity.get("end_time")
    node = {
        "id": entity["id"],
        "trace_id": trace_id,
        "name": entity.get("name", "?"),
        "kind": entity.get("origin") or ("subsegment" if entity.get("type") == "subsegment" else "segment"),
        "start_time": start,
        "end_time": end,
        "duration_ms": round((end - start) * 1000, 1) if start and end else None,
        "in_progress": bool(entity.get("in_progress")),
        "error": bool(entity.get("error")),
        "fault": bool(entity.get("fault")),
        "children": [],
    }
    if request or response:
        node["http"] = {
            k: v
            for k, v in {
                "method": request.get("method"),
                "url": request.get("url"),
                "status": response.get("status"),
            }.items()
            if v is not None
        }
    if entity.get("annotations"):
        node["annotations"] = entity["annotations"]
    if entity.get("namespace") == "remote" and "sql" in entity:
        node["kind"] = "sql"
    if entity.get("namespace") == "aws":
        node["kind"] = "aws"
    return node


def build_tree(trace_ids: list[str], collector: Collector) -> dict:
    """One forest over the given traces: every entity under its parent, roots by start time."""
    nodes: dict[str, dict] = {}
    parents: dict[str, str | None] = {}
    for trace_id in trace_ids:
        for doc in collector.docs(trace_id):

            def visit(entity: dict, parent_id: str | None, trace_id: str = trace_id) -> None:
                node = _node(entity, trace_id)
                if entity["id"] in nodes:  # an in-progress copy streamed earlier: the newer wins
                    node["children"] = nodes[entity["id"]]["children"]
                nodes[entity["id"]] = node
                parents[entity["id"]] = parent_id
                for child in entity.get("subsegments") or ():
                    visit(child, entity["id"])

            visit(doc, doc.get("parent_id"))
    for node in nodes.values():
        node["children"] = []
    roots = []
    for node_id, node in nodes.items():
        parent = nodes.get(parents.get(node_id) or "")
        (parent["children"] if parent else roots).append(node)
    key = lambda n: n["start_time"] or 0  # noqa: E731
    for node in nodes.values():
        node["children"].sort(key=key)
    roots.sort(key=key)
    docs = [d for tid in trace_ids for d in collector.docs(tid)]
    return {
        "trace_ids": trace_ids,
        "correlation_ids": _correlations(docs),
        "services": sorted({n["name"] for n in nodes.values() if n["kind"] == "AWS::Lambda::Function"}),
        "segments": len(nodes),
        "roots": roots,
    }


def summary(trace_id: str, docs: list[dict]) -> dict:
    segments = [d for d in docs if d.get("type") != "subsegment"]
    starts = [d["start_time"] for d in docs if d.get("start_time")]
    ends = [d["end_time"] for d in docs if d.get("end_time")]
    first = min(segments or docs, key=lambda d: d.get("start_time") or 0)
    return {
        "trace_id": trace_id,
        "correlation_ids": _correlations(docs),
        "entry": first.get("name"),
        "start_time": min(starts) if starts else None,
        "duration_ms": round((max(ends) - min(starts)) * 1000, 1) if starts and ends else None,
        "functions": sorted({d["name"] for d in segments if d.get("origin") == "AWS::Lambda::Function"}),
        "documents": len(docs),
    }


def render(tree: dict) -> str:
    """The tree as text: one line per segment, SQL subsegments folded into a count."""
    roots = tree["roots"]
    if not roots:
        return "no trace found\n"
    t0 = min(n["start_time"] or 0 for n in roots)
    lines = [f"trace {', '.join(tree['trace_ids'])}   correlation {', '.join(tree['correlation_ids']) or '-'}"]

    def label(n: dict) -> str:
        bits = [n["name"]]
        kind = {"AWS::Lambda::Function": "lambda", "AWS::ApiGateway::Stage": "api gateway"}.get(n["kind"])
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
    trace: str,
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
    """Record a segment written by the platform (API Gateway's, or Lambda's per invocation)."""
    fields = parse(trace)
    if _active is None or not sampled(trace):
        return
    doc = {
        "name": name,
        "id": seg_id,
        "trace_id": fields["Root"],
        "start_time": start,
        "end_time": end,
        "origin": origin,
        "fault": fault,
        "error": error,
    }
    if fields.get("Parent"):
        doc["parent_id"] = fields["Parent"]
    if http:
        doc["http"] = http
    if annotations:
        doc["annotations"] = annotations
    record(doc)


def enabled() -> bool:
    return _active is not None and os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() != "true"
