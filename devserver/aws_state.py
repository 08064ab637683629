"""What the local AWS endpoint holds, kept across restarts of `make dev` (moto keeps it in memory).

On a clean stop (Ctrl-C), once nothing runs any more, `save` writes every S3 object and every
SQS message still queued (dead-letter queues too) under <data dir>/aws-state; the next start
`restore`s them into the new endpoint after creating the buckets and queues, then deletes the
snapshot (it is consumed: restoring a stale one later would bring back documents an erasure
deleted, or deliver events twice). The secrets are kept apart, from their creation on
(devserver.bootstrap.create_secrets): a crash does not sign everyone out.

Only through the AWS APIs (S3, SQS), so the snapshot does not depend on moto's internals.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

from finflow.aws import client

SECRETS = "secrets.json"
SNAPSHOT = "snapshot"
_INDEX = "index.json"


def save(state_dir: Path, visibility_wait: float = 6.0) -> dict[str, int]:
    """Every object and queued message into state_dir/snapshot; the counts saved.

    A message a consumer failed just before the stop is invisible for the queue's visibility
    timeout: wait for it (at most `visibility_wait` seconds) rather than leave it behind."""
    partial = state_dir / f"{SNAPSHOT}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "s3").mkdir(parents=True)
    objects = _save_objects(partial / "s3")
    messages = _save_messages(visibility_wait)
    (partial / _INDEX).write_text(json.dumps({"s3": objects, "sqs": messages}))
    final = state_dir / SNAPSHOT
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)
    return {"objects": sum(map(len, objects.values())), "messages": sum(map(len, messages.values()))}


def restore(state_dir: Path) -> dict[str, int]:
    """The last snapshot back into the (new) endpoint, then forgotten; the counts restored."""
    snapshot = state_dir / SNAPSHOT
    if not (snapshot / _INDEX).exists():
        return {"objects": 0, "messages": 0}
    index = json.loads((snapshot / _INDEX).read_text())
    s3 = client("s3")
    for bucket, objects in index["s3"].items():
        for key, meta in objects.items():
            body = (snapshot / "s3" / _file_name(bucket, key)).read_bytes()
            s3.put_object(Bucket=bucket, Key=key, Body=body, **meta)
    sqs = client("sqs")
    for name, messages in index["sqs"].items():
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        for i in range(0, len(messages), 10):
            batch = messages[i : i + 10]
            sent = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(n), **m} for n, m in enumerate(batch)])
            if sent.get("Failed"):
                raise RuntimeError(f"restoring {name}: {sent['Failed']}")
    shutil.rmtree(snapshot)
    return {"objects": sum(map(len, index["s3"].values())), "messages": sum(map(len, index["sqs"].values()))}


def _file_name(bucket: str, key: str) -> str:
    # any key (slashes, dots, unicode) maps to one safe file name
    return hashlib.sha256(f"{bucket}/{key}".encode()).hexdigest()


def _save_objects(folder: Path) -> dict[str, dict[str, dict]]:
    """{bucket: {key: put_object's arguments but the body}}; each body in its own file."""
    s3 = client("s3")
    index: dict[str, dict[str, dict]] = {}
    for bucket in (b["Name"] for b in s3.list_buckets().get("Buckets", [])):
        objects = index.setdefault(bucket, {})
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for entry in page.get("Contents", []):
                got = s3.get_object(Bucket=bucket, Key=entry["Key"])
                (folder / _file_name(bucket, entry["Key"])).write_bytes(got["Body"].read())
                objects[entry["Key"]] = {"ContentType": got.get("ContentType", "binary/octet-stream")} | (
                    {"Metadata": got["Metadata"]} if got.get("Metadata") else {}
                )
    return index


def _save_messages(visibility_wait: float) -> dict[str, list[dict]]:
    """{queue name: [send_message_batch entries but the Id]}, every queue with messages."""
    sqs = client("sqs")
    urls = sqs.list_queues().get("QueueUrls", [])
    # source queues before their DLQs: a receive past maxReceiveCount moves a message to the DLQ
    urls.sort(key=lambda u: u.endswith("-dlq"))
    deadline = time.monotonic() + visibility_wait
    while time.monotonic() < deadline and any(_in_flight(sqs, u) for u in urls):
        time.sleep(0.2)
    queued: dict[str, list[dict]] = {}
    for url in urls:
        kept = queued.setdefault(url.rsplit("/", 1)[-1], [])
        while batch := sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=300,  # received once each: the endpoint stops right after
            MessageAttributeNames=["All"],
            AttributeNames=["AWSTraceHeader"],
        ).get("Messages", []):
            kept += [_resendable(m) for m in batch]
    return {name: messages for name, messages in queued.items() if messages}


def _in_flight(sqs, url: str) -> bool:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    return int(attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"]) > 0


def _resendable(message: dict) -> dict:
    entry = {"MessageBody": message["Body"]}
    if message.get("MessageAttributes"):
        entry["MessageAttributes"] = message["MessageAttributes"]
    trace = (message.get("Attributes") or {}).get("AWSTraceHeader")
    if trace:
        entry["MessageSystemAttributes"] = {"AWSTraceHeader": {"DataType": "String", "StringValue": trace}}
    return entry
