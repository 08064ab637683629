"""The deployed app on a real LocalStack, with Lambdas executing: `tools/localstack/up` sets
it up (or finds it running), `make deploy-localstack` deploys every stack and runs the deploy
steps, and the tests call the deployed API Gateway. A step that cannot run fails the tier
with the step and its reason: proving the deploy is this tier's job, so it never skips.

Timings (setup, deploy, redeploy) go to .local/localstack-timings.json.
"""

from __future__ import annotations

import json

import httpx
import psycopg
import pytest

from tests.localstack.support import OUTPUTS, ROOT, endpoints, run_step


@pytest.fixture(scope="session")
def localstack() -> dict[str, str]:
    run_step("setup (tools/localstack/up)", [str(ROOT / "tools" / "localstack" / "up")], timeout=1500)
    return endpoints()


@pytest.fixture(scope="session")
def deployed(localstack) -> dict:
    run_step("deploy (make deploy-localstack)", ["make", "--no-print-directory", "deploy-localstack"], timeout=1800)
    return json.loads(OUTPUTS.read_text())


@pytest.fixture(scope="session")
def api_url(deployed) -> str:
    return deployed["FinFlow-Foundation"]["ApiUrl"].rstrip("/")


@pytest.fixture
def http(api_url):
    # the first call to each function starts its container: generous timeouts
    with httpx.Client(base_url=api_url, timeout=90.0) as client:
        yield client


@pytest.fixture(scope="session")
def database(localstack):
    """A connection to one module's database on the stores' PostgreSQL, as its admin."""

    def connect(dbname: str) -> psycopg.Connection:
        return psycopg.connect(
            host=localstack["LOCALSTACK_PG_HOST"],
            port=int(localstack["LOCALSTACK_PG_PORT"]),
            user=localstack["LOCALSTACK_PG_USER"],
            password=localstack["LOCALSTACK_PG_PASSWORD"],
            dbname=dbname,
            autocommit=True,
            connect_timeout=10,
        )

    return connect
