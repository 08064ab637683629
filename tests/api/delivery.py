"""Event delivery for in-process tests, from the real bus: a rule on the moto EventBridge bus
copies every producer's events into a capture queue; the test drains it and hands each
envelope to the consumer functions the catalog subscribes to it, as SQS batches.

Nothing polls the modules' own queues in the api tier, so without this no consumer runs."""

from __future__ import annotations

import importlib
import json
import random
import uuid
from collections import Counter

from finflow.aws import client
from finflow.config import settings
from functions import catalog
from tests.support import sqs_batch

PRODUCERS = sorted({s.producer for m in catalog.MODULES for s in m.subscriptions})


class CaptureQueue:
    """Our own rule -> queue on the bus, for every event a consumer subscribes to."""

    def __init__(self) -> None:
        self.sqs, self.events, self.bus = client("sqs"), client("events"), settings().event_bus_name
        self.name = f"t-capture-{uuid.uuid4().hex[:8]}"
        self.url = self.sqs.create_queue(QueueName=self.name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        pattern = {"source": [f"finflow.{p}" for p in PRODUCERS]}
        self.events.put_rule(Name=self.name, EventBusName=self.bus, EventPattern=json.dumps(pattern), State="ENABLED")
        self.events.put_targets(Rule=self.name, EventBusName=self.bus, Targets=[{"Id": "capture", "Arn": arn}])

    def drain(self) -> list[dict]:
        """Every envelope published since the last drain (deleted from the queue)."""
        out: list[dict] = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return out
            out += [json.loads(m["Body"]) for m in messages]
            self.sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )

    def close(self) -> None:
        self.events.remove_targets(Rule=self.name, EventBusName=self.bus, Ids=["capture"])
        self.events.delete_rule(Name=self.name, EventBusName=self.bus)
        self.sqs.delete_queue(QueueUrl=self.url)


def consumer(module: str):
    return importlib.import_module(f"functions.{module}.events").handler


def subscribers(envelope: dict) -> tuple[str, ...]:
    return catalog.subscribers(envelope["source"].removeprefix("finflow."), envelope["detail-type"])


def by_consumer(envelopes: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for env in envelopes:
        for module in subscribers(env):
            out.setdefault(module, []).append(env)
    return out


def deliver(envelopes: list[dict], *, times: int = 1, seed: int | None = None) -> Counter:
    """Hand each envelope to each subscribed consumer `times` times, in order or (seed given)
    shuffled per consumer; returns the deliveries made per consumer. A record the consumer
    reports failed fails the test: nothing here is expected to fail."""
    made: Counter = Counter()
    from devserver.lambda_runtime import LambdaContext

    for module, queue in by_consumer(envelopes).items():
        batch = queue * times
        if seed is not None:
            random.Random(f"{seed}-{module}").shuffle(batch)
        handler = consumer(module)
        for env in batch:
            result = handler(sqs_batch(env), LambdaContext(f"{module}-events"))
            assert not result.get("batchItemFailures"), (module, env["detail-type"], result)
            made[module] += 1
    return made


def deliver_cascade(
    capture: CaptureQueue, *, times: int = 1, seed: int | None = None, rounds: int = 5
) -> tuple[list[dict], Counter]:
    """Deliver what the bus holds, then what the consumers produced in turn (KYC's decision ->
    Auth -> Auth's status change -> Wallet, Notification, Reporting), until the bus is quiet."""
    seen: list[dict] = []
    made: Counter = Counter()
    for _ in range(rounds):
        envelopes = capture.drain()
        if not envelopes:
            return seen, made
        seen += envelopes
        made += deliver(envelopes, times=times, seed=seed)
    raise AssertionError(f"events still flowing after {rounds} rounds of delivery")
