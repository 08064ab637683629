"""Fixtures of the security tests: one in-process gateway and one world per test module."""
from __future__ import annotations

import httpx
import pytest


@pytest.fixture(scope="module")
def gw(api_env):
    """Like tests/conftest.py's `gateway`, for a whole module (the world is built once)."""
    from devserver import inprocess
    from finflow import service_auth, service_client
    from functions.auth import authorizer
    from functions.notification import channels
    gateway = inprocess.gateway()
    transport = inprocess.transport(gateway)
    service_client.route_all_http_through(transport)
    service_auth.forget_tokens()
    authorizer.forget_keys()
    channels.reset_clients()
    with httpx.Client(transport=transport, base_url="http://gateway.test") as client:
        client.functions = gateway.pools
        yield client
    service_client.route_all_http_through(None)


@pytest.fixture(scope="module")
def world(gw):
    from tests.security.world import build
    return build(gw)
