"""CDK app: one stack per module plus Foundation and Observability, ordered by the catalog.

    make synth                          # AWS target, into cdk.out/ (offline: no CDK CLI needed)
    make synth TARGET=localstack        # LocalStack: the paid-only stores become parameters

Foundation deploys first, then each catalog wave (a module after the modules it calls and
the producers of the events it consumes), then Observability.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import aws_cdk as cdk

from functions import catalog
from infra_cdk import nag
from infra_cdk.foundation import FoundationStack
from infra_cdk.module_stack import ModuleStack
from infra_cdk.observability import ObservabilityStack
from infra_cdk.settings import DeploySettings


def stack_id(key: str) -> str:
    return f"FinFlow-{key.capitalize()}"


# Feature flags the app relies on, set here so every way of synthesizing gets them.
FEATURE_FLAGS = {
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,  # no legacy ACL on the access-log bucket
    "@aws-cdk/core:defaultCrossStackReferences": "strong",  # an export in use cannot be deleted
    # a new layer version publishes a new function version: without it the `live` alias keeps
    # the old dependencies after a layer-only change (infra_cdk/deployment.py)
    "@aws-cdk/aws-lambda:recognizeLayerVersion": True,
}


def build(app: cdk.App) -> dict[str, cdk.Stack]:
    for flag, value in FEATURE_FLAGS.items():
        if app.node.try_get_context(flag) is None:
            app.node.set_context(flag, value)
    settings = DeploySettings.from_context(app)
    env = cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION"))
    foundation = FoundationStack(app, stack_id("foundation"), settings=settings, env=env)
    stacks: dict[str, cdk.Stack] = {"foundation": foundation}
    for wave in catalog.deploy_waves():
        for key in wave:
            stack = ModuleStack(app, stack_id(key), module=catalog.module(key), foundation=foundation, env=env)
            for dep in catalog.deploy_dependencies(key):
                stack.add_stack_dependency(stacks[dep], f"{key} deploys after {dep} (catalog)")
            stacks[key] = stack
    observability = ObservabilityStack(app, stack_id("observability"), settings=settings, env=env)
    for key in catalog.BY_KEY:
        observability.add_stack_dependency(stacks[key])
    stacks["observability"] = observability
    untaggable = ["AWS::RDS::DBProxyTargetGroup"]  # CloudFormation refuses Tags there
    cdk.Tags.of(app).add("project", "finflow", exclude_resource_types=untaggable)
    cdk.Tags.of(app).add("stage", settings.stage, exclude_resource_types=untaggable)
    nag.enable(app)
    for each in stacks.values():
        nag.acknowledge(
            each,
            "AwsSolutions-L1",
            "python3.13 is the runtime the dependencies layer's wheels are built "
            "for (cp313); moving to 3.14 is a deliberate upgrade of the layer and the functions together",
        )
    return stacks


def deploy_order(outdir: str | Path) -> list[list[str]]:
    """The synthesized stacks in waves: each wave depends only on earlier ones (manifest.json)."""
    artifacts = json.loads((Path(outdir) / "manifest.json").read_text())["artifacts"]
    stacks = {
        name: {d for d in a.get("dependencies", []) if d in artifacts and artifacts[d]["type"] == a["type"]}
        for name, a in artifacts.items()
        if a["type"] == "aws:cloudformation:stack"
    }
    waves: list[list[str]] = []
    done: set[str] = set()
    while len(done) < len(stacks):
        wave = sorted(name for name, deps in stacks.items() if name not in done and deps <= done)
        if not wave:
            raise ValueError(f"dependency cycle among {sorted(set(stacks) - done)}")
        waves.append(wave)
        done.update(wave)
    return waves


def cli_context(argv: list[str]) -> dict[str, str]:
    """`-c key=value` pairs, as the CDK CLI takes them (for `python -m infra_cdk.app`)."""
    pairs = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg in ("-c", "--context")]
    return dict(pair.split("=", 1) for pair in pairs)


def main(argv: list[str]) -> None:
    """Run by the CDK CLI (context in CDK_CONTEXT_JSON) or directly by `make synth`, which
    reads cdk.json's context itself: no CLI, no network, the same cloud assembly."""
    context = None
    if "CDK_CONTEXT_JSON" not in os.environ:
        context = json.loads((Path(__file__).resolve().parents[1] / "cdk.json").read_text()).get("context", {})
        context |= {"aws:cdk:enable-asset-metadata": True} | cli_context(argv)  # sam local finds the code
    app = cdk.App(context=context)
    build(app)
    assembly = app.synth()
    if context is not None:
        print("deploy order: " + " -> ".join(", ".join(w) for w in deploy_order(assembly.directory)), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
