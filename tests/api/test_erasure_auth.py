"""Auth's part of an erasure: POST /api/auth/me/erasure (the user, with their password) and
POST /api/auth/users/{id}/erasure (an admin). Pseudonymised, sessions gone, login blocked,
UserErased recorded once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.api.helpers import (  # noqa: F401
    DEFAULT_PASSWORD,
    admin_login,
    auth_handler,
    auth_jwks,
    call,
    login,
    register,
    register_and_login,
    service_token,
)

pytestmark = pytest.mark.usefixtures("auth_jwks")


@pytest.fixture
def api():
    return auth_handler()


def outbox_about(user_id: str) -> list[dict]:
    from finflow.db import engine
    from functions.auth.tables import outbox

    about = outbox.c.detail["data"]["id"].astext == user_id
    about |= outbox.c.detail["data"]["user_id"].astext == user_id
    with engine("auth").connect() as conn:
        rows = conn.execute(
            select(outbox.c.detail_type, outbox.c.detail).where(about).order_by(outbox.c.created_at)
        ).all()
    return [{"type": r.detail_type, **r.detail["data"]} for r in rows]


def stored_user(user_id: str):
    from finflow.db import engine
    from functions.auth.tables import users

    with engine("auth").connect() as conn:
        return conn.execute(select(users).where(users.c.id == user_id)).one()


def test_a_user_erases_their_account_and_can_no_longer_use_it(api):
    me = register_and_login(name="Erin Example")
    user, email = me["user"], me["user"]["email"]
    res = call(api, "POST", "/api/auth/me/erasure", {"password": DEFAULT_PASSWORD}, token=me["access_token"])
    assert res.status == 202, res
    assert res.body["user_id"] == user["id"] and res.body["status"] == "erased" and res.body["erased_at"]

    assert login(email).status == 401
    assert call(api, "POST", "/api/auth/refresh", {"refresh_token": me["refresh_token"]}).status == 401
    row = stored_user(user["id"])
    assert email not in row.email and row.name != "Erin Example" and row.erased_at is not None
    assert row.email.endswith("@erased.invalid")
    # the events recorded before keep their shape, without the personal fields
    recorded = outbox_about(user["id"])
    assert [e["type"] for e in recorded] == ["UserRegistered", "UserErased"]
    assert email not in str(recorded) and "Erin Example" not in str(recorded)
    assert recorded[-1] == {"type": "UserErased", "user_id": user["id"], "erased_at": recorded[-1]["erased_at"]}
    # the email address is free again: the same person may come back as a new customer
    again = register(email)
    assert again.status == 201 and again.body["id"] != user["id"]


def test_a_wrong_password_erases_nothing(api):
    me = register_and_login(name="Kept User")
    res = call(api, "POST", "/api/auth/me/erasure", {"password": "not-my-password"}, token=me["access_token"])
    assert res.status == 403 and "password" in res.body["detail"], res
    assert login(me["user"]["email"]).status == 200
    assert stored_user(me["user"]["id"]).erased_at is None
    assert [e["type"] for e in outbox_about(me["user"]["id"])] == ["UserRegistered"]


def test_erasure_needs_the_password_field(api):
    me = register_and_login()
    res = call(api, "POST", "/api/auth/me/erasure", {}, token=me["access_token"])
    assert res.status == 422 and "password" in res.body["detail"], res


def test_an_admin_erases_a_user_once_however_often_asked(api):
    admin, bob = admin_login(), register_and_login(name="Bob Builder")
    path = f"/api/auth/users/{bob['user']['id']}/erasure"
    first = call(api, "POST", path, token=admin["access_token"])
    second = call(api, "POST", path, token=admin["access_token"])
    assert first.status == second.status == 202, (first, second)
    assert first.body == second.body
    assert [e["type"] for e in outbox_about(bob["user"]["id"])] == ["UserRegistered", "UserErased"]
    seen = call(api, "GET", f"/api/auth/users/{bob['user']['id']}", token=admin["access_token"])
    assert seen.status == 200 and seen.body["name"] != "Bob Builder" and bob["user"]["email"] != seen.body["email"]
    assert login(bob["user"]["email"]).status == 401


def test_only_an_admin_erases_someone_else(api, api_env):
    alice, bob = register_and_login(), register_and_login()
    res = call(api, "POST", f"/api/auth/users/{bob['user']['id']}/erasure", token=alice["access_token"])
    assert res.status == 403, res
    svc = call(api, "POST", f"/api/auth/users/{bob['user']['id']}/erasure", token=service_token(api_env, "wallet"))
    assert svc.status == 403, svc
    on_me = call(api, "POST", "/api/auth/me/erasure", {"password": "x"}, token=service_token(api_env, "wallet"))
    assert on_me.status == 403, on_me
    assert login(bob["user"]["email"]).status == 200


@pytest.mark.parametrize("user_id", ["00000000-0000-4000-8000-000000000000", "not-a-uuid"])
def test_an_unknown_user_is_404(api, user_id):
    admin = admin_login()
    res = call(api, "POST", f"/api/auth/users/{user_id}/erasure", token=admin["access_token"])
    assert res.status == 404, res


def test_an_admin_does_not_erase_themselves_by_id(api):
    admin = admin_login()
    res = call(api, "POST", f"/api/auth/users/{admin['user']['id']}/erasure", token=admin["access_token"])
    assert res.status == 403 and "me/erasure" in res.body["detail"], res


def test_guessing_the_password_through_erasure_locks_like_login(api):
    from finflow.config import settings

    me = register_and_login()
    for _ in range(settings().login_max_failures_per_account):
        res = call(api, "POST", "/api/auth/me/erasure", {"password": "a-guess"}, token=me["access_token"])
        assert res.status == 403, res
    locked = call(api, "POST", "/api/auth/me/erasure", {"password": DEFAULT_PASSWORD}, token=me["access_token"])
    assert locked.status == 429 and int(locked.header("Retry-After")) > 0, locked
    assert stored_user(me["user"]["id"]).erased_at is None
