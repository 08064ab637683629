"""The stage's throttling is the catalog's (the devserver's gateway emulates the same values),
and a throttled request is 429 problem+json."""

from __future__ import annotations

import json

from functions import catalog
from tests.infra.support import FOUNDATION, one


def test_the_stage_throttles_every_method_at_the_catalogs_rate_and_burst(aws):
    stage = one(aws.resources(FOUNDATION, "AWS::ApiGateway::Stage"))
    (every_method,) = [s for s in stage["MethodSettings"] if s["ResourcePath"] == "/*" and s["HttpMethod"] == "*"]
    assert (every_method["ThrottlingRateLimit"], every_method["ThrottlingBurstLimit"]) == (
        catalog.API_THROTTLE.rate,
        catalog.API_THROTTLE.burst,
    )
    plan = one(aws.resources(FOUNDATION, "AWS::ApiGateway::UsagePlan"))
    assert (plan["Throttle"]["RateLimit"], plan["Throttle"]["BurstLimit"]) == (
        catalog.API_THROTTLE.rate,
        catalog.API_THROTTLE.burst,
    )


def test_a_throttled_request_is_429_problem_json(aws):
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in aws.resources(FOUNDATION, "AWS::ApiGateway::GatewayResponse").values()
    }
    throttled = responses["THROTTLED"]
    assert throttled["StatusCode"] == "429"
    assert throttled["ResponseParameters"]["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
    body = json.loads(
        throttled["ResponseTemplates"]["application/json"].replace(
            "$context.error.messageString", '"Too Many Requests"'
        )
    )
    assert (body["status"], body["title"]) == (429, "Too Many Requests")
    assert int(throttled["ResponseParameters"]["gatewayresponse.header.Retry-After"].strip("'")) >= 1
