"""Foundation's database setup: one login role and one database per Aurora-owning module.

Connects with the cluster's master secret; each module's role gets the password from its
own secret and owns only its database (no module can open another's). It also writes the
proxy's address into each module secret (the proxy needs the secrets before it exists).
"""

from __future__ import annotations

import json

import boto3
import psycopg
from psycopg import sql

from .cfn import custom_resource

_sm = None


def secrets():
    """Secrets Manager, created on first use (a test hands in its own)."""
    global _sm
    if _sm is None:
        _sm = boto3.client("secretsmanager")
    return _sm


def _secret(arn: str) -> dict:
    return json.loads(secrets().get_secret_value(SecretId=arn)["SecretString"])


def setup(props: dict) -> dict:
    master = _secret(props["MasterSecretArn"])
    conninfo = dict(
        host=master["host"],
        port=int(master.get("port", 5432)),
        user=master["username"],
        password=master["password"],
        dbname=master.get("dbname", "postgres"),
        connect_timeout=10,
    )
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        for module, arn in sorted(props["ModuleSecretArns"].items()):
            cred = _secret(arn)
            cred.update(
                host=props["Host"],
                port=int(props["Port"]),
                dbname=cred.get("dbname", module),
                username=cred.get("username", f"{module}_svc"),
            )
            secrets().put_secret_value(SecretId=arn, SecretString=json.dumps(cred))
            user, db = sql.Identifier(cred["username"]), sql.Identifier(cred["dbname"])
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (cred["username"],)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(user, sql.Literal(cred["password"])))
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (cred["dbname"],)).fetchone():
                conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(user))  # RDS: the master is no superuser
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(db, user))
            conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))
    return {}


handler = custom_resource(setup)
