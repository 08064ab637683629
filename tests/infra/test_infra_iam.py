"""IAM boundaries: a module's role reads only its own secrets, publishes only with its own
`source`, consumes only its own queues; nothing grants another module's data."""

from __future__ import annotations

import json

import pytest

from functions import catalog
from infra_cdk.app import stack_id

SETTINGS_PREFIX = "finflow/dev"


def foundation_resource(aws, value) -> tuple[str, dict] | None:
    """The Foundation resource behind a cross-stack `Fn::ImportValue` (Ref or GetAtt export)."""
    if not (isinstance(value, dict) and "Fn::ImportValue" in value):
        return None
    export = value["Fn::ImportValue"].split(":", 1)[1]
    for kind in ("ExportsOutputRef", "ExportsOutputFnGetAtt"):
        if export.startswith(kind):
            body = export.removeprefix(kind)[:-8]  # the export's own hash
            resources = aws.templates[stack_id("foundation")]["Resources"]
            for logical_id in resources:
                if body.startswith(logical_id):
                    return logical_id, resources[logical_id]
    raise AssertionError(f"cannot resolve {export}")


def statements(aws, stack: str) -> list[dict]:
    out = []
    for _, policy in aws.resources(stack, "AWS::IAM::Policy").items():
        out += policy["Properties"]["PolicyDocument"]["Statement"]
    return out


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("key", [m.key for m in catalog.MODULES])
def test_a_module_reads_only_its_own_secrets(aws, key):
    names = set()
    for st in statements(aws, stack_id(key)):
        if any(a.startswith("secretsmanager:") for a in as_list(st["Action"])):
            for resource in as_list(st["Resource"]):
                logical_id, secret = foundation_resource(aws, resource)
                if (
                    secret["Type"] == "AWS::SecretsManager::SecretTargetAttachment"
                ):  # a secret once attached to its cluster
                    logical_id = secret["Properties"]["SecretId"]["Ref"]
                    secret = aws.templates[stack_id("foundation")]["Resources"][logical_id]
                assert secret["Type"] == "AWS::SecretsManager::Secret", logical_id
                names.add(secret["Properties"]["Name"])
    own = {f"{SETTINGS_PREFIX}/service-credentials/{key}"}
    if any(s.startswith("aurora:") for s in catalog.module(key).stores):
        own.add(f"{SETTINGS_PREFIX}/{key}/db")
    if any(s.startswith("documentdb:") for s in catalog.module(key).stores):  # the cluster's login (AWS)
        own.add(f"{SETTINGS_PREFIX}/documentdb/master")
    if key == "auth":  # the signing keys and the registry of service clients are Auth's
        own |= {f"{SETTINGS_PREFIX}/auth/jwt-keys", f"{SETTINGS_PREFIX}/auth/service-clients"}
    assert names == own


@pytest.mark.parametrize("key", [m.key for m in catalog.MODULES])
def test_a_module_puts_events_only_with_its_own_source(aws, key):
    puts = [st for st in statements(aws, stack_id(key)) if "events:PutEvents" in as_list(st["Action"])]
    if not catalog.module(key).emits:
        assert puts == []
        return
    assert len(puts) == 1
    assert puts[0]["Condition"] == {"StringEquals": {"events:source": [f"finflow.{key}"]}}
    logical_id, bus = foundation_resource(aws, puts[0]["Resource"])
    assert bus["Type"] == "AWS::Events::EventBus"


@pytest.mark.parametrize("key", [m.key for m in catalog.MODULES])
def test_no_statement_reaches_beyond_the_module(aws, key):
    stack = stack_id(key)
    own_resources = set(aws.templates[stack]["Resources"])
    for st in statements(aws, stack):
        actions = as_list(st["Action"])
        assert not any(a.endswith(":*") or a == "*" for a in actions), st
        for resource in as_list(st["Resource"]):
            if resource == "*":  # only what accepts nothing narrower
                assert set(actions) <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "sns:Publish"}, st
            elif isinstance(resource, dict) and "Fn::GetAtt" in resource:
                assert resource["Fn::GetAtt"][0] in own_resources, st
            elif any(a.startswith("sqs:") for a in actions):
                pytest.fail(f"{key} reaches a queue it does not own: {st}")
    text = json.dumps(statements(aws, stack))
    for other in catalog.MODULES:
        if other.key != key:
            assert (
                f"{other.key.capitalize()}DbSecret" not in text and f"{other.key.capitalize()}Credentials" not in text
            )


def test_kms_is_used_only_through_the_services_that_need_it(aws):
    for m in catalog.MODULES:
        for st in statements(aws, stack_id(m.key)):
            actions = as_list(st["Action"])
            if any(a.startswith("kms:") for a in actions) and "Condition" not in st:
                # the SQS event source decrypts the module's own encrypted queues
                assert actions == ["kms:Decrypt"] and m.subscriptions, (m.key, st)


def test_opensearch_is_granted_to_its_owner_only(aws):
    for m in catalog.MODULES:
        text = json.dumps(statements(aws, stack_id(m.key)))
        owns = any(s.startswith("opensearch:") for s in m.stores)
        assert ("es:ESHttp" in text) == owns, m.key
