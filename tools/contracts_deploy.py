"""Deploy safety from the contracts: what is deployed, may this deploy go, in which order.

    python -m tools.contracts_deploy gate   --target localstack --stage dev [--stacks "FinFlow-Payment ..."]
    python -m tools.contracts_deploy record --target localstack --stage dev [--stacks ...]

"Deployed" is what the last successful deploy to a target and stage recorded:
.local/deployed-contracts/<target>-<stage>.json holds, per contract, the producer's document
as deployed and each reader's contract as deployed (a deploy of some stacks updates only what
those stacks produce and read). `make deploy` and `make deploy-localstack` run `gate` before
CDK and `record` after it.

The gate refuses a producer whose new shape a deployed reader does not accept (unless that
reader deploys before it in the same run), naming the reader and the field, and a reader
whose new contract does not accept the producer that stays deployed: expand/contract, readers
that accept both shapes first, the producer last. `order` prints that sequence for a change
set (`make cascade BASE=ref` or `DEPLOYED=<target>-<stage>`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from functions import catalog
from tools.contracts import CLIENTS, ROOT, Contracts, generate
from tools.contracts_check import introduced, name_of, unaccepted

DEPLOYED = ROOT / ".local" / "deployed-contracts"
FOUNDATION = "FinFlow-Foundation"  # the gateway's authorizer deploys with it


def units_order() -> list[str]:
    """Deploy units in the order CDK deploys their stacks: the authorizer, then the modules' waves."""
    return ["authorizer", *(k for wave in catalog.deploy_waves() for k in wave)]


def stack_of(unit: str) -> str:
    return FOUNDATION if unit == "authorizer" else f"FinFlow-{unit.capitalize()}"


def units_of(stacks: list[str]) -> set[str]:
    if not stacks:
        return set(units_order())
    return {u for u in units_order() if stack_of(u) in stacks}


def path_of(target: str) -> Path:
    return DEPLOYED / f"{target}.json"


def deployed(target: str) -> Contracts | None:
    p = path_of(target)
    if not p.exists():
        return None
    data = json.loads(p.read_text())
    return Contracts(data["index"], data["readers"], data["docs"])


def gate(live: Contracts, new: Contracts, units: set[str]) -> list[str]:
    rank = {u: i for i, u in enumerate(units_order())}
    refusals = []
    for cid in sorted(new.index.keys() & live.index.keys()):
        kind, name, producer = new.index[cid]["kind"], name_of(cid), new.producer(cid)
        if producer in units:
            for reader, entry in sorted(live.readers.get(cid, {}).items()):
                if reader == CLIENTS:
                    continue
                first = reader in units and rank[reader] <= rank[producer]  # its new contract is live first
                entry = new.readers[cid].get(reader, entry) if first else entry
                for p in introduced(kind, name, reader, entry, live.docs[cid], new.docs[cid]):
                    refusals.append(f"{producer} ({cid}): deployed reader {reader} would break: {p}")
        for reader in sorted(units & new.readers.get(cid, {}).keys()):
            if producer in units and rank[producer] < rank[reader]:
                continue  # the producer deploys first; checked above against the reader as deployed
            was = live.readers.get(cid, {}).get(reader)
            for p in _refuses(kind, name, reader, new.readers[cid][reader], live.docs[cid], was):
                refusals.append(f"{reader} ({cid}): does not accept the deployed {producer}: {p}")
    return refusals


def _refuses(kind: str, name: str, reader: str, mine: dict, doc: dict, was: dict | None) -> list[str]:
    """What a reader's new contract cannot read of the producer's document `doc`, beyond what its
    deployed contract `was` could not either."""
    before = set(unaccepted(kind, name, reader, was, doc, doc)) if was is not None else set()
    return [p for p in unaccepted(kind, name, reader, mine, doc, doc) if p not in before]


def record(live: Contracts | None, new: Contracts, units: set[str]) -> Contracts:
    if live is None:
        return new
    for cid, entry in new.index.items():
        if entry["producer"] in units or cid not in live.index:
            live.index[cid] = {**entry, "readers": live.index.get(cid, entry)["readers"]}
            live.docs[cid] = new.docs[cid]
        readers = live.readers.setdefault(cid, {})
        for reader in units:
            readers.pop(reader, None)
            if reader in new.readers.get(cid, {}):
                readers[reader] = new.readers[cid][reader]
                live.index[cid]["readers"][reader] = entry["readers"][reader]
    return live


def order(live: Contracts, new: Contracts) -> list[str]:
    """The deploy sequence for the change from `live` to `new`: per contract whose new shape a
    live reader does not accept, the readers first (if their new contract accepts both shapes)
    and the producer after them; units without such a constraint in their usual order."""
    rank = {u: i for i, u in enumerate(units_order())}
    after: dict[str, set[str]] = {}  # unit -> units that must deploy before it
    lines = []
    for cid in sorted(new.index.keys() & live.index.keys()):
        kind, name, producer = new.index[cid]["kind"], name_of(cid), new.producer(cid)
        for reader, entry in sorted(live.readers.get(cid, {}).items()):
            if reader == CLIENTS or not introduced(kind, name, reader, entry, live.docs[cid], new.docs[cid]):
                continue
            mine = new.readers[cid].get(reader)
            both = mine is not None and not (
                introduced(kind, name, reader, mine, live.docs[cid], new.docs[cid])
                or _refuses(kind, name, reader, mine, live.docs[cid], entry)
            )
            if reader == producer:
                lines.append(f"{cid}: {reader} reads what it produces: one deploy")
            elif both:
                after.setdefault(producer, set()).add(reader)
                lines.append(f"{cid}: {reader} accepts both shapes: deploy it before {producer}")
            else:
                lines.append(f"{cid}: {reader} does not accept both shapes yet: expand it first (read old and new)")
    changed = {new.producer(c) for c in new.index if live.docs.get(c) != new.docs[c]} | {
        r for c, reads in new.readers.items() for r, e in reads.items() if live.readers.get(c, {}).get(r) != e
    }
    todo, seq = [u for u in sorted(rank, key=lambda unit: rank[unit]) if u in changed], []
    while todo:
        ready = next((u for u in todo if not (after.get(u, set()) & set(todo))), todo[0])
        seq.append(ready)
        todo.remove(ready)
    steps = dict.fromkeys(stack_of(u) for u in seq)  # a stack once, where its first unit deploys
    return lines + ["deploy order: " + (" -> ".join(steps) or "nothing changed")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("gate", "record"))
    parser.add_argument("--target", required=True, help="aws | localstack")
    parser.add_argument("--stage", required=True)
    parser.add_argument("--stacks", default="", help="the stacks this deploy updates (default: all)")
    args = parser.parse_args(argv)
    key = f"{args.target}-{args.stage}"
    units = units_of(args.stacks.split())
    live, new = deployed(key), generate()
    if args.action == "record":
        path_of(key).parent.mkdir(parents=True, exist_ok=True)
        kept = record(live, new, units)
        path_of(key).write_text(json.dumps({"index": kept.index, "readers": kept.readers, "docs": kept.docs}) + "\n")
        print(f"contracts: recorded what {key} now runs ({path_of(key).relative_to(ROOT)})")
        return 0
    if live is None:
        print(f"contracts: nothing recorded as deployed to {key}: first deploy, nothing to compare")
        return 0
    refused = gate(live, new, units)
    for line in refused:
        print(f"refused: {line}", file=sys.stderr)
    if refused:
        print(
            "deploy the readers first, with a contract that accepts both shapes (expand), then the producer;",
            file=sys.stderr,
        )
        for line in order(live, new):
            print(f"  {line}", file=sys.stderr)
        print(
            "  one stack at a time: STACKS='FinFlow-<Module>' make deploy-localstack (or make deploy)", file=sys.stderr
        )
        return 1
    print(f"contracts: every deployed reader accepts this deploy to {key}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
