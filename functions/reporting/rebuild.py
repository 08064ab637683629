"""Rebuild Reporting's read model from the events alone: `python -m functions.reporting.rebuild`
(`make rebuild-reporting`).

It empties the read model (every table, and the claims of applied events), then applies
every event again through the consumer's own code (projections.apply), so the figures it
ends with are the ones the live consumer reaches from the same events, in any order.

Where the events come from:

- `--source outbox` (the default outside AWS): the producers' outbox tables (auth, wallet,
  payment, kyc), read through each module's own database engine. This is the ONE place a
  module reads another module's database, allowed only for this operator tool: the outbox
  holds exactly the events a producer published (written in the same transaction as its
  change), and nothing else in Reporting may read it. Events that were put on the bus by
  hand are not in any outbox and are not replayed.
- `--source archive` (AWS): the bus's EventBridge archive (EVENT_ARCHIVE_NAME) is replayed
  into Reporting's own rules (functions/reporting/replay.py); the consumer applies the
  events as they arrive, asynchronously.

Order: `--order occurred` (the default: occurred_at, then event id) or `--order shuffled
--seed N`; the figures are the same either way. The rebuild runs in one transaction: the
live consumer waits for it and then skips what it replayed (claimed by event id), and
readers see the old figures until it commits. Events that cannot be applied are skipped
(each in its own savepoint), listed, and make the exit code 1.
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, MetaData, cast, select, text
from sqlalchemy.dialects.postgresql import TIMESTAMP

from finflow.config import settings
from finflow.db import engine
from finflow.events import Event, outbox_table
from finflow.problems import Principal
from functions import catalog
from functions.reporting import logic, projections, search
from functions.reporting.search.base import PaymentDoc
from functions.reporting.tables import READ_MODEL, payments

OPERATOR = Principal(subject="reporting-rebuild", roles=frozenset({"admin"}), kind="user")
INDEX_CHUNK = 1000


@dataclass
class Outcome:
    events: int = 0
    applied: int = 0
    duplicates: int = 0
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (event id, detail type, error)


def subscriptions() -> dict[str, tuple[str, ...]]:
    """{producer: detail types Reporting reads from it}, from the catalog."""
    found: dict[str, tuple[str, ...]] = {}
    for sub in catalog.module("reporting").subscriptions:
        found[sub.producer] = found.get(sub.producer, ()) + sub.detail_types
    return found


def _outbox_events(producer: str, detail_types: tuple[str, ...]) -> Iterator[Event]:
    """One producer's outbox in occurred_at order, streamed."""
    outbox = outbox_table(MetaData())
    occurred = cast(outbox.c.detail["occurred_at"].astext, TIMESTAMP(timezone=True))
    q = (
        select(outbox.c.detail_type, outbox.c.detail)
        .where(outbox.c.detail_type.in_(detail_types))
        .order_by(occurred, outbox.c.event_id)
    )
    with engine(producer).connect() as conn:
        for row in conn.execution_options(stream_results=True, yield_per=1000).execute(q):
            yield Event.from_eventbridge(
                {"source": f"finflow.{producer}", "detail-type": row.detail_type, "detail": row.detail}
            )


def outbox_events(order: str = "occurred", seed: int | None = None) -> Iterable[Event]:
    streams = [_outbox_events(p, types) for p, types in subscriptions().items()]
    if order == "occurred":
        return heapq.merge(*streams, key=lambda e: (datetime.fromisoformat(e.occurred_at), e.event_id))
    events = [e for s in streams for e in s]
    random.Random(seed).shuffle(events)
    return events


def empty_read_model(conn: Connection) -> None:
    conn.execute(text("TRUNCATE " + ", ".join(t.name for t in READ_MODEL)))


def replay(conn: Connection, events: Iterable[Event]) -> Outcome:
    """Apply `events` through the consumer's code, each in a savepoint."""
    outcome = Outcome()
    for event in events:
        outcome.events += 1
        try:
            with conn.begin_nested():
                applied = projections.apply(conn, event)
        except Exception as exc:
            outcome.failed.append((event.event_id, event.detail_type, f"{type(exc).__name__}: {exc}"[:300]))
            continue
        if applied:
            outcome.applied += 1
        else:
            outcome.duplicates += 1
    return outcome


def rebuild(events: Iterable[Event]) -> Outcome:
    with engine("reporting").begin() as conn:
        empty_read_model(conn)
        outcome = replay(conn, events)
    reindex()
    return outcome


def reindex() -> None:
    """An external search engine gets a fresh index, loaded from the rebuilt table."""
    if not search.external():
        return
    index = search.engine()
    index.reset()
    with engine("reporting").connect() as conn:
        rows = conn.execution_options(stream_results=True, yield_per=INDEX_CHUNK).execute(
            select(payments).order_by(payments.c.payment_id)
        )
        for chunk in rows.partitions(INDEX_CHUNK):
            index.index([PaymentDoc.from_row(r) for r in chunk])


def figures() -> dict:
    """Every report's figures, for an operator to compare before and after."""
    return {
        "summary": logic.summary(OPERATOR).model_dump(mode="json"),
        "kyc_funnel": logic.kyc_funnel(OPERATOR).model_dump(mode="json"),
        "aml": logic.aml(OPERATOR).model_dump(mode="json"),
    }


def main(argv: list[str] | None = None) -> int:
    in_aws = bool(settings().db_secret_arn)
    parser = argparse.ArgumentParser(prog="python -m functions.reporting.rebuild", description=__doc__.split("\n")[0])
    parser.add_argument("--source", choices=("outbox", "archive"), default="archive" if in_aws else "outbox")
    parser.add_argument("--order", choices=("occurred", "shuffled"), default="occurred")
    parser.add_argument("--seed", type=int, default=None, help="shuffle seed (with --order shuffled)")
    parser.add_argument("--since", default=None, help="archive: replay events from this ISO time on")
    parser.add_argument("--rule-arn", action="append", default=None, help="archive: Reporting's rule ARNs")
    parser.add_argument("--wait", action="store_true", help="archive: wait until the replay has finished")
    args = parser.parse_args(argv)
    if not (settings().database_url or in_aws):
        parser.error("no database configured: set DATABASE_URL (`make dev` prints it as `database`)")
    if args.source == "archive":
        from functions.reporting import replay as archive

        print(
            json.dumps(
                archive.rebuild_from_archive(since=args.since, rule_arns=args.rule_arn, wait=args.wait), default=str
            )
        )
        return 0
    outcome = rebuild(outbox_events(args.order, args.seed))
    counts = Counter(detail_type for _, detail_type, _ in outcome.failed)
    print(
        json.dumps(
            {
                "source": "outbox",
                "order": args.order,
                "events": outcome.events,
                "applied": outcome.applied,
                "duplicates": outcome.duplicates,
                "failed": len(outcome.failed),
                "figures": figures(),
            }
        )
    )
    for event_id, detail_type, error in outcome.failed:
        print(f"failed: {detail_type} {event_id}: {error}", file=sys.stderr)
    return 1 if counts else 0


if __name__ == "__main__":
    sys.exit(main())
