"""What Lambda hands a function: the context object and API Gateway proxy events."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timeout_ms: int = 29_000
    _deadline: float = field(default=0.0)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_ms / 1000

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def proxy_event(
    method: str,
    path: str,
    *,
    body: bytes | str | dict | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, list[str]] | None = None,
    authorizer: dict | None = None,
    source_ip: str = "127.0.0.1",
) -> dict:
    """An API Gateway REST (v1) proxy event, as the gateway hands it to a function."""
    if isinstance(body, dict):
        body = json.dumps(body)
    is_b64 = False
    if isinstance(body, bytes):
        raw = body
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            body, is_b64 = base64.b64encode(raw).decode(), True
    headers = dict(headers or {})
    query = query or {}
    now = time.time()
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
            "accountId": "000000000000",
            "apiId": "local",
            "stage": "local",
            "path": path,
            "httpMethod": method,
            "resourcePath": path,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(now * 1000),
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
            "authorizer": authorizer,
        },
        "body": body or None,
        "isBase64Encoded": is_b64,
    }


def token_authorizer_event(header: str, method: str, path: str) -> dict:
    return {
        "type": "TOKEN",
        "authorizationToken": header,
        "methodArn": f"arn:aws:execute-api:us-east-1:000000000000:local/local/{method}{path}",
    }
