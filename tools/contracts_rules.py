"""Breaking-change rules over JSON Schema and OpenAPI, and whether a reader accepts a shape.

Two questions, both answered on the schemas FinFlow generates (pydantic's JSON Schema and
Powertools' OpenAPI 3.1: objects, `required`, types, `anyOf` with null, `enum`/`const`,
`format`, arrays, `$ref`):

- `diff` / `diff_openapi`: what changed between two versions of a producer's contract, each
  change named by a rule after oasdiff's checks (`response-property-removed`,
  `response-property-type-changed`, `request-property-enum-value-removed`, ...) and classified
  breaking or compatible. Which way a change breaks depends on who writes the value: a
  producer's output (an event, a response, the token) may not widen what readers get; a
  request (the caller writes, the callee reads) may not narrow what the callee accepts.
- `accepts`: can a reader, whose contract is `reader`, read every value `producer` allows?
  One line per field that it cannot, with the reason. This is what decides which readers a
  breaking change reaches, and whether a deployed reader accepts a new producer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Resolve = Callable[[dict], dict]
SUCCESS = ("200", "201", "202", "204")


@dataclass(frozen=True)
class Change:
    rule: str
    path: str  # "amount_minor", "entries[].wallet_id", "POST /api/wallet/internal/postings 201 amount_minor"
    breaking: bool
    detail: str

    def __str__(self) -> str:
        return f"{'breaking' if self.breaking else 'compatible'}  {self.rule}  {self.path}: {self.detail}"


def resolver(root: dict) -> Resolve:
    """Follows local $refs (`#/$defs/X`, `#/components/schemas/X`) within `root`."""

    def resolve(node: dict) -> dict:
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            target: object = root
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]  # type: ignore[index]
            node, seen = target, seen + 1  # type: ignore[assignment]
            if seen > 50:
                raise ValueError(f"$ref cycle at {node}")
        return node

    return resolve


def branches(node: dict, resolve: Resolve) -> list[dict]:
    """The alternatives a value of `node` may be (anyOf/oneOf flattened, refs followed)."""
    node = resolve(node)
    union = node.get("anyOf") or node.get("oneOf")
    if union:
        return [b for sub in union for b in branches(sub, resolve)]
    if isinstance(node.get("allOf"), list) and len(node["allOf"]) == 1:
        return branches(node["allOf"][0], resolve)
    types = node.get("type")
    if isinstance(types, list):  # {"type": ["string", "null"]}
        return [{**node, "type": t} for t in types]
    return [node]


def type_of(node: dict) -> str:
    if "type" in node:
        return node["type"]
    if "properties" in node:
        return "object"
    values = node.get("enum") or ([node["const"]] if "const" in node else None)
    if values:
        return {str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}.get(
            type(values[0]), "any"
        )
    return "any"


def enum_of(node: dict) -> set | None:
    if "enum" in node:
        return set(node["enum"])
    if "const" in node:
        return {node["const"]}
    return None


def _label(node: dict) -> str:
    t = type_of(node)
    fmt = f" ({node['format']})" if "format" in node else ""
    values = enum_of(node)
    return f"{t}{fmt}" + (f" {sorted(map(str, values))}" if values is not None else "")


def _fits(p: dict, r: dict) -> bool:
    pt, rt = type_of(p), type_of(r)
    return rt == "any" or pt == rt or (pt == "integer" and rt == "number")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# --- does a reader accept a producer's shape? ------------------------------------------


def accepts(reader: dict, producer: dict, r_resolve: Resolve, p_resolve: Resolve, path: str = "") -> list[str]:
    """Every field where a value valid for `producer` may not be valid for `reader`:
    "<field>: <why>". Empty when the reader can read everything the producer may send."""
    problems: list[str] = []
    readers = branches(reader, r_resolve)
    for p in branches(producer, p_resolve):
        best: list[str] | None = None
        for r in readers:
            found = _accepts_one(r, p, r_resolve, p_resolve, path)
            if not found:
                best = []
                break
            best = found if best is None or len(found) < len(best) else best
        problems += best or []
    return problems


def _accepts_one(r: dict, p: dict, r_resolve: Resolve, p_resolve: Resolve, path: str) -> list[str]:
    at = path or "<value>"
    if type_of(r) == "any":
        return []
    if type_of(p) == "any":
        return [f"{at}: may be anything, reads {_label(r)}"]
    if not _fits(p, r):
        return [f"{at}: is {_label(p)}, reads {_label(r)}"]
    if "format" in r and p.get("format") != r["format"]:
        return [f"{at}: is {_label(p)}, reads {_label(r)}"]
    r_enum, p_enum = enum_of(r), enum_of(p)
    if r_enum is not None:
        if p_enum is None:
            return [f"{at}: may be any {type_of(p)}, reads only {sorted(map(str, r_enum))}"]
        if extra := p_enum - r_enum:
            return [f"{at}: may be {sorted(map(str, extra))}, reads only {sorted(map(str, r_enum))}"]
    problems: list[str] = []
    if type_of(r) == "object":
        p_props, r_props = p.get("properties") or {}, r.get("properties") or {}
        p_req, r_req = set(p.get("required") or ()), set(r.get("required") or ())
        for name, r_node in r_props.items():
            where = _join(path, name)
            if name not in p_props:
                if name in r_req:
                    problems.append(f"{where}: missing")
                continue
            if name in r_req and name not in p_req:
                problems.append(f"{where}: may be absent, reads it as required")
                continue
            problems += accepts(r_node, p_props[name], r_resolve, p_resolve, where)
    if type_of(r) == "array" and "items" in r:
        problems += accepts(r["items"], p.get("items") or {}, r_resolve, p_resolve, f"{path}[]")
    return problems


# --- what changed between two versions of a producer's schema -----------------------------


def diff(
    old: dict, new: dict, old_resolve: Resolve, new_resolve: Resolve, *, output: bool, path: str = ""
) -> list[Change]:
    """Changes from `old` to `new`. `output`: the producer writes values of it (events,
    responses, the token); otherwise the other side writes and the producer reads (requests)."""
    kind = "response" if output else "request"
    changes: list[Change] = []
    olds, news = branches(old, old_resolve), branches(new, new_resolve)
    o_types, n_types = {type_of(b) for b in olds}, {type_of(b) for b in news}
    where = path or "<body>"
    if "any" not in o_types and o_types != n_types:
        added, removed = n_types - o_types, o_types - n_types
        if added == {"null"} and not removed:
            rule = f"{kind}-property-became-nullable"
        else:
            rule = f"{kind}-property-type-changed"
        # an output may not send a type readers never got; an input may not refuse one callers send
        breaking = bool(added) if output else bool(removed)
        if "integer" in o_types and "number" in n_types and not output and not removed - {"integer"}:
            breaking = False
        changes.append(Change(rule, where, breaking, f"{'|'.join(sorted(o_types))} -> {'|'.join(sorted(n_types))}"))
    # compare the branches of the same type: format, enum, properties, items
    for t in sorted(o_types & n_types):
        o = next(b for b in olds if type_of(b) == t)
        n = next(b for b in news if type_of(b) == t)
        changes += _same_type(o, n, old_resolve, new_resolve, output, path)
    return changes


def _same_type(o: dict, n: dict, old_resolve: Resolve, new_resolve: Resolve, output: bool, path: str) -> list[Change]:
    kind = "response" if output else "request"
    where = path or "<body>"
    changes: list[Change] = []
    if o.get("format") != n.get("format"):
        changes.append(
            Change(
                f"{kind}-property-format-changed",
                where,
                True,
                f"{o.get('format', 'none')} -> {n.get('format', 'none')}",
            )
        )
    o_enum, n_enum = enum_of(o), enum_of(n)
    if o_enum is not None or n_enum is not None:
        added = (n_enum or set()) - (o_enum or set()) if n_enum is not None else {"(any value)"}
        removed = (o_enum or set()) - (n_enum or set()) if o_enum is not None else {"(any value)"}
        if added and (o_enum is not None):
            changes.append(
                Change(f"{kind}-property-enum-value-added", where, output, f"adds {sorted(map(str, added))}")
            )
        if removed and (n_enum is not None):
            changes.append(
                Change(f"{kind}-property-enum-value-removed", where, not output, f"removes {sorted(map(str, removed))}")
            )
    if type_of(o) == "object":
        o_props, n_props = o.get("properties") or {}, n.get("properties") or {}
        o_req, n_req = set(o.get("required") or ()), set(n.get("required") or ())
        for name in sorted(o_props.keys() - n_props.keys()):
            # an output's readers may read it; an input's callers may still send it (ignored)
            changes.append(Change(f"{kind}-property-removed", _join(path, name), output, "removed"))
        for name in sorted(n_props.keys() - o_props.keys()):
            required = name in n_req
            rule = f"new-required-{kind}-property" if required and not output else f"{kind}-property-added"
            changes.append(Change(rule, _join(path, name), required and not output, "added"))
        for name in sorted(o_props.keys() & n_props.keys()):
            was, now = name in o_req, name in n_req
            if was and not now:
                changes.append(
                    Change(f"{kind}-property-became-optional", _join(path, name), output, "no longer required")
                )
            elif now and not was:
                changes.append(
                    Change(f"{kind}-property-became-required", _join(path, name), not output, "now required")
                )
            changes += diff(
                o_props[name], n_props[name], old_resolve, new_resolve, output=output, path=_join(path, name)
            )
    if type_of(o) == "array":
        changes += diff(
            o.get("items") or {}, n.get("items") or {}, old_resolve, new_resolve, output=output, path=f"{path}[]"
        )
    return changes


# --- OpenAPI documents -------------------------------------------------------------------

METHODS = ("get", "put", "post", "delete", "patch")


def operations(doc: dict) -> dict[str, dict]:
    """{"METHOD /path": operation} of a document."""
    return {f"{m.upper()} {p}": item[m] for p, item in doc.get("paths", {}).items() for m in METHODS if m in item}


def _json_schema(content: dict | None) -> dict | None:
    media = (content or {}).get("application/json")
    return media.get("schema") if media else None


def diff_openapi(old: dict, new: dict) -> list[Change]:
    """oasdiff's operation-level rules, then the bodies' schemas with `diff`."""
    o_ops, n_ops = operations(old), operations(new)
    o_res, n_res = resolver(old), resolver(new)
    changes: list[Change] = []
    for op in sorted(o_ops.keys() - n_ops.keys()):
        changes.append(Change("api-operation-removed", op, True, "the route is gone"))
    for op in sorted(n_ops.keys() - o_ops.keys()):
        changes.append(Change("api-operation-added", op, False, "a new route"))
    for op in sorted(o_ops.keys() & n_ops.keys()):
        o, n = o_ops[op], n_ops[op]
        o_params = {(p["in"], p["name"]): p for p in map(o_res, o.get("parameters", []))}
        n_params = {(p["in"], p["name"]): p for p in map(n_res, n.get("parameters", []))}
        for key in sorted(n_params.keys() - o_params.keys()):
            required = bool(n_params[key].get("required"))
            rule = "new-required-request-parameter" if required else "new-optional-request-parameter"
            changes.append(Change(rule, f"{op} {key[0]} {key[1]}", required, "added"))
        for key in sorted(o_params.keys() - n_params.keys()):
            changes.append(Change("request-parameter-removed", f"{op} {key[0]} {key[1]}", False, "removed"))
        for key in sorted(o_params.keys() & n_params.keys()):
            if n_params[key].get("required") and not o_params[key].get("required"):
                changes.append(
                    Change("request-parameter-became-required", f"{op} {key[0]} {key[1]}", True, "now required")
                )
            changes += diff(
                o_params[key].get("schema") or {},
                n_params[key].get("schema") or {},
                o_res,
                n_res,
                output=False,
                path=f"{op} {key[0]} {key[1]}",
            )
        o_body, n_body = o_res(o.get("requestBody") or {}), n_res(n.get("requestBody") or {})
        if n_body.get("required") and not o_body.get("required"):
            changes.append(Change("request-body-became-required", op, True, "a body is now required"))
        if (os_ := _json_schema(o_body.get("content"))) and (ns := _json_schema(n_body.get("content"))):
            changes += diff(os_, ns, o_res, n_res, output=False, path=f"{op} body")
        o_resp, n_resp = o.get("responses", {}), n.get("responses", {})
        for status in sorted(o_resp.keys() - n_resp.keys()):
            success = status in SUCCESS
            rule = "response-success-status-removed" if success else "response-non-success-status-removed"
            changes.append(Change(rule, f"{op} {status}", success, "no longer answered"))
        for status in sorted(n_resp.keys() - o_resp.keys()):
            changes.append(Change("response-status-added", f"{op} {status}", False, "a new answer"))
        for status in sorted(o_resp.keys() & n_resp.keys()):
            os_ = _json_schema(o_res(o_resp[status]).get("content"))
            ns = _json_schema(n_res(n_resp[status]).get("content"))
            if os_ and not ns:
                changes.append(Change("response-media-type-removed", f"{op} {status}", True, "no JSON body any more"))
            elif os_ and ns:
                changes += diff(os_, ns, o_res, n_res, output=True, path=f"{op} {status}")
    return changes
