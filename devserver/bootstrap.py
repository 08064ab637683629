"""What a deploy would create, made on the local AWS endpoint (moto or LocalStack):
secrets, the event bus, and one rule -> queue (+ DLQ) per catalog subscription."""

from __future__ import annotations

import hashlib
import json
import os
import secrets as pysecrets
from pathlib import Path

from finflow.aws import client
from finflow.config import settings
from finflow.tokens import KeyRing, generate_key
from functions import catalog


def _put_secret(name: str, value: dict) -> None:
    sm = client("secretsmanager")
    try:
        sm.create_secret(Name=name, SecretString=json.dumps(value))
    except sm.exceptions.ResourceExistsException:
        sm.put_secret_value(SecretId=name, SecretString=json.dumps(value))


def create_secrets(kept: Path | None = None) -> dict[str, dict]:
    """JWT signing keys, every module's client credentials and Auth's registry of them.

    kept: a file that keeps them across restarts of the devserver (read when present, else
    written once), so the tokens and credentials issued before a restart stay valid."""
    if kept is not None and kept.exists():
        values = json.loads(kept.read_text())
    else:
        values = _new_secrets()
        if kept is not None:
            _write_private(kept, json.dumps(values, indent=1))
    for name, value in values.items():
        _put_secret(name, value)
    prefix = f"{settings().service_credentials_prefix}/"
    return {name.removeprefix(prefix): value for name, value in values.items() if name.startswith(prefix)}


def _new_secrets() -> dict[str, dict]:
    s = settings()
    key = generate_key()
    values = {s.jwt_keys_secret_id: KeyRing(active_kid=key.kid, keys=(key,)).to_secret()}
    registry = {}
    for m in catalog.MODULES:
        cred = {"client_id": f"svc-{m.key}", "client_secret": pysecrets.token_urlsafe(32)}
        values[f"{s.service_credentials_prefix}/{m.key}"] = cred
        registry[cred["client_id"]] = {
            "module": m.key,
            "secret_sha256": hashlib.sha256(cred["client_secret"].encode()).hexdigest(),
        }
    values[s.service_clients_secret_id] = {"clients": registry}
    return values


def _write_private(path: Path, text: str) -> None:
    """Readable by this user only (it holds private keys), and whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
        f.write(text)
    partial.replace(path)


def queue_name(consumer: str, producer: str) -> str:
    return f"finflow-{consumer}-from-{producer}"


def create_event_routing(max_receive_count: int = 3) -> dict[str, list[str]]:
    """The bus, and per subscription a rule delivering to the consumer's queue (with a DLQ).

    Returns {consumer module: [queue urls]}.
    """
    events, sqs = client("events"), client("sqs")
    bus = settings().event_bus_name
    try:
        events.create_event_bus(Name=bus)
    except events.exceptions.ResourceAlreadyExistsException:
        pass
    queues: dict[str, list[str]] = {}
    for m in catalog.MODULES:
        for sub in m.subscriptions:
            name = queue_name(m.key, sub.producer)
            dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            url = sqs.create_queue(
                QueueName=name,
                Attributes={
                    "VisibilityTimeout": "5",
                    "RedrivePolicy": json.dumps(
                        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
                    ),
                },
            )["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            pattern = {"source": [f"finflow.{sub.producer}"], "detail-type": list(sub.detail_types)}
            events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern), State="ENABLED")
            events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
            queues.setdefault(m.key, []).append(url)
    return queues


def create_storage() -> None:
    """The KYC documents and user exports buckets, and the verified sender identity for notification email."""
    s = settings()
    s3 = client("s3")
    for bucket in (s.kyc_documents_bucket, s.exports_bucket):
        try:
            s3.create_bucket(Bucket=bucket)
        except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
            pass
    client("ses").verify_email_identity(EmailAddress=s.notification_sender)
