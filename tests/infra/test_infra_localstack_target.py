"""`-c target=localstack`: the paid-only services become parameters; everything else stays."""

from __future__ import annotations

import json

from finflow.contracts import calls
from functions import catalog
from infra_cdk.app import stack_id
from infra_cdk.localstack import PARAMETERS

PAID_ONLY = (
    "AWS::RDS::",
    "AWS::DocDB::",
    "AWS::OpenSearchService::",
    "AWS::WAFv2::",
    "AWS::EC2::",
    "AWS::CodeDeploy::",
)  # CodeDeploy: the aliases' gradual deployments are AWS-only (deployment.py)


def test_no_paid_only_resource_is_deployed(localstack):
    for stack, template in localstack.templates.items():
        types = {r["Type"] for r in template["Resources"].values()}
        assert not [t for t in types if t.startswith(PAID_ONLY)], stack


def test_the_stores_are_stack_parameters(localstack):
    parameters = localstack.templates[stack_id("foundation")]["Parameters"]
    assert set(PARAMETERS) | {"PostgresPassword"} <= set(parameters)
    assert parameters["PostgresPassword"]["NoEcho"] is True
    # the database setup still creates one login and database per owning module, on that server
    setup = next(iter(localstack.resources(stack_id("foundation"), "Custom::FinFlowDatabases").values()))["Properties"]
    assert setup["Host"] == {"Ref": "PostgresHost"}


def test_functions_run_untraced_outside_a_vpc_with_the_given_endpoints(localstack):
    for m in catalog.MODULES:
        for fn in localstack.resources(stack_id(m.key), "AWS::Lambda::Function").values():
            props = fn["Properties"]
            assert props.get("TracingConfig", {}).get("Mode") != "Active" and "VpcConfig" not in props
            assert "AWS_LAMBDA_EXEC_WRAPPER" not in props["Environment"]["Variables"]  # no ADOT: no layers there
    notification = localstack.resources(stack_id("notification"), "AWS::Lambda::Function")
    api = next(f for f in notification.values() if f["Properties"]["FunctionName"].endswith("-api"))
    assert "DocumentDbUri" in json.dumps(api["Properties"]["Environment"]["Variables"]["DOCUMENTDB_URI"])


def test_the_rest_of_the_system_is_the_same_as_on_aws(aws, localstack):
    def shape(assembly):
        return {
            stack: sorted(
                r["Type"]
                for r in t["Resources"].values()
                if not r["Type"].startswith(PAID_ONLY)
                and r["Type"]
                not in (
                    "AWS::SecretsManager::RotationSchedule",
                    "AWS::Logs::ResourcePolicy",
                    "AWS::Lambda::Alias",
                    "AWS::Lambda::Version",  # AWS only (safe deploys)
                    "AWS::Logs::LogGroup",
                    "AWS::IAM::Role",
                    "AWS::IAM::Policy",
                    "AWS::SecretsManager::SecretTargetAttachment",
                    "AWS::SecretsManager::ResourcePolicy",
                    "AWS::SecretsManager::Secret",
                )
            )
            for stack, t in assembly.templates.items()
        }

    aws_shape, ls_shape = shape(aws), shape(localstack)
    # where DocumentDB is missing, its owners keep their data in PostgreSQL: a migrations step more
    on_postgres = {stack_id(m.key) for m in catalog.MODULES if any(s.startswith("documentdb:") for s in m.stores)}
    for stack in aws_shape:
        if stack == stack_id("foundation"):
            continue
        extra = ["AWS::Lambda::Function", "Custom::FinFlowMigrations"] if stack in on_postgres else []
        assert ls_shape[stack] == sorted(aws_shape[stack] + extra), stack


def test_every_deploy_time_step_is_an_output_the_deploy_runs_in_order(localstack):
    """LocalStack's community edition skips custom resources: each one is also a stack output
    naming its function and properties, and infra_cdk.deploy_steps runs them in deploy order."""
    from infra_cdk.deploy_steps import OUTPUT_PREFIX, stack_order

    custom = {
        (stack, k)
        for stack, k, _ in localstack.all_resources("Custom::FinFlowDatabases")
        + localstack.all_resources("Custom::FinFlowSecrets")
        + localstack.all_resources("Custom::FinFlowMigrations")
    }
    outputs = {
        (stack, name.removeprefix(OUTPUT_PREFIX))
        for stack, t in localstack.templates.items()
        for name in t.get("Outputs", {})
        if name.startswith(OUTPUT_PREFIX)
    }
    assert {(stack, k) for stack, k in custom} == outputs and outputs
    migrating = [s for s, k in outputs if k == "Migrations"]
    assert sorted(migrating, key=stack_order().index) == [s for s in stack_order() if s in migrating]
    assert stack_order()[0] == stack_id("foundation")


def test_deploy_steps_run_foundation_first_then_each_wave(monkeypatch):
    from infra_cdk import deploy_steps

    outputs = {
        stack_id("payment"): {"DeployStepMigrations": json.dumps({"function": "p"})},
        stack_id("foundation"): {
            "ApiUrl": "x",
            "DeployStepDatabaseSetupRun": json.dumps({"function": "d"}),
            "DeployStepSecretsSeed": json.dumps({"function": "s"}),
        },
        stack_id("auth"): {"DeployStepMigrations": json.dumps({"function": "a"})},
    }
    assert [step["function"] for _, _, step in deploy_steps.steps(outputs)] == ["d", "s", "a", "p"]


def test_functions_carry_the_layers_contents_and_check_tokens_themselves(localstack):
    """Layers are not applied and authorizers never run on LocalStack's community edition."""
    for stack, _, fn in localstack.all_resources("AWS::Lambda::Function"):
        assert not fn["Properties"].get("Layers"), stack
    assert not localstack.all_resources("AWS::ApiGateway::Authorizer")
    methods = [m["Properties"] for _, _, m in localstack.all_resources("AWS::ApiGateway::Method")]
    assert methods and all(m["AuthorizationType"] == "NONE" for m in methods)
    for m in catalog.MODULES:
        api = next(
            f
            for f in localstack.resources(stack_id(m.key), "AWS::Lambda::Function").values()
            if f["Properties"]["FunctionName"].endswith("-api")
        )
        assert api["Properties"]["Environment"]["Variables"]["FINFLOW_VERIFY_TOKENS"] == "true"


def test_the_aws_target_keeps_layers_and_the_authorizer(aws):
    assert aws.all_resources("AWS::ApiGateway::Authorizer")
    assert all(fn["Properties"].get("Layers") for _, _, fn in aws.all_resources("AWS::Lambda::Function"))
    # behind the authorizer, only the modules other modules invoke directly check tokens themselves
    called = {stack_id(key) for key in calls.callees()}
    for stack, _, fn in aws.all_resources("AWS::Lambda::Function"):
        variables = fn["Properties"].get("Environment", {}).get("Variables", {})
        assert ("FINFLOW_VERIFY_TOKENS" in variables) == (stack in called), (stack, fn["Properties"]["FunctionName"])


def test_notification_keeps_its_data_in_its_own_postgresql_database_there(localstack):
    from infra_cdk.foundation import postgres_modules
    from infra_cdk.settings import DeploySettings

    assert "notification" in postgres_modules(DeploySettings(target="localstack"))
    assert "notification" not in postgres_modules(DeploySettings(target="aws"))
    for fn in localstack.resources(stack_id("notification"), "AWS::Lambda::Function").values():
        assert "DB_SECRET_ARN" in fn["Properties"]["Environment"]["Variables"]
