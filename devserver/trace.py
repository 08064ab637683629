"""Print the trace tree of one request from a running devserver.

python -m devserver.trace <trace-id | correlation-id> [--url http://127.0.0.1:8000] [--json]
python -m devserver.trace --list            the recent traces, newest first
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import httpx


def default_url() -> str:
    return f"http://127.0.0.1:{os.environ.get('FINFLOW_PORT_BASE', '8000')}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devserver.trace", description=__doc__.splitlines()[0])
    parser.add_argument("id", nargs="?", help="a trace id (Root=... of X-Amzn-Trace-Id) or a correlation id")
    parser.add_argument("--url", default=default_url(), help="the devserver's gateway (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="the tree as JSON instead of text")
    parser.add_argument("--list", action="store_true", help="list the recent traces")
    args = parser.parse_args(argv)
    base = args.url.rstrip("/")
    if args.list or not args.id:
        r = dev_api("GET", f"{base}/_dev/traces", params={"limit": 20})
    else:
        r = dev_api("GET", f"{base}/_dev/traces/{args.id}", params={} if args.json else {"format": "text"})
    if isinstance(r, int):
        return r
    if args.list or not args.id:
        for t in r.json()["traces"]:
            print(
                f"{t['trace_id']}  {','.join(t['correlation_ids'])[:40]:<40}  {t['entry']:<12} "
                f"{t['duration_ms']}ms  {' '.join(t['functions'])}"
            )
    elif args.json:
        print(json.dumps(r.json(), indent=2))
    else:
        print(r.text, end="")
    return 0


def dev_api(method: str, url: str, **kw) -> httpx.Response | int:
    """One call to the devserver's /_dev routes for a command: the 200 response, or the
    exit code after saying why (2: devserver unreachable, 1: it refused)."""
    try:
        r = httpx.request(method, url, timeout=10.0, **kw)
    except httpx.HTTPError as exc:
        print(f"cannot reach the devserver at {url}: {exc} (is `make dev` running?)", file=sys.stderr)
        return 2
    if r.status_code == 200:
        return r
    try:
        detail = r.json()["detail"]
    except (ValueError, KeyError, TypeError):
        detail = r.text
    print(f"{r.status_code}: {detail}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
