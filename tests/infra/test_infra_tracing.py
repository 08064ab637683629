"""Tracing on AWS is OpenTelemetry by ADOT's layer, exported to X-Ray: every function has the layer
for its region and architecture, the wrapper, the propagators the code relies on, active tracing
and X-Ray's write permission; LocalStack's functions have none of it."""

from __future__ import annotations

import json

import pytest

from finflow.tracing import PROPAGATORS
from infra_cdk.settings import ADOT_PYTHON_LAYERS
from infra_cdk.tracing import WRAPPER
from tests.infra.test_infra_iam import as_list


def _functions(assembly):
    return [(stack, fn["Properties"]) for stack, _, fn in assembly.all_resources("AWS::Lambda::Function")]


def test_every_function_on_aws_runs_under_adot_and_sends_to_x_ray(aws):
    functions = _functions(aws)
    assert functions
    for stack, props in functions:
        variables = props["Environment"]["Variables"]
        assert variables["AWS_LAMBDA_EXEC_WRAPPER"] == WRAPPER and variables["OTEL_PROPAGATORS"] == PROPAGATORS
        assert props["TracingConfig"] == {"Mode": "Active"} and props["Architectures"] == ["arm64"]
        adot = [layer for layer in props["Layers"] if "Fn::FindInMap" in layer]
        assert adot == [{"Fn::FindInMap": ["AdotPythonLayers", {"Ref": "AWS::Region"}, "arm64"]}], props["Layers"]
        mapping = aws.templates[stack]["Mappings"]["AdotPythonLayers"]
        assert mapping == ADOT_PYTHON_LAYERS
        assert all(":layer:AWSOpenTelemetryDistroPython:" in arn for arns in mapping.values() for arn in arns.values())


def test_every_function_role_may_write_to_x_ray(aws):
    for stack, props in _functions(aws):
        role = {"Ref": props["Role"]["Fn::GetAtt"][0]}
        actions = {
            action
            for _, policy in aws.resources(stack, "AWS::IAM::Policy").items()
            if role in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            for action in as_list(statement["Action"])
        }
        assert "xray:PutTraceSegments" in actions, (stack, role)


def test_localstack_functions_have_no_adot(localstack):
    for _, props in _functions(localstack):
        assert "AWS_LAMBDA_EXEC_WRAPPER" not in props["Environment"]["Variables"]
        assert not [layer for layer in props.get("Layers", []) if "Fn::FindInMap" in json.dumps(layer)]


def test_a_region_without_a_layer_is_refused_at_synth():
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_

    from infra_cdk.settings import DeploySettings
    from infra_cdk.tracing import adot_layer

    stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(region="eu-north-1", account="111111111111"))
    with pytest.raises(ValueError, match="no ADOT Python layer for region eu-north-1"):
        adot_layer(stack, DeploySettings(), lambda_.Architecture.ARM_64)
