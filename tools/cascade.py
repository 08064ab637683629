"""Blast radius of a change, and the module graph as SVG and Mermaid, from the catalog.

    python -m tools.cascade CHANGE          # make cascade CHANGE=auth | auth.UserView | auth.UserView.kyc_status
    python -m tools.cascade                 # make cascade: writes docs/cascade.svg and docs/cascade.md
    python -m tools.cascade --base REF      # make cascade BASE=REF: deploy order for the contract changes since REF
    python -m tools.cascade --deployed T-S  # make cascade DEPLOYED=localstack-dev: ... since that deploy

CHANGE is a module (`auth`), one of its contracts (`auth.UserView`, `payment.PaymentCompleted`)
or one field of it (`auth.UserView.kyc_status`). Everything printed comes from
functions/catalog.py (who calls and who subscribes to whom, deploy waves),
finflow.contracts (which consumer reads which field) and finflow.contracts.calls (every
synchronous call: its route, reader contract and the refusals its caller acts on); nothing is
hand-written here.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from dataclasses import field as dc_field
from html import escape
from pathlib import Path

from pydantic import BaseModel

from finflow import contracts
from finflow.contracts import calls
from functions import catalog

ROOT = Path(__file__).resolve().parents[1]
CONTRACT_TEST = "tests/contract/test_consumer_contracts.py"


def test_id(consumer: str, producer: str, name: str) -> str:
    """The pytest id of the contract test guarding one consumer's read (kept in step with the test)."""
    return f"{consumer}-reads-{producer}.{name}"


# --- the graph --------------------------------------------------------------------------


def edges() -> list[tuple[str, str, str, str]]:
    """(dependent, dependency, kind, label): kind sync (dependent calls dependency) or
    async / feedback (dependent consumes the dependency's events)."""
    out = []
    for m in catalog.MODULES:
        for dep in m.calls:
            views = sorted(
                n for (c, p, n) in contracts.CONSUMER_CONTRACTS if c == m.key and p == dep and n in contracts.VIEWS
            )
            out.append((m.key, dep, "sync", ", ".join(views)))
        for s in m.subscriptions:
            out.append((m.key, s.producer, "feedback" if s.feedback else "async", ", ".join(s.detail_types)))
    return out


direct_dependents = catalog.dependents  # modules that read `key` directly: {dependent: {sync, async}}


def all_dependents(key: str) -> dict[str, tuple[int, list[str]]]:
    """Every module a change of `key` can reach: {module: (distance, [modules it is reached via])}.
    Breadth first over sync and async edges; `key` itself is never its own dependent. Feedback
    events (KYC's decision reaching Auth) count only as a direct dependency: what they carry
    does not come from what reached their producer."""
    reached: dict[str, tuple[int, list[str]]] = {}
    frontier = [key]
    depth = 0
    while frontier:
        depth += 1
        nxt: list[str] = []
        for src in frontier:
            for dependent in direct_dependents(src, feedback=depth == 1):
                if dependent == key:
                    continue
                if dependent not in reached:
                    reached[dependent] = (depth, [] if depth == 1 else [src])
                    nxt.append(dependent)
                elif reached[dependent][0] == depth and depth > 1 and src not in reached[dependent][1]:
                    reached[dependent][1].append(src)
        frontier = nxt
    return reached


def wave_of(key: str) -> int:
    return next(i for i, wave in enumerate(catalog.deploy_waves()) if key in wave)


def in_deploy_order(keys) -> list[str]:
    order = [k for wave in catalog.deploy_waves() for k in wave]
    return sorted(set(keys), key=order.index)


# --- a change -------------------------------------------------------------------------


@dataclass
class Change:
    module: str
    contract: str | None = None
    field: str | None = None
    problems: list[str] = dc_field(default_factory=list)


def produced_by(module: str) -> list[str]:
    """The contracts `module` produces: its sync views, then its events."""
    views = [n for n, (p, _route) in contracts.SYNC_READS.items() if p == module]
    return views + list(catalog.module(module).emits)


def parse(change: str) -> Change:
    parts = change.strip().split(".")
    if parts[0] not in catalog.BY_KEY:
        raise SystemExit(f"unknown module {parts[0]!r}; modules: {', '.join(catalog.BY_KEY)}")
    c = Change(parts[0], parts[1] if len(parts) > 1 else None, parts[2] if len(parts) > 2 else None)
    if len(parts) > 3:
        raise SystemExit("CHANGE is <module>, <module>.<Contract> or <module>.<Contract>.<field>")
    if c.contract is not None and c.contract not in produced_by(c.module):
        raise SystemExit(
            f"{c.module} produces no contract {c.contract!r}; it produces: "
            f"{', '.join(produced_by(c.module)) or 'nothing'}"
        )
    if c.contract and c.field is not None and c.field not in contracts.PRODUCER_CONTRACTS[c.contract].model_fields:
        c.problems.append(f"{c.contract} has no field {c.field!r} yet: a new field (add it with a default)")
    return c


def readers_of(module: str, name: str) -> dict[str, type[BaseModel]]:
    return {c: m for (c, p, n), m in contracts.CONSUMER_CONTRACTS.items() if p == module and n == name}


def calls_into(module: str, contract: str | None = None) -> list[calls.Call]:
    """The table's calls to `module`; for a contract, those whose reader reads it."""
    readers = {m.__name__ for m in readers_of(module, contract).values()} if contract else None
    return [c for c in calls.into(module) if readers is None or c.reader in readers]


def call_line(c: calls.Call) -> str:
    acts = f"; acts on {', '.join(c.refusals)}" if c.refusals else ""
    return f"{c.caller} -> {c.route}  reads {c.reader or '(the status only)'}{acts}"


def _how(name: str) -> str:
    if name in contracts.SYNC_READS:
        return f"sync: {contracts.SYNC_READS[name][1]}"
    return f"async: event {name} (rule -> SQS -> events function)"


def report(change: str) -> str:
    c = parse(change)
    lines: list[str] = []
    add = lines.append
    target = ".".join(p for p in (c.module, c.contract, c.field) if p)
    m = catalog.module(c.module)
    add(f"Blast radius of a change to {target}")
    add(f"  {m.name} ({m.service}), deploy wave {wave_of(c.module) + 1}")
    lines.extend(f"  note: {p}" for p in c.problems)

    # who reads what
    names = [c.contract] if c.contract else produced_by(c.module)
    add("")
    add("Contracts and their consumers:")
    guarded: list[str] = []
    breaking: set[str] = set()
    for name in names:
        readers = readers_of(c.module, name)
        add(f"  {name} ({_how(name)})")
        if not readers:
            add("    no consumer reads it")
        for consumer, model in sorted(readers.items(), key=lambda kv: wave_of(kv[0])):
            fields = list(model.model_fields)
            guarded.append(test_id(consumer, c.module, name))
            if c.field is None:
                add(f"    {consumer} reads {', '.join(fields)}  [{model.__name__}]")
                breaking.add(consumer)
            elif c.field in fields:
                required = model.model_fields[c.field].is_required()
                add(
                    f"    {consumer} reads {name}.{c.field} ({'required' if required else 'optional'})"
                    f"  [{model.__name__}]: removing, renaming or retyping it breaks {consumer}"
                )
                breaking.add(consumer)
            else:
                add(f"    {consumer} does not read {name}.{c.field}: unaffected")

    add("")
    reading = f" reading {c.contract}" if c.contract else ""
    add(f"Synchronous calls into {c.module}{reading} ({calls.__name__.replace('.', '/')}.py):")
    rows = calls_into(c.module, c.contract)
    lines.extend(f"  {call_line(row)}" for row in rows)
    if not rows:
        add("  none")

    # the module graph around it
    direct = direct_dependents(c.module)
    reach = all_dependents(c.module)
    add("")
    add("Direct dependents:")
    for d in in_deploy_order(direct):
        add(f"  {d} ({' + '.join(sorted(direct[d]))})")
    if not direct:
        add("  none")
    add("Indirect dependents (through a direct one):")
    indirect = [d for d in in_deploy_order(reach) if reach[d][0] > 1]
    # reached directly and also through another dependent: the seed's Payment -> Wallet -> Auth
    also = [d for d in in_deploy_order(direct) if any(d in direct_dependents(v) for v in direct if v != d)]
    for d in indirect:
        add(f"  {d} (via {', '.join(reach[d][1])})")
    for d in also:
        add(f"  {d} (also via {', '.join(v for v in in_deploy_order(direct) if v != d and d in direct_dependents(v))})")
    if not indirect and not also:
        add("  none")

    add("")
    add("Routes and consumers affected:")
    add(f"  {c.module}: {', '.join(m.route_prefixes)} (the change itself)")
    affected = in_deploy_order(breaking) if c.contract else in_deploy_order(reach)
    for d in affected:
        dm = catalog.module(d)
        how = []
        if c.contract:
            kinds = {"sync" if c.contract in contracts.SYNC_READS else "async"}
        else:
            kinds = direct.get(d, {"indirect"})
        if "async" in kinds:
            how.append(f"{d}.events consumer ({catalog.module(d).service} queue, DLQ on a parse failure)")
        if "sync" in kinds:
            how.append("routes " + ", ".join(dm.route_prefixes) + " (503 or a wrong answer while it cannot read)")
        if "indirect" in kinds:
            how.append("routes " + ", ".join(dm.route_prefixes) + f" (through {', '.join(reach[d][1])})")
        add(f"  {d}: {'; '.join(how)}")
    if c.contract and not breaking:
        add("  no consumer (the change is safe for every deployed reader)")

    add("")
    add("Contract tests guarding it:")
    if guarded:
        for t in guarded:
            add(f"  {CONTRACT_TEST}::test_real_payload_satisfies_consumer[{t}]")
        add(f"  run: .venv/bin/python -m pytest -q {CONTRACT_TEST} -k 'reads-{c.module}.{c.contract or ''}'")
    else:
        add("  none (nothing reads it)")

    add("")
    add("Safe rollout order:")
    lines.extend("  " + s for s in rollout(c, in_deploy_order(breaking if c.contract else direct)))
    return "\n".join(lines) + "\n"


def rollout(c: Change, consumers: list[str]) -> list[str]:
    """The seed's Maintenance & Updates steps, filled in with this change's modules."""
    order = " -> ".join(consumers) or "(none)"
    if c.contract is None:
        return [
            "Changing an API contract (the seed's Maintenance & Updates):",
            f"1. Version the API: {c.module}'s routes under /api/v2/ (or a new event version / detail-type)",
            f"2. Deploy {c.module} with v2, keeping /api/v1/ (and the v1 events) working",
            f"3. Update consumers gradually, in deploy-wave order: {order}",
            "4. Deprecate v1 once every consumer is migrated (the contract tests still pass on v2 alone)",
            "5. Remove v1 after the deprecation period",
        ]
    what = f"{c.contract}.{c.field}" if c.field else c.contract
    return [
        "Adding or changing a field (the seed's Maintenance & Updates):",
        f"1. Plan: this report is the cascade impact of {what}",
        f"2. Add the field to contracts.{c.contract} with a default (optional: old payloads still parse)",
        f"3. Deploy {c.module} (wave {wave_of(c.module) + 1}) sending it; no consumer needs it yet",
        f"4. Update the consumers' contracts and code: {order}",
        f"5. Deploy them one by one in dependency order: {order} (make test after each)",
        "6. Make the field required (consumer contracts without a default) once every consumer is updated",
        "7. Monitor (DLQ depth, /health, contract violations in logs); roll back the last step if needed",
        "Removing or renaming: the reverse - consumers stop reading it first, then the producer drops it.",
    ]


# --- rendering -------------------------------------------------------------------------

COLORS = {"sync": "#1f4e79", "async": "#2e7d32", "feedback": "#9e9e9e"}


def mermaid() -> str:
    out = ["flowchart LR"]
    for i, wave in enumerate(catalog.deploy_waves()):
        out.append(f'  subgraph wave{i + 1}["deploy wave {i + 1}"]')
        for k in wave:
            m = catalog.module(k)
            out.append(f'    {k}["{m.letter} {k}<br/>{m.name}"]')
        out.append("  end")
    for dependent, dep, kind, label in edges():
        if kind == "sync":
            out.append(f'  {dependent} -->|"calls: {label}"| {dep}')
        else:
            arrow = "-.->" if kind == "async" else "-..->"
            out.append(f'  {dep} {arrow}|"{label}"| {dependent}')
    return "\n".join(out) + "\n"


def markdown() -> str:
    return (
        "# FinFlow module graph\n\n"
        "Generated by `make cascade` from `functions/catalog.py` (do not edit). Solid arrows: a "
        "synchronous call (caller -> callee, with the views it reads); dotted: events (producer -> "
        "consumer); the longer dotted arrows are feedback events that do not order deployment. "
        "Columns are deploy waves. The same graph as an image: [cascade.svg](cascade.svg).\n\n"
        "```mermaid\n" + mermaid() + "```\n\n"
        "## Synchronous calls\n\n"
        "Every call one module makes to another (`finflow/contracts/calls.py`): the private path, "
        "a direct invoke of the callee's API function, allows these and nothing else.\n\n"
        "| caller | callee | route | reader contract | refusals the caller acts on |\n"
        "|---|---|---|---|---|\n"
        + "".join(
            f"| {c.caller} | {c.callee} | `{c.route}` | {c.reader or '(the status only)'} | "
            f"{', '.join(c.refusals) or '-'} |\n"
            for c in calls.CALLS
        )
    )


def svg() -> str:
    waves = catalog.deploy_waves()
    box_w, box_h, col_gap, row_gap, margin, top = 170, 58, 110, 60, 30, 60
    rows = max(len(w) for w in waves)
    width = margin * 2 + len(waves) * box_w + (len(waves) - 1) * col_gap
    height = top + rows * box_h + (rows - 1) * row_gap + 110
    pos: dict[str, tuple[float, float]] = {}
    for i, wave in enumerate(waves):
        column_x = margin + i * (box_w + col_gap)
        offset = (rows - len(wave)) * (box_h + row_gap) / 2
        for j, k in enumerate(wave):
            pos[k] = (column_x, top + offset + j * (box_h + row_gap))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" font-size="12">',
        "<defs>",
    ]
    for kind, color in COLORS.items():
        parts.append(
            f'<marker id="arrow-{kind}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
        )
    parts.append("</defs>")
    parts.append(f'<rect width="{width}" height="{height}" fill="#ffffff"/>')
    for i in range(len(waves)):
        label_x = margin + i * (box_w + col_gap) + box_w / 2
        parts.append(f'<text x="{label_x}" y="{top - 25}" text-anchor="middle" fill="#555">deploy wave {i + 1}</text>')
    seen: dict[tuple[str, str], int] = {}
    for dependent, dep, kind, label in edges():
        src, dst = (dependent, dep) if kind == "sync" else (dep, dependent)
        pair = (min(src, dst), max(src, dst))
        n = seen.get(pair, 0)
        seen[pair] = n + 1
        (x1, y1), (x2, y2) = pos[src], pos[dst]
        shift = (n * 10) - 5 if n or (dst, src) in [(a, b) for a, b, *_ in edges()] else 0
        cx1, cy1 = x1 + box_w / 2, y1 + box_h / 2 + shift
        cx2, cy2 = x2 + box_w / 2, y2 + box_h / 2 + shift
        # leave and enter each box at its border (the side facing the other box)
        (sx, sy), (ex, ey) = _border(cx1, cy1, cx2, cy2, box_w, box_h), _border(cx2, cy2, cx1, cy1, box_w, box_h)
        dash = {"sync": "", "async": ' stroke-dasharray="6 4"', "feedback": ' stroke-dasharray="2 4"'}[kind]
        bend = 0 if abs(y1 - y2) > 1 else -40 - 12 * n
        mx, my = (sx + ex) / 2, (sy + ey) / 2 + bend
        parts.append(
            f'<path d="M{sx:.1f},{sy:.1f} Q{mx:.1f},{my:.1f} {ex:.1f},{ey:.1f}" fill="none" '
            f'stroke="{COLORS[kind]}" stroke-width="1.6"{dash} marker-end="url(#arrow-{kind})">'
            f"<title>{escape(src)} -&gt; {escape(dst)}: {escape(kind)} {escape(label)}</title></path>"
        )
    for k, (x, y) in pos.items():
        m = catalog.module(k)
        parts.append(
            f"<g><title>{escape(m.service)}: calls {', '.join(m.calls) or 'nothing'}; "
            f"emits {', '.join(m.emits) or 'nothing'}</title>"
            f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="8" fill="#f4f7fb" stroke="#1f4e79"/>'
            f'<text x="{x + box_w / 2}" y="{y + 24}" text-anchor="middle" font-weight="bold">'
            f"{escape(m.letter)} {escape(k)}</text>"
            f'<text x="{x + box_w / 2}" y="{y + 42}" text-anchor="middle" fill="#444">{escape(m.name)}</text></g>'
        )
    ly = height - 40
    legend = [
        ("sync", "sync call (caller -> callee)"),
        ("async", "event (producer -> consumer)"),
        ("feedback", "feedback event (does not order deploys)"),
    ]
    for i, (kind, text) in enumerate(legend):
        lx = margin + i * 260
        dash = {"sync": "", "async": ' stroke-dasharray="6 4"', "feedback": ' stroke-dasharray="2 4"'}[kind]
        parts.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 40}" y2="{ly}" stroke="{COLORS[kind]}" '
            f'stroke-width="1.6"{dash} marker-end="url(#arrow-{kind})"/>'
            f'<text x="{lx + 48}" y="{ly + 4}">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _border(cx: float, cy: float, tx: float, ty: float, w: float, h: float) -> tuple[float, float]:
    """Where the line from a box's centre (cx, cy) towards (tx, ty) leaves the box."""
    dx, dy = tx - cx, ty - cy
    if dx == 0 and dy == 0:
        return cx, cy
    scale = min((w / 2) / abs(dx) if dx else float("inf"), (h / 2) / abs(dy) if dy else float("inf"))
    return cx + dx * scale, cy + dy * scale


def write_graph(docs: Path = ROOT / "docs") -> list[Path]:
    paths = [docs / "cascade.svg", docs / "cascade.md"]
    paths[0].write_text(svg())
    paths[1].write_text(markdown())
    return paths


def deploy_order(base: str | None, target: str | None) -> str:
    """For the change set from `base` (a git ref) or from what `target` runs (recorded by the
    deploy) to the work tree: which readers must deploy before which producer, and the order."""
    from tools import contracts, contracts_check, contracts_deploy

    old = contracts_check.at(base) if base else contracts_deploy.deployed(target or "")
    if old is None:
        return f"no contracts recorded at {base or target}: nothing to order\n"
    lines = [f"Deploy order for the contract changes from {base or target} to the work tree:"]
    lines += [f"  {line}" for line in contracts_deploy.order(old, contracts.generate())]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make cascade", description=__doc__.split("\n\n")[0])
    parser.add_argument("change", nargs="?", help="module, module.Contract or module.Contract.field")
    parser.add_argument("--base", help="the deploy order for the contract changes since this git ref")
    parser.add_argument("--deployed", help="the deploy order for the changes from what <target>-<stage> runs")
    args = parser.parse_args(argv)
    if args.base or args.deployed:
        sys.stdout.write(deploy_order(args.base, args.deployed))
        return 0
    if args.change:
        sys.stdout.write(report(args.change))
        return 0
    for path in write_graph():
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
