"""The rebuild in AWS, as the requests it makes: StartReplay of the bus archive into
Reporting's rules only, over the archive's whole window. botocore's Stubber checks every
request against the real EventBridge API model."""

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from functions.reporting import replay

BUS = "arn:aws:events:eu-west-1:111122223333:event-bus/finflow"
ARCHIVE = "arn:aws:events:eu-west-1:111122223333:archive/finflow-prod-all"
CREATED = datetime(2025, 6, 1, tzinfo=UTC)
NOW = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
RULE = "arn:aws:events:eu-west-1:111122223333:rule/finflow/{}"


@pytest.fixture
def events(monkeypatch):
    monkeypatch.setenv("FINFLOW_STAGE", "prod")
    monkeypatch.delenv("EVENT_ARCHIVE_NAME", raising=False)
    from finflow.config import settings

    settings.cache_clear()
    client = boto3.client("events", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()
    settings.cache_clear()


def test_the_request_replays_the_whole_window_into_the_given_rules_only():
    request = replay.build_replay_request(
        name="reporting-rebuild-x",
        archive_arn=ARCHIVE,
        bus_arn=BUS,
        rule_arns=[RULE.format("b"), RULE.format("a")],
        start=CREATED,
        end=NOW,
    )
    assert request == {
        "ReplayName": "reporting-rebuild-x",
        "Description": "Reporting read-model rebuild",
        "EventSourceArn": ARCHIVE,
        "EventStartTime": CREATED,
        "EventEndTime": NOW,
        "Destination": {"Arn": BUS, "FilterArns": [RULE.format("a"), RULE.format("b")]},
    }


@pytest.mark.parametrize(
    "rules, start, words", [([], CREATED, "no rule of Reporting's"), (["r"], NOW, "replay window is empty")]
)
def test_a_request_that_would_replay_nothing_or_everywhere_is_refused(rules, start, words):
    with pytest.raises(ValueError, match=words):
        replay.build_replay_request(name="n", archive_arn=ARCHIVE, bus_arn=BUS, rule_arns=rules, start=start, end=NOW)


def test_the_archive_the_bus_and_reportings_rules_are_looked_up(events):
    client, stub = events
    stub.add_response(
        "describe_archive",
        {"ArchiveArn": ARCHIVE, "ArchiveName": "finflow-prod-all", "CreationTime": CREATED},
        {"ArchiveName": "finflow-prod-all"},
    )
    stub.add_response("describe_event_bus", {"Arn": BUS, "Name": "finflow"}, {"Name": "finflow"})
    stub.add_response(
        "list_rules",
        {
            "Rules": [
                {"Name": "finflow-prod-reporting-from-payment", "Arn": RULE.format("reporting-payment")},
                {"Name": "finflow-prod-notification-from-payment", "Arn": RULE.format("notification-payment")},
            ]
        },
        {"EventBusName": "finflow"},
    )
    queue = "arn:aws:sqs:eu-west-1:111122223333:finflow-prod-{}-from-payment"
    stub.add_response(
        "list_targets_by_rule",
        {"Targets": [{"Id": "queue", "Arn": queue.format("reporting")}]},
        {"Rule": "finflow-prod-reporting-from-payment", "EventBusName": "finflow"},
    )
    stub.add_response(
        "list_targets_by_rule",
        {"Targets": [{"Id": "queue", "Arn": queue.format("notification")}]},
        {"Rule": "finflow-prod-notification-from-payment", "EventBusName": "finflow"},
    )
    request = replay.replay_request(client, now=NOW)
    assert request["EventSourceArn"] == ARCHIVE and request["EventStartTime"] == CREATED
    assert request["Destination"] == {"Arn": BUS, "FilterArns": [RULE.format("reporting-payment")]}
    assert request["ReplayName"] == "reporting-rebuild-20260203T040506"
    stub.add_response(
        "start_replay", {"ReplayArn": "arn:aws:events:eu-west-1:111122223333:replay/r", "State": "STARTING"}, request
    )
    assert client.start_replay(**request)["State"] == "STARTING"  # the shapes are valid StartReplay input


def test_explicit_rules_and_start_time_win(events):
    client, stub = events
    stub.add_response(
        "describe_archive", {"ArchiveArn": ARCHIVE, "CreationTime": CREATED}, {"ArchiveName": "finflow-prod-all"}
    )
    stub.add_response("describe_event_bus", {"Arn": BUS}, {"Name": "finflow"})
    since = datetime(2026, 1, 1, tzinfo=UTC)
    request = replay.replay_request(client, since=since, rule_arns=["arn:r"], now=NOW)
    assert (request["EventStartTime"], request["Destination"]["FilterArns"]) == (since, ["arn:r"])
