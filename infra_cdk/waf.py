"""The web ACL's per-client rate rules (AWS target): a client is its bearer token, or its IP
address when it sends none. The stage's throttle (catalog.API_THROTTLE) is shared by every
client together; these rules stop one client from taking it all.

Requests from the VPC's NAT gateway address are never counted: they are FinFlow's own
functions, one service token per module, and a burst of payments must not block Payment's
token. Module-to-module calls are meant to bypass the stage (a direct invoke); this keeps any
call that still crosses it, or comes to, from reading as one greedy client.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

WINDOWS = (60, 120, 300, 600)  # the evaluation windows WAF offers, in seconds


@dataclass(frozen=True)
class ClientLimits:
    """Requests one client may send per `window_seconds` before WAF answers 429 until its rate
    falls back under the limit. WAF takes limits from 10 and the windows in WINDOWS."""

    per_token: int  # requests carrying an Authorization header, counted per header value
    per_anonymous_ip: int  # requests without one (sign-up, login, refresh, JWKS), per source IP
    per_ip: int  # everything from one IP: a client cycling tokens, or many behind one NAT
    window_seconds: int

    def __post_init__(self) -> None:
        if self.window_seconds not in WINDOWS:
            raise ValueError(f"window_seconds={self.window_seconds}: WAF evaluates over one of {WINDOWS}")
        if min(self.per_token, self.per_anonymous_ip, self.per_ip) < 10:
            raise ValueError("WAF rate limits start at 10 requests")


# A quarter of the stage's 100 requests/s for one token; a tenth of that for an unauthenticated
# address (login throttling guards the accounts themselves); half the stage for one address.
LIMITS = ClientLimits(per_token=1500, per_anonymous_ip=150, per_ip=3000, window_seconds=60)
RATE_LIMITED_BODY = "rate-limited"


def nat_addresses(vpc: ec2.IVpc | None) -> list[str]:
    """The public addresses FinFlow's functions call the API from (the VPC's NAT gateways)."""
    if vpc is None:
        return []
    eips = (subnet.node.try_find_child("EIP") for subnet in vpc.public_subnets)
    return [eip.attr_public_ip for eip in eips if isinstance(eip, ec2.CfnEIP)]


def response_bodies() -> dict[str, wafv2.CfnWebACL.CustomResponseBodyProperty]:
    """The 429's body: problem fields as the gateway's own throttling answer carries them."""
    body = (
        '{"type":"https://finflow.dev/problems/too-many-requests","title":"Too Many Requests","status":429,'
        '"detail":"Too many requests from this client; slow down and retry after the Retry-After seconds"}'
    )
    return {
        RATE_LIMITED_BODY: wafv2.CfnWebACL.CustomResponseBodyProperty(content_type="APPLICATION_JSON", content=body)
    }


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


def _authorization_present() -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(
        size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                single_header={"Name": "authorization"}  # WAF's JSON field name, as CloudFormation takes it
            ),
            comparison_operator="GT",
            size=0,
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
        )
    )


def _not(statement: wafv2.CfnWebACL.StatementProperty) -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=statement))


def _all(*statements: wafv2.CfnWebACL.StatementProperty) -> wafv2.CfnWebACL.StatementProperty:
    if len(statements) == 1:
        return statements[0]
    return wafv2.CfnWebACL.StatementProperty(
        and_statement=wafv2.CfnWebACL.AndStatementProperty(statements=list(statements))
    )


def rate_rules(
    scope: Construct, prefix: str, service_addresses: Sequence[str], first_priority: int, limits: ClientLimits = LIMITS
) -> list[wafv2.CfnWebACL.RuleProperty]:
    """Three rate-based rules, blocking with 429 + Retry-After: per token, per anonymous IP, per IP."""
    not_ours: list[wafv2.CfnWebACL.StatementProperty] = []
    if service_addresses:
        ours = wafv2.CfnIPSet(
            scope,
            "ServiceAddresses",
            name=f"{prefix}-service-addresses",
            scope="REGIONAL",
            ip_address_version="IPV4",
            addresses=[cdk.Fn.join("", [address, "/32"]) for address in service_addresses],
            description="FinFlow NAT gateway - its functions calling each other through the API",
        )
        not_ours.append(
            _not(
                wafv2.CfnWebACL.StatementProperty(
                    ip_set_reference_statement=wafv2.CfnWebACL.IPSetReferenceStatementProperty(arn=ours.attr_arn)
                )
            )
        )
    block = wafv2.CfnWebACL.RuleActionProperty(
        block=wafv2.CfnWebACL.BlockActionProperty(
            custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                response_code=429,
                custom_response_body_key=RATE_LIMITED_BODY,
                response_headers=[
                    wafv2.CfnWebACL.CustomHTTPHeaderProperty(name="Retry-After", value=str(limits.window_seconds))
                ],
            )
        )
    )

    def rule(name: str, priority: int, limit: int, scope_down: list, **key) -> wafv2.CfnWebACL.RuleProperty:
        return wafv2.CfnWebACL.RuleProperty(
            name=name,
            priority=priority,
            action=block,
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=limit,
                    evaluation_window_sec=limits.window_seconds,
                    scope_down_statement=_all(*scope_down) if scope_down else None,
                    **key,
                )
            ),
            visibility_config=_visibility(f"{prefix}-{name}"),
        )

    by_token = wafv2.CfnWebACL.RateBasedStatementCustomKeyProperty(
        header=wafv2.CfnWebACL.RateLimitHeaderProperty(
            name="authorization",
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
        )
    )
    return [
        # requests without the header are left out of a header-keyed rule (WAF's own rule)
        rule(
            "PerTokenRate",
            first_priority,
            limits.per_token,
            not_ours,
            aggregate_key_type="CUSTOM_KEYS",
            custom_keys=[by_token],
        ),
        rule(
            "PerAnonymousIpRate",
            first_priority + 1,
            limits.per_anonymous_ip,
            [*not_ours, _not(_authorization_present())],
            aggregate_key_type="IP",
        ),
        rule("PerIpRate", first_priority + 2, limits.per_ip, not_ours, aggregate_key_type="IP"),
    ]
