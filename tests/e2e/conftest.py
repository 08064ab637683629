"""The e2e tier: the devserver as a subprocess, exercised over real HTTP.

One devserver per test session: embedded PostgreSQL in a fresh data dir, moto as the AWS
endpoint, the gateway and every module's seed port on a free port range.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import httpx
import pytest

from functions import catalog
from tests.e2e import log_privacy
from tests.e2e.support import Account, login, unique_email

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0  # Ctrl-C drains requests, delivery and invocations first: slow on a loaded machine
# Set by tests/conftest.py's api_env for in-process handlers; the devserver must choose its
# own (a stale JWKS_URL or FINFLOW_API_URL would break the authorizer and health checks).
NOT_INHERITED = ("AWS_ENDPOINT_URL", "DATABASE_URL", "FINFLOW_DB_PREFIX", "JWKS_URL", "FINFLOW_API_URL")
ADMIN = ("e2e-admin@example.com", "e2e-admin-password")

_running: DevServer | None = None  # for the failure report hook below
_privacy: dict[str, int] = {}  # the log privacy check's figures, for the terminal summary


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and _running is not None:
        report.sections.append(("devserver output (tail)", _running.tail()))


@dataclass
class DevServer:
    url: str
    ports: dict[str, int]
    admin: tuple[str, str]
    aws_endpoint: str
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    def port(self, module_key: str) -> int:
        return self.ports[module_key]

    def seed_url(self, module_key: str) -> str:
        return f"http://127.0.0.1:{self.port(module_key)}"

    def aws(self, service: str):
        """A boto3 client on the devserver's AWS endpoint (moto), with dummy credentials."""
        return boto3.client(
            service,
            endpoint_url=self.aws_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def secret(self, secret_id: str) -> dict:
        return json.loads(self.aws("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])

    def tail(self, lines: int = 80) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"(no output: {exc})"
        return "\n".join(text.splitlines()[-lines:])


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_bases(start: int = 20000, stop: int = 60000, step: int = 20):
    """Port bases whose gateway, seed ports and AWS endpoint (base..base+10) are all free."""
    for base in range(start, stop, step):
        if all(_port_free(base + i) for i in range(11)):
            yield base


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED and not k.startswith("AWS_ENDPOINT_URL_")}
    env.update(
        {
            "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'layers' / 'common' / 'python'}",
            "PYTHONUNBUFFERED": "1",
            "BCRYPT_ROUNDS": "4",
            # breakers retry after 2 s instead of 30 s, so outage tests see them close again
            "SERVICE_BREAKER_RESET_SECONDS": "2",
            # Wallet's KYC cache ages out in 2 s instead of 30 s, so a trace can show both paths
            "KYC_CACHE_SECONDS": "2",
            # traced like `make dev`, whatever the api tests' env (set in this process) says
            "OTEL_SDK_DISABLED": "false",
            # the soak's many clients may pass the stage's deployed 100 requests/s: throttling's own
            # test lowers it at runtime (PUT /_dev/throttle) and puts this back
            "FINFLOW_API_RATE_LIMIT": "1000",
            "FINFLOW_API_BURST_LIMIT": "2000",
            "FINFLOW_ADMIN_EMAIL": ADMIN[0],
            "FINFLOW_ADMIN_PASSWORD": ADMIN[1],
            # INFO, not the devserver's WARNING: the log privacy check reads every line a module writes
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
    )
    return env


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stop(process: subprocess.Popen, data_dir: Path, timeout: float = STOP_TIMEOUT) -> bool:
    """SIGINT (Ctrl-C), then kill the whole group after `timeout`; True if it stopped by itself."""
    if process.poll() is not None:
        return True
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own session: only the devserver and its workers
        process.wait(timeout=10)
        _stop_postmaster(data_dir)
        return False


def _stop_postmaster(data_dir: Path) -> None:
    """After a kill, the embedded PostgreSQL (its own session) is left running: fast-stop it."""
    try:
        pid = int((data_dir / "pg" / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGINT)  # PostgreSQL's "fast" shutdown
    except (OSError, ValueError, IndexError):
        pass


def _wait_healthy(process: subprocess.Popen, url: str) -> str | None:
    """None once /api/auth/health answers 200; else why the devserver did not come up."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"devserver exited early with code {process.returncode}"
        try:
            if httpx.get(f"{url}/api/auth/health", timeout=2.0).status_code == 200:
                return None
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return f"devserver did not answer 200 on {url}/api/auth/health within {STARTUP_TIMEOUT:.0f}s"


def _start(tmp: Path) -> DevServer:
    env = _child_env()
    failures = []
    for attempt, base in enumerate(_free_bases()):
        if attempt == 3:
            break
        log_path = tmp / f"devserver-{base}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "devserver", "--port-base", str(base), "--data-dir", str(tmp / "data")],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # Own session: Ctrl-C in the terminal reaches pytest, whose teardown stops it.
                # SIGINT back to default: a shell running pytest in the background ignores it,
                # and the devserver would inherit that and never see our SIGINT.
                start_new_session=True,
                preexec_fn=_default_sigint,
            )
        url = f"http://127.0.0.1:{base}"
        ports = {m.key: base + (m.port - catalog.GATEWAY_PORT) for m in catalog.MODULES}
        server = DevServer(
            url=url,
            ports=ports,
            admin=ADMIN,
            aws_endpoint=f"http://127.0.0.1:{base + 10}",
            log_path=log_path,
            process=process,
        )
        why = _wait_healthy(process, url)
        if why is None:
            return server
        _stop(process, tmp / "data", timeout=5)
        output = server.tail()
        failures.append(f"--- port base {base}: {why}\n{output}")
        if "Address already in use" not in output:  # only a port race is worth another try
            break
    pytest.fail(f"the devserver did not start (output in {tmp}):\n" + "\n".join(failures), pytrace=False)


@pytest.fixture(scope="session")
def devserver() -> DevServer:
    global _running
    # Not under pytest's basetemp: as root, pgserver runs PostgreSQL as another OS user and
    # opens the data dir's ancestors to it, but every pytest session (a concurrent one too)
    # chmods /tmp/pytest-of-<user> back to 0700 and would lock a running server out.
    tmp = Path(tempfile.mkdtemp(prefix="finflow-e2e-"))
    harvest = log_privacy.Harvest()
    harvest.add(ADMIN[1], "password")
    unwrap = log_privacy.record_httpx(harvest)
    server = _start(tmp)
    _running = server
    try:
        yield server
    finally:
        _running = None
        unwrap()
        _harvest_secrets(server, harvest)
        clean = _stop(server.process, tmp / "data")
        code = server.process.returncode
        if not clean or code != 0:
            pytest.fail(
                f"the devserver did not stop cleanly on SIGINT (exit code {code}); output in "
                f"{server.log_path}:\n{server.tail()}",
                pytrace=False,
            )
        _check_log_privacy(server, harvest)
        shutil.rmtree(tmp, ignore_errors=True)


def _harvest_secrets(server: DevServer, harvest: log_privacy.Harvest) -> None:
    """Every secret of the local deployment (signing keys, service client secrets)."""
    sm = server.aws("secretsmanager")
    for page in sm.get_paginator("list_secrets").paginate():
        for entry in page["SecretList"]:
            harvest.secrets_manager([json.loads(sm.get_secret_value(SecretId=entry["ARN"])["SecretString"])])


def _check_log_privacy(server: DevServer, harvest: log_privacy.Harvest) -> None:
    """Once the devserver has stopped (all output flushed): no line carries a secret."""
    lines, findings = log_privacy.scan_file(server.log_path, harvest)
    _privacy.update(lines=lines, values=len(harvest.values), patterns=len(log_privacy.PATTERNS), findings=len(findings))
    if findings:
        shown = "\n".join(str(f) for f in findings[:20])
        pytest.fail(
            f"{len(findings)} secret(s) in the devserver's log ({lines} lines, output kept in "
            f"{server.log_path}):\n{shown}",
            pytrace=False,
        )


def pytest_terminal_summary(terminalreporter):
    if _privacy:
        terminalreporter.write_line(
            "log privacy: {lines} devserver log lines checked against {values} secret values and "
            "{patterns} secret patterns: {findings} found".format(**_privacy)
        )


@pytest.fixture
def http(devserver):
    """An HTTP client on the gateway."""
    with httpx.Client(base_url=devserver.url, timeout=15.0) as client:
        yield client


@pytest.fixture
def new_user(http):
    """Registers and logs in a fresh customer: `new_user()` -> Account."""

    def make(tag: str = "user") -> Account:
        email, password = unique_email(tag), "password123"
        r = http.post("/api/auth/register", json={"email": email, "password": password, "name": tag.title()})
        assert r.status_code == 201, r.text
        tokens = login(http, email, password)
        return Account(
            id=r.json()["id"],
            email=email,
            password=password,
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
        )

    return make
