"""What the stacks contain, checked against the catalog: functions, routes, queues, rules,
schedules, migrations, storage and the gateway's behaviour on refused tokens."""

from __future__ import annotations

import json

import pytest

from functions import catalog
from infra_cdk.api import public_routes, route_prefixes
from infra_cdk.app import stack_id
from tests.infra.support import FOUNDATION, functions_by_name, methods, one

# -- Foundation ---------------------------------------------------------------------------


def test_foundation_has_network_key_bus_archive_and_layers(aws):
    assert one(aws.resources(FOUNDATION, "AWS::KMS::Key"))["EnableKeyRotation"] is True
    assert one(aws.resources(FOUNDATION, "AWS::Events::EventBus"))["Name"] == "finflow-dev"
    archive = one(aws.resources(FOUNDATION, "AWS::Events::Archive"))
    assert sorted(archive["EventPattern"]["source"]) == sorted(m.source for m in catalog.MODULES)
    assert archive["RetentionDays"] == 365
    endpoints = [e["Properties"]["ServiceName"] for e in aws.resources(FOUNDATION, "AWS::EC2::VPCEndpoint").values()]
    text = json.dumps(endpoints)
    for service in ("secretsmanager", "events", "s3", "kms"):
        assert f".{service}" in text, service
    assert aws.resources(FOUNDATION, "AWS::EC2::FlowLog")
    layers = aws.resources(FOUNDATION, "AWS::Lambda::LayerVersion")
    assert len(layers) == 2 and all(
        layer["Properties"]["CompatibleRuntimes"] == ["python3.13"] for layer in layers.values()
    )


def test_aurora_serverless_v2_behind_rds_proxy_with_a_login_per_owning_module(aws):
    cluster = one(aws.resources(FOUNDATION, "AWS::RDS::DBCluster"))
    assert cluster["Engine"] == "aurora-postgresql" and cluster["StorageEncrypted"] and cluster["DeletionProtection"]
    assert cluster["ServerlessV2ScalingConfiguration"]["MinCapacity"] == 0.5
    instances = aws.resources(FOUNDATION, "AWS::RDS::DBInstance").values()
    assert instances and all(i["Properties"]["DBInstanceClass"] == "db.serverless" for i in instances)
    proxy = one(aws.resources(FOUNDATION, "AWS::RDS::DBProxy"))
    assert proxy["RequireTLS"] is True
    owners = [m.key for m in catalog.MODULES if any(s.startswith("aurora:") for s in m.stores)]
    secrets = {
        s["Properties"]["Name"]: logical
        for logical, s in aws.resources(FOUNDATION, "AWS::SecretsManager::Secret").items()
    }
    proxied = json.dumps(proxy["Auth"])
    for key in owners:
        assert f"finflow/dev/{key}/db" in secrets, key
        assert secrets[f"finflow/dev/{key}/db"] in proxied, f"the proxy does not accept {key}'s login"
    setup = one(aws.resources(FOUNDATION, "Custom::FinFlowDatabases"))
    assert sorted(setup["ModuleSecretArns"]) == sorted(owners)
    rotated = json.dumps(aws.resources(FOUNDATION, "AWS::SecretsManager::RotationSchedule"))
    for key in owners:
        assert secrets[f"finflow/dev/{key}/db"] in rotated, key


def test_documentdb_and_opensearch_are_private_and_encrypted(aws):
    docdb = one(aws.resources(FOUNDATION, "AWS::DocDB::DBCluster"))
    assert docdb["StorageEncrypted"] and docdb["Port"] != 27017 and "audit" in docdb["EnableCloudwatchLogsExports"]
    domain = one(aws.resources(FOUNDATION, "AWS::OpenSearchService::Domain"))
    assert domain["EncryptionAtRestOptions"]["Enabled"] and domain["NodeToNodeEncryptionOptions"]["Enabled"]
    assert domain["DomainEndpointOptions"]["EnforceHTTPS"] and domain["VPCOptions"]["SubnetIds"]


def test_the_secrets_seeder_writes_every_module_credentials_and_the_signing_keys(aws):
    seed = one(aws.resources(FOUNDATION, "Custom::FinFlowSecrets"))
    assert sorted(seed["CredentialSecretArns"]) == sorted(m.key for m in catalog.MODULES)
    assert seed["JwtKeysSecretArn"] and seed["ServiceClientsSecretArn"]


# -- the API ------------------------------------------------------------------------------


def test_the_stage_is_traced_throttled_logged_and_in_a_usage_plan(aws):
    stage = one(aws.resources(FOUNDATION, "AWS::ApiGateway::Stage"))
    assert stage["StageName"] == "dev" and stage["TracingEnabled"] is True
    settings = stage["MethodSettings"][0]
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0
    assert "$context.requestId" in stage["AccessLogSetting"]["Format"]
    plan = one(aws.resources(FOUNDATION, "AWS::ApiGateway::UsagePlan"))
    assert plan["Throttle"]["RateLimit"] > 0 and plan["ApiStages"]
    assert aws.resources(FOUNDATION, "AWS::WAFv2::WebACLAssociation")


def test_refused_and_missing_tokens_answer_401_problem_json(aws):
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in aws.resources(FOUNDATION, "AWS::ApiGateway::GatewayResponse").values()
    }
    for kind in ("ACCESS_DENIED", "UNAUTHORIZED"):
        r = responses[kind]
        assert r["StatusCode"] == "401"
        assert r["ResponseParameters"]["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
    refused = responses["ACCESS_DENIED"]["ResponseTemplates"]["application/json"]
    # the authorizer's explicit Deny carries the reason; the body shows it as `detail`
    assert json.loads(refused.replace("$context.authorizer.reason", "token expired")) == {
        "type": "https://finflow.dev/problems/unauthorized",
        "title": "Unauthorized",
        "status": 401,
        "detail": "token expired",
    }
    missing = json.loads(responses["UNAUTHORIZED"]["ResponseTemplates"]["application/json"])
    assert missing["detail"] == "missing bearer token"
    for r in responses.values():  # every gateway error is problem+json with a parseable body
        body = r["ResponseTemplates"]["application/json"].replace("$context.error.messageString", '"m"')
        json.loads(body.replace("$context.authorizer.reason", "r"))


def test_the_authorizer_is_the_auth_token_authorizer(aws):
    authorizer = one(aws.resources(FOUNDATION, "AWS::ApiGateway::Authorizer"))
    assert authorizer["Type"] == "TOKEN" and authorizer["IdentitySource"] == "method.request.header.Authorization"
    fns = functions_by_name(aws, FOUNDATION)
    assert fns["finflow-dev-auth-authorizer"]["Handler"] == "functions.auth.authorizer.handler"


@pytest.mark.parametrize("key", [m.key for m in catalog.MODULES])
def test_every_route_prefix_reaches_the_module_behind_the_authorizer(aws, key):
    all_methods = methods(aws)
    m = catalog.module(key)
    for prefix in route_prefixes(m):
        for path in (prefix, f"{prefix}/{{proxy+}}"):
            method = all_methods[("ANY", path)]
            assert method["AuthorizationType"] == "CUSTOM" and method["AuthorizerId"], path
            uri = json.dumps(method["Integration"]["Uri"])
            assert f"function:finflow-dev-{key}-api:live/invocations" in uri, path  # its live alias
            assert method["Integration"]["Type"] == "AWS_PROXY"
    for verb, path in public_routes(m):
        method = all_methods[(verb, path)]
        assert method["AuthorizationType"] == "NONE", (verb, path)
        assert f"function:finflow-dev-{key}-api:live/invocations" in json.dumps(method["Integration"]["Uri"])


def test_only_catalog_public_routes_skip_the_authorizer(aws):
    public = {(verb, path) for m in catalog.MODULES for verb, path in public_routes(m)}
    open_methods = {k for k, v in methods(aws).items() if v["AuthorizationType"] == "NONE"}
    assert open_methods == public
    assert ("POST", "/api/auth/register") in public and ("GET", "/api/payment/health") in public


# -- module stacks ------------------------------------------------------------------------


@pytest.mark.parametrize("key", [m.key for m in catalog.MODULES])
def test_module_functions_are_traced_in_the_vpc_with_their_configuration(aws, key):
    fns = functions_by_name(aws, stack_id(key))
    api = fns[f"finflow-dev-{key}-api"]
    assert api["Runtime"] == "python3.13" and api["TracingConfig"] == {"Mode": "Active"}
    assert api["VpcConfig"]["SubnetIds"] and len(api["Layers"]) == 3  # common, dependencies, ADOT
    env = api["Environment"]["Variables"]
    assert {"FINFLOW_API_URL", "EVENT_BUS_NAME", "SERVICE_CREDENTIALS_PREFIX"} <= set(env)
    m = catalog.module(key)
    assert ("DB_SECRET_ARN" in env) == any(s.startswith("aurora:") for s in m.stores)
    assert ("KYC_DOCUMENTS_BUCKET" in env) == any(s.startswith("s3:") for s in m.stores)
    assert ("DOCUMENTDB_SECRET_ARN" in env) == any(s.startswith("documentdb:") for s in m.stores)
    built = __import__("infra_cdk.assets", fromlist=["x"]).handler_present(f"functions.{key}.api.handler")
    assert api["Handler"] == (f"functions.{key}.api.handler" if built else "deploy_runtime.not_built.handler")
    gateway = [
        p["Properties"]
        for p in aws.resources(stack_id(key), "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
    ]
    assert len(gateway) == 1
    alias = aws.templates[stack_id(key)]["Resources"][gateway[0]["FunctionName"]["Ref"]]  # the qualified ARN
    assert alias["Type"] == "AWS::Lambda::Alias" and alias["Properties"]["Name"] == "live"
    target = aws.templates[stack_id(key)]["Resources"][alias["Properties"]["FunctionName"]["Ref"]]
    assert target["Properties"]["FunctionName"] == f"finflow-dev-{key}-api"
    assert "Fn::ImportValue" in json.dumps(gateway[0]["SourceArn"])  # Foundation's API, not any API


@pytest.mark.parametrize("key", [m.key for m in catalog.MODULES if m.subscriptions])
def test_one_queue_dlq_and_rule_per_subscription(aws, key):
    stack = stack_id(key)
    m = catalog.module(key)
    queues = {q["Properties"]["QueueName"]: q["Properties"] for q in aws.resources(stack, "AWS::SQS::Queue").values()}
    rules = {r["Properties"]["Name"]: r["Properties"] for r in aws.resources(stack, "AWS::Events::Rule").values()}
    mappings = aws.resources(stack, "AWS::Lambda::EventSourceMapping")
    for sub in m.subscriptions:
        name = f"finflow-dev-{key}-from-{sub.producer}"
        assert queues[name]["RedrivePolicy"]["maxReceiveCount"] == 3
        assert queues[name]["KmsMasterKeyId"] and queues[f"{name}-dlq"]["KmsMasterKeyId"]
        assert rules[name]["EventPattern"] == {
            "source": [f"finflow.{sub.producer}"],
            "detail-type": list(sub.detail_types),
        }
        assert "Fn::ImportValue" in rules[name]["EventBusName"]  # the finflow bus, not the default one
    if "events" in {fn.name for fn in m.functions} and functions_by_name(aws, stack).get(f"finflow-dev-{key}-events"):
        assert len(mappings) == len(m.subscriptions)
        for mapping in mappings.values():
            assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


@pytest.mark.parametrize("key", [m.key for m in catalog.MODULES])
def test_schedules_follow_the_catalog(aws, key):
    fns = functions_by_name(aws, stack_id(key))
    rules = {
        r["Properties"]["Name"]: r["Properties"] for r in aws.resources(stack_id(key), "AWS::Events::Rule").values()
    }
    for fn in catalog.module(key).functions:
        name = f"finflow-dev-{key}-{fn.name}"
        if fn.kind == "schedule" and name in fns:
            count, unit = rules[name]["ScheduleExpression"].removeprefix("rate(").removesuffix(")").split()
            per_unit = {"minute": 1, "hour": 60, "day": 1440}[unit.removesuffix("s")]
            assert int(count) * per_unit == fn.schedule_minutes, name


def test_scheduled_jobs_of_built_modules_exist(aws):
    assert "finflow-dev-payment-reconciler" in functions_by_name(aws, stack_id("payment"))
    assert "finflow-dev-notification-kyc-reminder" in functions_by_name(aws, stack_id("notification"))
    assert "finflow-dev-kyc-outbox-sweeper" in functions_by_name(aws, stack_id("kyc"))


@pytest.mark.parametrize("key", [m.key for m in catalog.MODULES])
def test_migrations_run_on_deploy_for_each_database_owner(aws, key):
    from infra_cdk.assets import ROOT

    runs = aws.resources(stack_id(key), "Custom::FinFlowMigrations")
    owns = any(s.startswith("aurora:") for s in catalog.module(key).stores)
    if owns and (ROOT / "functions" / key / "migrations").is_dir():
        run = one(runs)
        assert run["Module"] == key and len(run["MigrationsHash"]) == 16
        api = next(
            f
            for f in aws.resources(stack_id(key), "AWS::Lambda::Function").values()
            if f["Properties"]["FunctionName"] == f"finflow-dev-{key}-api"
        )
        assert next(iter(runs)) in api.get("DependsOn", []), "the API must wait for its schema"
    else:
        assert runs == {}


def test_the_kyc_documents_bucket_is_private_encrypted_tls_only_with_lifecycle(aws):
    stack = stack_id("kyc")
    buckets = aws.resources(stack, "AWS::S3::Bucket")
    documents = next(b["Properties"] for b in buckets.values() if "LoggingConfiguration" in b["Properties"])
    sse = documents["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert sse["SSEAlgorithm"] == "aws:kms" and sse["KMSMasterKeyID"]
    assert all(documents["PublicAccessBlockConfiguration"].values())
    assert documents["VersioningConfiguration"]["Status"] == "Enabled" and documents["LifecycleConfiguration"]["Rules"]
    policies = json.dumps(aws.resources(stack, "AWS::S3::BucketPolicy"))
    assert '"aws:SecureTransport": "false"' in policies


# -- Observability ------------------------------------------------------------------------


def _rule_text(rule) -> str:
    if isinstance(rule, str):
        return rule
    parts = rule["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else p["Fn::GetAtt"][0] for p in parts)


def _evaluate(aws, logical_id: str, alarming: set[str]) -> bool:
    """Evaluate a composite alarm's rule, given which module-level alarms are in ALARM."""
    import re

    alarms = aws.resources(stack_id("observability"), "AWS::CloudWatch::CompositeAlarm")
    text = _rule_text(alarms[logical_id]["Properties"]["AlarmRule"])

    def state(match: re.Match) -> str:
        child = match.group(1)
        if child in alarms:
            return str(_evaluate(aws, child, alarming))
        return str(any(child.startswith(key.capitalize()) for key in alarming))

    expr = re.sub(r'ALARM\("([^"]+)"\)', state, text).replace("AND", "and").replace("OR", "or").replace("NOT", "not")
    return bool(eval(expr))


def _composite(aws, name: str) -> str:
    alarms = aws.resources(stack_id("observability"), "AWS::CloudWatch::CompositeAlarm")
    return next(k for k, v in alarms.items() if v["Properties"]["AlarmName"] == name)


def test_composite_alarms_tell_a_cascade_from_payments_own_fault(aws):
    own, because_wallet, because_auth = (
        _composite(aws, f"finflow-dev-payment-{s}")
        for s in ("own-fault", "failing-because-wallet", "failing-because-auth")
    )
    assert _evaluate(aws, own, {"payment"}) and not _evaluate(aws, because_wallet, {"payment"})
    assert not _evaluate(aws, own, {"payment", "wallet"}) and _evaluate(aws, because_wallet, {"payment", "wallet"})
    assert not _evaluate(aws, own, {"payment", "auth"}) and _evaluate(aws, because_auth, {"payment", "auth"})
    assert not _evaluate(aws, because_auth, {"payment", "wallet"})
    assert not any(_evaluate(aws, a, {"wallet", "auth"}) for a in (own, because_wallet, because_auth))


def test_alarms_cover_errors_throttles_latency_and_every_dlq(aws):
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in aws.resources(stack_id("observability"), "AWS::CloudWatch::Alarm").values()
    }
    for m in catalog.MODULES:
        for fn in m.functions:
            for suffix in ("errors", "throttles", "p99"):
                assert f"finflow-dev-{m.key}-{fn.name}-{suffix}" in alarms
        for sub in m.subscriptions:
            dlq = alarms[f"finflow-dev-{m.key}-from-{sub.producer}-dlq-depth"]
            assert dlq["Dimensions"] == [{"Name": "QueueName", "Value": f"finflow-dev-{m.key}-from-{sub.producer}-dlq"}]
    dashboards = {
        d["Properties"]["DashboardName"]
        for d in aws.resources(stack_id("observability"), "AWS::CloudWatch::Dashboard").values()
    }
    assert dashboards == {f"finflow-dev-{m.key}" for m in catalog.MODULES} | {"finflow-dev-cascade"}
