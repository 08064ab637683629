"""Event delivery as AWS does it: EventBridge rule -> SQS queue -> consumer function.

Each consumer queue is polled and handed to the module's consumer function as an SQS
batch; records the function reports in `batchItemFailures` (or the whole batch, if it
fails) stay on the queue, come back after the visibility timeout and, after
maxReceiveCount tries, move to the DLQ by the queue's redrive policy.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from devserver import tracing
from devserver.workers import FunctionPool, Invocable, InvocationError
from finflow.aws import client


def sqs_event(queue_arn: str, messages: list[dict]) -> dict:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


class QueuePoller(threading.Thread):
    def __init__(self, queue_url: str, pool: Invocable, stop: threading.Event):
        super().__init__(name=f"poll-{queue_url.rsplit('/', 1)[-1]}", daemon=True)
        self.queue_url, self.pool, self.stop_event = queue_url, pool, stop
        sqs = client("sqs")
        self.arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def run(self) -> None:
        sqs = client("sqs")
        while not self.stop_event.is_set():
            if not self.pool.enabled:  # the module is down: its events wait in the queue
                self.stop_event.wait(0.5)
                continue
            try:
                messages = sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
                ).get("Messages", [])
            except Exception as exc:
                print(f"[delivery] receive failed on {self.name}: {exc}", flush=True)
                time.sleep(1)
                continue
            # One invocation per trace, so each consumer invocation joins its producer's trace
            # (Lambda would start a new trace per batch and link the records' traces).
            by_trace: dict[str | None, list[dict]] = {}
            for m in messages:
                by_trace.setdefault(trace_of(m), []).append(m)
            for trace, batch in by_trace.items():
                try:
                    self.deliver(sqs, batch, trace)
                except Exception as exc:  # the endpoint went away mid-delivery: keep polling
                    print(
                        f"[delivery] {self.name}: {exc}; the batch comes back after the visibility timeout", flush=True
                    )

    def deliver(self, sqs, messages: list[dict], trace: str | None = None) -> None:
        try:
            result = self.pool.invoke(sqs_event(self.arn, messages), trace=trace) or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except InvocationError as exc:
            print(f"[delivery] {self.pool.name} failed: {str(exc).splitlines()[0]}", flush=True)
            return  # the whole batch comes back after the visibility timeout
        done = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(messages)
            if m["MessageId"] not in failed
        ]
        if done:
            sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=done)
        if failed:
            print(f"[delivery] {self.pool.name}: {len(failed)} record(s) left for retry", flush=True)


def trace_of(message: dict) -> str | None:
    """The producer's trace header: SQS's AWSTraceHeader (set when EventBridge got one), else
    the one the outbox recorded in the event's detail."""
    trace = (message.get("Attributes") or {}).get("AWSTraceHeader")
    if not trace:
        try:
            trace = (json.loads(message["Body"]).get("detail") or {}).get("trace_header")
        except (ValueError, AttributeError):
            trace = None
    return trace if tracing.sampled(trace) else None


@dataclass
class _Job:
    pool: FunctionPool
    period: float  # seconds
    due: float  # time.monotonic() of the next run


class Scheduler(threading.Thread):
    """EventBridge Scheduler stand-in: invokes each scheduled function at its period."""

    def __init__(self, jobs: list[tuple[FunctionPool, float]], stop: threading.Event):
        super().__init__(name="scheduler", daemon=True)
        self.stop_event = stop
        self.jobs = [_Job(pool, period, time.monotonic() + period) for pool, period in jobs]

    def run(self) -> None:
        while not self.stop_event.wait(0.5):
            for job in self.jobs:
                if time.monotonic() < job.due or not job.pool.enabled:
                    continue
                job.due = time.monotonic() + job.period
                try:
                    job.pool.invoke({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})
                except Exception as exc:  # InvocationError, or no worker could start: the next period tries again
                    print(f"[scheduler] {job.pool.name} failed: {str(exc).splitlines()[0]}", flush=True)


def describe(queues: dict[str, list[str]]) -> str:
    return json.dumps({k: [u.rsplit("/", 1)[-1] for u in v] for k, v in queues.items()})
