"""Move the messages of a dead-letter queue back to the queue it serves (an SQS redrive).

    python -m devserver.redrive finflow-kyc-from-payment-dlq [--endpoint http://127.0.0.1:8010]
    python -m devserver.redrive --all

Once the cause of the failures is fixed, the consumer gets the events again; consumers are
idempotent by event id, so what they had already applied is not applied twice. Uses SQS's
own calls (ListDeadLetterSourceQueues, SendMessageBatch, DeleteMessageBatch), so it works
on moto, LocalStack and AWS alike (in AWS the console's "Start DLQ redrive" does the same).
"""

from __future__ import annotations

import argparse
import os
import sys


def sqs_client(endpoint: str | None = None):
    import boto3

    return boto3.client(
        "sqs",
        endpoint_url=endpoint or os.environ.get("AWS_ENDPOINT_URL"),
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    )


def redrive(sqs, dlq_url: str) -> int:
    """Move every message of `dlq_url` to its source queue; returns how many moved."""
    sources = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url).get("queueUrls", [])
    if len(sources) != 1:
        raise SystemExit(f"{dlq_url} is the dead-letter queue of {len(sources)} queues, not one")
    moved = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=30, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return moved
        sent = sqs.send_message_batch(
            QueueUrl=sources[0],
            Entries=[
                {
                    "Id": str(i),
                    "MessageBody": m["Body"],
                    **({"MessageAttributes": m["MessageAttributes"]} if m.get("MessageAttributes") else {}),
                }
                for i, m in enumerate(messages)
            ],
        )
        ok = {int(s["Id"]) for s in sent.get("Successful", [])}
        # only what reached the source queue leaves the DLQ; the rest is tried on the next run
        if ok:
            sqs.delete_message_batch(
                QueueUrl=dlq_url,
                Entries=[{"Id": str(i), "ReceiptHandle": messages[i]["ReceiptHandle"]} for i in sorted(ok)],
            )
        moved += len(ok)
        if len(ok) < len(messages):
            return moved


def dead_letter_queues(sqs) -> list[str]:
    return [u for u in sqs.list_queues(QueueNamePrefix="finflow-").get("QueueUrls", []) if u.endswith("-dlq")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devserver.redrive", description=__doc__.splitlines()[0])
    parser.add_argument("queues", nargs="*", help="dead-letter queue names (finflow-<consumer>-from-<producer>-dlq)")
    parser.add_argument("--all", action="store_true", help="every FinFlow dead-letter queue")
    parser.add_argument(
        "--endpoint", default=None, help="the AWS endpoint (default $AWS_ENDPOINT_URL, else http://127.0.0.1:8010)"
    )
    args = parser.parse_args(argv)
    if not args.queues and not args.all:
        parser.error("name a dead-letter queue, or --all")
    sqs = sqs_client(args.endpoint or os.environ.get("AWS_ENDPOINT_URL") or "http://127.0.0.1:8010")
    urls = dead_letter_queues(sqs) if args.all else [sqs.get_queue_url(QueueName=q)["QueueUrl"] for q in args.queues]
    for url in urls:
        print(f"{url.rsplit('/', 1)[-1]:<45} {redrive(sqs, url)} message(s) moved back")
    return 0


if __name__ == "__main__":
    sys.exit(main())
