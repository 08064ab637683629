"""Events: the transactional outbox, the EventBridge publisher and idempotent consumers.

A producer records its event in the same transaction as the state change, publishes
after commit, and a scheduled sweeper republishes anything left. Consumers receive
EventBridge events through SQS and apply each `event_id` once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.dml import UpdateBase

from finflow import metrics, service_client, tracing
from finflow.aws import client
from finflow.config import settings
from finflow.observability import Observability

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("event_id", UUID(as_uuid=False), primary_key=True),
        Column("detail_type", String(64), nullable=False),
        Column("detail", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, server_default="0"),
    )


def processed_events_table(metadata: MetaData) -> Table:
    return Table(
        "processed_events",
        metadata,
        Column("event_id", String(64), primary_key=True),
        Column("detail_type", String(64), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def record(
    conn: Connection,
    outbox: Table,
    detail_type: str,
    data: dict,
    version: int = 1,
    *,
    alongside: UpdateBase | None = None,
) -> dict:
    """Write an event into the outbox inside the caller's transaction; returns its detail.
    `alongside`: a change of the caller's (INSERT, UPDATE or DELETE) sent in the same statement,
    so the two cost one round trip."""
    detail = {
        "event_id": str(uuid.uuid4()),
        "occurred_at": datetime.now(UTC).isoformat(),
        "version": version,
        "correlation_id": service_client.correlation_id.get(),
        "data": data,
    }
    if (trace := tracing.event_trace_header()) is not None:
        detail["trace_header"] = trace  # the consumers join the producer's trace
    stmt = insert(outbox).values(event_id=detail["event_id"], detail_type=detail_type, detail=detail)
    conn.execute(stmt if alongside is None else stmt.add_cte(alongside.cte("alongside")))
    return detail


def publish_pending(engine: Engine, outbox: Table, module: str, limit: int = 100) -> int:
    """Publish unpublished outbox rows to the bus; rows a concurrent publisher holds are skipped.

    The rows are taken and marked published in one statement; they stay locked, and the mark
    uncommitted, until PutEvents has answered: a publisher dying meanwhile leaves them unpublished,
    and an entry PutEvents refused is unmarked again, its attempt counted."""
    with engine.begin() as conn:
        oldest = (
            select(outbox.c.event_id)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        returned = conn.execute(
            update(outbox)
            .where(outbox.c.event_id.in_(oldest.scalar_subquery()))
            .values(published_at=func.now())
            .returning(outbox.c.event_id, outbox.c.detail_type, outbox.c.detail, outbox.c.created_at)
        ).all()
        rows = sorted(returned, key=lambda r: r.created_at)  # RETURNING keeps no order: oldest first
        failed = []
        for start in range(0, len(rows), 10):  # PutEvents takes at most 10 entries
            batch = rows[start : start + 10]
            entries = [
                {
                    "Source": f"finflow.{module}",
                    "DetailType": r.detail_type,
                    "Detail": json.dumps(r.detail),
                    "EventBusName": settings().event_bus_name,
                }
                | ({"TraceHeader": r.detail["trace_header"]} if r.detail.get("trace_header") else {})
                for r in batch
            ]
            result = client("events").put_events(Entries=entries)["Entries"]
            failed += [r.event_id for r, res in zip(batch, result, strict=False) if "EventId" not in res]
        if failed:
            conn.execute(
                update(outbox)
                .where(outbox.c.event_id.in_(failed))
                .values(published_at=None, attempts=outbox.c.attempts + 1)
            )
    return len(rows) - len(failed)


def publish_after_commit(engine: Engine, outbox: Table, module: str, obs: Observability) -> None:
    """Best effort right after a commit; the sweeper retries whatever this could not send."""
    try:
        publish_pending(engine, outbox, module)
    except Exception:
        obs.logger.warning("event publish deferred to the outbox sweeper", exc_info=True)


# --- consumers -------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    event_id: str
    source: str
    detail_type: str
    occurred_at: str
    version: int
    correlation_id: str | None
    data: dict[str, Any]
    trace_header: str | None = None

    @classmethod
    def from_eventbridge(cls, envelope: dict) -> Event:
        detail = envelope["detail"]
        return cls(
            event_id=detail["event_id"],
            source=envelope["source"],
            detail_type=envelope["detail-type"],
            occurred_at=detail["occurred_at"],
            version=int(detail.get("version", 1)),
            correlation_id=detail.get("correlation_id"),
            data=detail.get("data") or {},
            trace_header=detail.get("trace_header"),
        )


def first_delivery(conn: Connection, processed: Table, event: Event) -> bool:
    """Claim `event` in the consumer's transaction; False if it was applied before."""
    claimed = conn.execute(
        pg_insert(processed)
        .values(event_id=event.event_id, detail_type=event.detail_type)
        .on_conflict_do_nothing()
        .returning(processed.c.event_id)
    ).first()
    return claimed is not None


Handler = Callable[[Event], None]


def consumer_handler(
    obs: Observability, handlers: dict[str, Handler]
) -> Callable[[dict, Any], PartialItemFailureResponse]:
    """An SQS-triggered Lambda entry point; failed records are reported for redelivery only."""
    # imported here: every module's tables import this file, only consumer functions need it
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS)

    def on_record(record) -> None:
        event = Event.from_eventbridge(json.loads(record.body))
        obs.logger.set_correlation_id(event.correlation_id)
        service_client.set_request_context(event.correlation_id)
        handle = handlers.get(event.detail_type)
        if handle is None:
            obs.logger.info("ignoring event this consumer does not handle", extra={"detail_type": event.detail_type})
            return
        attributes = {"event_id": event.event_id, "correlation_id": event.correlation_id}
        with tracing.event_record(event.detail_type, event.trace_header, attributes):
            handle(event)

    @obs.logger.inject_lambda_context(log_event=False)
    def handler(event: dict, context: Any) -> PartialItemFailureResponse:
        with tracing.invocation(None, None):
            return process_partial_response(event=event, record_handler=on_record, processor=processor, context=context)

    return handler


def sweeper_handler(
    engine_for: Callable[[], Engine], outbox: Table, module: str, obs: Observability
) -> Callable[[dict, Any], dict]:
    """The scheduled Lambda that republishes whatever the outbox still holds."""

    @obs.logger.inject_lambda_context(log_event=False)
    def handler(event: dict, context: Any) -> dict:
        try:
            sent = publish_pending(engine_for(), outbox, module, limit=500)
        finally:  # reported also when the bus is down: that is when the backlog grows
            left, oldest_age = backlog(engine_for(), outbox)
            metrics.outbox_backlog(module, left, oldest_age)  # zero too: no data at all means no sweeper
        if sent:
            obs.logger.info("outbox sweep published events", extra={"published": sent})
        return {"published": sent, "backlog": left}

    return handler


def backlog(engine: Engine, outbox: Table) -> tuple[int, float]:
    """(events still unpublished, seconds the oldest has waited), by the database's clock."""
    with engine.connect() as conn:
        count, age = conn.execute(
            select(
                func.count(),
                func.coalesce(func.extract("epoch", func.now() - func.min(outbox.c.created_at)), 0),
            ).where(outbox.c.published_at.is_(None))
        ).one()
    return count, float(age)
