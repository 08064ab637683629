"""Failure injection on a running devserver: take one module down, bring it back.

    python -m devserver.chaos down wallet [--url http://127.0.0.1:8000]
    python -m devserver.chaos up wallet
    python -m devserver.chaos status

Down disables every function of the module (api, consumers, scheduled): the gateway answers
its routes 502 like a dead integration and its events wait in their SQS queues.
"""

from __future__ import annotations

import argparse
import sys

from devserver.trace import default_url, dev_api


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devserver.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["down", "up", "status"])
    parser.add_argument("module", nargs="?", help="module key: auth, wallet, payment, notification, kyc, reporting")
    parser.add_argument("--url", default=default_url(), help="the devserver's gateway (default %(default)s)")
    args = parser.parse_args(argv)
    base = args.url.rstrip("/")
    if args.action != "status" and not args.module:
        parser.error(f"{args.action} needs a module key")
    if args.action == "status":
        r = dev_api("GET", f"{base}/_dev/modules")
    else:
        r = dev_api("POST", f"{base}/_dev/modules/{args.module}/{args.action}")
    if isinstance(r, int):
        return r
    body = r.json()
    modules = body["modules"] if args.action == "status" else {body["module"]: body}
    for key, m in modules.items():
        print(f"{key:<13} {m['status']:<5} {', '.join(m['functions'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
