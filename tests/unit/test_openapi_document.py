"""The OpenAPI documents: each module's (served at /api/<module>/docs) and the combined one
(docs/openapi.json, `make openapi`), which the Python client in examples/client is generated from."""

from __future__ import annotations

import json
import re

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from finflow.config import settings
from functions import catalog
from tools import openapi

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def modules() -> dict[str, dict]:
    return {m.key: openapi.module_document(m.key) for m in catalog.MODULES}


@pytest.fixture(scope="module")
def combined(modules) -> dict:
    return openapi.merge(modules)


def operations(doc: dict):
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def test_the_committed_document_is_what_the_code_generates():
    committed = openapi.OUTPUT.read_text()
    assert committed == openapi.render(), "docs/openapi.json is out of date: run `make openapi` and commit it"


def test_the_combined_document_is_valid_openapi_3_1(combined):
    assert combined["openapi"].startswith("3.1")
    errors = [e.message for e in OpenAPIV31SpecValidator(combined).iter_errors()]
    assert errors == []


def test_every_operation_has_a_stable_id_named_after_its_module(modules):
    seen: dict[str, str] = {}
    for key, doc in modules.items():
        for method, path, op in operations(doc):
            op_id = op.get("operationId", "")
            # explicit (operation_id=): Powertools' generated ids start with the function's name
            assert re.fullmatch(rf"{key}_[a-z0-9_]+", op_id), f"{method} {path}: {op_id!r}"
            assert op_id not in seen, f"{op_id} names both {seen[op_id]} and {method} {path}"
            seen[op_id] = f"{method} {path}"
            assert op["tags"] == [key] and op.get("summary"), f"{method} {path}"


def test_only_the_catalogs_public_routes_go_without_the_bearer_token(modules):
    for key, doc in modules.items():
        assert doc["components"]["securitySchemes"][openapi.BEARER] == {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": doc["components"]["securitySchemes"][openapi.BEARER]["description"],
        }
        public = set(catalog.public_routes(catalog.module(key)))
        for method, path, op in operations(doc):
            security = op.get("security", doc["security"])
            assert (security == []) == ((method, path) in public), f"{method} {path}: {security}"
            assert security in ([], [{openapi.BEARER: []}])


def test_modules_have_their_own_title_and_version(modules):
    for key, doc in modules.items():
        assert doc["info"]["title"] == f"FinFlow {catalog.module(key).name} API"
        assert doc["info"]["version"] == openapi.API_VERSION and doc["info"]["description"]


def test_the_combined_document_has_every_public_path_and_no_internal_one(modules, combined):
    assert not [p for p in combined["paths"] if "/internal/" in p]
    expected = {p for doc in modules.values() for p in doc["paths"] if openapi.public(p)}
    assert set(combined["paths"]) == expected
    assert [t["name"] for t in combined["tags"]] == [m.key for m in catalog.MODULES]
    assert combined["security"] == [{openapi.BEARER: []}]


def test_payments_document_the_idempotency_key_amounts_and_page_limits(combined):
    for route in ("transfer", "deposit", "withdraw"):
        op = combined["paths"][f"/api/payment/{route}"]["post"]
        (header,) = [p for p in op["parameters"] if p["name"] == "Idempotency-Key"]
        assert header["in"] == "header" and header["schema"]["maxLength"] == 255 and not header["required"]
        assert f"{settings().max_amount:,}" in op["description"]
    limits = [
        p["schema"]
        for _, _, op in operations(combined)
        for p in op.get("parameters", [])
        if p["name"] == "limit" and p["schema"].get("type") == "integer"
    ]
    assert len(limits) >= 4  # payments, notifications, KYC submissions and AML alerts at least
    assert all((s["minimum"], s["maximum"]) == (1, settings().page_size_max) for s in limits)


def test_every_operation_documents_the_503_a_client_retries_and_when(combined):
    # a database restart or Secrets Manager not answering is a 503 on any route (never a 500 or a
    # 502), and 429/503 both say in Retry-After how long to wait: a generated client must know both.
    # Health answers its own 503 (a degraded dependency, in the health body) and is left out.
    for method, path, op in operations(combined):
        if path.endswith("/health"):
            continue
        for code in ("429", "503"):
            answer = op["responses"].get(code)
            assert answer, f"{method} {path} does not document {code}"
            assert "application/problem+json" in answer["content"], f"{method} {path} {code}"
            assert answer["headers"]["Retry-After"]["schema"]["type"] == "integer", f"{method} {path} {code}"


def test_a_schema_name_two_modules_use_differently_is_kept_for_both():
    one = {"type": "object", "properties": {"a": {"type": "string"}}}
    other = {"type": "object", "properties": {"b": {"type": "integer"}}}

    def doc(schema: dict, path: str) -> dict:
        ref = {"$ref": "#/components/schemas/Thing"}
        op = {"responses": {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}}}
        return {"paths": {path: {"get": op}}, "components": {"schemas": {"Thing": schema}}}

    merged = openapi.merge({"auth": doc(one, "/api/auth/x"), "wallet": doc(other, "/api/wallet/x")})
    assert merged["components"]["schemas"] == {"Thing": one, "WalletThing": other}
    body = merged["paths"]["/api/wallet/x"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/WalletThing"}
    assert json.dumps(merged)  # serialisable as written to docs/openapi.json


def test_the_devservers_gateway_serves_the_document_and_its_swagger_ui():
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from devserver.gateway import Gateway

    def get(path: str):
        return Gateway(pools={}).handle(Request(EnvironBuilder(path=path, method="GET").get_environ()))

    served = get("/openapi.json")
    assert served.status_code == 200 and served.get_data() == openapi.OUTPUT.read_bytes()
    page = get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert b"SwaggerUIBundle" in page.get_data() and b"payment_transfer" in page.get_data()
