"""Reading the synthesized templates: the API's routes, functions by name."""

from __future__ import annotations

from infra_cdk.app import stack_id

FOUNDATION = stack_id("foundation")


def one(resources: dict) -> dict:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.values()))["Properties"]


def functions_by_name(aws, stack: str) -> dict[str, dict]:
    return {
        f["Properties"]["FunctionName"]: f["Properties"] for f in aws.resources(stack, "AWS::Lambda::Function").values()
    }


def api_paths(aws) -> dict[str, str]:
    """Logical id of every API Gateway resource -> its full path."""
    resources = aws.resources(FOUNDATION, "AWS::ApiGateway::Resource")
    paths: dict[str, str] = {}

    def path(logical_id: str) -> str:
        if logical_id not in paths:
            props = resources[logical_id]["Properties"]
            parent = props["ParentId"]
            prefix = path(parent["Ref"]) if "Ref" in parent else ""
            paths[logical_id] = f"{prefix}/{props['PathPart']}"
        return paths[logical_id]

    for logical_id in resources:
        path(logical_id)
    return paths


def methods(aws) -> dict[tuple[str, str], dict]:
    """(HTTP method, path) -> method properties."""
    paths = api_paths(aws)
    out = {}
    for m in aws.resources(FOUNDATION, "AWS::ApiGateway::Method").values():
        p = m["Properties"]
        resource = p["ResourceId"]
        path = paths[resource["Ref"]] if "Ref" in resource else "/"
        out[(p["HttpMethod"], path)] = p
    return out
