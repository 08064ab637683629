"""Concurrent and nested Lambda invocations against the LocalStack of tools/localstack/up.

Creates two python3.13 functions: B sleeps briefly and answers; A calls B synchronously while
its own invocation runs (nested): through boto3's lambda.invoke, or with --via http over HTTP
through a LocalStack API Gateway REST API, as Payment calls Wallet. Then invokes 3x A and 4x B at once,
twice (cold, then warm), prints each duration and which execution environments answered,
and exits non-zero if an invocation failed or took longer than --max-seconds.

    .local/localstack/venv/bin/python tools/localstack/check_concurrency.py [--via http]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

A_CODE = """
import json, os, time, urllib.request, uuid
import boto3
from botocore.config import Config
ENV_ID = uuid.uuid4().hex[:8]   # one per execution environment: shows container reuse
CALLS = 0
lam = boto3.client("lambda", config=Config(read_timeout=300, retries={"max_attempts": 0}))
def handler(event, context):
    global CALLS
    CALLS += 1
    t = time.time()
    if os.environ.get("B_URL"):  # over HTTP through API Gateway
        with urllib.request.urlopen(f"{os.environ['B_URL']}?i={event['i']}", timeout=300) as r:
            b, err = json.loads(r.read()), None if r.status == 200 else r.status
    else:
        r = lam.invoke(FunctionName=os.environ["B_NAME"], Payload=json.dumps({"from": "a", "i": event["i"]}))
        b, err = json.loads(json.loads(r["Payload"].read())["body"]), r.get("FunctionError")
    return {"env": ENV_ID, "calls": CALLS, "b": b, "b_error": err,
            "nested_s": round(time.time() - t, 2)}
"""

B_CODE = """
import json, time, uuid
ENV_ID = uuid.uuid4().hex[:8]
CALLS = 0
def handler(event, context):  # answers as an API Gateway proxy integration
    global CALLS
    CALLS += 1
    time.sleep(0.3)
    return {"statusCode": 200, "body": json.dumps({"env": ENV_ID, "calls": CALLS})}
"""


def _zip(code: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", code)
    return buf.getvalue()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", default="http://127.0.0.1:4566")
    p.add_argument("--a", type=int, default=3, help="concurrent invocations of A (each calls B)")
    p.add_argument("--b", type=int, default=4, help="concurrent invocations of B")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--max-seconds", type=float, default=15.0)
    p.add_argument("--via", choices=("invoke", "http"), default="invoke", help="how A calls B")
    p.add_argument("--keep", action="store_true", help="leave the functions in place")
    args = p.parse_args()

    def client(service: str):
        return boto3.client(
            service,
            endpoint_url=args.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(read_timeout=300, retries={"max_attempts": 0}, max_pool_connections=32),
        )

    lam, apigw = client("lambda"), client("apigateway")
    suffix = str(int(time.time()))
    a_name, b_name = f"conc-a-{suffix}", f"conc-b-{suffix}"
    role = "arn:aws:iam::000000000000:role/lambda-role"
    b_arn = lam.create_function(
        FunctionName=b_name,
        Runtime="python3.13",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": _zip(B_CODE)},
        Timeout=120,
    )["FunctionArn"]
    a_env, api_id = {"B_NAME": b_name}, None
    if args.via == "http":  # B behind a REST API: GET /b, Lambda proxy integration
        api_id = apigw.create_rest_api(name=f"conc-{suffix}")["id"]
        root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
        res = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="b")["id"]
        apigw.put_method(restApiId=api_id, resourceId=res, httpMethod="GET", authorizationType="NONE")
        apigw.put_integration(
            restApiId=api_id,
            resourceId=res,
            httpMethod="GET",
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{b_arn}/invocations",
        )
        apigw.create_deployment(restApiId=api_id, stageName="test")
        a_env["B_URL"] = f"{args.endpoint}/restapis/{api_id}/test/_user_request_/b"
    lam.create_function(
        FunctionName=a_name,
        Runtime="python3.13",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": _zip(A_CODE)},
        Timeout=120,
        Environment={"Variables": a_env},
    )
    for name in (a_name, b_name):
        lam.get_waiter("function_active_v2").wait(FunctionName=name)

    def call(fn: str, i: int) -> tuple[str, int, float, dict | str]:
        t = time.time()
        try:
            r = lam.invoke(FunctionName=fn, Payload=json.dumps({"i": i}))
            body = json.loads(r["Payload"].read())
            if r.get("FunctionError") or (fn == a_name and body.get("b_error")):
                return fn, i, time.time() - t, f"error: {body}"
            return fn, i, time.time() - t, body if fn == a_name else json.loads(body["body"])
        except Exception as e:
            return fn, i, time.time() - t, f"error: {e!r}"

    failed = False
    try:
        for rnd in range(1, args.rounds + 1):
            jobs = [(a_name, i) for i in range(args.a)] + [(b_name, 100 + i) for i in range(args.b)]
            t0 = time.time()
            with ThreadPoolExecutor(len(jobs)) as pool:
                results = list(pool.map(lambda j: call(*j), jobs))
            wall = time.time() - t0
            print(
                f"round {rnd} ({'cold' if rnd == 1 else 'warm'}, A calls B via {args.via}): "
                f"{len(jobs)} invocations, wall {wall:.1f} s"
            )
            for fn, i, secs, body in results:
                kind = "A->B" if fn == a_name else "B"
                if isinstance(body, str):
                    failed = True
                    print(f"  {kind:4} #{i:<3} {secs:6.2f} s  {body[:300]}")
                    continue
                detail = f"env {body['env']} call {body['calls']}"
                if fn == a_name:
                    detail += f"; nested B {body['nested_s']} s in env {body['b']['env']}"
                slow = secs > args.max_seconds
                failed |= slow
                print(f"  {kind:4} #{i:<3} {secs:6.2f} s  {detail}{'  SLOW' if slow else ''}")
    finally:
        if not args.keep:
            for name in (a_name, b_name):
                lam.delete_function(FunctionName=name)
            if api_id:
                apigw.delete_rest_api(restApiId=api_id)
    print("FAILED" if failed else "OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
