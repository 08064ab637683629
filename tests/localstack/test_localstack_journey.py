"""Every stack deployed on LocalStack, called through its API Gateway: the seed's Test 1 and
Test 2 verbatim, a transfer whose PaymentCompleted reaches Notification, KYC and Reporting
through the deployed rules and queues, the migrations the deploy applied, concurrent calls,
the deploy's contract gate refusing README's breaking change, and a second deploy with no
change. The tests run in this order (the redeploy last)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import boto3
import httpx
import pytest

from functions import catalog
from tests.localstack.support import CACHE, ROOT, run_step, until
from tools import contracts, contracts_deploy

pytestmark = pytest.mark.localstack
FORM = {"Content-Type": "application/x-www-form-urlencoded"}  # curl -d without -H, as the seed sends


@dataclass
class User:
    id: str
    email: str
    password: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def problem_detail(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text}"
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    return r.json()["detail"]


def register(http: httpx.Client, tag: str, password: str = "pass123") -> User:
    email = f"{tag}-{uuid.uuid4().hex[:8]}@example.com"
    r = http.post(
        "/api/auth/register",
        content=json.dumps({"email": email, "password": password, "name": "Test User"}),
        headers=FORM,
    )
    assert r.status_code == 201, r.text
    assert r.json()["kyc_status"] == "pending"
    user_id = r.json()["id"]
    r = http.post("/api/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return User(id=user_id, email=email, password=password, token=r.json()["access_token"])


def kyc_verified(http: httpx.Client, user: User) -> None:
    """The user's KYC, verified by the deployed KYC module (kyc_auto_verify), known to Wallet."""
    r = http.post(
        "/api/kyc/submit",
        headers=user.auth,
        json={"document_type": "passport", "document_url": "https://example.com/passport.pdf"},
    )
    assert r.status_code == 202, r.text

    def verified() -> bool:
        r = http.get("/api/auth/me", headers=user.auth)
        assert r.status_code == 200, r.text
        return r.json()["kyc_status"] == "verified"

    until(f"KYC verification of {user.email} (KycDecisionMade -> bus -> Auth's queue)", verified)


def funded_wallet(http: httpx.Client, user: User, amount: str) -> dict:
    r = http.post("/api/wallet/create", headers=user.auth)
    assert r.status_code == 201, r.text
    wallet = r.json()
    r = http.post(
        "/api/payment/deposit",
        json={"wallet_id": wallet["id"], "amount": amount},
        headers=user.auth | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201 and r.json()["status"] == "completed", r.text
    return wallet


def balance(http: httpx.Client, user: User, wallet_id: str) -> str:
    r = http.get(f"/api/wallet/{wallet_id}", headers=user.auth)
    assert r.status_code == 200, r.text
    return r.json()["balance"]


def test_the_deploy_applied_every_modules_migrations(deployed, database):
    from alembic.script import ScriptDirectory

    from finflow.migrations import alembic_config, version_table

    migrated = [m.key for m in catalog.MODULES if (ROOT / "functions" / m.key / "migrations").is_dir()]
    assert len(migrated) >= 5, migrated
    for module in migrated:
        head = ScriptDirectory.from_config(alembic_config(module)).get_current_head()
        with database(module) as conn:
            applied = conn.execute(f"SELECT version_num FROM {version_table(module)}").fetchall()
        assert applied == [(head,)], f"{module}: the deploy left {applied}, the code's head is {head}"


def test_seed_1_kyc_validation_cascade(http):
    # 1. curl -X POST /api/auth/register -d '{"email":...,"password":"pass123","name":"Test User"}'
    user = register(http, "seed1")
    # no token: a 401 problem+json (the functions check tokens themselves on LocalStack)
    assert problem_detail(http.post("/api/wallet/create"), 401)
    # 2. curl -X POST /api/wallet/create -H "Authorization: Bearer <token>" -> 403
    assert problem_detail(http.post("/api/wallet/create", headers=user.auth), 403) == "KYC verification required"
    # 3./4. KYC submitted and verified by the KYC module: KycDecisionMade -> bus -> Auth -> Wallet
    kyc_verified(http, user)

    # 5. the same request now creates the wallet
    def created():
        r = http.post("/api/wallet/create", headers=user.auth)
        assert r.status_code in (201, 403), r.text
        return r.json() if r.status_code == 201 else None

    wallet = until("wallet creation after KYC verification", created, timeout=60)
    assert wallet["user_id"] == user.id and wallet["currency"] == "USD"
    assert wallet["balance"] == "0.00" and wallet["status"] == "active" and wallet["id"]


def test_seed_2_wallet_status_change(http):
    owner, other = register(http, "seed2-owner"), register(http, "seed2-other")
    for user in (owner, other):
        kyc_verified(http, user)
    source, destination = funded_wallet(http, owner, "100.00"), funded_wallet(http, other, "0.01")

    # 1. curl -X PUT /api/wallet/<id>/status -H "Authorization: Bearer <token>" -d '"frozen"'
    r = http.put(f"/api/wallet/{source['id']}/status", content='"frozen"', headers=FORM | owner.auth)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == source["id"] and r.json()["status"] == "frozen"

    # 2. curl -X POST /api/payment/transfer -d '{"from_wallet_id":...,"to_wallet_id":...,"amount":100}'
    body = json.dumps({"from_wallet_id": source["id"], "to_wallet_id": destination["id"], "amount": 100})
    assert problem_detail(http.post("/api/payment/transfer", content=body, headers=FORM), 401)
    r = http.post("/api/payment/transfer", content=body, headers=FORM | owner.auth)
    assert problem_detail(r, 400) == "Source wallet is frozen"
    assert balance(http, owner, source["id"]) == "100.00"
    assert balance(http, other, destination["id"]) == "0.01"


def test_a_transfer_and_its_payment_completed_reaching_notification_kyc_and_reporting(http, database):
    payer, payee = register(http, "payer"), register(http, "payee")
    for user in (payer, payee):
        kyc_verified(http, user)
    source, destination = funded_wallet(http, payer, "50.00"), funded_wallet(http, payee, "1.00")
    r = http.post(
        "/api/payment/transfer",
        headers=payer.auth | {"Idempotency-Key": str(uuid.uuid4())},
        json={
            "from_wallet_id": source["id"],
            "to_wallet_id": destination["id"],
            "amount": "12.34",
            "description": "rent share",
        },
    )
    assert r.status_code == 201 and r.json()["status"] == "completed", r.text
    payment = r.json()
    assert balance(http, payer, source["id"]) == "37.66"
    assert balance(http, payee, destination["id"]) == "13.34"

    with database("payment") as conn:
        row = conn.execute(
            "SELECT event_id FROM outbox WHERE detail_type = 'PaymentCompleted' AND detail->'data'->>'payment_id' = %s",
            (payment["id"],),
        ).fetchone()
    assert row, f"Payment recorded no PaymentCompleted for {payment['id']}"
    event_id = str(row[0])

    for consumer in ("kyc", "reporting"):

        def applied(consumer=consumer):
            with database(consumer) as conn:
                return conn.execute("SELECT 1 FROM processed_events WHERE event_id = %s", (event_id,)).fetchone()

        until(f"PaymentCompleted {event_id} applied by {consumer} (rule -> SQS -> {consumer}'s consumer)", applied)

    def notified():
        r = http.get("/api/notifications", headers=payee.auth)
        assert r.status_code == 200, r.text
        return [n for n in r.json()["items"] if payment["id"] in json.dumps(n) or "12.34" in json.dumps(n)]

    until("the payee's notification of the transfer (PaymentCompleted -> Notification)", notified)


def test_concurrent_calls_are_served_at_once(http, api_url):
    """Each call is one Lambda container; with host networking they must not wait on each other's ports."""
    user = register(http, "concurrent")
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(
            pool.map(lambda _: httpx.get(f"{api_url}/api/auth/me", headers=user.auth, timeout=90.0), range(8))
        )
    assert [r.status_code for r in answers] == [200] * 8, [r.text for r in answers]


def _payment_stack_updated_at(localstack: dict[str, str]) -> str:
    cfn = boto3.client(
        "cloudformation",
        endpoint_url=localstack["LOCALSTACK_ENDPOINT"],
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    (stack,) = cfn.describe_stacks(StackName="FinFlow-Payment")["Stacks"]
    return str(stack.get("LastUpdatedTime", stack["CreationTime"]))


RECORD = "localstack-dev"  # <target>-<stage>: what make deploy-localstack records


def test_the_deploy_records_what_runs_and_refuses_a_producer_its_deployed_readers_cannot_read(
    deployed, localstack, tmp_path
):
    # what the deploy recorded as running is what this tree's code declares
    record, now = contracts_deploy.deployed(RECORD), contracts.generate()
    assert record is not None, f"the deploy recorded nothing at {contracts_deploy.path_of(RECORD)}"
    assert (record.index, record.readers, record.docs) == (now.index, now.readers, now.docs)

    # README's refused change, made in a copy of this tree: Payment renames PaymentCompleted's
    # completed_at while KYC and Reporting, as deployed, still read it
    tree = tmp_path / "finflow"
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(".git", ".venv", ".local", "cdk.out", "node_modules"))
    producers = tree / "layers" / "common" / "python" / "finflow" / "contracts" / "producers.py"
    source = producers.read_text()
    assert source.count("    completed_at: datetime\n") == 1, "PaymentCompleted's contract moved: update this test"
    producers.write_text(source.replace("    completed_at: datetime\n", "    settled_at: datetime\n"))
    kept = tree / contracts_deploy.path_of(RECORD).relative_to(ROOT)
    kept.parent.mkdir(parents=True)
    shutil.copy(contracts_deploy.path_of(RECORD), kept)
    before = _payment_stack_updated_at(localstack)
    env = {
        **os.environ,
        "PYTHONPATH": f"{tree}{os.pathsep}{tree / 'layers' / 'common' / 'python'}",
        "PY": sys.executable,
        "ENDPOINTS": str(CACHE / "endpoints.env"),
        "STACKS": "FinFlow-Payment",
        "CDK_CLI_VERSION": "unused",  # the gate refuses before any CDK command runs
        "CDKLOCAL_VERSION": "unused",
    }
    done = subprocess.run(
        [str(tree / "tools" / "localstack" / "deploy")],
        check=False,
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    for reader in ("kyc", "reporting"):
        assert (
            f"refused: payment (event/PaymentCompleted): deployed reader {reader} would break: "
            f"{reader} reads PaymentCompleted.completed_at: missing"
        ) in done.stderr
        assert (
            f"event/PaymentCompleted: {reader} does not accept both shapes yet: expand it first (read old and new)"
        ) in done.stderr
    assert "cdklocal" not in done.stdout, done.stdout  # stopped before CDK
    assert _payment_stack_updated_at(localstack) == before


def test_a_second_deploy_with_no_change_succeeds_and_keeps_every_session(http, deployed):
    user = register(http, "redeploy")
    output = run_step(
        "redeploy (make deploy-localstack)", ["make", "--no-print-directory", "deploy-localstack"], timeout=1800
    )
    assert "deploy steps" in output
    r = http.get("/api/auth/me", headers=user.auth)  # the signing keys were kept
    assert r.status_code == 200, r.text
    r = http.post("/api/auth/login", json={"email": user.email, "password": user.password})
    assert r.status_code == 200, r.text
