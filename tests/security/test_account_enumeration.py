"""Login, registration and refresh reveal nothing about which emails are registered: not by
status, body or headers, and not by how long the answer takes.

The timing check compares registered and unknown emails for equality; it asserts no speed
(the project keeps timing targets out of tests, in bench/). It runs at the production bcrypt
cost, the setting's default, where a cheaper dummy hash for unknown emails (the leak it
guards against) answers tens of times faster than a real account.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import time
import uuid

import pytest
from sqlalchemy import text

from finflow.config import Settings, settings
from finflow.db import engine

PRODUCTION_ROUNDS = Settings.model_fields["bcrypt_rounds"].default
ROUNDS = 30  # timed logins of each kind, interleaved in random order
PER_REQUEST = {"x-correlation-id"}  # differs on every answer, whoever asks


def email() -> str:
    return f"enum-{uuid.uuid4().hex[:12]}@example.com"


def answer(r) -> tuple:
    """What a client can compare between two answers, beyond the time they took."""
    headers = tuple(sorted((k, v) for k, v in r.headers.items() if k.lower() not in PER_REQUEST))
    return r.status_code, r.text, headers


def leak(a: list[float], b: list[float]) -> str | None:
    """Why `a` and `b` are not the same distribution of times, or None.

    The medians may differ by 3 interquartile ranges of the noisier side: two medians of 30
    interleaved samples of one distribution differ by ~0.2 of one by chance, so noise cannot
    fail this. The tolerance never exceeds half the slower median, so a difference of 2x (let
    alone the 10x of a cheaper hash) fails however noisy the machine is.
    """
    ma, mb = statistics.median(a), statistics.median(b)
    spread = max(iqr(a), iqr(b))
    tolerance = min(3 * spread, max(ma, mb) / 2)
    if abs(ma - mb) <= tolerance:
        return None
    return f"medians {ma * 1000:.1f} vs {mb * 1000:.1f} ms differ by more than {tolerance * 1000:.1f} ms"


def iqr(xs: list[float]) -> float:
    q1, _, q3 = statistics.quantiles(xs, n=4)
    return q3 - q1


def figures(name: str, xs: list[float]) -> str:
    return f"{name} median {statistics.median(xs) * 1000:.1f} ms, IQR {iqr(xs) * 1000:.1f} ms"


@pytest.fixture(autouse=True)
def _no_failures_counted(api_env):
    """Failed attempts are counted in shared rows (per email and per address): none to start."""
    with engine("auth").begin() as conn:
        conn.execute(text("DELETE FROM login_failures"))


def login(gw, address: str, password: str = "not-the-password"):
    return gw.post("/api/auth/login", json={"email": address, "password": password})


def register(gw, address: str):
    return gw.post("/api/auth/register", json={"email": address, "password": "password123", "name": "Someone"})


def test_a_registered_and_an_unknown_email_get_the_same_answer_in_the_same_time(gw, monkeypatch):
    monkeypatch.setattr(settings(), "bcrypt_rounds", PRODUCTION_ROUNDS)
    # the locks are equal too (next test); here they would end the measurement early
    monkeypatch.setattr(settings(), "login_max_failures_per_account", 10**6)
    monkeypatch.setattr(settings(), "login_max_failures_per_source", 10**6)
    registered = email()
    assert register(gw, registered).status_code == 201

    times: dict[str, list[float]] = {"registered": [], "unknown": []}
    answers = set()
    for n in range(ROUNDS + 3):  # the first 3 rounds warm up (first login, connections) untimed
        for kind in random.sample(sorted(times), 2):
            start = time.perf_counter()
            r = login(gw, registered if kind == "registered" else email())
            took = time.perf_counter() - start
            answers.add(answer(r))
            if n >= 3:
                times[kind].append(took)

    assert len(answers) == 1, answers
    assert next(iter(answers))[0] == 401
    print(f"\nbcrypt cost {PRODUCTION_ROUNDS}: " + "; ".join(figures(k, v) for k, v in times.items()))
    assert leak(times["registered"], times["unknown"]) is None, leak(times["registered"], times["unknown"])


def test_a_locked_registered_and_a_locked_unknown_email_get_the_same_429(gw):
    registered, unknown = email(), email()
    assert register(gw, registered).status_code == 201
    for _ in range(settings().login_max_failures_per_account):
        assert login(gw, registered).status_code == login(gw, unknown).status_code == 401
    # locked, even for the right password: the account's existence is not what decides
    a, b = login(gw, registered, "password123"), login(gw, unknown)
    assert a.status_code == b.status_code == 429
    assert a.text == b.text and a.headers["content-type"] == b.headers["content-type"]
    assert abs(int(a.headers["Retry-After"]) - int(b.headers["Retry-After"])) <= 1  # the same lock, a second apart


def test_a_taken_email_is_409_and_counts_toward_the_address_lock(gw, monkeypatch):
    # The contract answers a taken email 409, so registration tells; asking repeatedly from
    # one address costs the budget of failed logins, and then every registration waits.
    monkeypatch.setattr(settings(), "login_max_failures_per_source", 3)
    taken = email()
    assert register(gw, taken).status_code == 201
    for _ in range(2):
        r = register(gw, taken)
        assert r.status_code == 409 and taken not in r.text
    assert login(gw, email()).status_code == 401  # a failed login spends the same budget
    fresh = email()
    for address in (taken, fresh):
        r = register(gw, address)
        assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) <= settings().login_lock_seconds
        assert r.json()["detail"] == "too many failed attempts; try again later"
    assert login(gw, fresh, "password123").status_code == 429  # the address is locked: nothing was created
    with engine("auth").connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users WHERE email = :e"), {"e": fresh}).scalar() == 0


def test_every_refresh_token_that_does_not_work_gets_the_same_answer(gw):
    def session():
        address = email()
        assert register(gw, address).status_code == 201
        return login(gw, address, "password123").json()["refresh_token"]

    def refresh(token):
        return gw.post("/api/auth/refresh", json={"refresh_token": token})

    expired, revoked, reused = session(), session(), session()
    with engine("auth").begin() as conn:
        conn.execute(
            text("UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = :h"),
            {"h": hashlib.sha256(expired.encode()).hexdigest()},
        )
    rotated = refresh(revoked).json()["refresh_token"]
    assert refresh(revoked).status_code == 401  # reuse revokes the family: `rotated` is revoked now
    assert refresh(reused).status_code == 200
    refused = {
        "unknown": refresh("never-issued-" + uuid.uuid4().hex),
        "expired": refresh(expired),
        "revoked": refresh(rotated),
        "reused": refresh(reused),
    }
    assert {answer(r) for r in refused.values()} == {answer(refused["unknown"])}
    assert refused["unknown"].status_code == 401


def test_a_hash_of_an_older_cost_is_brought_to_the_configured_cost_at_login(gw, monkeypatch):
    # Otherwise, after BCRYPT_ROUNDS changes, old accounts answer a wrong password in another
    # time than the dummy hash answers an unknown email.
    address = email()
    assert register(gw, address).status_code == 201
    monkeypatch.setattr(settings(), "bcrypt_rounds", settings().bcrypt_rounds + 1)
    assert login(gw, address, "password123").status_code == 200
    with engine("auth").connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users WHERE email = :e"), {"e": address}).scalar()
    assert stored.split("$")[2] == f"{settings().bcrypt_rounds:02d}"
    assert login(gw, address, "password123").status_code == 200
