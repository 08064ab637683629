"""The rebuild in AWS: replay the bus's EventBridge archive into Reporting's rules only.

Note: this cannot run locally (moto and the devserver keep no archive of our bus); the
request is unit-tested (tests/unit/test_reporting_replay.py, shapes checked by botocore's
Stubber against the real API model). The archive (EVENT_ARCHIVE_NAME) must exist on the
bus and hold every event since Reporting's data began: the infrastructure stack creates it
with no retention limit. StartReplay is asynchronous: the read model is emptied first, then
the replayed events reach Reporting's queues and its consumer applies them as it does live
ones (claimed by event id, so live events arriving meanwhile are applied once).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from finflow.aws import client
from finflow.config import settings
from finflow.db import engine


def build_replay_request(
    *, name: str, archive_arn: str, bus_arn: str, rule_arns: list[str], start: datetime, end: datetime
) -> dict:
    """StartReplay's parameters: the whole archive window, delivered to `rule_arns` only
    (other consumers of the bus are not sent the events again)."""
    if not rule_arns:
        raise ValueError("no rule of Reporting's found on the bus: pass --rule-arn")
    if start >= end:
        raise ValueError(f"replay window is empty: {start.isoformat()} .. {end.isoformat()}")
    return {
        "ReplayName": name[:64],
        "Description": "Reporting read-model rebuild",
        "EventSourceArn": archive_arn,
        "EventStartTime": start,
        "EventEndTime": end,
        "Destination": {"Arn": bus_arn, "FilterArns": sorted(rule_arns)},
    }


def archive_name() -> str:
    s = settings()
    return s.event_archive_name or f"finflow-{s.stage}-all"  # infra_cdk's foundation names it so


def reporting_rule_arns(events, bus: str) -> list[str]:
    """Rules on the bus whose target is one of Reporting's queues (named after the module)."""
    arns = []
    for page in events.get_paginator("list_rules").paginate(EventBusName=bus):
        for rule in page["Rules"]:
            targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)["Targets"]
            if any("reporting" in t["Arn"].lower() for t in targets):
                arns.append(rule["Arn"])
    return arns


def replay_request(
    events, *, since: datetime | None = None, rule_arns: list[str] | None = None, now: datetime | None = None
) -> dict:
    s = settings()
    archive = events.describe_archive(ArchiveName=archive_name())
    bus_arn = events.describe_event_bus(Name=s.event_bus_name)["Arn"]
    end = now or datetime.now(UTC)
    return build_replay_request(
        name=f"reporting-rebuild-{end:%Y%m%dT%H%M%S}",
        archive_arn=archive["ArchiveArn"],
        bus_arn=bus_arn,
        rule_arns=rule_arns or reporting_rule_arns(events, s.event_bus_name),
        start=since or archive["CreationTime"],
        end=end,
    )


def rebuild_from_archive(*, since: str | None = None, rule_arns: list[str] | None = None, wait: bool = False) -> dict:
    from functions.reporting.rebuild import empty_read_model, reindex

    events = client("events")
    # everything is looked up and checked before the read model is emptied
    request = replay_request(events, since=datetime.fromisoformat(since) if since else None, rule_arns=rule_arns)
    with engine("reporting").begin() as conn:
        empty_read_model(conn)
    reindex()
    started = events.start_replay(**request)
    while wait and started.get("State") in ("STARTING", "RUNNING"):
        time.sleep(10)
        started = events.describe_replay(ReplayName=started["ReplayArn"].rsplit("/", 1)[-1])
    return started
