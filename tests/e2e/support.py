"""Helpers shared by the e2e tests (imported, so they are plain functions, not fixtures)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx


def assert_problem(r: httpx.Response, status: int, *words: str) -> dict:
    """A problem+json answer with `status` whose detail is non-empty and mentions `words`."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["status"] == status
    assert isinstance(body.get("detail"), str) and body["detail"].strip(), body
    for word in words:
        assert word in body["detail"].lower(), body
    return body


def unique_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"


@dataclass
class Account:
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def login(http: httpx.Client, email: str, password: str) -> dict:
    r = http.post("/api/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return r.json()


