"""Login brute force: failures lock the account and the source address for a while (429)."""

from __future__ import annotations

import pytest

from finflow.config import settings
from finflow.http import Problem
from functions.auth import logic


def attempt(email: str, password: str, source: str = "198.51.100.7"):
    try:
        return logic.login(email, password, source)
    except Problem as problem:
        return problem


def test_five_failures_lock_the_account_even_for_the_right_password(customer, gateway):
    person = customer(password="right-password")
    for _ in range(settings().login_max_failures_per_account):
        assert attempt(person.email, "wrong-password").status == 401
    locked = attempt(person.email, "right-password")
    assert locked.status == 429 and locked.detail == "too many failed logins; try again later"
    assert 0 < int(locked.headers["Retry-After"]) <= settings().login_lock_seconds
    # over HTTP the lock is a 429 problem with Retry-After too
    r = gateway.post("/api/auth/login", json={"email": person.email, "password": "right-password"})
    assert r.status_code == 429 and "Retry-After" in r.headers
    # someone else is not affected
    other = customer(password="right-password")
    assert attempt(other.email, "right-password").access_token


def test_a_success_before_the_limit_starts_the_count_again(customer):
    person = customer(password="right-password")
    limit = settings().login_max_failures_per_account
    for _ in range(limit - 1):
        attempt(person.email, "wrong-password")
    assert attempt(person.email, "right-password").access_token
    for _ in range(limit - 1):
        assert attempt(person.email, "wrong-password").status == 401
    assert attempt(person.email, "right-password").access_token


def test_unknown_emails_are_locked_alike_so_the_answer_reveals_nothing(api_env):
    email = "nobody-here@example.com"
    for _ in range(settings().login_max_failures_per_account):
        assert attempt(email, "guess").status == 401
    assert attempt(email, "guess").status == 429


def test_many_failures_from_one_source_lock_that_source(customer, monkeypatch):
    monkeypatch.setattr(settings(), "login_max_failures_per_source", 3)
    person = customer(password="right-password")
    for n in range(3):  # spraying one password over several accounts
        assert attempt(f"victim{n}@example.com", "Summer2026!", source="203.0.113.9").status == 401
    assert attempt(person.email, "right-password", source="203.0.113.9").status == 429
    assert attempt(person.email, "right-password", source="203.0.113.10").access_token


@pytest.fixture(autouse=True)
def _isolated_failures(api_env):
    """Counters are shared rows: start each test from none."""
    from sqlalchemy import text

    from finflow.db import engine

    with engine("auth").begin() as conn:
        conn.execute(text("DELETE FROM login_failures"))
