"""Modules call each other privately: each caller may invoke exactly the API functions of the
modules it calls (finflow.contracts.calls), as their live alias on AWS, and the stage routes
no internal path."""

from __future__ import annotations

import json

import pytest

from finflow.contracts import calls
from functions import catalog
from infra_cdk.app import stack_id
from tests.infra.support import functions_by_name, methods
from tests.infra.test_infra_iam import as_list, statements


def invoke_grants(assembly, key: str) -> list[str]:
    """The function ARNs (as JSON text) `key`'s role may invoke."""
    found = []
    for st in statements(assembly, stack_id(key)):
        if any(a.startswith("lambda:") for a in as_list(st["Action"])):
            assert as_list(st["Action"]) == ["lambda:InvokeFunction"] and st["Effect"] == "Allow", st
            found += [json.dumps(r) for r in as_list(st["Resource"])]
    return found


@pytest.mark.parametrize("key", [m.key for m in catalog.MODULES])
def test_a_module_invokes_only_the_api_aliases_of_the_modules_it_calls(aws, key):
    grants = invoke_grants(aws, key)
    assert len(grants) == len(calls.callees_of(key)), grants
    for callee in calls.callees_of(key):
        assert any(g.endswith(f':function:finflow-dev-{callee}-api:live"]]}}') for g in grants), (callee, grants)
    assert not any("*" in g for g in grants), grants


def test_the_grants_are_the_catalogs_sync_edges(aws):
    granted = {
        (m.key, callee)
        for m in catalog.MODULES
        for callee in catalog.BY_KEY
        if any(f"finflow-dev-{callee}-api:" in g for g in invoke_grants(aws, m.key))
    }
    assert granted == {(m.key, d) for m in catalog.MODULES for d in m.calls}


def test_on_localstack_the_grant_is_the_function_itself(localstack):
    (grant,) = (g for g in invoke_grants(localstack, "payment") if "wallet" in g)
    assert grant.endswith(':function:finflow-dev-wallet-api"]]}')


@pytest.mark.parametrize("key", [m.key for m in catalog.MODULES])
def test_callers_are_told_whom_they_invoke_and_callees_verify_tokens(aws, key):
    env = functions_by_name(aws, stack_id(key))[f"finflow-dev-{key}-api"]["Environment"]["Variables"]
    expected = {callee: f"finflow-dev-{callee}-api:live" for callee in calls.callees_of(key)}
    assert json.loads(env.get("FINFLOW_CALLEES", "{}")) == expected
    # a directly invoked function trusts only a token it verified, never an authorizer context
    assert (env.get("FINFLOW_VERIFY_TOKENS") == "true") == (key in calls.callees())


def test_no_internal_path_reaches_a_function(aws):
    internal = {k: v for k, v in methods(aws).items() if calls.is_internal(k[1])}
    assert internal, "the internal prefixes have no resources"
    for prefix in calls.internal_prefixes():
        for path in (prefix, f"{prefix}/{{proxy+}}"):
            method = internal.pop(("ANY", path))
            assert method["Integration"]["Type"] == "MOCK", path
            assert method["Integration"]["IntegrationResponses"][0]["StatusCode"] == "404"
            assert method["AuthorizationType"] == "CUSTOM", path  # like any other path of the prefix
    assert internal == {}  # nothing else under an internal prefix


def test_the_internal_refusal_is_problem_json(aws):
    method = methods(aws)[("ANY", "/api/wallet/internal/{proxy+}")]
    response = method["Integration"]["IntegrationResponses"][0]
    template = response["ResponseTemplates"]["application/json"]
    assert '"status": 404' in template and '"type": "https://finflow.dev/problems/not-found"' in template
    assert response["ResponseParameters"]["method.response.header.Content-Type"] == "'application/problem+json'"
