"""`make dev`: the whole system on localhost. Ctrl-C stops it cleanly."""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
from pathlib import Path

from devserver.system import DEFAULT_ADMIN, DevSystem, Options
from functions.catalog import API_THROTTLE


def _shown_password(password: str) -> str:
    """The documented dev default is shown; a password the operator chose never reaches the log."""
    return password if password == DEFAULT_ADMIN[1] else "(the password in FINFLOW_ADMIN_PASSWORD)"


def _positive(kind):
    def parse(text):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    parse.__name__ = kind.__name__  # named in argparse's "invalid float value" message
    return parse


def main() -> None:
    parser = argparse.ArgumentParser(description="FinFlow on localhost: no Docker, no cloud account")
    parser.add_argument(
        "--port-base",
        type=int,
        default=int(os.environ.get("FINFLOW_PORT_BASE", 8000)),
        help="gateway port; module ports follow it (+1 auth ... +6 reporting), AWS endpoint +10",
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="where embedded PostgreSQL keeps its data")
    parser.add_argument("--db-prefix", default=os.environ.get("FINFLOW_DB_PREFIX", ""))
    # argparse converts a string default (the environment's) with `type` too, and reports a bad one
    parser.add_argument(
        "--rate-limit",
        type=_positive(float),
        default=os.environ.get("FINFLOW_API_RATE_LIMIT", API_THROTTLE.rate),
        help="the gateway's throttling, requests per second (default as deployed: %(default)s)",
    )
    parser.add_argument(
        "--burst-limit",
        type=_positive(int),
        default=os.environ.get("FINFLOW_API_BURST_LIMIT", API_THROTTLE.burst),
        help="the gateway's burst (default as deployed: %(default)s)",
    )
    args = parser.parse_args()
    options = Options(
        port_base=args.port_base, db_prefix=args.db_prefix, rate_limit=args.rate_limit, burst_limit=args.burst_limit
    )
    if args.data_dir:
        options.data_dir = args.data_dir
    started = time.monotonic()
    system = DevSystem(options).start()
    print(f"FinFlow is up in {time.monotonic() - started:.1f}s", flush=True)
    for line in system.urls():
        print("  " + line, flush=True)
    print(
        f"  admin            {system.admin[0]} / {_shown_password(system.admin[1])}"
        "  (FINFLOW_ADMIN_EMAIL, FINFLOW_ADMIN_PASSWORD)",
        flush=True,
    )
    print("Ctrl-C to stop.", flush=True)
    stopped = threading.Event()
    # Explicit handlers: a shell that starts us in the background ignores SIGINT otherwise.
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    while not stopped.wait(0.5):  # a timed wait: the main thread must wake to run the handler
        pass
    print("stopping FinFlow...", flush=True)
    system.stop()


if __name__ == "__main__":
    main()
