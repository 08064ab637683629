"""`make bench`: every benchmark, each figure against a baseline measured in the same run;
rewrites docs/benchmarks.md. BENCH_QUICK=1: a short run; BENCH_SECONDS, BENCH_HTTP_N,
BENCH_PAYMENTS and BENCH_PEER_PROCS tune it (see the doc's Command section)."""

from __future__ import annotations

import os
import time

from bench import env
from bench.env import QUICK, ROOT, knob

OUT = ROOT / "docs" / "benchmarks.md"


def main() -> None:
    t0 = time.monotonic()
    seconds = knob("BENCH_SECONDS", 6, 2)
    levels = (1, 8, 32)
    payments = int(os.environ.get("BENCH_PAYMENTS", 50_000 if QUICK else 1_000_000))
    n_http = int(knob("BENCH_HTTP_N", 200, 40))
    peer_procs = int(knob("BENCH_PEER_PROCS", 1, 1))
    world = env.start()
    r: dict = {"seconds": seconds, "n_http": n_http, "peer_procs": peer_procs}
    try:
        r["machine"] = env.machine(world.pg)
        from bench import http_e2e, transfers
        from bench.peer import schema
        from bench.peer.services import Peer

        peer_dbs = schema.create(world.pg, world.prefix)
        print("1. transfers: raw SQL, FinFlow in-process, the peer over HTTP", flush=True)
        r["transfers"] = transfers.run(world, peer_dbs, peer_procs, levels, seconds)
        print("2. http: the peer", flush=True)
        with Peer(peer_dbs, peer_procs) as peer:
            r["peer_http"] = http_e2e.peer_run(peer, peer_dbs, n_http)
        print("2. http: the devserver", flush=True)
        r["direct"] = http_e2e.direct_wallet_read(n_http)
        r["e2e"] = http_e2e.run(world.pg, n_http)
        print("3. cold start", flush=True)
        from bench import cold_start

        r["cold"] = cold_start.run(2 if QUICK else 3)
        print(f"4. reporting at {payments}", flush=True)
        from bench import reporting

        r["reporting"] = reporting.run(world.pg, payments)
        print("5. packages and cost", flush=True)
        from bench import packages

        r["packages"] = packages.sizes()
        row8 = next(x for x in r["transfers"]["rows"] if x["workers"] == 8)
        app = row8["app"]
        r["cost"] = packages.cost_per_million(
            app["spent"], app["counts"].get("gateway", 0), app["count"], row8["baseline"]["tps"]
        )
    finally:
        env.drop(world)
    r["minutes"] = (time.monotonic() - t0) / 60
    from bench import report

    OUT.write_text(report.render(r))
    print(f"wrote {OUT.relative_to(ROOT)} in {r['minutes']:.1f} min")


if __name__ == "__main__":
    main()
