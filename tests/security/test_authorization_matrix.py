"""The authorization matrix, generated from every module's OpenAPI document:

- a route naming a resource, called by another customer on the owner's real resource,
  is 403 or 404 and changes nothing the owner (or compliance) can see (BOLA);
- a role route is 403 for every principal without the role, a service route 403 for
  users, admins and every other module's service token, and changes nothing either;
- a route for users' own data (no id in the path) is 403 for every module's service token;
- each is 2xx for the principal it is meant for, with the same request (so a refusal is
  the authorization check, not a bad request).
"""

from __future__ import annotations

import pytest

from tests.security import routes
from tests.security.routes import RESOURCE_PARAMS as RESOURCE_FIXTURES
from tests.security.world import SERVICES, allowed, has_body_fixture, needs_body, refused, throwaway_ids

OWNED = routes.by_audience("owner")
RESTRICTED = routes.by_audience("role") + routes.by_audience("service")
USERS_OWN = routes.by_audience("user")


def test_every_operation_is_classified():
    """A new route must be public, the caller's own (no id), a known resource or a ruled role/service
    route, and have a body to send: otherwise the matrix cannot test it and this fails."""
    problems = []
    for op in routes.protected():
        unknown = [p for p in op.path_params if p not in RESOURCE_FIXTURES]
        if unknown:
            problems.append(f"{op}: no fixture for path parameter(s) {unknown} (tests/security/world.py)")
        if needs_body(op) and not has_body_fixture(op):
            problems.append(f"{op}: takes a body but tests/security/world.py has none for it")
    assert not problems, "\n".join(problems)
    # the matrix really covers something in every module that has protected routes
    assert {op.module for op in OWNED} >= {"auth", "wallet", "payment", "notification", "kyc"}
    assert {op.module for op in RESTRICTED} >= {"auth", "wallet", "kyc", "reporting"}


@pytest.mark.parametrize("op", OWNED, ids=str)
def test_another_customer_cannot_reach_the_owners_resource(world, op):
    before = world.owner_view()
    r = world.call(op, "attacker", attack=True)
    assert r.status_code in (403, 404), f"{op} as another customer: {r.status_code} {r.text}"
    assert r.headers["content-type"].startswith("application/problem+json") and r.json()["detail"]
    assert world.owner_view() == before, f"{op} as another customer changed the owner's data"
    ok = world.call(op, "owner", ids=throwaway_ids(world, op) if routes.destructive(op) else None)
    assert 200 <= ok.status_code < 300, f"{op} as its owner: {ok.status_code} {ok.text}"


@pytest.mark.parametrize("op", RESTRICTED, ids=str)
def test_restricted_routes_refuse_everyone_else(world, op):
    aud = routes.audience(op)
    before = world.owner_view()
    for who in refused(aud):
        r = world.call(op, who, attack=True)
        assert r.status_code == 403, f"{op} as {who}: {r.status_code} {r.text}"
        assert r.json()["detail"]
    assert world.owner_view() == before, f"a refused {op} changed the owner's data"
    ok = world.call(op, allowed(aud), ids=throwaway_ids(world, op) if routes.destructive(op) else None)
    assert 200 <= ok.status_code < 300, f"{op} as {allowed(aud)}: {ok.status_code} {ok.text}"


@pytest.mark.parametrize("op", USERS_OWN, ids=str)
def test_users_own_routes_refuse_service_tokens(world, op):
    before = world.owner_view()
    for svc in SERVICES:
        r = world.call(op, f"svc:{svc}", attack=True)
        assert r.status_code == 403, f"{op} as svc:{svc}: {r.status_code} {r.text}"
        assert r.json()["detail"]
    assert world.owner_view() == before, f"a refused {op} changed the owner's data"
