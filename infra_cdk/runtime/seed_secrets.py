"""Foundation's secrets seeder: the JWT key ring, every module's client credentials and
Auth's registry of them (what devserver/bootstrap.create_secrets does locally).

Existing values are kept, so a redeploy signs nothing out; a new `Generation` property
rotates: a fresh signing key becomes active (the previous one stays for verification)
and every module gets a new client secret, written together with the registry.
"""

from __future__ import annotations

import hashlib
import json
import secrets as pysecrets

import boto3

from finflow.tokens import KeyRing, generate_key

from .cfn import custom_resource

_sm = None


def secrets():
    """Secrets Manager, created on first use (a test hands in its own)."""
    global _sm
    if _sm is None:
        _sm = boto3.client("secretsmanager")
    return _sm


def _read(secret_id: str) -> dict:
    try:
        value = json.loads(secrets().get_secret_value(SecretId=secret_id)["SecretString"])
        return value if isinstance(value, dict) else {}
    except (ValueError, secrets().exceptions.ResourceNotFoundException):
        return {}


def _write(secret_id: str, value: dict) -> None:
    secrets().put_secret_value(SecretId=secret_id, SecretString=json.dumps(value))


def seed(props: dict) -> dict:
    generation = str(props.get("Generation", "1"))
    ring_secret = _read(props["JwtKeysSecretArn"])
    rotate = ring_secret.get("generation") not in (None, generation)
    if "active_kid" not in ring_secret:
        ring = KeyRing(active_kid=(key := generate_key()).kid, keys=(key,))
    else:
        ring = KeyRing.from_secret(ring_secret)
        ring = ring.rotated() if rotate else ring
    _write(props["JwtKeysSecretArn"], {**ring.to_secret(), "generation": generation})

    registry = {}
    for module, arn in sorted(props["CredentialSecretArns"].items()):
        cred = _read(arn)
        if rotate or "client_secret" not in cred or cred.get("client_id") != f"svc-{module}":
            cred = {"client_id": f"svc-{module}", "client_secret": pysecrets.token_urlsafe(32)}
            _write(arn, cred)
        registry[cred["client_id"]] = {
            "module": module,
            "secret_sha256": hashlib.sha256(cred["client_secret"].encode()).hexdigest(),
        }
    _write(props["ServiceClientsSecretArn"], {"clients": registry})
    return {"ActiveKid": ring.active_kid}


handler = custom_resource(seed)
