"""Helpers shared by the api tests (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC

import pytest


def kyc_decision(user_id: str, status: str, decided_at: str | None = None) -> None:
    from datetime import datetime

    from finflow.events import Event
    from functions.auth.logic import apply_kyc_decision

    at = decided_at or datetime.now(UTC).isoformat()
    apply_kyc_decision(
        Event(
            event_id=str(uuid.uuid4()),
            source="finflow.kyc",
            detail_type="KycDecisionMade",
            occurred_at=at,
            version=1,
            correlation_id=None,
            data={"user_id": user_id, "status": status, "decided_at": at},
        )
    )


@dataclass
class Person:
    id: str
    email: str
    headers: dict
    refresh_token: str


def service_headers(module: str) -> dict:
    from finflow.service_auth import service_token

    return {"Authorization": f"Bearer {service_token(module)}"}


def sqs_batch(*envelopes: dict) -> dict:
    """An SQS event as Lambda receives it from a rule's queue, one record per EventBridge envelope."""
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"r{i}",
                "body": json.dumps(env),
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:test",
                "awsRegion": "us-east-1",
            }
            for i, env in enumerate(envelopes)
        ]
    }


def envelope(
    source: str,
    detail_type: str,
    data: dict,
    *,
    event_id: str | None = None,
    occurred_at: str = "2026-01-01T00:00:00+00:00",
) -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "source": source,
        "detail-type": detail_type,
        "account": "000000000000",
        "time": occurred_at,
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "event_id": event_id or str(uuid.uuid4()),
            "occurred_at": occurred_at,
            "version": 1,
            "correlation_id": "test",
            "data": data,
        },
    }


@contextmanager
def in_process_gateway():
    """An httpx client on a fresh in-process gateway, through which every module's outbound
    calls go too; `client.functions` are its function pools (tests take a module down with
    `functions["auth.api"].enabled = False`)."""
    import httpx

    from devserver import inprocess
    from finflow import service_auth, service_client, token_check
    from functions.notification import channels

    gw = inprocess.gateway()
    transport = inprocess.transport(gw)
    service_client.route_all_http_through(transport)
    service_auth.forget_tokens()
    token_check.forget_keys()
    channels.reset_clients()
    try:
        with httpx.Client(transport=transport, base_url="http://gateway.test") as client:
            client.functions = gw.pools
            yield client
    finally:
        service_client.route_all_http_through(None)


def until(what: str, check, timeout: float, every: float = 0.2):
    """Poll `check()` until it returns something truthy, and return that; fail naming `what`."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout:.0f}s", pytrace=False)
        time.sleep(every)
    return result
