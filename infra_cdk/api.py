"""The one REST API (API Gateway v1), its routes generated from the catalog.

Each module's route prefixes (plus `/api/<module>` for health and docs) proxy to the
module's API function, named by convention so the API can exist before the module:
a module's stack then only grants the API permission to invoke it. Routes the catalog
lists as public skip the authorizer; everything else goes through the Lambda authorizer.
A refused token is ACCESS_DENIED (the authorizer's explicit Deny) and a missing header
UNAUTHORIZED: both answer 401 problem+json, the first with the authorizer's reason.
"""

from __future__ import annotations

import json
import math

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from finflow.config import settings as runtime_settings
from finflow.contracts import calls
from finflow.http import CORS_ALLOW_HEADERS, CORS_MAX_AGE
from functions import catalog
from infra_cdk import waf
from infra_cdk.deployment import live_name
from infra_cdk.nag import acknowledge
from infra_cdk.settings import DeploySettings

PROBLEM = "application/problem+json"


def _problem(status: int | None, title: str, detail: str) -> dict[str, str]:
    """A gateway response template; `detail` is a VTL expression that yields a JSON string."""
    body = {
        "type": f"https://finflow.dev/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": "@@DETAIL@@",
    }
    if status is None:
        del body["status"]
    return {"application/json": json.dumps(body).replace('"@@DETAIL@@"', detail)}


# What the gateway itself answers, as problem+json (status None: the default's own status).
_GATEWAY_ERRORS = (
    (apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, 404, "Not Found"),  # no such route
    (apigw.ResponseType.THROTTLED, 429, "Too Many Requests"),
    (apigw.ResponseType.REQUEST_TOO_LARGE, 413, "Payload Too Large"),
    (apigw.ResponseType.WAF_FILTERED, 403, "Forbidden"),
    (apigw.ResponseType.AUTHORIZER_FAILURE, 500, "Internal Server Error"),
    (apigw.ResponseType.INTEGRATION_FAILURE, 502, "Bad Gateway"),
    (apigw.ResponseType.INTEGRATION_TIMEOUT, 504, "Gateway Timeout"),
    (apigw.ResponseType.DEFAULT_4_XX, None, "Client Error"),
    (apigw.ResponseType.DEFAULT_5_XX, None, "Server Error"),
)


def route_prefixes(m: catalog.Module) -> tuple[str, ...]:
    """Every path prefix the gateway sends to `m`: its routes and `/api/<key>` (health, docs)."""
    return tuple(dict.fromkeys(m.route_prefixes + (f"/api/{m.key}",)))


def public_routes(m: catalog.Module) -> tuple[tuple[str, str], ...]:
    """The catalog's public routes that the gateway serves (the seed ports' bare /health is local only)."""
    return tuple((method, path) for method, path in catalog.public_routes(m) if catalog.module_for_path(path) is m)


def cors_preflight(origins: tuple[str, ...]) -> apigw.CorsOptions | None:
    """API Gateway's answer to a browser's preflight (OPTIONS on every resource, MOCK): the origin
    echoed when it is one of `origins`. The functions add the headers to real answers (finflow.http)."""
    if not origins:
        return None
    return apigw.CorsOptions(
        allow_origins=list(origins),
        allow_methods=apigw.Cors.ALL_METHODS,
        allow_headers=["Authorization", "Content-Type", *CORS_ALLOW_HEADERS],
        max_age=cdk.Duration.seconds(CORS_MAX_AGE),
    )


def function_arn(name: str) -> str:
    return f"arn:{cdk.Aws.PARTITION}:lambda:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:function:{name}"


class FinFlowApi(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: DeploySettings,
        authorizer_fn: lambda_.IFunction,
        localstack_host: str | None = None,
        service_addresses: list[str] | None = None,
    ) -> None:
        super().__init__(scope, id)
        self._stage, self._aws, self._localstack_host = settings.stage, settings.aws, localstack_host
        access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.ONE_YEAR)
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=settings.prefix,
            description="FinFlow: every module's /api routes",
            cloud_watch_role=True,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            default_cors_preflight_options=cors_preflight(runtime_settings().cors_origins),
            deploy_options=apigw.StageOptions(
                stage_name=settings.stage,
                tracing_enabled=settings.aws,
                throttling_rate_limit=settings.api_rate_limit,
                throttling_burst_limit=settings.api_burst_limit,
                logging_level=apigw.MethodLoggingLevel.INFO,
                metrics_enabled=True,
                data_trace_enabled=False,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
            ),
        )
        acknowledge(
            self.api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-level CloudWatch role: AWS's own minimal policy for writing execution logs",
        )
        # LocalStack's community edition never runs Lambda authorizers (and has no resource for
        # them): there the functions verify every token themselves (FINFLOW_VERIFY_TOKENS), as
        # they can anywhere, and the methods carry no authorizer.
        self.authorizer = (
            apigw.TokenAuthorizer(
                self,
                "Authorizer",
                handler=authorizer_fn,
                identity_source="method.request.header.Authorization",
                results_cache_ttl=cdk.Duration.minutes(5),
                authorizer_name=f"{settings.prefix}-jwt",
            )
            if settings.aws
            else None
        )
        # LocalStack reads a form-encoded body (the seed's `curl -d`) as form fields, so its body
        # check refuses JSON sent that way; the functions validate every body themselves.
        self.validator = self.api.add_request_validator(
            "Validator", validate_request_parameters=True, validate_request_body=settings.aws
        )
        self._gateway_responses(settings)
        for m in catalog.MODULES:
            self._module_routes(m, settings)
        self._internal_unreachable()
        self.api.add_usage_plan(
            "UsagePlan",
            name=f"{settings.prefix}-default",
            throttle=apigw.ThrottleSettings(rate_limit=settings.api_rate_limit, burst_limit=settings.api_burst_limit),
            api_stages=[apigw.UsagePlanPerApiStage(api=self.api, stage=self.api.deployment_stage)],
        )
        for method in self.api.methods:
            if method.http_method == "OPTIONS":
                acknowledge(
                    method,
                    "AwsSolutions-APIG4",
                    "a CORS preflight (CORS_ALLOWED_ORIGINS): browsers send it without credentials, and it "
                    "answers from the gateway (MOCK) without reaching any function",
                )
        acknowledge(
            self.api,
            "AwsSolutions-COG4",
            "tokens are FinFlow's own RS256 JWTs issued by Auth and verified by the Lambda authorizer; there is no Cognito user pool",
        )
        if settings.aws:
            self._waf(settings, service_addresses or [])
        else:
            acknowledge(
                self.api,
                "AwsSolutions-APIG3",
                "LocalStack's community edition has no WAFv2; the AWS target attaches one",
            )
            acknowledge(
                self.api,
                "AwsSolutions-APIG4",
                "LocalStack's community edition never runs Lambda authorizers: there "
                "every API function verifies the bearer token itself (FINFLOW_VERIFY_TOKENS)",
            )
            acknowledge(
                self.api,
                "AwsSolutions-APIG2",
                "LocalStack reads a form-encoded JSON body as form fields and "
                "refuses it; there the validator checks parameters only and every function validates its body",
            )

    def _gateway_responses(self, settings: DeploySettings) -> None:
        headers = {"Content-Type": f"'{PROBLEM}'", "WWW-Authenticate": "'Bearer error=\"invalid_token\"'"}
        self.api.add_gateway_response(
            "Refused",
            type=apigw.ResponseType.ACCESS_DENIED,
            status_code="401",
            response_headers=headers,
            templates=_problem(401, "Unauthorized", '"$context.authorizer.reason"'),
        )
        self.api.add_gateway_response(
            "MissingToken",
            type=apigw.ResponseType.UNAUTHORIZED,
            status_code="401",
            response_headers=headers,
            templates=_problem(401, "Unauthorized", '"missing bearer token"'),
        )
        for kind, status, title in _GATEWAY_ERRORS:
            name = "".join(part.capitalize() for part in kind.response_type.split("_"))
            headers = {"Content-Type": f"'{PROBLEM}'"}
            if kind.response_type == "THROTTLED":
                # when the stage's bucket has its next token (API Gateway sends no Retry-After itself)
                headers["Retry-After"] = f"'{max(1, math.ceil(1 / settings.api_rate_limit))}'"
            self.api.add_gateway_response(
                name,
                type=kind,
                status_code=str(status) if status else None,
                response_headers=headers,
                templates=_problem(status, title, "$context.error.messageString"),
            )

    def _module_routes(self, m: catalog.Module, settings: DeploySettings) -> None:
        integration = apigw.Integration(
            type=apigw.IntegrationType.AWS_PROXY,
            integration_http_method="POST",
            uri=f"arn:{cdk.Aws.PARTITION}:apigateway:{cdk.Aws.REGION}:lambda:path/2015-03-31/functions/"
            f"{function_arn(self._invoked(settings.function_name(m.key, 'api')))}/invocations",
        )
        protected = apigw.MethodOptions(
            authorizer=self.authorizer,
            request_validator=self.validator,
            authorization_type=apigw.AuthorizationType.CUSTOM if self.authorizer else apigw.AuthorizationType.NONE,
        )
        for prefix in route_prefixes(m):
            resource = self.api.root.resource_for_path(prefix)
            resource.add_method(
                "ANY",
                integration,
                authorizer=protected.authorizer,
                authorization_type=protected.authorization_type,
                request_validator=self.validator,
            )
            resource.add_proxy(default_integration=integration, any_method=True, default_method_options=protected)
        for method, path in public_routes(m):
            public = self.api.root.resource_for_path(path).add_method(
                method, integration, authorization_type=apigw.AuthorizationType.NONE, request_validator=self.validator
            )
            acknowledge(
                public,
                "AwsSolutions-APIG4",
                "public by the catalog (public_routes: sign-up, login, token, JWKS, "
                "health, docs): reached without a token by design",
            )

    def _internal_unreachable(self) -> None:
        """Routes for services only (`<prefix>/internal/...`) are not the stage's: modules invoke
        each other's functions for them (finflow.private_invoke). More specific than a module's
        `{proxy+}`, these resources answer 404 problem+json themselves (MOCK), behind the
        authorizer like any other path of the prefix, so nothing tells them from a missing route."""
        problem = _problem(404, "Not Found", '"no route for $context.httpMethod $context.path"')
        header = "method.response.header.Content-Type"
        integration = apigw.MockIntegration(
            request_templates={"application/json": '{"statusCode": 404}'},
            passthrough_behavior=apigw.PassthroughBehavior.NEVER,
            integration_responses=[
                apigw.IntegrationResponse(
                    status_code="404", response_templates=problem, response_parameters={header: f"'{PROBLEM}'"}
                )
            ],
        )
        options = apigw.MethodOptions(
            authorizer=self.authorizer,
            authorization_type=apigw.AuthorizationType.CUSTOM if self.authorizer else apigw.AuthorizationType.NONE,
            method_responses=[apigw.MethodResponse(status_code="404", response_parameters={header: True})],
        )
        for prefix in calls.internal_prefixes():
            resource = self.api.root.resource_for_path(prefix)
            resource.add_proxy(default_integration=integration, any_method=True, default_method_options=options)
            resource.add_method(
                "ANY",
                integration,
                authorizer=options.authorizer,
                authorization_type=options.authorization_type,
                method_responses=options.method_responses,
            )

    def _waf(self, settings: DeploySettings, service_addresses: list[str]) -> None:
        def managed(name: str, priority: int) -> wafv2.CfnWebACL.RuleProperty:
            return wafv2.CfnWebACL.RuleProperty(
                name=name,
                priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=name
                    )
                ),
                visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                    cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
                ),
            )

        acl = wafv2.CfnWebACL(
            self,
            "Waf",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name=f"{settings.prefix}-waf", sampled_requests_enabled=True
            ),
            rules=[
                managed("AWSManagedRulesCommonRuleSet", 1),
                managed("AWSManagedRulesKnownBadInputsRuleSet", 2),
                *waf.rate_rules(self, settings.prefix, service_addresses, first_priority=3),
            ],
            custom_response_bodies=waf.response_bodies(),
        )
        wafv2.CfnWebACLAssociation(
            self, "WafAssociation", web_acl_arn=acl.attr_arn, resource_arn=self.api.deployment_stage.stage_arn
        )

    def _invoked(self, function_name: str) -> str:
        """What the gateway invokes: the function's `live` alias on AWS (deployment.publish)."""
        return live_name(function_name) if self._aws else function_name

    @property
    def url(self) -> str:
        """The stage's URL, built from the API id alone: `api.url` refers to the stage, which
        depends on the authorizer, whose function needs this URL (a cycle). LocalStack serves
        APIs under its own host (a parameter: what its Lambda containers and the deployer reach
        it by), in the path form, which needs no DNS for the API's id."""
        if self._aws:
            return f"https://{self.api.rest_api_id}.execute-api.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}/{self._stage}"
        return f"http://{self._localstack_host}:4566/restapis/{self.api.rest_api_id}/{self._stage}/_user_request_"
