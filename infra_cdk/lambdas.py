"""One way to make a FinFlow Lambda function: Python 3.13, the two layers, its own log
group, traced on AWS (X-Ray, ADOT's layer), in the VPC when there is one; arm64 on AWS, x86_64
on LocalStack."""

from __future__ import annotations

from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra_cdk import tracing
from infra_cdk.settings import DeploySettings

RUNTIME = lambda_.Runtime.PYTHON_3_13


def architecture(settings: DeploySettings) -> lambda_.Architecture:
    """arm64 (Graviton) on AWS: every runtime dependency has an aarch64 wheel for cp313, and the
    dependencies layer is built for it (`assets.deps_layer("arm64")`). x86_64 on LocalStack,
    which runs the functions in containers on its (x86_64) host."""
    return lambda_.Architecture.ARM_64 if settings.aws else lambda_.Architecture.X86_64


@dataclass
class FunctionSpec:
    name: str  # full function name (fixed, so the gateway and alarms can name it)
    handler: str
    code: lambda_.Code
    role: iam.IRole
    environment: dict[str, str] = field(default_factory=dict)
    timeout_seconds: int = 29
    memory_mb: int = 512
    in_vpc: bool = True
    security_groups: list[ec2.ISecurityGroup] = field(default_factory=list)


def make_function(
    scope: Construct,
    id: str,
    spec: FunctionSpec,
    *,
    settings: DeploySettings,
    layers: list[lambda_.ILayerVersion],
    vpc: ec2.IVpc | None,
) -> lambda_.Function:
    log_group = logs.LogGroup(
        scope,
        f"{id}Logs",
        log_group_name=f"/aws/lambda/{spec.name}",
        retention=logs.RetentionDays.ONE_YEAR,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    # The role is created by us (no AWS managed policy for logs): it may write to this log group only.
    spec.role.add_to_principal_policy(
        iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn])
    )
    env = {
        "POWERTOOLS_SERVICE_NAME": spec.name,
        "POWERTOOLS_METRICS_NAMESPACE": "FinFlow",
        "FINFLOW_STAGE": settings.stage,
        **spec.environment,
    }
    if settings.aws:  # OpenTelemetry by ADOT's layer; LocalStack's community edition applies no layers
        env |= tracing.environment()
        layers = [*layers, tracing.adot_layer(scope, settings, architecture(settings))]
    use_vpc = vpc is not None and spec.in_vpc
    fn = lambda_.Function(
        scope,
        id,
        function_name=spec.name,
        runtime=RUNTIME,
        handler=spec.handler,
        code=spec.code,
        architecture=architecture(settings),
        layers=layers,
        role=spec.role,
        environment=env,
        log_group=log_group,
        timeout=cdk.Duration.seconds(spec.timeout_seconds),
        memory_size=spec.memory_mb,
        tracing=lambda_.Tracing.ACTIVE if settings.aws else lambda_.Tracing.DISABLED,
        vpc=vpc if use_vpc else None,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS) if use_vpc else None,
        security_groups=spec.security_groups if use_vpc else None,
    )
    return fn


def lambda_role(scope: Construct, id: str, description: str) -> iam.Role:
    return iam.Role(scope, id, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=description)
