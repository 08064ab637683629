"""`-c target=localstack`: the paid-only services become parameters; everything else stays."""
from __future__ import annotations

import json

from functions import catalog
from infra_cdk.app import stack_id
from infra_cdk.localstack import PARAMETERS

PAID_ONLY = ("AWS::RDS::", "AWS::DocDB::", "AWS::OpenSearchService::", "AWS::WAFv2::", "AWS::EC2::")


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
            assert props["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "true"
    notification = localstack.resources(stack_id("notification"), "AWS::Lambda::Function")
    api = next(f for f in notification.values() if f["Properties"]["FunctionName"].endswith("-api"))
    assert "DocumentDbUri" in json.dumps(api["Properties"]["Environment"]["Variables"]["DOCUMENTDB_URI"])


def test_the_rest_of_the_system_is_the_same_as_on_aws(aws, localstack):
    def shape(assembly):
        return {stack: sorted(r["Type"] for r in t["Resources"].values() if not r["Type"].startswith(PAID_ONLY)
                              and r["Type"] not in ("AWS::SecretsManager::RotationSchedule", "AWS::Logs::ResourcePolicy",
                                                    "AWS::Logs::LogGroup", "AWS::IAM::Role", "AWS::IAM::Policy",
                                                    "AWS::SecretsManager::SecretTargetAttachment",
                                                    "AWS::SecretsManager::ResourcePolicy", "AWS::SecretsManager::Secret"))
                for stack, t in assembly.templates.items()}
    aws_shape, ls_shape = shape(aws), shape(localstack)
    for stack in aws_shape:
        if stack != stack_id("foundation"):
            assert ls_shape[stack] == aws_shape[stack], stack
