"""The table of calls (finflow.contracts.calls) against the callees themselves: each row's
route is one the callee serves (its OpenAPI document), the caller's reader contract asks only
for what the route's response model has, and each refusal code is one the callee can emit."""

from __future__ import annotations

import importlib
import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from devserver.system import built_modules
from finflow import contracts
from finflow.contracts import calls
from finflow.http import _TITLES, COMMON_PROBLEMS

ROOT = Path(__file__).resolve().parents[2]
BUILT = {m.key for m in built_modules()}
ROWS = [c for c in calls.CALLS if c.callee in BUILT]


def _id(call: calls.Call) -> str:
    return f"{call.caller}-calls-{call.callee}:{call.route}"


def document(module: str) -> dict:
    app = importlib.import_module(f"functions.{module}.api").app
    return app.get_openapi_schema().model_dump(by_alias=True, exclude_none=True, mode="json")


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _objects(doc: dict, schema: dict) -> list[dict]:
    """The object schemas a value of `schema` may be (through refs, lists and unions)."""
    schema = _resolve(doc, schema)
    if "items" in schema:
        return _objects(doc, schema["items"])
    if "anyOf" in schema or "oneOf" in schema:
        return [o for s in schema.get("anyOf", schema.get("oneOf")) for o in _objects(doc, s)]
    return [schema] if schema.get("type") == "object" or "properties" in schema else []


def _nested(annotation) -> type[BaseModel] | None:
    """The model inside a field's type (`list[Entry]`, `Entry | None`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for arg in typing.get_args(annotation) if (m := _nested(arg)) is not None), None)


def missing_fields(doc: dict, model: type[BaseModel], schema: dict, at: str = "") -> list[str]:
    """Fields `model` reads that no object of `schema` has, recursively ("entries.wallet_id")."""
    objects = _objects(doc, schema)
    found = {name: prop for o in objects for name, prop in (o.get("properties") or {}).items()}
    missing = []
    for name, field in model.model_fields.items():
        if name not in found:
            missing.append(f"{at}{name}")
        elif (inner := _nested(field.annotation)) is not None:
            missing += missing_fields(doc, inner, found[name], f"{at}{name}.")
    return missing


def success_schemas(doc: dict, call: calls.Call) -> list[dict]:
    operation = doc["paths"][call.path][call.method.lower()]
    return [
        r["content"]["application/json"]["schema"]
        for status, r in operation["responses"].items()
        if status.startswith("2") and "application/json" in (r.get("content") or {})
    ]


def emittable_codes(module: str) -> list[re.Pattern]:
    """Problem codes the module's code can answer with: every `code=` given to a Problem (or to
    Wallet's posting refusal), f-strings as patterns, plus the code of each status it raises
    without one (the title's, `not-found`) and those every route may answer."""
    source = "\n".join(p.read_text() for p in (ROOT / "functions" / module).glob("*.py"))
    given = re.findall(r'code=(f?)"([^"]+)"', source) + re.findall(r'refused\(\s*\d{3},\s*(f?)"([^"]+)"', source)
    patterns = [re.escape(text) if not f else re.sub(r"\\\{[^}]*\\\}", "[a-z-]+", re.escape(text)) for f, text in given]
    statuses = {int(s) for s in re.findall(r"Problem\(\s*(\d{3})", source)} | set(COMMON_PROBLEMS) | {404}
    patterns += [re.escape(_TITLES[s].lower().replace(" ", "-")) for s in statuses if s in _TITLES]
    return [re.compile(p) for p in patterns]


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:
    return {key: document(key) for key in BUILT}


@pytest.mark.parametrize("call", ROWS, ids=_id)
def test_the_callee_serves_the_route(call, documents):
    paths = documents[call.callee]["paths"]
    assert call.method.lower() in paths.get(call.path, {}), (
        f"{call.callee} serves no {call.route}; its routes: {sorted(paths)}"
    )


@pytest.mark.parametrize("call", [c for c in ROWS if c.reader], ids=_id)
def test_the_reader_asks_only_for_what_the_route_answers(call, documents):
    doc = documents[call.callee]
    schemas = success_schemas(doc, call)
    assert schemas, f"{call.route} documents no JSON success answer for {call.reader}"
    model = getattr(contracts, call.reader)
    for schema in schemas:
        missing = missing_fields(doc, model, schema)
        assert not missing, f"{call.caller} reads {call.reader}.{missing} from {call.route}, which does not answer it"


@pytest.mark.parametrize("call", [c for c in ROWS if c.refusals], ids=_id)
def test_each_refusal_is_one_the_callee_can_emit(call):
    patterns = emittable_codes(call.callee)
    unknown = [code for code in call.refusals if not any(p.fullmatch(code) for p in patterns)]
    assert not unknown, f"{call.caller} acts on {unknown} from {call.route}, which {call.callee} never answers"


def test_the_checks_can_fail():
    class Reads(contracts.Contract):
        kind: str
        colour: str

    doc = {"components": {"schemas": {"R": {"type": "object", "properties": {"kind": {"type": "string"}}}}}}
    assert missing_fields(doc, Reads, {"$ref": "#/components/schemas/R"}) == ["colour"]
    assert not any(p.fullmatch("no-such-refusal") for p in emittable_codes("wallet"))
    assert any(p.fullmatch("wallet-closed") for p in emittable_codes("wallet"))  # f"wallet-{status}"
