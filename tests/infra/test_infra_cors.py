"""API Gateway's CORS preflights come from the same setting as the functions' CORS headers
(CORS_ALLOWED_ORIGINS, finflow.config): an OPTIONS method on each resource, answered by the
gateway itself (MOCK, no authorizer), echoing only the allowed origins."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk.assertions import Template

from infra_cdk.api import cors_preflight

ORIGINS = ("https://app.example.com", "http://localhost:5173")


def _template(origins: tuple[str, ...]) -> Template:
    stack = cdk.Stack(cdk.App())
    api = apigw.RestApi(stack, "Api", default_cors_preflight_options=cors_preflight(origins))
    api.root.resource_for_path("/api/payment").add_proxy(any_method=True)
    return Template.from_stack(stack)


def test_preflights_answer_the_allowed_origins_without_a_token():
    template = _template(ORIGINS)
    options = template.find_resources("AWS::ApiGateway::Method", {"Properties": {"HttpMethod": "OPTIONS"}})
    assert options, "no OPTIONS method"
    for method in options.values():
        props = method["Properties"]
        assert props["AuthorizationType"] == "NONE" and props["Integration"]["Type"] == "MOCK"
        (answer,) = props["Integration"]["IntegrationResponses"]
        params = answer["ResponseParameters"]
        assert params["method.response.header.Access-Control-Allow-Origin"] == f"'{ORIGINS[0]}'"
        assert "Idempotency-Key" in params["method.response.header.Access-Control-Allow-Headers"]
        # the other allowed origin is echoed by the response template, nothing else is
        assert ORIGINS[1] in json.dumps(answer["ResponseTemplates"])


def test_without_allowed_origins_there_is_no_preflight():
    assert cors_preflight(()) is None
    methods = _template(()).find_resources("AWS::ApiGateway::Method", {"Properties": {"HttpMethod": "OPTIONS"}})
    assert methods == {}
