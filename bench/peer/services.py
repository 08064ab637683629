"""Run the peer: its three services as uvicorn processes on free loopback ports, with a fresh
2048-bit RSA key (Auth signs, every service verifies) and client secrets for the two callers."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid

import httpx

from bench.env import DATA, ROOT

SERVICES = ("auth", "wallet", "payment")  # started in this order: callees first


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _key_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


class Peer:
    """`with Peer(databases, procs) as peer:` the three services up; `peer.url` is Payment's."""

    def __init__(self, databases: dict[str, str], procs: int = 1) -> None:
        self.databases, self.procs = databases, procs
        self.private_key, public_key = _key_pair()
        self.ports = {s: _free_port() for s in SERVICES}
        self.url = f"http://127.0.0.1:{self.ports['payment']}"
        clients = {"payment": secrets.token_urlsafe(24), "wallet": secrets.token_urlsafe(24)}
        base = {k: v for k, v in os.environ.items() if not k.startswith("PEER_")}
        base.update(
            {
                "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'layers' / 'common' / 'python'}",
                "PEER_PUBLIC_KEY": public_key,
                "PEER_AUTH_URL": f"http://127.0.0.1:{self.ports['auth']}",
                "PEER_WALLET_URL": f"http://127.0.0.1:{self.ports['wallet']}",
            }
        )
        self.env = {
            "auth": {**base, "PEER_PRIVATE_KEY": self.private_key, "PEER_CLIENTS": json.dumps(clients)},
            "wallet": {**base, "PEER_CLIENT_SECRET": clients["wallet"]},
            "payment": {**base, "PEER_CLIENT_SECRET": clients["payment"]},
        }
        self.procs_running: list[subprocess.Popen] = []

    def __enter__(self) -> Peer:
        DATA.mkdir(parents=True, exist_ok=True)
        self.log = open(DATA / "peer.log", "w")
        try:
            for service in SERVICES:
                self._start(service)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _start(self, service: str) -> None:
        port = self.ports[service]
        args = [sys.executable, "-m", "uvicorn", f"bench.peer.{service}:app", "--host", "127.0.0.1"]
        args += ["--port", str(port), "--workers", str(self.procs), "--log-level", "warning", "--no-access-log"]
        env = {**self.env[service], "PEER_DATABASE": self.databases[service]}
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs_running.append(proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"peer {service} exited: see {DATA / 'peer.log'}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"peer {service} did not come up: see {DATA / 'peer.log'}")

    def user_token(self, user_id: str) -> str:
        """A customer's access token, as the peer's Auth would sign it at login."""
        import jwt

        from bench.peer.common import AUDIENCE, ISSUER, TOKEN_TTL_SECONDS

        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": user_id, "iat": now, "exp": now + TOKEN_TTL_SECONDS}
        return jwt.encode({**claims, "jti": uuid.uuid4().hex, "kind": "user"}, self.private_key, algorithm="RS256")

    def stop(self) -> None:
        for proc in self.procs_running:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.procs_running:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self.procs_running.clear()
        self.log.close()
