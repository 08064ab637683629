"""boto3 clients, created once per process (warm Lambda starts reuse them).

boto3 honours AWS_ENDPOINT_URL, so moto or LocalStack need no code change here. boto3
itself is imported on the first client (~80 ms of a cold start): many invocations of a
function never make an AWS call.
"""

from __future__ import annotations

import json
import time
from functools import cache
from threading import Lock

from finflow.config import settings


@cache
def client(service: str):
    import boto3  # deferred: see the module docstring

    return boto3.client(service, region_name=settings().aws_region)


_secret_cache: dict[str, tuple[float, dict]] = {}
_lock = Lock()


class SecretsUnavailable(Exception):
    """Secrets Manager could not be reached and no earlier value is known (finflow.http: a 503)."""


def secret_json(secret_id: str, max_age: float = 300.0) -> dict:
    """A JSON secret from Secrets Manager, cached briefly so rotation is picked up; while
    Secrets Manager cannot be reached, the last value it gave."""
    with _lock:
        hit = _secret_cache.get(secret_id)
        if hit and time.monotonic() - hit[0] < max_age:
            return hit[1]
    sm = client("secretsmanager")
    from botocore.exceptions import BotoCoreError  # loaded with boto3 by the line above

    try:
        value = json.loads(sm.get_secret_value(SecretId=secret_id)["SecretString"])
    except BotoCoreError as exc:  # no answer (connection, timeout): not a refusal
        if hit:
            return hit[1]
        raise SecretsUnavailable(f"Secrets Manager unreachable: {type(exc).__name__}") from exc
    with _lock:
        _secret_cache[secret_id] = (time.monotonic(), value)
    return value


def forget_secrets() -> None:
    with _lock:
        _secret_cache.clear()
