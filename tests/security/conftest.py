"""Fixtures of the security tests: one in-process gateway and one world per test module."""

from __future__ import annotations

import pytest

from tests.support import in_process_gateway


@pytest.fixture(scope="module")
def gw(api_env):
    """Like tests/conftest.py's `gateway`, for a whole module (the world is built once)."""
    with in_process_gateway() as client:
        yield client


@pytest.fixture(scope="module")
def world(gw):
    from tests.security.world import build

    return build(gw)
