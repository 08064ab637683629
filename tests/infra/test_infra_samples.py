"""events/ samples and samconfig.toml: every sample parses and reaches a real route or
consumer of the synthesized app; `sam local invoke` finds the templates and its overrides."""

from __future__ import annotations

import importlib
import json
import re
import tomllib
from pathlib import Path

import pytest

from finflow import contracts
from functions import catalog
from infra_cdk.app import stack_id
from tests.infra.support import methods

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "events").rglob("*.json"))
API_SAMPLES = [p for p in SAMPLES if p.parent.name == "api"]
BUS_SAMPLES = [p for p in SAMPLES if p.parent.name == "eventbridge"]


def sample_id(path: Path) -> str:
    return str(path.relative_to(ROOT / "events"))


def code_route(module: catalog.Module, method: str, path: str) -> bool:
    """Whether the module's own resolver (functions/<module>/api.py) has a route for this request."""
    app = importlib.import_module(f"functions.{module.key}.api").app
    routes = app._static_routes + app._dynamic_routes  # Powertools' route table
    return any(r.method == method and re.match(r.rule, path) for r in routes)


def gateway_method(aws, method: str, path: str) -> dict:
    """The API Gateway method that serves `method path`, the way API Gateway picks it."""
    table = methods(aws)
    if (method, path) in table:
        return table[(method, path)]
    module = catalog.module_for_path(path)
    assert module is not None, f"no module owns {path}"
    prefix = max(
        (p for p in module.route_prefixes + (f"/api/{module.key}",) if path == p or path.startswith(p + "/")), key=len
    )
    return table[("ANY", prefix if path == prefix else f"{prefix}/{{proxy+}}")]


def test_there_are_samples_for_routes_authorizer_events_queues_and_schedules():
    kinds = {json.loads(p.read_text()).get("httpMethod") is not None for p in API_SAMPLES}
    assert kinds == {True, False}  # proxy events and the authorizer's TOKEN event
    assert any("Records" in json.loads(p.read_text()) for p in BUS_SAMPLES)
    assert any(json.loads(p.read_text()).get("detail-type") == "Scheduled Event" for p in BUS_SAMPLES)


@pytest.mark.parametrize("path", API_SAMPLES, ids=sample_id)
def test_an_api_sample_reaches_a_route(aws, path):
    event = json.loads(path.read_text())
    if event.get("type") == "TOKEN":  # the authorizer's input: its methodArn names a protected route
        # arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>
        _, _, method, route = event["methodArn"].split("/", 3)
        route = f"/{route}"
        assert event["authorizationToken"].startswith("Bearer ")
        assert gateway_method(aws, method, route)["AuthorizationType"] == "CUSTOM"
        return
    method, route = event["httpMethod"], event["path"]
    module = catalog.module_for_path(route)
    served_by = gateway_method(aws, method, route)
    assert f"function:finflow-dev-{module.key}-api:live/invocations" in json.dumps(served_by["Integration"]["Uri"])
    public = served_by["AuthorizationType"] == "NONE"
    # a public route's event has no authorizer context; a protected one carries the principal
    assert (event["requestContext"]["authorizer"] is None) == public, sample_id(path)
    if not public:
        assert event["requestContext"]["authorizer"]["sub"] and event["headers"]["Authorization"].startswith("Bearer ")
    if event["body"]:
        json.loads(event["body"])
    assert code_route(module, method, route), f"{module.key}'s api.py has no route for {method} {route}"


def _rules(aws) -> list[tuple[str, dict]]:
    return [(stack, r["Properties"]) for stack, _, r in aws.all_resources("AWS::Events::Rule")]


def _matches(pattern: dict, envelope: dict) -> bool:
    return envelope["source"] in pattern.get("source", []) and envelope["detail-type"] in pattern.get("detail-type", [])


def _check_envelope(envelope: dict) -> None:
    assert {"version", "id", "source", "detail-type", "time", "detail"} <= set(envelope)
    detail = envelope["detail"]
    assert {"event_id", "occurred_at", "version", "correlation_id", "data"} <= set(detail)
    contracts.EVENTS[envelope["detail-type"]].model_validate(detail["data"])  # the producer's contract


@pytest.mark.parametrize("path", BUS_SAMPLES, ids=sample_id)
def test_a_bus_sample_reaches_a_consumer(aws, path):
    event = json.loads(path.read_text())
    if "Records" in event:  # an SQS batch as Lambda gets it: from a real queue into a real consumer
        for record in event["Records"]:
            queue = record["eventSourceARN"].rsplit(":", 1)[1]
            consumer, producer = queue.removeprefix("finflow-dev-").split("-from-")
            stack = stack_id(consumer)
            queues = {k: q["Properties"]["QueueName"] for k, q in aws.resources(stack, "AWS::SQS::Queue").items()}
            logical = next(k for k, name in queues.items() if name == queue)
            mappings = [m["Properties"] for m in aws.resources(stack, "AWS::Lambda::EventSourceMapping").values()]
            assert any(m["EventSourceArn"] == {"Fn::GetAtt": [logical, "Arn"]} for m in mappings), (
                f"nothing consumes {queue}"
            )
            envelope = json.loads(record["body"])
            _check_envelope(envelope)
            rule = next(p for s, p in _rules(aws) if p.get("Name") == queue)
            assert _matches(rule["EventPattern"], envelope), f"{queue}'s rule does not route {envelope['detail-type']}"
        return
    if event["detail-type"] == "Scheduled Event":
        name = event["resources"][0].rsplit("/", 1)[1]
        rule = next(p for s, p in _rules(aws) if p.get("Name") == name)
        assert rule["ScheduleExpression"].startswith("rate(") and rule["Targets"]
        return
    _check_envelope(event)
    consumers = [p["Name"] for s, p in _rules(aws) if "EventPattern" in p and _matches(p["EventPattern"], event)]
    expected = catalog.subscribers(event["source"].removeprefix("finflow."), event["detail-type"])
    assert sorted(c.removeprefix("finflow-dev-").split("-from-")[0] for c in consumers) == sorted(expected) != []


def test_samconfig_points_sam_at_every_synthesized_template(aws):
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    envs = {k: v["local_invoke"]["parameters"] for k, v in config.items() if isinstance(v, dict)}
    assert set(envs) == {"foundation"} | {m.key for m in catalog.MODULES}
    for env, params in envs.items():
        template = Path(params["template_file"]).name.removesuffix(".template.json")
        assert template == stack_id(env) and template in aws.templates
        overrides = json.loads((ROOT / params["env_vars"]).read_text())["Parameters"]
        declared = set()
        for fn in aws.resources(template, "AWS::Lambda::Function").values():
            declared |= set(fn["Properties"].get("Environment", {}).get("Variables", {}))
        # SAM silently ignores a variable the template does not declare
        assert set(overrides) <= declared, (env, set(overrides) - declared)
