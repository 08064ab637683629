"""An in-memory OpenSearch behind opensearch-py's own client, for Reporting's tests.

`FakeCluster` records every request (method, path, params, parsed body) and answers in
OpenSearch's response shapes. It interprets only the subset of the query DSL that
functions/reporting/search/opensearch.py emits: bool (filter, must, should with
minimum_should_match, must_not), term, range, match with operator, sort with search_after,
size, and a terms aggregation with a sum sub-aggregation; a strict mapping refuses unknown
fields. Anything else fails the test loudly instead of being guessed at.

The client is real: requests are serialised by opensearch-py and answers deserialised by
it, only the HTTP connection (`FakeConnection`) is replaced.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from opensearchpy import Connection, OpenSearch


def tokens(text: str | None) -> list[str]:
    """Roughly the standard analyzer: lower-case words (letters and digits)."""
    return re.findall(r"\w+", (text or "").lower())


def _nanos(value: str) -> int:
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000


class FakeCluster:
    def __init__(self) -> None:
        self.indices: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict, Any]] = []

    # -- HTTP ------------------------------------------------------------------------------
    def handle(self, method: str, path: str, params: dict, body: bytes | str | None) -> tuple[int, Any]:
        text = body.decode() if isinstance(body, bytes) else body
        if path.endswith("/_bulk"):
            parsed = [json.loads(line) for line in (text or "").splitlines() if line.strip()]
        else:
            parsed = json.loads(text) if text else None
        self.requests.append((method, path, dict(params or {}), parsed))
        parts = [p for p in path.split("/") if p]
        if parts == ["_bulk"]:
            return self._bulk(parsed)
        name = parts[0]
        if len(parts) == 1:
            return {"HEAD": self._exists, "PUT": self._create, "DELETE": self._delete}[method](name, parsed)
        if parts[1] == "_search":
            return self._search(name, parsed)
        if parts[1] == "_refresh":
            return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
        raise AssertionError(f"the fake does not serve {method} {path}")

    @staticmethod
    def _error(status: int, kind: str, reason: str) -> tuple[int, dict]:
        return status, {
            "error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind, "reason": reason},
            "status": status,
        }

    def _exists(self, name, _):
        return (200, None) if name in self.indices else (404, None)

    def _create(self, name, body):
        if name in self.indices:
            return self._error(400, "resource_already_exists_exception", f"index [{name}] already exists")
        self.indices[name] = {"body": body, "docs": {}}
        return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}

    def _delete(self, name, _):
        if self.indices.pop(name, None) is None:
            return self._error(404, "index_not_found_exception", f"no such index [{name}]")
        return 200, {"acknowledged": True}

    def _bulk(self, lines):
        items, errors = [], False
        for action, source in zip(lines[::2], lines[1::2], strict=False):
            ((op, meta),) = action.items()
            assert op == "index", f"the fake only indexes, got {op}"
            index = self.indices.get(meta["_index"])
            fields = index["body"]["mappings"]["properties"] if index else {}
            unknown = sorted(set(source) - set(fields))
            if index is None or unknown:
                errors = True
                kind = "index_not_found_exception" if index is None else "strict_dynamic_mapping_exception"
                items.append(
                    {
                        "index": {
                            "_index": meta["_index"],
                            "_id": meta["_id"],
                            "status": 404 if index is None else 400,
                            "error": {"type": kind, "reason": f"fields {unknown}"},
                        }
                    }
                )
                continue
            created = meta["_id"] not in index["docs"]
            index["docs"][meta["_id"]] = source
            items.append(
                {
                    "index": {
                        "_index": meta["_index"],
                        "_id": meta["_id"],
                        "_version": 1,
                        "result": "created" if created else "updated",
                        "status": 201 if created else 200,
                    }
                }
            )
        return 200, {"took": 1, "errors": errors, "items": items}

    # -- search ----------------------------------------------------------------------------
    def _search(self, name, body):
        if name not in self.indices:
            return self._error(404, "index_not_found_exception", f"no such index [{name}]")
        fields = self.indices[name]["body"]["mappings"]["properties"]
        allowed = {"size", "query", "sort", "search_after", "aggs", "track_total_hits"}
        assert set(body) <= allowed, f"the fake does not interpret {set(body) - allowed}"
        docs = [(i, d) for i, d in self.indices[name]["docs"].items() if self._matches(d, body["query"], fields)]
        order = [next(iter(s.items())) for s in body["sort"]]

        def sort_values(doc):
            return [_nanos(doc[f]) if fields[f]["type"].startswith("date") else doc[f] for f, _ in order]

        def key(values):
            return tuple(
                _Desc(v) if spec["order"] == "desc" else v for v, (_, spec) in zip(values, order, strict=False)
            )

        ranked = sorted(((sort_values(d), i, d) for i, d in docs), key=lambda t: key(t[0]))
        if "search_after" in body:
            after = key(body["search_after"])
            ranked = [t for t in ranked if key(t[0]) > after]
        hits = [
            {"_index": name, "_id": i, "_score": None, "_source": d, "sort": v}
            for v, i, d in ranked[: body.get("size", 10)]
        ]
        response = {
            "took": 1,
            "timed_out": False,
            "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {"max_score": None, "hits": hits},
        }
        if body.get("aggs"):
            response["aggregations"] = self._aggs(body["aggs"], [d for _, d in docs])
        return 200, response

    def _matches(self, doc: dict, clause: dict, fields: dict) -> bool:
        ((kind, spec),) = clause.items()
        if kind == "bool":
            assert set(spec) <= {"filter", "must", "should", "must_not", "minimum_should_match"}, spec
            required = spec.get("filter", []) + spec.get("must", [])
            if not all(self._matches(doc, c, fields) for c in required):
                return False
            if any(self._matches(doc, c, fields) for c in spec.get("must_not", [])):
                return False
            should = spec.get("should", [])
            least = spec.get("minimum_should_match", 0 if required else 1)
            return not should or sum(self._matches(doc, c, fields) for c in should) >= least
        ((field, value),) = spec.items()
        assert field in fields, f"query on an unmapped field {field}"
        if kind == "term":
            assert fields[field]["type"] in ("keyword", "long"), f"term on a {fields[field]['type']} field"
            return doc.get(field) == value
        if kind == "range":
            if doc.get(field) is None:
                return False
            conv = _nanos if fields[field]["type"].startswith("date") else int
            have = conv(doc[field])
            ops = {
                "gte": lambda a, b: a >= b,
                "gt": lambda a, b: a > b,
                "lte": lambda a, b: a <= b,
                "lt": lambda a, b: a < b,
            }
            return all(ops[op](have, conv(bound)) for op, bound in value.items())
        if kind == "match":
            assert fields[field]["type"] == "text", "match on a non-text field"
            wanted, have = set(tokens(value["query"])), set(tokens(doc.get(field)))
            return wanted <= have if value.get("operator", "or") == "and" else bool(wanted & have)
        raise AssertionError(f"the fake does not interpret {kind}")

    @staticmethod
    def _aggs(aggs: dict, docs: list[dict]) -> dict:
        out = {}
        for name, spec in aggs.items():
            terms, subs = spec["terms"], spec.get("aggs", {})
            groups: dict[str, list[dict]] = {}
            for d in docs:
                groups.setdefault(d[terms["field"]], []).append(d)
            buckets = []
            for value, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))[: terms["size"]]:
                bucket = {"key": value, "doc_count": len(members)}
                for sub, sub_spec in subs.items():
                    bucket[sub] = {"value": float(sum(m[sub_spec["sum"]["field"]] for m in members))}
                buckets.append(bucket)
            out[name] = {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": buckets}
        return out


class _Desc:
    """Reverses the order of a sort value."""

    def __init__(self, v):
        self.v = v

    def __lt__(self, other):
        return self.v > other.v

    def __gt__(self, other):
        return self.v < other.v

    def __eq__(self, other):
        return self.v == other.v


class FakeConnection(Connection):
    cluster: FakeCluster

    def perform_request(self, method, url, params=None, body=None, timeout=None, ignore=(), headers=None):
        status, data = self.cluster.handle(method, url, params or {}, body)
        raw = "" if data is None else json.dumps(data)
        if not 200 <= status < 300 and status not in ignore and method != "HEAD":
            self._raise_error(status, raw, "application/json")
        return status, {"content-type": "application/json"}, raw


def client(cluster: FakeCluster) -> OpenSearch:
    connection = type("ClusterConnection", (FakeConnection,), {"cluster": cluster})
    return OpenSearch(hosts=[{"host": "fake-opensearch", "port": 9200}], connection_class=connection)
