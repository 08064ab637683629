"""Every contract that crosses a module boundary, written down from the code: `make contracts`.

    contracts/index.json          every contract: kind, producer, version, its file, its readers and their code
    contracts/readers.json        what each reader reads of each contract (its reader model's JSON Schema,
                                  the routes it calls, the refusal codes it acts on)
    contracts/http/<module>.json  the module's OpenAPI document, internal routes included
    contracts/views/<Name>.json   the synchronous views (finflow.contracts.producers)
    contracts/token/AccessToken.json  the access token's claims (finflow.contracts.token)
    contracts/refusals/<callee>.json  the problem codes a callee answers, with their statuses
    events/schemas/<DetailType>.json  the events (`make schemas`, tools/schemas.py)

`python -m tools.contracts --check` exits 1 when a committed file is not what the code
generates (the contract tests run the same comparison). `make contracts-check` compares these
with another commit's, tools/contracts_check.py.
"""

from __future__ import annotations

import ast
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from finflow import contracts
from finflow.contracts import calls
from finflow.contracts.token import AccessToken, token_readers
from finflow.contracts.versions import version
from functions import catalog
from tools import schemas

ROOT = Path(__file__).resolve().parents[1]
DIR = ROOT / "contracts"
CLIENTS = "clients"  # the public API's readers outside FinFlow, represented by examples/client
TOKEN = "token/AccessToken"
LIB = "layers/common/python/finflow"


def render(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def model_schema(model) -> dict:
    return model.model_json_schema(mode="serialization")


def reader_code(reader: str, cid: str) -> list[str]:
    """Where a reader's code lives: a change there counts as the reader changing."""
    if reader == "authorizer":
        return ["functions/auth/authorizer.py", f"{LIB}/token_check.py", f"{LIB}/tokens.py"]
    if reader == CLIENTS:
        return ["examples/client/"]
    code = [f"functions/{reader}/"]
    if cid == TOKEN:
        code += [f"{LIB}/token_check.py", f"{LIB}/http.py", f"{LIB}/problems.py"]
    return code


# --- refusal codes, read from the callee's source ------------------------------------------


def refusal_codes(module: str) -> dict[str, list[int]]:
    """{code: [statuses]} of every problem the module raises: `Problem(status, ..., code=...)`,
    Wallet's `refused(status, code, ...)`, a Problem without a code as its title's code; an
    f-string code is a pattern (`wallet-*`)."""
    found: dict[str, set[int]] = {}
    for path in sorted((ROOT / "functions" / module).glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            status = node.args[0]
            if name not in ("Problem", "refused") or not isinstance(status, ast.Constant):
                continue
            code = next((k.value for k in node.keywords if k.arg == "code"), None)
            if name == "refused" and len(node.args) > 1:
                code = node.args[1]
            if not isinstance(status.value, int):
                continue
            text = _text(code) if code is not None else _title_code(status.value)
            if text:
                found.setdefault(text, set()).add(status.value)
    return {code: sorted(statuses) for code, statuses in sorted(found.items())}


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else "*" for v in node.values)
    return None


def _title_code(status: int) -> str | None:
    from finflow.http import _TITLES

    return _TITLES[status].lower().replace(" ", "-") if status in _TITLES else None


def acted_on(caller: str, callee: str) -> list[str]:
    return sorted({code for c in calls.CALLS if (c.caller, c.callee) == (caller, callee) for code in c.refusals})


# --- the set of contracts ------------------------------------------------------------------


@dataclass
class Contracts:
    """One version of every contract: the index, the readers' side and each producer's document."""

    index: dict[str, dict]
    readers: dict[str, dict[str, dict]]
    docs: dict[str, dict]

    def producer(self, cid: str) -> str:
        return self.index[cid]["producer"]


def _entry(kind: str, producer: str, cid: str, file: str, readers) -> dict:
    return {
        "kind": kind,
        "producer": producer,
        "version": version(cid),
        "file": file,
        "readers": {r: {"code": reader_code(r, cid)} for r in sorted(readers)},
    }


def generate() -> Contracts:
    from tools.openapi import module_document, public

    index: dict[str, dict] = {}
    readers: dict[str, dict[str, dict]] = {}
    docs: dict[str, dict] = {}

    def add(cid: str, kind: str, producer: str, file: str, doc: dict, reads: dict[str, dict]) -> None:
        index[cid] = _entry(kind, producer, cid, file, reads)
        docs[cid], readers[cid] = doc, reads

    for name in contracts.EVENTS:
        reads = {c: model_schema(m) for c, m in contracts.readers(name).items()}
        add(
            f"event/{name}",
            "event",
            schemas.producer_of(name),
            f"events/schemas/{name}.json",
            schemas.schema(name),
            reads,
        )
    for name, model in contracts.VIEWS.items():
        reads = {c: model_schema(m) for c, m in contracts.readers(name).items()}
        add(
            f"view/{name}",
            "view",
            contracts.SYNC_READS[name][0],
            f"contracts/views/{name}.json",
            model_schema(model),
            reads,
        )
    token_reads = {r: model_schema(m) for r, m in token_readers().items()}
    add(TOKEN, "token", "auth", "contracts/token/AccessToken.json", model_schema(AccessToken), token_reads)
    for m in catalog.MODULES:
        doc = module_document(m.key)
        http_reads: dict[str, dict] = {}
        for c in calls.into(m.key):
            route = http_reads.setdefault(c.caller, {"routes": {}})["routes"]
            route[c.route] = model_schema(getattr(contracts, c.reader)) if c.reader else None
        public_ops = sorted(
            f"{method.upper()} {path}" for path, item in doc["paths"].items() if public(path) for method in item
        )
        if public_ops:
            http_reads[CLIENTS] = {"public": public_ops}
        add(f"http/{m.key}", "http", m.key, f"contracts/http/{m.key}.json", doc, http_reads)
    for callee in calls.callees():
        codes = refusal_codes(callee)
        acting: dict[str, dict] = {}
        for caller in sorted({c.caller for c in calls.into(callee) if c.refusals}):
            acting[caller] = {"acts_on": {code: statuses_of(code, codes) for code in acted_on(caller, callee)}}
        if acting:
            add(f"refusals/{callee}", "refusals", callee, f"contracts/refusals/{callee}.json", codes, acting)
    return Contracts(index, readers, docs)


def statuses_of(code: str, codes: dict[str, list[int]]) -> list[int]:
    from fnmatch import fnmatchcase

    return sorted({s for pattern, statuses in codes.items() if fnmatchcase(code, pattern) for s in statuses})


def files(c: Contracts) -> dict[str, str]:
    """{path relative to the root: text} of every file `make contracts` writes (events are `make schemas`')."""
    out = {"contracts/index.json": render(c.index), "contracts/readers.json": render(c.readers)}
    for cid, entry in c.index.items():
        if entry["kind"] != "event":
            out[entry["file"]] = render(c.docs[cid])
    return out


def load(read) -> Contracts | None:
    """The contracts as written in some tree: `read(path)` gives a file's text or None."""
    index_text = read("contracts/index.json")
    if index_text is None:
        return None
    index = json.loads(index_text)
    readers = json.loads(read("contracts/readers.json") or "{}")
    docs = {}
    for cid, entry in index.items():
        text = read(entry["file"])
        docs[cid] = json.loads(text) if text is not None else {}
    return Contracts(index, readers, docs)


def _orphans(expected: dict[str, str]) -> list[Path]:
    """Files in contracts/ that no contract writes any more (a contract that no longer exists)."""
    return [p for p in DIR.rglob("*.json") if str(p.relative_to(ROOT)) not in expected]


def stale() -> list[str]:
    expected = files(generate())
    bad = [p for p, text in expected.items() if not (ROOT / p).exists() or (ROOT / p).read_text() != text]
    extra = [str(p.relative_to(ROOT)) for p in _orphans(expected)]
    return bad + extra + [str(p.relative_to(ROOT)) for p in schemas.stale()]


def write() -> list[str]:
    expected = files(generate())
    for p in _orphans(expected):
        p.unlink()
    for path, text in expected.items():
        target = ROOT / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    schemas.main([])
    return sorted(expected)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--check" in argv:
        bad = stale()
        for p in bad:
            print(f"stale: {p} (run `make contracts` and commit contracts/)", file=sys.stderr)
        return 1 if bad else 0
    for path in write():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
