"""Shared fixtures: one real PostgreSQL and one moto server per test session."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from tests.support import Person, in_process_gateway, kyc_decision

ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    config.addinivalue_line("markers", "fuzz: the soak and other long runs; only with FINFLOW_FUZZ=1 (make fuzz)")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("FINFLOW_FUZZ") == "1":
        return
    skip = pytest.mark.skip(reason="long run: only in `make fuzz` (FINFLOW_FUZZ=1)")
    for item in items:
        if "fuzz" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    from devserver.embedded_postgres import server_url

    return server_url(ROOT / ".local" / "test-pg")


@pytest.fixture(scope="session")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def api_env(pg_server_url, moto_endpoint):
    """Environment for in-process handlers: own databases (prefix `t_`), moto, test secrets."""
    from devserver.bootstrap import create_event_routing, create_secrets, create_storage
    from devserver.embedded_postgres import ensure_database

    run = uuid.uuid4().hex[:6]
    env = {
        "DATABASE_URL": pg_server_url,
        "FINFLOW_DB_PREFIX": f"t{run}_",
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "BCRYPT_ROUNDS": "4",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        # nothing listens here: outbound calls work only through an in-process gateway
        "FINFLOW_API_URL": "http://127.0.0.1:9",
    }
    os.environ.update(env)
    from finflow import aws, config, db, migrations

    config.settings.cache_clear()
    aws.client.cache_clear()
    db.reset_engines()
    from functions import catalog

    for m in catalog.MODULES:
        if (ROOT / "functions" / m.key / "migrations").is_dir():
            ensure_database(pg_server_url, f"t{run}_{m.key}")
            migrations.upgrade(m.key)
    secrets = create_secrets()
    create_storage()
    create_event_routing()
    return {**env, "secrets": secrets}


@pytest.fixture
def gateway(api_env):
    """An httpx client on the in-process gateway; every module's outbound calls use it too."""
    with in_process_gateway() as client:
        yield client


@pytest.fixture
def customer(gateway):
    """Registers and logs in a new customer: returns a Person with id, email, headers."""

    def make(name: str = "Test User", password: str = "password123"):
        email = f"{uuid.uuid4().hex[:12]}@example.com"
        user = gateway.post("/api/auth/register", json={"email": email, "password": password, "name": name})
        assert user.status_code == 201, user.text
        tokens = gateway.post("/api/auth/login", json={"email": email, "password": password}).json()
        return Person(
            user.json()["id"], email, {"Authorization": f"Bearer {tokens['access_token']}"}, tokens["refresh_token"]
        )

    return make


@pytest.fixture
def verified_customer(customer):
    """A customer whose KYC was approved (KycDecisionMade consumed by Auth, as in AWS)."""

    def make(**kw):
        person = customer(**kw)
        kyc_decision(person.id, "verified")
        return person

    return make
