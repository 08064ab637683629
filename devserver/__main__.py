"""`make dev` (finflow-dev): the whole system on localhost. Ctrl-C stops it cleanly.

It prints a line per start-up step as it is done, then the URLs; then a line per request
(method, path, status, time, correlation id) and the functions' logs, readable."""

from __future__ import annotations

import argparse
import faulthandler
import os
import signal
import threading
import time
from pathlib import Path

from devserver.system import DEFAULT_ADMIN, DevSystem, Options
from devserver.terminal import ReadableOutput, progress_printer, say
from functions.catalog import API_THROTTLE

STOP_REPORT_SECONDS = 30


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
    started = time.monotonic()
    parser = argparse.ArgumentParser(description="FinFlow on localhost: no Docker, no cloud account")
    parser.add_argument(
        "--port-base",
        type=int,
        default=int(os.environ.get("FINFLOW_PORT_BASE", 8000)),
        help="gateway port; module ports follow it (+1 auth ... +6 reporting), AWS endpoint +10",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".local") / "dev",
        help="where embedded PostgreSQL keeps its data (default: %(default)s, under the current directory)",
    )
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
    # the functions' Powertools level (they read POWERTOOLS_LOG_LEVEL), chosen once here
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        default=os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"),
        help="the functions' log level (default: $POWERTOOLS_LOG_LEVEL, else %(default)s)",
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="text: one readable line per log entry; json: Powertools' lines as CloudWatch gets them",
    )
    args = parser.parse_args()
    os.environ["POWERTOOLS_LOG_LEVEL"] = args.log_level
    options = Options(
        port_base=args.port_base,
        data_dir=args.data_dir.resolve(),
        db_prefix=args.db_prefix,
        rate_limit=args.rate_limit,
        burst_limit=args.burst_limit,
    )
    # before any worker starts: they inherit this process's stdout
    output = ReadableOutput().start() if args.log_format == "text" else None
    try:
        _serve(DevSystem(options), started)
    finally:
        if output:
            output.stop()


def _serve(system: DevSystem, started: float) -> None:
    system.start(progress_printer(started))
    say(f"FinFlow is up in {time.monotonic() - started:.1f}s")
    for line in system.urls():
        say("  " + line)
    say(
        f"  admin            {system.admin[0]} / {_shown_password(system.admin[1])}"
        "  (FINFLOW_ADMIN_EMAIL, FINFLOW_ADMIN_PASSWORD)"
    )
    say("Ctrl-C to stop.")
    stopped = threading.Event()
    # Explicit handlers: a shell that starts us in the background ignores SIGINT otherwise.
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    while not stopped.wait(0.5):  # a timed wait: the main thread must wake to run the handler
        pass
    say("stopping FinFlow...")
    # a stop that outlasts a developer's patience says where it is stuck (every thread's stack)
    faulthandler.dump_traceback_later(STOP_REPORT_SECONDS)
    system.stop()
    faulthandler.cancel_dump_traceback_later()


if __name__ == "__main__":
    main()
