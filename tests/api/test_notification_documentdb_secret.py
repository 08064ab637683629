"""Notification on DocumentDB in AWS: the functions get the cluster's secret (DOCUMENTDB_SECRET_ARN),
never a password, and the adapter builds its connection from that secret at first use: TLS verified
against the Amazon RDS CAs shipped in the module, replica set rs0, reads from replicas, no retryable
writes. Nothing here connects to a server: the client is built with connect=False, or is mongomock.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from functions.notification import store

MODULE_DIR = Path(store.__file__).resolve().parent
# the password has every character a URI would need escaped: it must reach the client intact
SECRET = {
    "engine": "mongo",
    "host": "finflow-dev.cluster-abc.us-east-1.docdb.amazonaws.com",
    "port": 27018,
    "username": "finflow",
    "password": "p@ss:w/rd%?#&=",
    "dbClusterIdentifier": "finflow-dev",
    "ssl": True,
}


@pytest.fixture
def docdb_secret(api_env, monkeypatch):
    """A DocumentDB cluster secret in moto's Secrets Manager, selected by DOCUMENTDB_SECRET_ARN alone."""
    from finflow import aws, config

    arn = aws.client("secretsmanager").create_secret(
        Name=f"finflow/test/documentdb/{uuid.uuid4().hex[:8]}", SecretString=json.dumps(SECRET)
    )["ARN"]
    monkeypatch.delenv("DOCUMENTDB_URI", raising=False)
    monkeypatch.setenv("DOCUMENTDB_SECRET_ARN", arn)
    config.settings.cache_clear()
    aws.forget_secrets()
    store.reset_for_tests()
    yield arn
    monkeypatch.undo()
    config.settings.cache_clear()
    aws.forget_secrets()
    store.reset_for_tests()


def _certificates(path: Path):
    from cryptography import x509

    return x509.load_pem_x509_certificates(path.read_bytes())


def test_the_adapter_is_built_from_the_secret_with_documentdbs_tls_settings(docdb_secret, monkeypatch):
    import mongomock

    from functions.notification import store_mongo

    made: list[tuple[str, dict]] = []

    def client(uri, **kwargs):
        made.append((uri, kwargs))
        return mongomock.MongoClient(tz_aware=True)

    monkeypatch.setattr(store_mongo, "MongoClient", client)
    adapter = store.adapter()
    assert isinstance(adapter, store_mongo.MongoStore)
    assert store.adapter() is adapter and len(made) == 1  # one client per process
    uri, kwargs = made[0]
    assert uri == f"mongodb://{SECRET['host']}:27018/" and SECRET["password"] not in uri
    assert kwargs["username"] == "finflow" and kwargs["password"] == SECRET["password"]
    assert kwargs["tls"] is True  # and verified: nothing turns certificate or host name checks off
    assert not {"tlsAllowInvalidCertificates", "tlsAllowInvalidHostnames", "tlsInsecure"} & set(kwargs)
    ca = Path(kwargs["tlsCAFile"])
    assert ca.is_file() and ca.parent == MODULE_DIR  # in the module's folder, so in its code asset
    assert len(_certificates(ca)) >= 3
    assert kwargs["replicaSet"] == "rs0" and kwargs["readPreference"] == "secondaryPreferred"
    assert kwargs["retryWrites"] is False
    assert adapter.db.name.endswith("notifications")


@pytest.mark.filterwarnings("ignore:You appear to be connected to a DocumentDB cluster")
def test_pymongo_accepts_the_built_options_and_loads_the_ca_bundle(docdb_secret):
    """The real client, without connecting: option names pymongo rejects, or a CA file its TLS
    context cannot load, fail here rather than on the first invocation in AWS."""
    from pymongo import MongoClient
    from pymongo.read_preferences import SecondaryPreferred

    from finflow.aws import secret_json
    from functions.notification.store_mongo import secret_client_args

    uri, kwargs = secret_client_args(secret_json(docdb_secret))
    client = MongoClient(uri, connect=False, **kwargs)
    try:
        options = client.options
        assert options.replica_set_name == "rs0" and options.retry_writes is False
        assert isinstance(options.read_preference, SecondaryPreferred)
        assert options.pool_options._ssl_context is not None  # TLS on, context built from the CA file
        assert client.options.pool_options._ssl_context.verify_mode.name == "CERT_REQUIRED"
        assert options.pool_options._credentials.password == SECRET["password"]
    finally:
        client.close()


def test_the_shipped_ca_bundle_is_the_amazon_rds_root_cas(api_env):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    from functions.notification.store_mongo import CA_FILE

    certs = _certificates(CA_FILE)
    names = set()
    for cert in certs:
        subject = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        names.add(subject)
        assert subject.startswith("Amazon RDS ") and cert.issuer == cert.subject, subject  # self-signed roots
        assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca, subject
        assert cert.not_valid_after_utc > datetime(2060, 1, 1, tzinfo=UTC), subject
    region = api_env["AWS_REGION"]
    for kind in ("RSA2048", "RSA4096", "ECC384"):
        assert f"Amazon RDS {region} Root CA {kind} G1" in names


def test_a_secret_without_the_clusters_host_says_so(docdb_secret, monkeypatch):
    from finflow import aws

    aws.client("secretsmanager").put_secret_value(
        SecretId=docdb_secret, SecretString=json.dumps({"username": "finflow", "password": "x"})
    )
    aws.forget_secrets()
    with pytest.raises(RuntimeError, match="DocumentDB secret has no host"):
        store.adapter()


def test_a_uri_still_selects_documentdb_and_wins_over_the_secret(docdb_secret, monkeypatch):
    import mongomock

    from finflow import config
    from functions.notification import store_mongo

    made = []
    monkeypatch.setattr(
        store_mongo, "MongoClient", lambda uri, **kw: made.append((uri, kw)) or mongomock.MongoClient(tz_aware=True)
    )
    monkeypatch.setenv("DOCUMENTDB_URI", "mongodb://localhost:27017/?retryWrites=false")
    config.settings.cache_clear()
    assert isinstance(store.adapter(), store_mongo.MongoStore)
    assert made[0][0] == "mongodb://localhost:27017/?retryWrites=false" and "password" not in made[0][1]
