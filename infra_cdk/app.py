"""CDK app: one stack per module plus Foundation and Observability, ordered by the catalog.

The stacks carry their dependency order now; their resources arrive with the
infrastructure work (see the README's roadmap). `make synth` runs this app.
"""
from __future__ import annotations

import aws_cdk as cdk

from functions import catalog


def build(app: cdk.App) -> dict[str, cdk.Stack]:
    stacks: dict[str, cdk.Stack] = {"foundation": cdk.Stack(app, "FinFlow-Foundation")}
    for wave in catalog.deploy_waves():
        for key in wave:
            stack = cdk.Stack(app, f"FinFlow-{key.capitalize()}")
            stack.add_dependency(stacks["foundation"])
            for dep in catalog.deploy_dependencies(key):
                stack.add_dependency(stacks[dep])
            stacks[key] = stack
    observability = cdk.Stack(app, "FinFlow-Observability")
    for key in catalog.BY_KEY:
        observability.add_dependency(stacks[key])
    stacks["observability"] = observability
    return stacks


if __name__ == "__main__":
    cdk_app = cdk.App()
    build(cdk_app)
    cdk_app.synth()
