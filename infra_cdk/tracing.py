"""Tracing on AWS: the ADOT Python layer (AWS Distro for OpenTelemetry) on every function.

The layer's wrapper (AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-instrument) configures the OpenTelemetry
SDK before the handler is imported, wraps each invocation in the function's span and sends the
spans over UDP to the X-Ray daemon of the Lambda environment, which active tracing runs (and
grants xray:PutTraceSegments for): no collector to configure. FinFlow's code adds its spans with
the API only (finflow.tracing). The layer is a managed one, published per region (one ARN serves
arm64 and x86_64 today), so its ARN is a setting by region and architecture, looked up in the
template (a stack's region may be known only at deploy). LocalStack's community edition applies
no layers: that target gets none of this, and the code runs untraced.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from finflow.tracing import PROPAGATORS
from infra_cdk.settings import DeploySettings

WRAPPER = "/opt/otel-instrument"
# the layers' architecture names, as ADOT's documentation writes them (a template map's keys are alphanumeric)
ARCHITECTURES = {"arm64": "arm64", "x86_64": "amd64"}


def environment() -> dict[str, str]:
    # X-Ray's header wins when extracting (API Gateway's and Lambda's), both are written: as the devserver does
    return {"AWS_LAMBDA_EXEC_WRAPPER": WRAPPER, "OTEL_PROPAGATORS": PROPAGATORS}


def adot_layer(scope: Construct, settings: DeploySettings, architecture: lambda_.Architecture) -> lambda_.ILayerVersion:
    """The stack's ADOT layer for `architecture`, from the region map of the settings (one per stack)."""
    stack = cdk.Stack.of(scope)
    found = stack.node.try_find_child("AdotPythonLayer")
    if found is not None:
        return found  # type: ignore[return-value]
    layers = settings.adot_python_layers
    if not cdk.Token.is_unresolved(stack.region) and stack.region not in layers:
        raise ValueError(
            f"no ADOT Python layer for region {stack.region}: add its ARN to the context "
            f"adot_python_layers (regions so far: {', '.join(sorted(layers))})"
        )
    mapping = cdk.CfnMapping(stack, "AdotPythonLayers", mapping=layers)
    arn = mapping.find_in_map(cdk.Aws.REGION, ARCHITECTURES[architecture.name])
    return lambda_.LayerVersion.from_layer_version_arn(stack, "AdotPythonLayer", arn)
