"""Payment's pure rules and its calls to Wallet, without a database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError

from finflow import contracts
from finflow.http import Principal, Problem
from finflow.service_client import ServiceUnavailable
from functions.payment import logic, rules, wallet_client
from functions.payment.schemas import TransferRequest, WalletAmountRequest

W1, W2 = str(uuid.uuid4()), str(uuid.uuid4())


# --- request fingerprints ------------------------------------------------------------------


@pytest.mark.parametrize("a, b", [(10, "10"), ("10", "10.00"), (10.0, "10"), ("0.10", 0.1), ("+5", "5"), (1e2, "100")])
def test_the_same_amount_spelled_differently_is_the_same_request(a, b):
    assert rules.canonical_amount(a) == rules.canonical_amount(b)
    assert rules.request_hash("transfer", {"amount": a}) == rules.request_hash("transfer", {"amount": b})


@pytest.mark.parametrize(
    "a, b", [("10", "10.01"), ("10", "abc"), (1, True), (float("inf"), "inf"), ("1e2", "100"), ("NaN", float("nan"))]
)
def test_different_or_invalid_amounts_never_collide(a, b):
    assert rules.canonical_amount(a) != rules.canonical_amount(b)


def test_the_hash_covers_the_operation_every_field_and_nothing_else():
    base = {"from_wallet_id": W1, "to_wallet_id": W2, "amount": "1", "description": None}
    h = rules.request_hash("transfer", base)
    assert len(h) == 64 and h == rules.request_hash("transfer", dict(reversed(list(base.items()))))
    assert h == rules.request_hash("transfer", {**base, "from_wallet_id": W1.upper()})  # one id, two spellings
    assert h != rules.request_hash("deposit", base)
    for field, value in (("from_wallet_id", W2), ("to_wallet_id", W1), ("amount", "2"), ("description", "x")):
        assert h != rules.request_hash("transfer", {**base, field: value}), field


@pytest.mark.parametrize("key, ok", [(None, True), ("a", True), ("k" * 255, True), ("", False), ("k" * 256, False)])
def test_idempotency_key_length(key, ok):
    if ok:
        assert rules.idempotency_key(key) == key
    else:
        with pytest.raises(Problem) as exc:
            rules.idempotency_key(key)
        assert (exc.value.status, exc.value.detail) == (422, "Idempotency-Key must be 1 to 255 characters")


# --- what Wallet's refusals mean to a client ---------------------------------------------------


def _refused(rule, side=None, **facts):
    return contracts.PaymentReadsPostingRefusal(rule=rule, side=side, detail=facts.pop("detail", "d"), **facts)


@pytest.mark.parametrize(
    "kind, refusal, status, text",
    [
        ("transfer", _refused("insufficient-funds", "source"), 422, "Insufficient funds"),
        ("withdrawal", _refused("insufficient-funds", "source"), 422, "Insufficient funds"),
        ("transfer", _refused("kyc-required"), 403, "KYC verification required"),
        ("deposit", _refused("kyc-required"), 403, "KYC verification required"),
        ("transfer", _refused("wallet-frozen", "source"), 400, "Source wallet is frozen"),
        ("transfer", _refused("wallet-closed", "source"), 400, "Source wallet is closed"),
        ("transfer", _refused("not-owner", "source"), 403, "You do not own the source wallet"),
        ("transfer", _refused("wallet-frozen", "destination"), 400, "Destination wallet is not active"),
        ("transfer", _refused("wallet-closed", "destination"), 400, "Destination wallet is not active"),
        ("transfer", _refused("not-found", "destination"), 404, "Destination wallet not found"),
        ("transfer", _refused("not-found", "source"), 404, "Source wallet not found"),
        ("transfer", _refused("same-wallet"), 422, "Source and destination wallets must be different"),
        ("withdrawal", _refused("wallet-frozen", "source"), 400, "Source wallet is frozen"),
        ("withdrawal", _refused("wallet-closed", "source"), 400, "Source wallet is closed"),
        ("deposit", _refused("wallet-frozen", "destination"), 400, "Wallet is frozen"),
        ("deposit", _refused("wallet-closed", "destination"), 400, "Wallet is closed"),
        ("deposit", _refused("not-owner", "destination"), 403, "You do not own the wallet"),
        ("deposit", _refused("not-found", "destination"), 404, "Wallet not found"),
        (
            "transfer",
            _refused("currency-mismatch", source_currency="USD", destination_currency="EUR"),
            422,
            "Currency mismatch: source wallet is USD, destination wallet is EUR",
        ),
        ("deposit", _refused("invalid-amount", detail="amount has more than 2 decimals for USD"), 422, None),
    ],
)
def test_a_refusal_reads_as_the_check_that_refused(kind, refusal, status, text):
    """Wallet says which rule, side and wallet; Payment words it exactly as its own check would,
    without reading Wallet's text (but an amount's reason, which is money's own message)."""
    p = rules.refusal(kind, refusal)
    assert (p.status, p.detail) == (status, text or refusal.detail)


def test_a_rule_payment_does_not_know_is_no_answer():
    assert rules.refusal("transfer", _refused("a-rule-from-the-future")) is None


def test_a_stored_refusal_is_the_problem_json_the_api_sends():
    body = rules.problem_body(rules.refusal("transfer", _refused("insufficient-funds", "source")))
    assert body == (
        '{"type": "https://finflow.dev/problems/insufficient-funds", "title": "Unprocessable Content", '
        '"status": 422, "detail": "Insufficient funds"}'
    )


@pytest.mark.parametrize(
    "body, code, detail",
    [
        (
            {"type": "https://finflow.dev/problems/insufficient-funds", "detail": "Insufficient funds"},
            "insufficient-funds",
            "Insufficient funds",
        ),
        ({"type": "https://finflow.dev/problems/wallet-frozen/", "detail": "x"}, "wallet-frozen", "x"),
        ({"detail": "no type"}, "http-409", "no type"),
        (["not", "a", "problem"], "http-409", "Conflict"),
    ],
)
def test_problem_code_is_the_last_segment_of_type(body, code, detail):
    assert wallet_client.problem_code(httpx.Response(409, json=body)) == (code, detail)


# --- cursors and schemas -------------------------------------------------------------------


def test_cursor_round_trip_and_garbage(monkeypatch):
    from finflow import pages

    monkeypatch.setattr(pages, "_module_key", lambda module: b"k" * 32)  # no Secrets Manager here
    when = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert rules.decode_cursor(rules.encode_cursor(when, W1)) == (when, W1)
    assert rules.decode_cursor(None) is None
    for bad in ("abc", "!!!", "cHwyMDI2LTAxLTAyfA"):  # cursors are signed: no client can make one with a bad id
        with pytest.raises(Problem) as exc:
            rules.decode_cursor(bad)
        assert (exc.value.status, exc.value.detail) == (422, "cursor is not valid")


@pytest.mark.parametrize("amount", [10, 10.5, "10.50", float("inf"), "abc"])
def test_amounts_are_taken_as_sent(amount):
    parsed = TransferRequest(from_wallet_id=W1, to_wallet_id=W2, amount=amount).amount
    assert type(parsed) is type(amount) and (parsed == amount or parsed != parsed)


@pytest.mark.parametrize("amount", [True, False, None, [1], {"v": 1}])
def test_amounts_that_are_not_numbers_or_strings_are_refused(amount):
    with pytest.raises(ValidationError, match="amount must be a number or a decimal string"):
        WalletAmountRequest(wallet_id=W1, amount=amount)


def test_blank_description_is_none_and_unknown_fields_are_ignored():
    req = TransferRequest.model_validate(
        {"from_wallet_id": W1, "to_wallet_id": W2, "amount": 1, "description": "  ", "status": "completed"}
    )
    assert req.description is None and "status" not in req.model_dump()


ALICE = Principal(subject=str(uuid.uuid4()), roles=frozenset({"customer"}), kind="user")


def test_a_service_token_is_refused_before_anything_is_read(monkeypatch):
    monkeypatch.setattr(logic, "_plan", lambda *a: pytest.fail("nothing may be read"))
    svc = Principal(subject="svc-kyc", roles=frozenset({"svc:kyc"}), kind="service")
    with pytest.raises(Problem) as exc:
        logic.deposit(svc, WalletAmountRequest(wallet_id=W1, amount=1), None)
    assert exc.value.status == 403


# --- the Wallet client ------------------------------------------------------------------------


@pytest.fixture
def wallet_http(monkeypatch):
    """Wallet's answers for wallet_client, through a mock transport; a fixed service token."""
    from finflow import service_auth, service_client

    answers: dict[tuple[str, str], httpx.Response] = {}
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.get((request.method, request.url.path)) or httpx.Response(503)

    monkeypatch.setattr(service_auth, "service_token", lambda module: f"token-of-{module}")
    service_client.route_all_http_through(httpx.MockTransport(handle))
    yield answers, seen
    service_client.route_all_http_through(None)


def test_a_posting_refusal_carries_wallets_rule_side_and_wallet(wallet_http):
    answers, seen = wallet_http
    answers[("POST", "/api/wallet/internal/postings")] = httpx.Response(
        400,
        json={
            "type": "https://finflow.dev/problems/wallet-frozen",
            "detail": "Source wallet is frozen",
            "rule": "wallet-frozen",
            "side": "source",
            "wallet_id": W2,
        },
    )
    req = contracts.PostingRequest(posting_id=W1, kind="withdrawal", debit_wallet_id=W2, amount_minor=5, currency="USD")
    with pytest.raises(wallet_client.PostingRefused) as exc:
        wallet_client.post(req)
    assert (exc.value.code, exc.value.refusal.rule, exc.value.refusal.side) == (
        "wallet-frozen",
        "wallet-frozen",
        "source",
    )
    assert seen[-1].headers["Authorization"] == "Bearer token-of-payment" and len(seen) == 1


@pytest.mark.parametrize(
    "status, body",
    [
        (409, {"type": "https://finflow.dev/problems/conflict", "detail": "posting id was already used"}),
        (403, {"type": "https://finflow.dev/problems/forbidden", "detail": "payment only"}),
        (400, ["not", "a", "problem"]),
    ],
)
def test_an_answer_without_a_rule_is_no_refusal(wallet_http, status, body):
    answers, _ = wallet_http
    answers[("POST", "/api/wallet/internal/postings")] = httpx.Response(status, json=body)
    req = contracts.PostingRequest(posting_id=W1, kind="deposit", credit_wallet_id=W2, amount_minor=5, currency="USD")
    with pytest.raises(wallet_client.PostingRefused) as exc:
        wallet_client.post(req)
    assert exc.value.refusal is None


@pytest.mark.parametrize("body", [{"kind": "deposit"}, {"posting_id": W1}, ["not", "a", "posting"]])
def test_an_applied_posting_that_breaks_the_contract_reads_as_unavailable(wallet_http, body):
    answers, _ = wallet_http
    answers[("POST", "/api/wallet/internal/postings")] = httpx.Response(201, json=body)
    req = contracts.PostingRequest(posting_id=W1, kind="deposit", credit_wallet_id=W2, amount_minor=5, currency="USD")
    with pytest.raises(ServiceUnavailable):
        wallet_client.post(req)


def test_a_posting_is_retried_like_an_idempotent_call(wallet_http):
    answers, seen = wallet_http  # no answer registered: 503 every time
    req = contracts.PostingRequest(posting_id=W1, kind="deposit", credit_wallet_id=W2, amount_minor=5, currency="USD")
    with pytest.raises(ServiceUnavailable):
        wallet_client.post(req)
    assert len(seen) == 4 and len({r.read() for r in seen}) == 1  # identical re-sends


def test_no_service_token_is_an_outage_not_a_crash(monkeypatch, wallet_http):
    from finflow import service_auth

    def no_token(module):
        raise httpx.ConnectError("auth is down")

    monkeypatch.setattr(service_auth, "service_token", no_token)
    req = contracts.PostingRequest(posting_id=W1, kind="deposit", credit_wallet_id=W2, amount_minor=5, currency="USD")
    with pytest.raises(ServiceUnavailable) as exc:
        wallet_client.post(req)
    assert exc.value.target == "auth"
