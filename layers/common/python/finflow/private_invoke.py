"""The private path between modules: the callee's API function invoked directly.

An httpx transport, so the service client keeps its timeouts, retries and breaker: a request
to `http://<callee>.lambda/<path>` becomes the API Gateway proxy event the public stage would
have built (without an authorizer context: the callee verifies the bearer token itself), sent
with Lambda Invoke (RequestResponse) to the function FINFLOW_CALLEES names for the callee,
and the function's proxy result becomes the response.

boto3 finds the Lambda endpoint as it finds every other: AWS, LocalStack (AWS_ENDPOINT_URL,
which LocalStack sets in its Lambda containers) or the devserver's local Lambda API
(AWS_ENDPOINT_URL_LAMBDA). The service client imports this file with its first private client,
boto3 is imported with the first call (cold start).
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Callable

import httpx

from finflow.config import settings

HOST_SUFFIX = ".lambda"
# (callee module, event JSON, read timeout) -> (proxy result JSON, Lambda's FunctionError or None)
Invoker = Callable[[str, bytes, float], tuple[bytes, str | None]]


def url(callee: str) -> str:
    return f"http://{callee}{HOST_SUFFIX}"


def callee_of(request: httpx.Request) -> str | None:
    host = request.url.host
    return host.removesuffix(HOST_SUFFIX) if host.endswith(HOST_SUFFIX) else None


def function_name(callee: str) -> str:
    """The function (or `name:alias`) serving `callee`'s API, as deployed."""
    name = settings().callees.get(callee)
    if not name:
        raise LookupError(f"FINFLOW_CALLEES names no function for {callee!r}: the deployment sets it per caller")
    return name


def proxy_event(request: httpx.Request) -> dict:
    """An API Gateway REST (v1) proxy event for `request`, with no authorizer context."""
    body: str | None = None
    is_b64 = False
    if content := request.read():
        try:
            body = content.decode("utf-8")
        except UnicodeDecodeError:
            body, is_b64 = base64.b64encode(content).decode(), True
    headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
    query: dict[str, list[str]] = {}
    for key, value in request.url.params.multi_items():
        query.setdefault(key, []).append(value)
    path, method = request.url.path, request.method
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "stage": "private",
            "path": path,
            "httpMethod": method,
            "resourcePath": path,
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": None},
        },
        "body": body,
        "isBase64Encoded": is_b64,
    }


def response(result: dict, request: httpx.Request) -> httpx.Response:
    """The HTTP response a proxy result stands for, as API Gateway would send it."""
    body = result.get("body") or ""
    content = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    headers = [(k, v) for k, vs in (result.get("multiValueHeaders") or {}).items() for v in vs]
    single = result.get("headers") or {}
    headers = [(k, v) for k, v in headers if k not in single] + list(single.items())
    return httpx.Response(int(result.get("statusCode", 200)), headers=headers, content=content, request=request)


class InvokeRefused(Exception):
    """Lambda did not run the function (throttled, not found, not permitted, service error)."""


class LambdaInvoke(httpx.BaseTransport):
    """httpx transport: every request is a direct invocation of the callee's API function.

    Outcomes map onto what the service client already classifies: the function's answer is
    the response; the function failing (an unhandled error, its timeout) is a 502, as API
    Gateway answers a failed integration; Lambda refusing the invocation, or no answer in
    time, is a transport error (ConnectError / ReadTimeout): nothing ran, or we cannot know."""

    def __init__(self, invoke: Invoker | None = None):
        self._invoke = invoke or _boto_invoke

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        callee = callee_of(request)
        if callee is None:
            raise httpx.UnsupportedProtocol(f"not a private call: {request.url}")
        read = (request.extensions.get("timeout") or {}).get("read") or 30.0
        try:
            payload, error = self._invoke(callee, json.dumps(proxy_event(request)).encode(), read)
        except InvokeRefused as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "no answer in time", request=request) from exc
        if error is not None:
            detail = f"{callee} failed to handle the request ({error})"
            return response(_problem(502, "Bad Gateway", detail), request)
        try:
            result = json.loads(payload)
        except ValueError:
            result = None
        if not isinstance(result, dict) or "statusCode" not in result:
            return response(_problem(502, "Bad Gateway", f"{callee} answered no proxy result"), request)
        return response(result, request)


def _problem(status: int, title: str, detail: str) -> dict:
    body = {"type": "https://finflow.dev/problems/bad-gateway", "title": title, "status": status, "detail": detail}
    return {"statusCode": status, "headers": {"Content-Type": "application/problem+json"}, "body": json.dumps(body)}


_clients: dict[float, object] = {}
_clients_lock = threading.Lock()


def _lambda(timeout: float):
    """One Lambda client per timeout: botocore's own retries off (the service client retries)."""
    with _clients_lock:
        client = _clients.get(timeout)
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=timeout, read_timeout=timeout, retries={"total_max_attempts": 1, "mode": "standard"}
            )
            client = _clients[timeout] = boto3.client("lambda", region_name=settings().aws_region, config=config)
        return client


def _boto_invoke(callee: str, event: bytes, timeout: float) -> tuple[bytes, str | None]:
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    name = function_name(callee)
    try:
        out = _lambda(timeout).invoke(FunctionName=name, InvocationType="RequestResponse", Payload=event)
    except ReadTimeoutError as exc:
        raise TimeoutError(f"{name}: no answer within {timeout:g}s") from exc
    except (ConnectTimeoutError, EndpointConnectionError, ConnectionClosedError) as exc:
        raise InvokeRefused(f"{name}: Lambda endpoint unreachable ({type(exc).__name__})") from exc
    except ClientError as exc:
        raise InvokeRefused(f"{name}: invoke refused ({exc.response['Error'].get('Code', 'error')})") from exc
    return out["Payload"].read(), out.get("FunctionError")


def reset_clients() -> None:
    with _clients_lock:
        _clients.clear()
