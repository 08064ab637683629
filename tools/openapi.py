"""The whole public API as ONE OpenAPI 3.1 document: `make openapi` writes docs/openapi.json.

Each module documents its own routes (its resolver, functions/<module>/api.py); this merges
the six in the catalog's order: every path the gateway serves, the modules' tags, one bearer
security scheme and their component schemas. Left out: internal routes (`/internal/`, for
services only) and the bare `/health` each seed port answers for itself. A schema name two
modules use for different shapes is prefixed with its module, so no component is lost.

`python -m tools.openapi --check` exits non-zero when the committed file is not what the code
generates (the test runs the same comparison).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from finflow.http import API_VERSION, BEARER
from functions import catalog

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "openapi.json"
REF = "#/components/schemas/"
LOCAL = f"http://127.0.0.1:{catalog.GATEWAY_PORT}"


def module_document(key: str) -> dict:
    app = importlib.import_module(f"functions.{key}.api").app
    return json.loads(app.get_openapi_json_schema())


def public(path: str) -> bool:
    return "/internal/" not in path and path != "/health"


def _renamed(value, names: dict[str, str]):
    """`value` with every $ref to a renamed schema pointing at its new name."""
    if isinstance(value, dict):
        return {
            k: (
                REF + names.get(v[len(REF) :], v[len(REF) :])
                if k == "$ref" and v.startswith(REF)
                else _renamed(v, names)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_renamed(v, names) for v in value]
    return value


def merge(documents: dict[str, dict]) -> dict:
    paths: dict[str, dict] = {}
    schemas: dict[str, dict] = {}
    tags: list[dict] = []
    schemes: dict[str, dict] = {}
    for key, doc in documents.items():
        own = doc.get("components", {}).get("schemas", {})
        # a name already taken by another shape gets the module's prefix, here and in every $ref
        names = {
            name: f"{key.capitalize()}{name}"
            for name, schema in own.items()
            if name in schemas and _renamed(schema, {}) != schemas[name]
        }
        for name, schema in own.items():
            schema = _renamed(schema, names)
            if name in names and "title" in schema:
                schema["title"] = names[name]  # client generators name models by their title
            schemas.setdefault(names.get(name, name), schema)
        for path, item in doc["paths"].items():
            if not public(path):
                continue
            if path in paths:
                raise ValueError(f"{path} is documented by two modules")
            paths[path] = _renamed(item, names)
        tags += [t for t in doc.get("tags", []) if t not in tags]
        schemes |= doc.get("components", {}).get("securitySchemes", {})
    used = _refs(paths)
    while extra := _refs([schemas[n] for n in used if n in schemas]) - used:
        used |= extra  # schemas referenced only from other schemas
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "FinFlow API",
            "version": API_VERSION,
            "description": (
                "Every module of FinFlow behind one gateway: authentication, wallets, payments, notifications, "
                "KYC/AML and reporting. Errors are RFC 9457 problem+json (clients read `detail`); amounts are "
                "decimal strings in the currency's exponent; ids are opaque UUIDs. Every route but the public ones "
                "(register, login, refresh, token, JWKS, health, docs) takes `Authorization: Bearer <token>`."
            ),
        },
        "servers": [
            {"url": LOCAL, "description": "make dev: the devserver's gateway"},
            {
                "url": "https://{api_id}.execute-api.{region}.amazonaws.com/{stage}",
                "description": "a deployed stage (make deploy)",
                "variables": {
                    "api_id": {"default": "api-id", "description": "the REST API's id (stack output)"},
                    "region": {"default": "us-east-1"},
                    "stage": {"default": "dev"},
                },
            },
        ],
        "security": [{BEARER: []}],
        "tags": tags,
        "paths": paths,
        "components": {"schemas": {n: schemas[n] for n in sorted(used)}, "securitySchemes": schemes},
    }


def _refs(value) -> set[str]:
    if isinstance(value, dict):
        found = {value["$ref"][len(REF) :]} if str(value.get("$ref", "")).startswith(REF) else set()
        return found.union(*(_refs(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value))
    return set()


def document() -> dict:
    return merge({m.key: module_document(m.key) for m in catalog.MODULES})


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/openapi.json is not up to date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    doc = json.loads(text)
    ops = sum(1 for item in doc["paths"].values() for _ in item)
    print(f"{OUTPUT.relative_to(ROOT)}: {len(doc['paths'])} paths, {ops} operations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
