"""What must run at deploy time: database setup, the secrets seed, each module's migrations.

On AWS each step is a CloudFormation custom resource, run by the deploy itself. LocalStack's
community edition skips custom resources (no provider; the stack still reports success), so
on that target every step is also written as a stack output, `DeployStep<Name>`, naming its
function and properties, and `make deploy-localstack` runs them in deploy order right after
`cdklocal deploy`, through the same handlers (`deploy_runtime.cfn`):

    python -m infra_cdk.deploy_steps .local/localstack-outputs.json

A step that fails stops the deploy with its function's error.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from functions import catalog
from infra_cdk.settings import DeploySettings

OUTPUT_PREFIX = "DeployStep"


def deploy_step(
    scope: Construct, id: str, *, settings: DeploySettings, fn: lambda_.IFunction, resource_type: str, properties: dict
) -> cdk.CustomResource:
    """A custom resource running `fn` on deploy; on targets without custom resources, an output too."""
    resource = cdk.CustomResource(
        scope, id, service_token=fn.function_arn, resource_type=resource_type, properties=properties
    )
    if not settings.aws:
        step = {"function": fn.function_name, "type": resource_type, "properties": properties}
        cdk.CfnOutput(
            scope,
            f"{OUTPUT_PREFIX}{id}",
            value=cdk.Stack.of(scope).to_json_string(step),
            description=f"deploy step {resource_type} (run by infra_cdk.deploy_steps)",
        )
    return resource


def stack_order() -> list[str]:
    """Stacks in deploy order, as the app names them: Foundation, then the catalog's waves."""
    return ["FinFlow-Foundation"] + [f"FinFlow-{key.capitalize()}" for wave in catalog.deploy_waves() for key in wave]


def steps(outputs: dict[str, dict[str, str]]) -> list[tuple[str, str, dict]]:
    """(stack, output name, step) in the order they must run: stack order, then as the stack lists them."""
    found = []
    for stack in stack_order():
        for name, value in outputs.get(stack, {}).items():
            if name.startswith(OUTPUT_PREFIX):
                found.append((stack, name, json.loads(value)))
    return found


def run(outputs_file: Path) -> int:
    import boto3
    from botocore.config import Config

    # A step may start a cold container and migrate a database: wait for it (botocore's 60 s read
    # timeout cut a loaded machine's first migration short), and never send it twice on a timeout.
    client = boto3.client(
        "lambda", config=Config(read_timeout=900, connect_timeout=10, retries={"total_max_attempts": 1})
    )
    todo = steps(json.loads(outputs_file.read_text()))
    if not todo:
        print(f"no deploy steps in {outputs_file}: was the app synthesized with -c target=localstack?", file=sys.stderr)
        return 1
    for stack, name, step in todo:
        started = time.monotonic()
        event = {"RequestType": "Create", "ResourceType": step["type"], "ResourceProperties": step["properties"]}
        answer = client.invoke(FunctionName=step["function"], Payload=json.dumps(event).encode())
        payload = answer["Payload"].read().decode()
        took = f"{time.monotonic() - started:.1f}s"
        if answer.get("FunctionError"):
            print(f"deploy step {stack}/{name} ({step['function']}) FAILED after {took}: {payload}", file=sys.stderr)
            return 1
        print(f"deploy step {stack}/{name} ({step['type']}): ok in {took} {payload}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m infra_cdk.deploy_steps <cdk outputs file>")
    sys.exit(run(Path(sys.argv[1])))
