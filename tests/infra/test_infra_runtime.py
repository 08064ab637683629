"""The deploy-time handlers (infra_cdk/runtime, shipped as `deploy_runtime`), run here
against moto and the embedded PostgreSQL: the custom-resource responder, the secrets
seeder, the per-module database setup and the migrations run."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import boto3
import psycopg
import pytest
from sqlalchemy.engine import make_url

from infra_cdk.runtime import cfn, db_setup, migrate, seed_secrets


@pytest.fixture
def cloudformation():
    """A stand-in for CloudFormation's presigned response URL: collects what handlers PUT."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/response"
    yield url, received
    server.shutdown()


def cfn_event(url: str, request: str = "Create", **props) -> dict:
    return {
        "RequestType": request,
        "ResponseURL": url,
        "StackId": "stack",
        "RequestId": "req",
        "LogicalResourceId": "Thing",
        "ResourceProperties": props,
    }


def test_a_custom_resource_reports_success_with_data_and_failure_with_the_reason(cloudformation):
    url, received = cloudformation
    cfn.custom_resource(lambda props: {"Echo": props["Value"]})(cfn_event(url, Value="x"), None)
    cfn.custom_resource(lambda props: 1 / 0)(cfn_event(url), None)
    cfn.custom_resource(lambda props: 1 / 0)(cfn_event(url, "Delete"), None)  # a delete does not re-run it
    assert [r["Status"] for r in received] == ["SUCCESS", "FAILED", "SUCCESS"]
    assert received[0]["Data"] == {"Echo": "x"} and received[0]["PhysicalResourceId"] == "Thing"
    assert "ZeroDivisionError" in received[1]["Reason"]


def test_invoked_as_a_deploy_step_a_handler_answers_itself_and_a_failure_fails_the_invocation():
    # no ResponseURL: infra_cdk.deploy_steps invoked it (targets without custom resources)
    step = {"RequestType": "Create", "ResourceProperties": {"Value": "x"}}
    assert cfn.custom_resource(lambda props: {"Echo": props["Value"]})(step, None) == {
        "Status": "SUCCESS",
        "Data": {"Echo": "x"},
    }
    with pytest.raises(ZeroDivisionError):
        cfn.custom_resource(lambda props: 1 / 0)(step, None)


@pytest.fixture
def secretsmanager(moto_endpoint, monkeypatch):
    client = boto3.client(
        "secretsmanager",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for module in (seed_secrets, db_setup):
        monkeypatch.setattr(module, "_sm", client)
    return client


def new_secret(sm, value: dict | str = "placeholder") -> str:
    return sm.create_secret(
        Name=f"runtime-test/{uuid.uuid4().hex}", SecretString=value if isinstance(value, str) else json.dumps(value)
    )["ARN"]


def read(sm, arn: str) -> dict:
    return json.loads(sm.get_secret_value(SecretId=arn)["SecretString"])


def test_the_seeder_keeps_what_exists_and_rotates_on_a_new_generation(secretsmanager):
    sm = secretsmanager
    props = {
        "Generation": "1",
        "JwtKeysSecretArn": new_secret(sm),
        "ServiceClientsSecretArn": new_secret(sm),
        "CredentialSecretArns": {"auth": new_secret(sm), "wallet": new_secret(sm)},
    }
    first = seed_secrets.seed(props)
    ring, wallet = read(sm, props["JwtKeysSecretArn"]), read(sm, props["CredentialSecretArns"]["wallet"])
    assert ring["active_kid"] == first["ActiveKid"] and len(ring["keys"]) == 1
    assert wallet["client_id"] == "svc-wallet" and len(wallet["client_secret"]) >= 40
    registry = read(sm, props["ServiceClientsSecretArn"])["clients"]
    assert registry["svc-wallet"] == {
        "module": "wallet",
        "secret_sha256": hashlib.sha256(wallet["client_secret"].encode()).hexdigest(),
    }

    assert seed_secrets.seed(props) == first  # a redeploy signs no one out
    assert read(sm, props["CredentialSecretArns"]["wallet"]) == wallet

    rotated = seed_secrets.seed({**props, "Generation": "2"})
    ring2 = read(sm, props["JwtKeysSecretArn"])
    assert rotated["ActiveKid"] != first["ActiveKid"]
    assert {k["kid"] for k in ring2["keys"]} == {rotated["ActiveKid"], first["ActiveKid"]}  # the old key still verifies
    wallet2 = read(sm, props["CredentialSecretArns"]["wallet"])
    assert wallet2["client_secret"] != wallet["client_secret"]
    assert (
        read(sm, props["ServiceClientsSecretArn"])["clients"]["svc-wallet"]["secret_sha256"]
        == hashlib.sha256(wallet2["client_secret"].encode()).hexdigest()
    )


@pytest.fixture
def module_databases(pg_server_url, secretsmanager):
    """Two module logins (as Foundation creates them) on the embedded server; dropped afterwards."""
    sm, url = secretsmanager, make_url(pg_server_url)
    run = f"rt{uuid.uuid4().hex[:6]}"
    master = {
        "host": url.query.get("host") or url.host,
        "port": url.port or 5432,
        "username": url.username,
        "password": url.password or "",
        "dbname": "postgres",
    }
    modules = {
        key: new_secret(
            sm,
            {
                "username": f"{run}_{key}_svc",
                "dbname": f"{run}_{key}",
                "engine": "postgres",
                "password": uuid.uuid4().hex,
            },
        )
        for key in ("wallet", "payment")
    }
    yield master, new_secret(sm, master), modules
    with psycopg.connect(
        **{k: v for k, v in master.items() if k != "username"}, user=master["username"], autocommit=True
    ) as conn:
        for key in modules:
            conn.execute(f'DROP DATABASE IF EXISTS "{run}_{key}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{run}_{key}_svc"')


def connect_as(master: dict, cred: dict, dbname: str):
    return psycopg.connect(
        host=master["host"],
        port=master["port"],
        user=cred["username"],
        password=cred["password"],
        dbname=dbname,
        connect_timeout=5,
    )


def test_database_setup_gives_each_module_its_own_login_and_database(secretsmanager, module_databases):
    sm = secretsmanager
    master, master_arn, modules = module_databases
    props = {
        "MasterSecretArn": master_arn,
        "ModuleSecretArns": modules,
        "Host": master["host"],
        "Port": str(master["port"]),
    }
    db_setup.setup(props)
    db_setup.setup(props)  # an update runs it again: nothing to create, nothing fails
    wallet, payment = read(sm, modules["wallet"]), read(sm, modules["payment"])
    assert (wallet["host"], wallet["port"]) == (master["host"], master["port"])  # the proxy's address on AWS
    with connect_as(master, wallet, wallet["dbname"]) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == wallet["username"]
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        connect_as(master, wallet, payment["dbname"])  # no module opens another's database


def test_migrations_run_with_the_module_secret(secretsmanager, module_databases, moto_endpoint, monkeypatch):
    from finflow import aws, config, db

    sm = secretsmanager
    master, master_arn, modules = module_databases
    db_setup.setup(
        {
            "MasterSecretArn": master_arn,
            "ModuleSecretArns": modules,
            "Host": master["host"],
            "Port": str(master["port"]),
        }
    )
    for name, value in {
        "DB_SECRET_ARN": modules["wallet"],
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    caches = (config.settings.cache_clear, aws.client.cache_clear, aws.forget_secrets, db.reset_engines)
    for clear in caches:
        clear()
    try:
        assert migrate.migrate({"Module": "wallet"}) == {"Revision": "head"}
        wallet = read(sm, modules["wallet"])
        with connect_as(master, wallet, wallet["dbname"]) as conn:
            assert conn.execute("SELECT version_num FROM alembic_version_wallet").fetchone()
            owner = conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'outbox'").fetchone()[0]
            assert owner == wallet["username"]
    finally:
        monkeypatch.undo()
        for clear in caches:
            clear()
