"""Notification on AWS reads its DocumentDB login from the cluster's secret at first use: no
function's environment carries a password (not even as a `{{resolve:secretsmanager:...}}`
dynamic reference, which CloudFormation resolves into the plain value Lambda shows to anyone
who may read the function's configuration), and only Notification's role may read that secret."""

from __future__ import annotations

import json

from functions import catalog
from infra_cdk.app import stack_id
from tests.infra.support import FOUNDATION

NOTIFICATION = stack_id("notification")
DOCDB_SECRET_NAME = "finflow/dev/documentdb/master"


def _environments(assembly, stack: str) -> dict[str, dict]:
    return {
        k: f["Properties"].get("Environment", {}).get("Variables", {})
        for k, f in assembly.resources(stack, "AWS::Lambda::Function").items()
    }


def _documentdb_secret_export(aws) -> str:
    """The export name under which Foundation shares the DocumentDB cluster's (attached) secret."""
    foundation = aws.templates[FOUNDATION]
    secrets = {
        k
        for k, s in aws.resources(FOUNDATION, "AWS::SecretsManager::Secret").items()
        if s["Properties"].get("Name") == DOCDB_SECRET_NAME
    }
    assert len(secrets) == 1, secrets
    attachments = {
        k
        for k, a in aws.resources(FOUNDATION, "AWS::SecretsManager::SecretTargetAttachment").items()
        if a["Properties"]["SecretId"] == {"Ref": next(iter(secrets))}
        and a["Properties"]["TargetType"] == "AWS::DocDB::DBCluster"
    }
    assert len(attachments) == 1, attachments
    exports = [
        o["Export"]["Name"]
        for o in foundation.get("Outputs", {}).values()
        if o.get("Value") == {"Ref": next(iter(attachments))} and "Export" in o
    ]
    assert len(exports) == 1, exports
    return exports[0]


def test_no_function_environment_holds_a_secret_value(aws):
    for stack in aws.templates:
        for function, env in _environments(aws, stack).items():
            text = json.dumps(env)
            assert "resolve:secretsmanager" not in text and "resolve:ssm-secure" not in text, (stack, function)
            assert "DOCUMENTDB_URI" not in env, (stack, function)


def test_notification_functions_get_the_documentdb_secret_arn_and_no_password(aws):
    export = _documentdb_secret_export(aws)
    envs = _environments(aws, NOTIFICATION)
    assert {"finflow-dev-notification-api", "finflow-dev-notification-events"} <= {
        f["Properties"]["FunctionName"] for f in aws.resources(NOTIFICATION, "AWS::Lambda::Function").values()
    }
    for function, env in envs.items():
        assert env["DOCUMENTDB_SECRET_ARN"] == {"Fn::ImportValue": export}, function
        assert "DOCUMENTDB_URI" not in env, function
        assert "password" not in json.dumps(env).lower(), function


def _secret_statements(assembly, stack: str) -> list[dict]:
    return [
        s
        for p in assembly.resources(stack, "AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if "secretsmanager:GetSecretValue" in json.dumps(s["Action"])
    ]


def test_only_notifications_role_may_read_the_documentdb_secret_and_decrypt_it_through_secrets_manager(aws):
    export = _documentdb_secret_export(aws)
    readable = {"Fn::ImportValue": export}
    statements = _secret_statements(aws, NOTIFICATION)
    granting = [s for s in statements if readable in s["Resource"]]
    assert len(granting) == 1 and granting[0]["Effect"] == "Allow"
    assert sorted(granting[0]["Action"]) == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    assert all(
        r != "*" and "*" not in json.dumps(r) for s in statements for r in s["Resource"]
    )  # exactly these secrets
    decrypt = [
        s
        for p in aws.resources(NOTIFICATION, "AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "kms:Decrypt" and "secretsmanager" in json.dumps(s.get("Condition", {}))
    ]
    assert decrypt and all("kms:ViaService" in json.dumps(s["Condition"]) for s in decrypt)
    for m in catalog.MODULES:
        if m.key != "notification":
            assert export not in json.dumps(aws.templates[stack_id(m.key)]), m.key


def test_on_localstack_notification_keeps_the_plain_uri_parameter(localstack):
    for function, env in _environments(localstack, NOTIFICATION).items():
        assert "DOCUMENTDB_SECRET_ARN" not in env, function
        assert "DocumentDbUri" in json.dumps(env.get("DOCUMENTDB_URI")), function
