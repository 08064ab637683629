"""3. Cold start: a fresh interpreter imports a function's handler and runs its first
invocation (the import is Lambda's init phase), against `python -c "import boto3"`.

Both processes end with os._exit once their work is done: a Lambda sandbox is frozen and
reused after its first invocation, never torn down as part of it, and the interpreter's
finalisation (a garbage collection over every module's objects) costs 100-300 ms for a
function against ~25 ms for the baseline, which would be measured as cold start otherwise.
The probe's own harness (the Lambda context class, the event) is loaded before the clock."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

from bench.env import ROOT

PROBE = r"""
import importlib, json, os, sys, time
from devserver.lambda_runtime import LambdaContext
event, context = json.loads(sys.argv[2]), LambdaContext(sys.argv[3])
t0 = time.perf_counter()
mod, _, attr = sys.argv[1].rpartition(".")
handler = getattr(importlib.import_module(mod), attr)
t1 = time.perf_counter()
try:
    handler(event, context)
except Exception as exc:
    print("error:", type(exc).__name__, exc, file=sys.stderr)
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first": t2 - t1}), flush=True)
sys.stderr.flush()
os._exit(0)
"""
BASELINE = "import boto3, os; os._exit(0)"


def _first_event(module, fn) -> dict:
    from devserver.lambda_runtime import proxy_event, token_authorizer_event

    if fn.kind == "api":
        return proxy_event("GET", module.health_path)
    if fn.kind == "authorizer":
        return token_authorizer_event("Bearer not-a-token", "GET", "/api/wallet")
    if fn.kind == "consumer":
        return {"Records": []}
    return {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


def _wall(args: list[str], env: dict) -> tuple[float, str]:
    t = time.perf_counter()
    r = subprocess.run(args, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    return time.perf_counter() - t, r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr[-300:]


def run(repeats: int = 3) -> dict:
    from devserver.system import built_modules

    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'layers' / 'common' / 'python'}"}
    # Any value, "0" too, stops Python writing .pyc files: unset, the dropped first run writes them.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    base = [_wall([sys.executable, "-c", BASELINE], env)[0] for _ in range(repeats + 1)][1:]
    baseline = statistics.median(base)
    rows = []
    for m in built_modules():
        for fn in m.functions:
            event = json.dumps(_first_event(m, fn))
            runs = []
            for _ in range(repeats + 1):  # the first run may compile .pyc files: dropped
                wall, out = _wall([sys.executable, "-c", PROBE, fn.handler, event, f"{m.key}-{fn.name}"], env)
                try:
                    parts = json.loads(out)
                except ValueError:
                    parts = {"import": float("nan"), "first": float("nan"), "error": out}
                runs.append((wall, parts))
            runs = runs[1:]
            wall = statistics.median(r[0] for r in runs)
            rows.append(
                {
                    "function": f"{m.key}.{fn.name}",
                    "wall": wall,
                    "import": statistics.median(r[1]["import"] for r in runs),
                    "first": statistics.median(r[1]["first"] for r in runs),
                    "ratio": wall / baseline,
                }
            )
    return {"baseline": baseline, "rows": rows}
