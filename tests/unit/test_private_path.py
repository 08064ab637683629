"""Module-to-module calls: the table agrees with the catalog, the client sends only what it
declares, and the private transport is a Lambda Invoke that boto3 sends unchanged to the
devserver's local Lambda API (as to LocalStack's or AWS's)."""

from __future__ import annotations

import json
import re
import threading

import httpx
import pytest
from werkzeug.serving import make_server

from devserver.lambda_api import LambdaApi
from devserver.workers import InvocationError, Throttled
from finflow import config, contracts, private_invoke, service_client
from finflow.contracts import calls
from finflow.service_client import ServiceUnavailable, UndeclaredCall, private_client
from functions import catalog

# --- the table ---------------------------------------------------------------------------------


def test_every_row_is_a_catalog_edge_and_every_edge_has_a_row():
    assert calls.edges() == {(m.key, callee) for m in catalog.MODULES for callee in m.calls}


@pytest.mark.parametrize("call", calls.CALLS, ids=lambda c: f"{c.caller}-{c.route}")
def test_each_row_names_a_route_a_reader_and_problem_codes(call):
    assert re.fullmatch(r"(GET|POST|PUT|DELETE|PATCH) /api/[a-z0-9/{}_.-]+", call.route), call.route
    assert catalog.module_for_path(call.path.replace("{", "").replace("}", "")).key == call.callee
    assert call.reader is None or issubclass(getattr(contracts, call.reader), contracts.Contract), call.reader
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", code) for code in call.refusals), call.refusals


def test_a_path_template_matches_one_segment_per_parameter():
    assert calls.declared("payment", "wallet", "GET", "/api/wallet/internal/postings/p-1")
    assert calls.declared("payment", "wallet", "GET", "/api/wallet/internal/postings/p-1/x") is None
    assert calls.declared("payment", "wallet", "DELETE", "/api/wallet/internal/postings/p-1") is None
    assert calls.declared("kyc", "wallet", "GET", "/api/wallet/internal/postings/p-1") is None  # Payment's only


def test_internal_paths_are_every_modules_prefix_then_internal():
    assert calls.is_internal("/api/wallet/internal/postings") and calls.is_internal("/api/v2/wallet/internal")
    assert not calls.is_internal("/api/wallet/w-1/transactions") and not calls.is_internal("/api/walletinternal")


# --- the client ---------------------------------------------------------------------------------


@pytest.fixture
def invoked():
    """Private calls answered by a fake function: every event it was given, in order."""
    events: list[dict] = []

    def function(callee: str, event: bytes, timeout: float) -> tuple[bytes, str | None]:
        events.append({"callee": callee, "timeout": timeout, **json.loads(event)})
        body = json.dumps({"posting": events[-1]["path"]})
        return json.dumps(
            {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": body}
        ).encode(), None

    service_client.route_all_http_through(private_invoke.LambdaInvoke(function))
    yield events
    service_client.route_all_http_through(None)


def test_an_undeclared_call_fails_loudly_and_sends_nothing(invoked):
    client = private_client("payment", "wallet", timeout=1.0)
    with pytest.raises(UndeclaredCall, match="payment -> wallet DELETE /api/wallet/internal/postings/p-1"):
        client.request("DELETE", "/api/wallet/internal/postings/p-1")
    with pytest.raises(UndeclaredCall):
        private_client("reporting", "wallet").request("GET", "/api/wallet/internal/postings/p-1")
    assert invoked == []


def test_a_call_is_the_proxy_event_the_stage_would_send_without_an_authorizer(invoked):
    service_client.set_request_context("corr-1")
    client = private_client("kyc", "wallet", timeout=1.5, token_provider=lambda: "svc-token")
    r = client.request("PUT", "/api/wallet/w-1/status?dry=1&dry=2", json={"status": "frozen"})
    assert r.status_code == 200 and r.json() == {"posting": "/api/wallet/w-1/status"}
    (event,) = invoked
    assert (event["callee"], event["httpMethod"], event["path"], event["timeout"]) == (
        "wallet",
        "PUT",
        "/api/wallet/w-1/status",
        1.5,
    )
    assert event["multiValueQueryStringParameters"] == {"dry": ["1", "2"]}
    assert json.loads(event["body"]) == {"status": "frozen"} and not event["isBase64Encoded"]
    headers = {k.lower(): v for k, v in event["headers"].items()}
    assert headers["authorization"] == "Bearer svc-token" and headers["x-correlation-id"] == "corr-1"
    assert "authorizer" not in event["requestContext"]  # the callee verifies the token itself


def test_client_for_a_module_takes_the_private_path_whatever_url_it_is_given(invoked):
    from finflow.service_auth import token_provider

    client = service_client.client_for("auth", "https://public.example", token_provider=lambda: "t")
    assert client.calls_as is None  # no calling module known: a plain HTTP client
    client = service_client.client_for("auth", "https://public.example", token_provider=token_provider("wallet"))
    assert client.calls_as == ("wallet", "auth") and client._http.base_url.host == "auth.lambda"


def _answer(status: int | None = None, error: str | None = None, refuse: Exception | None = None):
    def function(callee: str, event: bytes, timeout: float):
        if refuse is not None:
            raise refuse
        return json.dumps({"statusCode": status or 200, "body": ""}).encode(), error

    return function


@pytest.mark.parametrize(
    "function, reason",
    [
        (_answer(error="Unhandled"), "HTTP 502"),  # the function raised: a failed integration
        (_answer(refuse=private_invoke.InvokeRefused("wallet-api: invoke refused (TooManyRequests)")), "ConnectError"),
        (_answer(refuse=TimeoutError("no answer")), "timeout (ReadTimeout)"),
    ],
)
def test_what_lambda_says_reads_as_the_callee_unavailable(function, reason):
    service_client.route_all_http_through(private_invoke.LambdaInvoke(function))
    try:
        client = private_client("payment", "wallet", retries=1, backoff_max=0.0)
        with pytest.raises(ServiceUnavailable, match=re.escape(reason)) as exc:
            client.request("GET", "/api/wallet/internal/postings/p-1")
        assert exc.value.target == "wallet"
    finally:
        service_client.route_all_http_through(None)


# --- boto3 against the devserver's Lambda API ----------------------------------------------------------


class FakePool:
    def __init__(self, name: str, answer):
        self.name, self.answer, self.events, self.traces = name, answer, [], []

    def invoke(self, event, timeout: float = 30.0, trace: str | None = None):
        self.events.append(event)
        self.traces.append(trace)
        return self.answer(event)


@pytest.fixture
def local_lambda(monkeypatch):
    """The devserver's Lambda API on a free port, boto3 pointed at it as `make dev` points the
    modules (AWS_ENDPOINT_URL_LAMBDA, FINFLOW_CALLEES)."""
    pools: dict[str, FakePool] = {}
    server = make_server("127.0.0.1", 0, LambdaApi(pools), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("FINFLOW_CALLEES", json.dumps({"wallet": "wallet-api:live", "auth": "auth-api"}))
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    config.settings.cache_clear()
    private_invoke.reset_clients()
    service_client.reset_clients()

    def add(name: str, answer) -> FakePool:
        pools[name] = FakePool(name, answer)
        server.app.functions[name] = pools[name]  # LambdaApi indexes its pools when built
        return pools[name]

    yield add
    server.shutdown()
    monkeypatch.undo()
    config.settings.cache_clear()
    private_invoke.reset_clients()
    service_client.reset_clients()


def test_boto3_invokes_the_named_function_and_its_proxy_result_is_the_answer(local_lambda):
    wallet = local_lambda(
        "wallet-api",
        lambda event: {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"kind": "deposit", "path": event["path"]}),
        },
    )
    r = private_client("payment", "wallet", timeout=5.0).request(
        "POST", "/api/wallet/internal/postings", json={"posting_id": "p-1"}, idempotent=True
    )
    assert (r.status_code, r.json()) == (201, {"kind": "deposit", "path": "/api/wallet/internal/postings"})
    assert json.loads(wallet.events[0]["body"]) == {"posting_id": "p-1"}


def test_a_raising_function_is_a_502_and_a_throttled_or_missing_one_is_unreachable(local_lambda):
    def fail(event):
        raise InvocationError("ValueError: boom")

    def throttle(event):
        raise Throttled("auth-api: no worker free within 30s (throttled)")

    local_lambda("wallet-api", fail)
    client = private_client("payment", "wallet", timeout=5.0, retries=0)
    with pytest.raises(ServiceUnavailable, match="HTTP 502"):
        client.request("GET", "/api/wallet/internal/postings/p-1")
    local_lambda("auth-api", throttle)
    with pytest.raises(ServiceUnavailable, match="connection failed"):
        private_client("wallet", "auth", timeout=5.0, retries=0).request("GET", "/api/auth/users/u-1")


def test_a_function_lambda_does_not_know_is_the_callee_unreachable(local_lambda, monkeypatch):
    monkeypatch.setenv("FINFLOW_CALLEES", json.dumps({"wallet": "no-such-api"}))
    config.settings.cache_clear()
    with pytest.raises(ServiceUnavailable, match="connection failed"):
        private_client("kyc", "wallet", timeout=5.0, retries=0).request("GET", "/api/wallet/internal/wallets/w-1")


def test_a_callee_the_deployment_did_not_name_fails_loudly(local_lambda, monkeypatch):
    monkeypatch.setenv("FINFLOW_CALLEES", "{}")
    config.settings.cache_clear()
    with pytest.raises(LookupError, match="FINFLOW_CALLEES names no function for 'wallet'"):
        private_client("payment", "wallet", timeout=5.0).request("GET", "/api/wallet/internal/postings/p-1")


def test_the_local_lambda_api_answers_like_lambda():
    api = LambdaApi({"wallet.api": FakePool("wallet-api", lambda e: {"statusCode": 204})})
    client = httpx.Client(transport=httpx.WSGITransport(app=api), base_url="http://lambda.test")
    ok = client.post(
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Awallet-api/invocations", json={}
    )
    assert ok.status_code == 200 and ok.json() == {"statusCode": 204}
    missing = client.post("/2015-03-31/functions/payment-api/invocations", json={})
    assert missing.status_code == 404 and missing.headers["X-Amzn-ErrorType"] == "ResourceNotFoundException"
    event = client.post(
        "/2015-03-31/functions/wallet-api/invocations", json={}, headers={"X-Amz-Invocation-Type": "Event"}
    )
    assert event.status_code == 400  # only RequestResponse: a private call waits for its answer
