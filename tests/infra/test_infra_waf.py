"""The web ACL (AWS target): managed rule groups and per-client rate rules."""

from __future__ import annotations

import json

import pytest

from infra_cdk import waf
from tests.infra.support import FOUNDATION, one


def _rules(aws) -> dict[str, dict]:
    acl = one(aws.resources(FOUNDATION, "AWS::WAFv2::WebACL"))
    return {r["Name"]: r for r in acl["Rules"]} | {"_bodies": acl["CustomResponseBodies"]}


def test_one_client_is_rate_limited_by_its_token_or_its_address_with_429(aws):
    rules = _rules(aws)
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= set(rules)
    token = rules["PerTokenRate"]["Statement"]["RateBasedStatement"]
    assert token["AggregateKeyType"] == "CUSTOM_KEYS"
    assert [k["Header"]["Name"] for k in token["CustomKeys"]] == ["authorization"]
    assert (token["Limit"], token["EvaluationWindowSec"]) == (waf.LIMITS.per_token, waf.LIMITS.window_seconds)
    anonymous = rules["PerAnonymousIpRate"]["Statement"]["RateBasedStatement"]
    assert (anonymous["AggregateKeyType"], anonymous["Limit"]) == ("IP", waf.LIMITS.per_anonymous_ip)
    assert '"SingleHeader": {"Name": "authorization"}' in json.dumps(anonymous["ScopeDownStatement"])
    per_ip = rules["PerIpRate"]["Statement"]["RateBasedStatement"]
    assert (per_ip["AggregateKeyType"], per_ip["Limit"]) == ("IP", waf.LIMITS.per_ip)
    for name in ("PerTokenRate", "PerAnonymousIpRate", "PerIpRate"):
        blocked = rules[name]["Action"]["Block"]["CustomResponse"]
        assert blocked["ResponseCode"] == 429
        assert blocked["ResponseHeaders"] == [{"Name": "Retry-After", "Value": str(waf.LIMITS.window_seconds)}]
        assert json.loads(rules["_bodies"][blocked["CustomResponseBodyKey"]]["Content"])["status"] == 429
    priorities = [r["Priority"] for name, r in rules.items() if name != "_bodies"]
    assert len(priorities) == len(set(priorities))


def test_finflows_own_calls_through_the_gateway_are_not_counted_as_a_client(aws):
    ip_set = one(aws.resources(FOUNDATION, "AWS::WAFv2::IPSet"))
    nat_eips = aws.resources(FOUNDATION, "AWS::EC2::EIP")
    assert len(ip_set["Addresses"]) == len(nat_eips) >= 1
    referenced = json.dumps(ip_set["Addresses"])
    assert all(eip in referenced for eip in nat_eips)
    rules = _rules(aws)
    for name in ("PerTokenRate", "PerAnonymousIpRate", "PerIpRate"):
        assert "IPSetReferenceStatement" in json.dumps(
            rules[name]["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
        )


def test_client_limits_are_checked_against_what_waf_accepts():
    with pytest.raises(ValueError, match="window_seconds"):
        waf.ClientLimits(per_token=100, per_anonymous_ip=100, per_ip=100, window_seconds=30)
    with pytest.raises(ValueError, match="start at 10"):
        waf.ClientLimits(per_token=5, per_anonymous_ip=100, per_ip=100, window_seconds=60)
