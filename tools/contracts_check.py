"""Breaking contract changes between a base commit and the work tree: `make contracts-check [BASE=ref]`.

Each contract (tools/contracts.py) of BASE is compared with the work tree's: every change is
classified compatible or breaking (tools/contracts_rules.py), and each breaking one lists the
readers it reaches: those whose contract at BASE no longer accepts the new shape, field by
field. It fails unless every reached reader changed in the same range (its reader contract or
its code) and the contract's version was raised (finflow/contracts/versions.py).

BASE defaults to the last release tag (v*), else the merge base with main, else HEAD.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass, field

from tools import contracts_rules as rules
from tools.contracts import CLIENTS, ROOT, Contracts, generate, load, statuses_of


def git(*args: str) -> str | None:
    done = subprocess.run(["git", *args], check=False, cwd=ROOT, capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


def default_base() -> str:
    tag = git("describe", "--tags", "--abbrev=0", "--match", "v*")
    if tag:
        return tag.strip()
    merge_base = git("merge-base", "HEAD", "main")
    return merge_base.strip() if merge_base else "HEAD"


def at(ref: str) -> Contracts | None:
    return load(lambda path: git("show", f"{ref}:{path}"))


def changed_files(base: str) -> list[str]:
    """Files that differ between `base` and the work tree (committed or not)."""
    return (git("diff", "--name-only", base) or "").split()


# --- one contract --------------------------------------------------------------------------


def name_of(cid: str) -> str:
    return cid.split("/", 1)[1]


def changes(kind: str, old: dict, new: dict) -> list[rules.Change]:
    if kind == "http":
        return rules.diff_openapi(old, new)
    if kind == "refusals":
        out = []
        for code in sorted(old.keys() - new.keys()):
            out.append(rules.Change("refusal-code-removed", code, True, f"no longer answered ({old[code]})"))
        for code in sorted(new.keys() - old.keys()):
            out.append(rules.Change("refusal-code-added", code, False, f"answered with {new[code]}"))
        for code in sorted(old.keys() & new.keys()):
            if old[code] != new[code]:
                widened = not set(new[code]) <= set(old[code])
                out.append(rules.Change("refusal-status-changed", code, widened, f"{old[code]} -> {new[code]}"))
        return out
    return rules.diff(old, new, rules.resolver(old), rules.resolver(new), output=True)


def unaccepted(kind: str, name: str, reader: str, entry: dict, old: dict, new: dict) -> list[str]:
    """Why `reader`, reading as `entry` says, cannot read `new` (the producer's document),
    which replaces `old`: one "<reader> reads <name>.<field>: <why>" per field."""
    if kind == "refusals":
        out = []
        for code, relied in entry.get("acts_on", {}).items():
            now = statuses_of(code, new)
            if not now:
                out.append(f"{reader} acts on {name} refusal {code!r}: no longer answered")
            elif not set(now) <= set(relied):
                out.append(f"{reader} acts on {name} refusal {code!r}: answered {now}, acts on {relied}")
        return out
    if kind == "http":
        return _unaccepted_http(name, reader, entry, old, new)
    r_res, p_res = rules.resolver(entry), rules.resolver(new)
    return [f"{reader} reads {name}.{line}" for line in rules.accepts(entry, new, r_res, p_res)]


def introduced(kind: str, name: str, reader: str, entry: dict, old: dict, new: dict) -> list[str]:
    """What `unaccepted` says of `new` and did not already say of `old`: a looseness the reader
    has lived with (a route documenting a free string where the reader reads an enum) is not
    this change's doing."""
    before = set(unaccepted(kind, name, reader, entry, old, old))
    return [p for p in unaccepted(kind, name, reader, entry, old, new) if p not in before]


def _unaccepted_http(module: str, reader: str, entry: dict, old: dict, new: dict) -> list[str]:
    ops = rules.operations(new)
    breaking = [c for c in rules.diff_openapi(old, new) if c.breaking]
    out = []
    if reader == CLIENTS:
        public = set(entry.get("public", ()))
        return [f"{CLIENTS} call {c.path}: {c.rule} ({c.detail})" for c in breaking if _op(c.path) in public]
    for route, schema in entry.get("routes", {}).items():
        if route not in ops:
            out.append(f"{reader} calls {route}: {module} no longer serves it")
            continue
        # what the caller writes (its request) and which answers it gets
        for c in breaking:
            if _op(c.path) == route and not c.rule.startswith("response-property"):
                out.append(f"{reader} calls {route}: {c.rule} {c.path[len(route) :].strip()} ({c.detail})")
        if schema is None:
            continue
        r_res, p_res = rules.resolver(schema), rules.resolver(new)
        for status, response in ops[route].get("responses", {}).items():
            body = rules._json_schema(p_res(response).get("content"))
            if status in rules.SUCCESS and body:
                out += [f"{reader} reads {route} {status} {line}" for line in rules.accepts(schema, body, r_res, p_res)]
    return out


def _op(path: str) -> str:
    method, route, *_ = path.split(" ")
    return f"{method} {route}"


@dataclass
class Verdict:
    cid: str
    producer: str
    changes: list[rules.Change]
    reached: dict[str, list[str]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def breaking(self) -> bool:
        return any(c.breaking for c in self.changes)


def compare(old: Contracts, new: Contracts, changed: list[str]) -> list[Verdict]:
    verdicts = []
    for cid in sorted(old.index.keys() | new.index.keys()):
        if cid not in new.index:
            v = Verdict(cid, old.producer(cid), [rules.Change("contract-removed", cid, True, "no longer produced")])
            v.reached = {r: [f"{r} reads {cid}: removed"] for r in old.readers.get(cid, {})}
        elif cid not in old.index:
            v = Verdict(cid, new.producer(cid), [rules.Change("contract-added", cid, False, "a new contract")])
        else:
            kind, name = new.index[cid]["kind"], name_of(cid)
            v = Verdict(cid, new.producer(cid), changes(kind, old.docs[cid], new.docs[cid]))
            for reader, entry in old.readers.get(cid, {}).items():
                if problems := introduced(kind, name, reader, entry, old.docs[cid], new.docs[cid]):
                    v.reached[reader] = problems
        if v.reached:
            v.failures = requirements(cid, v, old, new, changed)
        verdicts.append(v)
    return verdicts


def requirements(cid: str, v: Verdict, old: Contracts, new: Contracts, changed: list[str]) -> list[str]:
    out = []
    before = old.index[cid]["version"]
    after = new.index.get(cid, {}).get("version", before)
    if cid in new.index and after <= before:
        out.append(f"{cid}: version {after} not raised (finflow/contracts/versions.py; the token: JWT_CLAIMS_VERSION)")
    for reader in sorted(v.reached):
        entry = old.index[cid]["readers"].get(reader, {})
        own_changed = old.readers.get(cid, {}).get(reader) != new.readers.get(cid, {}).get(reader)
        code_changed = any(f.startswith(p) for p in entry.get("code", ()) for f in changed)
        if not (own_changed or code_changed):
            where = ", ".join(entry.get("code", ())) or "its reader contract"
            out.append(f"{cid}: reader {reader} did not change in the range ({where})")
    return out


def report(base: str, verdicts: list[Verdict]) -> tuple[str, bool]:
    lines = [f"contracts-check: {base} -> work tree"]
    ok = True
    touched = [v for v in verdicts if v.changes]
    for v in touched:
        breaking = [c for c in v.changes if c.breaking]
        status = "breaking" if v.reached else ("breaking for no reader" if breaking else "compatible")
        n = len(v.changes)
        lines.append(f"{v.cid} (producer {v.producer}): {status} ({n} change{'s' if n != 1 else ''})")
        lines += [f"  {c}" for c in v.changes]
        for reader, problems in sorted(v.reached.items()):
            lines.append(f"  reaches {reader}:")
            lines += [f"    {p}" for p in problems]
        for f in v.failures:
            lines.append(f"  FAIL {f}")
            ok = False
    if not touched:
        lines.append("no contract changed")
    lines.append(
        f"{len(touched)} contract(s) changed, {sum(bool(v.reached) for v in verdicts)} reaching readers: "
        + ("ok" if ok else "FAILED")
    )
    return "\n".join(lines) + "\n", ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make contracts-check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="git ref to compare with (default: last v* tag, else merge base with main)")
    args = parser.parse_args(argv)
    base = args.base or default_base()
    if git("rev-parse", "--verify", "--quiet", f"{base}^{{commit}}") is None:
        print(f"contracts-check: {base} is not a commit here; comparing with HEAD")
        base = "HEAD"
    old = at(base)
    if old is None:
        print(f"contracts-check: {base} has no contracts/index.json: nothing to compare")
        return 0
    text, ok = report(base, compare(old, generate(), changed_files(base)))
    sys.stdout.write(text)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
