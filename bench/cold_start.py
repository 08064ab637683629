"""3. Cold start: a fresh interpreter imports a function's handler and runs its first
invocation (the import is Lambda's init phase), against `python -c "import boto3"`.

Both processes end with os._exit once their work is done: a Lambda sandbox is frozen and
reused after its first invocation, never torn down as part of it, and the interpreter's
finalisation (a garbage collection over every module's objects) costs 100-300 ms for a
function against ~25 ms for the baseline, which would be measured as cold start otherwise.
The probe's own harness (the Lambda context class, the event) is loaded before the clock.

Both processes can import only what a Lambda function can: the project and the packages
the dependencies layer ships (`infra_cdk.assets.runtime_pins`). The development virtualenv
also holds test and tooling packages, and some runtime packages import those when present
(httpx loads its command-line interface, click, rich and pygments: ~60-90 ms).

`python -m bench.cold_start [module.function ...]` runs this section alone, on the
benchmark's own database and moto, and prints where each function's time goes: the
packages its import loads and those its first invocation loads, from `-X importtime`.
"""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter

from bench.env import ROOT

# Both processes' last argument: the JSON list of top-level names the Lambda package lacks.
_AS_SHIPPED = r"""
import json, sys
class NotShipped:
    def __init__(self, names):
        self.names = frozenset(names)
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NotShipped(json.loads(sys.argv[-1])))
"""
# argv: handler, event, function name, names not shipped
PROBE = (
    _AS_SHIPPED
    + r"""
import importlib, os, time
from devserver.lambda_runtime import LambdaContext
event, context = json.loads(sys.argv[2]), LambdaContext(sys.argv[3])
print("-- import", file=sys.stderr, flush=True)
t0 = time.perf_counter()
mod, _, attr = sys.argv[1].rpartition(".")
handler = getattr(importlib.import_module(mod), attr)
t1 = time.perf_counter()
print("-- first", file=sys.stderr, flush=True)
try:
    result = handler(event, context)
    answer = result if isinstance(result, dict) else {}
    status = answer.get("statusCode") or ("failed records" if answer.get("batchItemFailures") else "ok")
except Exception as exc:
    status = f"error: {type(exc).__name__}"
    print("error:", type(exc).__name__, exc, file=sys.stderr)
t2 = time.perf_counter()
print("-- end", file=sys.stderr, flush=True)
print(json.dumps({"import": t1 - t0, "first": t2 - t1, "status": status}), flush=True)
sys.stderr.flush()
os._exit(0)
"""
)
IGNORED = "ColdStartProbe"  # a detail-type no consumer handles
FIRST_INVOCATION = (
    "`GET /health` for API functions (a database ping, the dependencies' health), a bad token for the "
    f"authorizer, one SQS record of an event type the consumer ignores (`{IGNORED}`), a scheduled event "
    "for sweepers"
)
BASELINE = _AS_SHIPPED + "import boto3, os; os._exit(0)"


def not_shipped() -> list[str]:
    """Top-level import names of installed distributions that the Lambda package lacks."""
    from importlib.metadata import packages_distributions

    from infra_cdk.assets import runtime_pins

    def canon(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    shipped = {canon(re.split(r"[=<>!~; ]", pin, maxsplit=1)[0]) for pin in runtime_pins()} | {"finflow"}
    return sorted(
        top
        for top, dists in packages_distributions().items()
        if not any(canon(d) in shipped for d in dists) and not top.startswith("_")
    )


def _first_event(module, fn) -> dict:
    from devserver.lambda_runtime import proxy_event, token_authorizer_event

    if fn.kind == "api":
        return proxy_event("GET", module.health_path)
    if fn.kind == "authorizer":
        return token_authorizer_event("Bearer not-a-token", "GET", "/api/wallet")
    if fn.kind == "consumer":  # an empty batch is no SQS event: Powertools rejects it before any work
        from devserver.delivery import sqs_event

        body = {
            "source": "finflow.bench",
            "detail-type": IGNORED,
            "detail": {"event_id": "cold-start", "occurred_at": "2026-01-01T00:00:00Z"},
        }
        message = {"MessageId": "cold-start", "ReceiptHandle": "cold-start", "Body": json.dumps(body)}
        return sqs_event(f"arn:aws:sqs:us-east-1:000000000000:{module.key}-events", [message])
    return {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


def _env() -> dict:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'layers' / 'common' / 'python'}"}
    # Any value, "0" too, stops Python writing .pyc files: unset, the dropped first run writes them.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _wall(args: list[str], env: dict) -> tuple[float, float, str]:
    """(wall, CPU, last line of stdout) of one process. CPU time is the steadier figure on a
    machine that other work shares: wall time there includes waiting for a core."""
    t, cpu = time.perf_counter(), _cpu()
    r = subprocess.run(args, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    out = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr[-300:]
    return time.perf_counter() - t, _cpu() - cpu, out


_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)")


def _by_package(lines: list[str]) -> Counter[str]:
    """Self time (µs, as importtime counts) per top-level package of `-X importtime` lines."""
    spent: Counter[str] = Counter()
    for line in lines:
        m = _IMPORT_LINE.match(line)
        if m:
            spent[m[2].split(".")[0]] += int(m[1])
    return spent


def breakdown(handler: str, event: str, name: str, hidden: str, env: dict) -> dict:
    """One run under `-X importtime`: the packages each phase loads (self time), the phase's
    time, and what the first invocation spent on anything but imports. importtime's own
    overhead inflates the figures a little; they say where the time goes, not how much."""
    args = [sys.executable, "-X", "importtime", "-c", PROBE, handler, event, name, hidden]
    r = subprocess.run(args, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    phases: dict[str, list[str]] = {"import": [], "first": []}
    current = None
    for line in r.stderr.splitlines():
        if line.startswith("-- "):
            current = line[3:] if line[3:] in phases else None
        elif current:
            phases[current].append(line)
    times = json.loads(r.stdout.strip().splitlines()[-1])
    out = {}
    for phase, lines in phases.items():
        spent = _by_package(lines)
        out[phase] = {
            "total": times[phase],
            "imports": sum(spent.values()) / 1e6,
            "top": [(package, us / 1e6) for package, us in spent.most_common(5)],
        }
    return out


def run(repeats: int = 3, only: list[str] | None = None, explain: bool = False) -> dict:
    from devserver.system import built_modules

    env = _env()
    hidden = json.dumps(not_shipped())
    base = [_wall([sys.executable, "-c", BASELINE, hidden], env) for _ in range(repeats + 1)][1:]
    baseline = statistics.median(b[0] for b in base)
    baseline_cpu = statistics.median(b[1] for b in base)
    rows = []
    for m in built_modules():
        for fn in m.functions:
            name = f"{m.key}.{fn.name}"
            if only and name not in only:
                continue
            event = json.dumps(_first_event(m, fn))
            runs = []
            for _ in range(repeats + 1):  # the first run may compile .pyc files: dropped
                wall, cpu, out = _wall([sys.executable, "-c", PROBE, fn.handler, event, name, hidden], env)
                try:
                    parts = json.loads(out)
                except ValueError:
                    parts = {"import": float("nan"), "first": float("nan"), "status": out}
                runs.append((wall, cpu, parts))
            runs = runs[1:]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            row = {
                "function": name,
                "wall": wall,
                "import": statistics.median(r[2]["import"] for r in runs),
                "first": statistics.median(r[2]["first"] for r in runs),
                "ratio": wall / baseline,
                "cpu": cpu,
                "cpu_ratio": cpu / baseline_cpu,
                "status": runs[-1][2].get("status"),
            }
            if explain:
                row["breakdown"] = breakdown(fn.handler, event, name, hidden, env)
            rows.append(row)
    return {"baseline": baseline, "baseline_cpu": baseline_cpu, "rows": rows}


def ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


def breakdown_table(rows: list[dict]) -> list[str]:
    """Markdown: per function, the packages its import and its first invocation load (self
    time under `-X importtime`), and the first invocation's time spent on anything else."""

    def top(phase: dict) -> str:
        return ", ".join(f"{pkg} {s * 1000:.0f}" for pkg, s in phase["top"] if s >= 0.002) or "–"

    out = [
        "| function | import: top packages (ms) | first invocation: packages it loads (ms) | first invocation: other work |",
        "|---|---|---|---:|",
    ]
    for r in rows:
        b = r.get("breakdown")
        if b:
            other = max(b["first"]["total"] - b["first"]["imports"], 0.0)
            out.append(f"| {r['function']} | {top(b['import'])} | {top(b['first'])} | {ms(other)} |")
    return out


def main(argv: list[str]) -> None:
    from bench import env as bench_env
    from bench.env import QUICK

    world = bench_env.start()
    try:
        cs = run(2 if QUICK else 5, only=argv or None, explain=True)
    finally:
        bench_env.drop(world)
    print(f'baseline `python -c "import boto3"`: {ms(cs["baseline"])} wall, {ms(cs["baseline_cpu"])} CPU')
    print(f"first invocation: {FIRST_INVOCATION}\n")
    print("| function | wall | import | first invocation | × baseline (target ≤ 1.5) | CPU | CPU × baseline | answer |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in cs["rows"]:
        print(
            f"| {r['function']} | {ms(r['wall'])} | {ms(r['import'])} | {ms(r['first'])} | {r['ratio']:.2f} | "
            f"{ms(r['cpu'])} | {r['cpu_ratio']:.2f} | {r['status']} |"
        )
    print("\nWhere the time goes (one run under `python -X importtime`):\n")
    print("\n".join(breakdown_table(cs["rows"])))


if __name__ == "__main__":
    main(sys.argv[1:])
