"""docs/benchmarks.md from one run's results (bench/__main__.py collects them)."""

from __future__ import annotations

from datetime import UTC, datetime

from bench import env
from bench.env import QUICK
from bench.http_e2e import POSTING

UNZ = 250 * 1024 * 1024
ZIP = 50 * 1024 * 1024
BASELINE_ROUND_TRIPS = 7  # BEGIN, lock both wallets, posting, two balances, two entries in one INSERT, COMMIT
# The targets, at 8 workers (in-process) or 8 clients (over HTTP).
RATIO_TARGET = 0.20
P50_TARGET = 0.025
TPS_TARGET = 40.0
COST_TARGET = 5.0
COLD_TARGET = 1.5


def ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


def met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def render(r: dict) -> str:
    out: list[str] = []
    tr = r["transfers"]
    row8 = next(x for x in tr["rows"] if x["workers"] == 8)
    cmd = "make bench" + (" (BENCH_QUICK=1)" if QUICK else "")
    out.append("# Benchmarks\n")
    out.append(
        f"Written by `{cmd}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit {env.git_head()}, "
        f"in {r['minutes']:.1f} min. Every figure is a ratio against a baseline measured in the same run, on the "
        "same machine and database. Not part of `make test`; no test asserts a timing.\n"
    )
    out.append(
        "Machine: " + ", ".join(f"{k} {v}" for k, v in r["machine"].items()) + ". PostgreSQL is the embedded one "
        "(pgserver, data under `.local/bench`), on the same cores as the code.\n"
    )
    _targets(out, r, row8)
    _transfers(out, r, tr, row8)
    _http(out, r, row8)
    _cold(out, r["cold"])
    _reporting(out, r["reporting"])
    _packages(out, r, row8)
    out.append("## Command\n")
    out.append(
        "`make bench` (defaults: 6 s per level, 200 HTTP requests, 1,000,000 payments, 1 process per peer service); "
        "`BENCH_QUICK=1 make bench` for a short run (2 s per level, 40 HTTP requests, 50,000 payments); "
        "`BENCH_SECONDS=S`, `BENCH_HTTP_N=N`, `BENCH_PAYMENTS=N` and `BENCH_PEER_PROCS=N` (uvicorn workers per "
        "peer service) to tune.\n"
    )
    return "\n".join(out)


def _devserver_transfer(r: dict) -> tuple[dict, dict]:
    t = r["e2e"]["transfer"]
    return t["sequential"], t["concurrent"]


def _targets(out: list[str], r: dict, row8: dict) -> None:
    b, a, p = row8["baseline"], row8["app"], row8["peer"]
    seq, par = _devserver_transfer(r)
    pseq, ppar = r["peer_http"]["sequential"], r["peer_http"]["concurrent"]
    cost = r["cost"]["total_arm"]
    out.append("## Targets\n")
    out.append(
        "At 8 workers in-process (section 1) and 8 clients over HTTP (section 2); each measured beside the raw-SQL "
        "baseline and the peer (the seed's architecture: three FastAPI services over HTTP) in this same run.\n"
    )
    out.append("| target | FinFlow | the peer | raw SQL | |")
    out.append("|---|---:|---:|---:|---|")
    out.append(
        f"| in-process throughput ≥ {RATIO_TARGET:.2f} of raw SQL | {a['tps']:.1f} tps = {a['tps'] / b['tps']:.3f} "
        f"| {p['tps']:.1f} tps = {p['tps'] / b['tps']:.3f} | {b['tps']:.0f} tps | "
        f"{met(a['tps'] / b['tps'] >= RATIO_TARGET)} |"
    )
    out.append(
        f"| transfer p50 over HTTP, one at a time, ≤ {ms(P50_TARGET)} | {ms(seq['p50'])} (devserver) "
        f"| {ms(pseq['p50'])} | {ms(b['p50'])} at 8 workers | {met(seq['p50'] <= P50_TARGET)} |"
    )
    out.append(
        f"| ≥ {TPS_TARGET:.0f} transfers/s over HTTP at 8 clients | {par['tps']:.1f} (devserver) | {ppar['tps']:.1f} "
        f"| {b['tps']:.0f} | {met(par['tps'] >= TPS_TARGET)} |"
    )
    out.append(
        f"| cost ≤ ${COST_TARGET:.2f} per million transfers (arm64, as deployed) | ${cost:.2f} | – | – | "
        f"{met(cost <= COST_TARGET)} |\n"
    )
    out.append(
        f"FinFlow against the peer: {a['tps'] / p['tps']:.2f}× its throughput in-process at 8 workers; over HTTP, "
        f"{seq['p50'] / pseq['p50']:.2f}× its p50 one at a time and {par['tps'] / ppar['tps']:.2f}× its throughput "
        "at 8 clients.\n"
    )


def _transfers(out: list[str], r: dict, tr: dict, row8: dict) -> None:
    seconds = tr["seconds"]
    out.append("## 1. Transfers: raw SQL, FinFlow in-process, the peer over HTTP\n")
    out.append(
        "**FinFlow** (each worker is a forked process with its own in-process gateway): the Lambda authorizer "
        "(RS256 JWT), Payment's API function (Powertools resolver, validation, Idempotency-Key, checks, pending "
        "row, posting, completion, outbox event published to moto's EventBridge) and every function it calls, "
        "as the code calls them: through the gateway and the authorizer, or invoked directly; the table below "
        "counts what a transfer invoked. **Excluded**: sockets between gateway and functions, Lambda's invoke "
        "and API Gateway's own latency (section 2 has the devserver's real HTTP path), and EventBridge's rule → "
        "SQS fan-out (the bus has no rules: no consumer runs here, and moto spends ~20 ms of Python per event on "
        "it). **Baseline**: the same double-entry transfer in one transaction with raw psycopg on the same "
        "`wallet` database (lock both wallets in id order, check status, currency and funds, update both "
        "balances, insert posting and two entries).\n"
    )
    out.append(
        "**The peer** (`bench/peer`): the seed's architecture written as a fair competitor. Three FastAPI "
        f"services under uvicorn ({r['peer_procs']} process each, async handlers, uvloop and httptools) on "
        "loopback ports, each with its own database on the same PostgreSQL, calling each other with keep-alive "
        "httpx clients. Payment verifies the customer's RS256 token (pyjwt, 2048-bit key, as FinFlow's), replays "
        "a used Idempotency-Key, asks Wallet for the KYC status and both wallets in one call (Wallet asks Auth, "
        "each call with a service token from Auth's client-credentials route, verified by the callee; a "
        "`verified` Wallet confirmed within 30 s answers from its own table, as FinFlow's `KYC_CACHE_SECONDS` "
        "does), makes FinFlow's checks in FinFlow's order, commits a pending payment, asks Wallet to post "
        "(idempotent by the payment id; both wallets locked in id order; status, currency and funds checked; "
        "balances and two entries in one transaction, on FinFlow's constraints, indexes and balanced-posting "
        "trigger), then records the completion and the answer for replays. It publishes no events and has no "
        "retries or circuit breakers (the seed had neither); its clients reach it over loopback TCP, which "
        "FinFlow's in-process workers do not pay.\n"
    )
    out.append(
        f"Each worker pays the next one's wallet, 0.01 USD a time, for {seconds:.0f} s per level. After every run "
        "each ledger is verified: every user wallet's balance equals the sum of its ledger entries, every "
        "posting sums to zero, none is negative, and Payment completed exactly the transfers that answered 201.\n"
    )
    out.append(
        "| workers | raw SQL tps | raw SQL p50 | FinFlow tps | FinFlow p50 | FinFlow p99 | peer tps | peer p50 "
        f"| peer p99 | FinFlow ÷ raw SQL (target ≥ {RATIO_TARGET:.2f} at 8) | peer ÷ raw SQL | FinFlow ÷ peer |"
    )
    out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for x in tr["rows"]:
        b, a, p = x["baseline"], x["app"], x["peer"]
        out.append(
            f"| {x['workers']} | {b['tps']:.0f} | {ms(b['p50'])} | {a['tps']:.1f} | {ms(a['p50'])} | "
            f"{ms(a['p99'])} | {p['tps']:.1f} | {ms(p['p50'])} | {ms(p['p99'])} | {a['tps'] / b['tps']:.3f} | "
            f"{p['tps'] / b['tps']:.3f} | {a['tps'] / p['tps']:.2f} |"
        )
    app = row8["app"]
    sp, n8, counts = app["spent"], app["count"], app["counts"]
    out.append(
        "\nWhere a FinFlow transfer's time goes (8 workers; a function's time includes the functions it waits on):\n"
    )
    out.append("| function | invocations per transfer | ms per invocation |")
    out.append("|---|---:|---:|")
    for k, (n, s) in sorted(sp.items()):
        out.append(f"| {k} | {n / n8:.2f} | {s / n * 1000:.2f} |")
    dbs = sorted({k.split(".")[1] for k in counts if k.startswith("db.")})
    stmts = {d: counts.get(f"db.{d}.statements", 0) / n8 for d in dbs}
    txs = {d: counts.get(f"db.{d}.transactions", 0) / n8 for d in dbs}
    trips = sum(stmts.values()) + 2 * sum(txs.values())
    out.append(
        f"\nPer transfer, also measured: {counts.get('gateway', 0) / n8:.2f} requests through the gateway; "
        + "; ".join(f"`{d}` database {stmts[d]:.1f} SQL statements in {txs[d]:.1f} transactions" for d in dbs)
        + f" (≈ {trips:.0f} round trips with each transaction's BEGIN and COMMIT).\n"
    )
    ratio8 = app["tps"] / row8["baseline"]["tps"]
    calls = sum(n for n, _ in sp.values()) / n8
    row1 = tr["rows"][0]
    out.append(
        f"**In-process target {'met' if ratio8 >= RATIO_TARGET else 'not met'}** ({ratio8:.3f} at 8 workers). "
        f"The baseline is {BASELINE_ROUND_TRIPS} round trips in one transaction on one connection. A FinFlow "
        f"transfer is {calls:.1f} function invocations with Powertools, pydantic validation and JSON at each, and "
        f"≈ {trips:.0f} database round trips over {len(dbs)} databases (the pending payment is committed before "
        "the money moves and the outcome after it, so no transfer can be lost in between), and a synchronous "
        "PutEvents after commit. On 2 cores shared with PostgreSQL this is CPU-bound Python: one worker alone "
        f"takes {ms(row1['app']['p50'])} per transfer against the baseline's {ms(row1['baseline']['p50'])} and "
        f"the peer's {ms(row1['peer']['p50'])}. A {RATIO_TARGET:.2f} ratio leaves about "
        f"{2 / (RATIO_TARGET * row8['baseline']['tps']) * 1000:.1f} ms of CPU per transfer for all of it.\n"
    )


def _http(out: list[str], r: dict, row8: dict) -> None:
    e2e, direct, n_http = r["e2e"], r["direct"], r["n_http"]
    sp = row8["app"]["spent"]
    n8 = row8["app"]["count"]
    out.append("## 2. End to end over loopback HTTP: the devserver and the peer\n")
    out.append(
        "`python -m devserver` as a subprocess (gateway, authorizer, each function in Lambda-like worker "
        f"processes, moto server), and the peer's three services as in section 1. {n_http} requests one at a time "
        f"(latency) then {n_http} from 8 threads (throughput); login uses the deployed bcrypt cost (12 rounds) and "
        "fewer requests.\n"
    )
    out.append("| request | p50 | p99 | tps at 8 clients | p50 at 8 clients |")
    out.append("|---|---:|---:|---:|---:|")
    rows = [*e2e.items(), ("transfer, the peer (three FastAPI services)", r["peer_http"])]
    for name, x in rows:
        s, c = x["sequential"], x["concurrent"]
        out.append(f"| {name} | {ms(s['p50'])} | {ms(s['p99'])} | {c['tps']:.1f} | {ms(c['p50'])} |")
    seq, par = _devserver_transfer(r)
    out.append(
        f"\n**Latency target {'met' if seq['p50'] <= P50_TARGET else 'not met'}**: a transfer's p50 one at a time "
        f"is {ms(seq['p50'])} (target ≤ {ms(P50_TARGET)}; the peer {ms(r['peer_http']['sequential']['p50'])}). "
        f"**Throughput target {'met' if par['tps'] >= TPS_TARGET else 'not met'}**: {par['tps']:.1f} transfers/s at "
        f"8 clients (target ≥ {TPS_TARGET:.0f}; the peer {r['peer_http']['concurrent']['tps']:.1f}).\n"
    )
    rd, tr_, hl = (
        e2e["wallet read"]["sequential"]["p50"],
        e2e["transfer"]["sequential"]["p50"],
        e2e["wallet health (no authorizer)"]["sequential"]["p50"],
    )
    out.append("Overhead of each synchronous hop (p50, one at a time):\n")
    out.append(
        f"- wallet read through gateway + authorizer + worker: {ms(rd)}; the function invoked directly in a "
        f"warm process: {ms(direct['p50'])} → the hop costs {ms(rd - direct['p50'])} "
        f"({rd / direct['p50']:.1f}× the function alone)."
    )
    az = sp.get("auth.authorizer", (1, 0.0))
    out.append(
        f"- the authorizer: {az[1] / max(az[0], 1) * 1000:.2f} ms per invocation in section 1 (JWT verified with "
        f"cached JWKS), {az[0] / n8:.2f} per transfer; `/api/wallet/health` (public, no authorizer, but a "
        f"database ping) takes {ms(hl)}."
    )
    po = e2e[POSTING]["sequential"]["p50"]
    out.append(
        f"- a transfer {ms(tr_)} vs its posting alone (Wallet's internal route, its function invoked through the "
        f"devserver's Lambda API) {ms(po)} → the rest of the transfer costs {ms(tr_ - po)} ({tr_ / po:.1f}× the "
        "posting)."
    )
    out.append("")


def _cold(out: list[str], cs: dict) -> None:
    out.append("## 3. Cold start (fresh process: interpreter, imports, first invocation)\n")
    out.append(
        f'Baseline `python -c "import boto3"`: **{ms(cs["baseline"])}** (median of runs, first run '
        "dropped so .pyc compilation is not counted). First invocation: `GET /health` for API functions "
        "(a database ping), a bad token for the authorizer, an empty batch for consumers, a scheduled event "
        "for sweepers. Wall time runs from the process start to the end of that work: both processes "
        "leave with `os._exit`, since interpreter shutdown is no part of a Lambda cold start.\n"
    )
    out.append(f"| function | wall | import | first invocation | × baseline (target ≤ {COLD_TARGET}) |")
    out.append("|---|---:|---:|---:|---:|")
    for x in cs["rows"]:
        out.append(f"| {x['function']} | {ms(x['wall'])} | {ms(x['import'])} | {ms(x['first'])} | {x['ratio']:.2f} |")
    worst = max(cs["rows"], key=lambda x: x["ratio"])
    out.append(
        f"\n**Cold-start target {'met' if worst['ratio'] <= COLD_TARGET else 'not met'}**: the slowest is "
        f"{worst['function']} at {worst['ratio']:.2f}× the baseline.\n"
    )


def _reporting(out: list[str], rp: dict) -> None:
    out.append(f"## 4. Reporting at {rp['n']:,} payments\n")
    out.append(
        "Rows generated with `generate_series` into Reporting's `payments` (365 days, 4 currencies, 3 kinds, "
        "5% failed, 8 description words) and its rollup `payments_daily` filled by one GROUP BY"
        + (
            f" (generation took {rp['generated_seconds']:.0f} s)"
            if rp["generated_seconds"]
            else " (reused from an earlier run)"
        )
        + ". Median of 5 warm runs.\n"
    )
    out.append("| query | Reporting | plain SQL | ratio |")
    out.append("|---|---:|---:|---:|")
    for name, (ours, plain) in rp["rows"].items():
        out.append(f"| {name} | {ms(ours)} | {ms(plain)} | {ours / plain:.2f} |")
    out.append("")


def _packages(out: list[str], r: dict, row8: dict) -> None:
    from bench.packages import PRICES, PRICES_DATE

    pk, c = r["packages"], r["cost"]
    mb = 1024 * 1024
    out.append("## 5. Package sizes and cost per million transfers\n")
    out.append(
        f"Layers: common {pk['common'][0] / mb:.2f} MB unzipped / {pk['common'][1] / mb:.2f} MB zipped; "
        f"dependencies {pk['deps'][0] / mb:.1f} MB / {pk['deps'][1] / mb:.1f} MB (built for Lambda). Limits: "
        "250 MB unzipped for a function and its layers, 50 MB for a zip uploaded directly (CDK publishes assets "
        "through its S3 bootstrap bucket, where only the 250 MB unzipped limit applies).\n"
    )
    out.append(
        "| module | code unzipped | code zipped | function + layers unzipped (limit 250 MB) | largest zip (limit 50 MB) |"
    )
    out.append("|---|---:|---:|---:|---:|")
    for x in pk["rows"]:
        out.append(
            f"| {x['module']} | {x['code'][0] / 1024:.0f} KB | {x['code'][1] / 1024:.0f} KB | "
            f"{x['total_unzipped'] / mb:.1f} MB ({x['total_unzipped'] / UNZ:.0%}) | "
            f"{x['largest_zip'] / mb:.1f} MB ({x['largest_zip'] / ZIP:.0%}) |"
        )
    out.append(
        f"\nCost per million transfers, from section 1's measured invocations and durations at 8 workers "
        f"({PRICES_DATE}):\n"
    )
    out.append(
        f"- Lambda: {c['invocations'] / 1e6:.2f} invocations per transfer; billed seconds = the measured time of "
        f"every invocation (a caller is billed while it waits), at {c['memory_gb'] * 1024:.0f} MB "
        f"(the infrastructure's default) = {c['gb_seconds']:,.0f} GB-s per million; "
        f"x86 ${PRICES['lambda_gb_s_x86']}/GB-s → **${c['lambda_x86']:.2f}**, arm64 "
        f"${PRICES['lambda_gb_s_arm']}/GB-s → **${c['lambda_arm']:.2f}** (requests "
        f"${PRICES['lambda_request'] * 1e6:.2f}/M included)."
    )
    out.append(
        f"- API Gateway REST: the requests measured through the gateway (the customer's, and any call between "
        f"modules that goes through it): {c['gateway_requests'] / 1e6:.2f} per transfer at "
        f"${PRICES['apigw_rest_request'] * 1e6:.2f}/M → **${c['apigw']:.2f}**."
    )
    out.append(
        f"- Aurora Serverless v2: database time taken as the raw-SQL baseline's throughput at 8 workers "
        f"({row8['baseline']['tps']:.0f}/s on this machine), assumed served by {c['acu']:.0f} ACU: "
        f"{c['acu_hours']:.2f} ACU-hours at ${PRICES['aurora_acu_hour']}/ACU-hour → **${c['aurora']:.2f}** "
        "(the idle minimum, 0.5 ACU around the clock ≈ $43/month, is not per transfer)."
    )
    out.append(
        f"- **Total ≈ ${c['total_x86']:.2f} (x86) / ${c['total_arm']:.2f} (arm64, as deployed) per million "
        f"transfers: cost target {'met' if c['total_arm'] <= COST_TARGET else 'not met'}** (≤ ${COST_TARGET:.2f}), "
        "excluding EventBridge, SQS, RDS Proxy, NAT and logs. Laptop-measured durations are an estimate of "
        "Lambda's; the method is what to reuse.\n"
    )
