"""Payment's pure rules and its calls to Wallet, without a database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError

from finflow import contracts
from finflow.http import Principal, Problem
from finflow.service_client import ServiceUnavailable, correlation_id
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


@pytest.mark.parametrize(
    "kind, code, detail, status, text",
    [
        ("transfer", "insufficient-funds", "Insufficient funds", 422, "Insufficient funds"),
        ("withdrawal", "insufficient-funds", "Insufficient funds", 422, "Insufficient funds"),
        ("transfer", "wallet-frozen", "Source wallet is frozen", 400, "Source wallet is frozen"),
        ("transfer", "wallet-not-active", "Source wallet is not active", 400, "Source wallet is closed"),
        ("transfer", "wallet-not-active", "Destination wallet is not active", 400, "Destination wallet is not active"),
        ("transfer", "not-found", "Destination wallet not found", 404, "Destination wallet not found"),
        ("transfer", "not-found", "Source wallet not found", 404, "Source wallet not found"),
        ("transfer", "wallet-not-active", "some wallet is not active", 400, "Wallet is not active"),
        ("withdrawal", "wallet-frozen", "Source wallet is frozen", 400, "Source wallet is frozen"),
        ("withdrawal", "wallet-not-active", "Source wallet is not active", 400, "Source wallet is closed"),
        ("deposit", "wallet-not-active", "Destination wallet is not active", 400, "Wallet is not active"),
        ("deposit", "not-found", "Destination wallet not found", 404, "Wallet not found"),
        (
            "transfer",
            "currency-mismatch",
            "Destination wallet is EUR, the posting is USD",
            422,
            "Currency mismatch: Destination wallet is EUR, the posting is USD",
        ),
        (
            "deposit",
            "invalid-posting",
            "a posting needs two different sides",
            422,
            "a posting needs two different sides",
        ),
    ],
)
def test_refusal_mapping(kind, code, detail, status, text):
    p = rules.refusal(kind, code, detail)
    assert (p.status, p.detail) == (status, text)


def test_a_stored_refusal_is_the_problem_json_the_api_sends():
    body = rules.problem_body(rules.refusal("transfer", "insufficient-funds", "Insufficient funds"))
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


@pytest.mark.parametrize(
    "code, final",
    [
        ("insufficient-funds", True),
        ("wallet-frozen", True),
        ("wallet-not-active", True),
        ("currency-mismatch", True),
        ("not-found", True),
        ("conflict", False),
        ("http-403", False),
    ],
)
def test_which_refusals_fail_the_payment(code, final):
    assert wallet_client.PostingRefused(409, code, "d").final is final


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


# --- the validation order with Wallet's reads in parallel ---------------------------------------

ALICE = Principal(subject=str(uuid.uuid4()), roles=frozenset({"customer"}), kind="user")


class FakeWallet:
    """Wallet's payment-checks answer; `down` makes the call fail as an outage."""

    def __init__(self, monkeypatch, *, kyc="verified", wallets=None, down=False):
        self.kyc_status, self.wallets, self.down = kyc, wallets or {}, down
        self.calls: list[tuple[str, list[str], str | None]] = []
        monkeypatch.setattr(wallet_client, "checks", self.checks)
        monkeypatch.setattr(wallet_client, "post", lambda req: pytest.fail("nothing may be posted"))

    def checks(self, user_id, wallet_ids):
        self.calls.append((user_id, wallet_ids, correlation_id.get()))
        if self.down:
            raise ServiceUnavailable("wallet", "down")
        return contracts.PaymentReadsKycView(kyc_status=self.kyc_status), [self.wallets.get(w) for w in wallet_ids]


def view(wallet_id, owner=ALICE.subject, currency="USD", status="active"):
    return contracts.PaymentReadsWalletView(id=wallet_id, user_id=owner, currency=currency, status=status)


def _transfer(amount="abc"):
    return logic.transfer(ALICE, TransferRequest(from_wallet_id=W1, to_wallet_id=W2, amount=amount), None)


def _problem(fn) -> tuple[int, str]:
    with pytest.raises(Problem) as exc:
        fn()
    return exc.value.status, exc.value.detail


def test_kyc_source_and_destination_are_one_call_in_the_callers_context(monkeypatch):
    fake = FakeWallet(monkeypatch, wallets={W1: view(W1), W2: view(W2, owner="bob")})
    token = correlation_id.set("corr-123")
    try:
        assert _problem(_transfer) == (422, "amount must be a number or a decimal string")
    finally:
        correlation_id.reset(token)
    assert fake.calls == [(ALICE.subject, [W1, W2], "corr-123")]


@pytest.mark.parametrize(
    "setup, expected",
    [
        ({"kyc": "pending"}, (403, "KYC verification required")),  # before anything about the wallets
        ({"down": True}, (503, "Wallet service unavailable")),
        ({}, (404, "Source wallet not found")),  # the source is reported first
        ({"wallets": {W1: view(W1, status="frozen")}}, (400, "Source wallet is frozen")),
        ({"wallets": {W1: view(W1, owner="bob")}}, (403, "You do not own the source wallet")),
        ({"wallets": {W1: view(W1)}}, (404, "Destination wallet not found")),
        (
            {"wallets": {W1: view(W1), W2: view(W2, owner="bob", status="frozen")}},
            (400, "Destination wallet is not active"),
        ),
        (
            {"wallets": {W1: view(W1), W2: view(W2, owner="bob", currency="EUR")}},
            (422, "Currency mismatch: source wallet is USD, destination wallet is EUR"),
        ),
    ],
)
def test_errors_are_reported_in_the_documented_order(monkeypatch, setup, expected):
    FakeWallet(monkeypatch, **setup)
    assert _problem(_transfer) == expected


def test_a_service_token_is_refused_before_any_call(monkeypatch):
    fake = FakeWallet(monkeypatch, down=True)
    svc = Principal(subject="svc-kyc", roles=frozenset({"svc:kyc"}), kind="service")
    assert _problem(lambda: logic.deposit(svc, WalletAmountRequest(wallet_id=W1, amount=1), None))[0] == 403
    assert fake.calls == []


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


CHECKS = "/api/wallet/internal/payment-checks"


def _checks_answer(*wallets, kyc="verified"):
    return httpx.Response(
        200, json={"kyc": {"user_id": ALICE.subject, "kyc_status": kyc, "source": "auth"}, "wallets": list(wallets)}
    )


def test_payment_checks_use_the_payment_service_token_and_keep_the_order(wallet_http):
    answers, seen = wallet_http
    answers[("GET", CHECKS)] = _checks_answer(
        None, {"id": W1, "user_id": "u", "currency": "USD", "status": "active", "extra": "ignored"}
    )
    kyc, wallets = wallet_client.checks(ALICE.subject, [W2, W1])
    assert kyc == contracts.PaymentReadsKycView(kyc_status="verified")
    assert wallets == [None, view(W1, owner="u")]
    assert seen[-1].headers["Authorization"] == "Bearer token-of-payment"
    assert dict(seen[-1].url.params) == {"user_id": ALICE.subject, "wallet_ids": f"{W2},{W1}"}


def test_malformed_wallet_ids_are_not_found_without_asking(wallet_http):
    answers, seen = wallet_http
    answers[("GET", CHECKS)] = _checks_answer(None)
    _, wallets = wallet_client.checks(ALICE.subject, ["../postings", W2.upper(), "a,b"])
    assert wallets == [None, None, None]
    assert dict(seen[-1].url.params)["wallet_ids"] == W2  # only the one real id, canonical


@pytest.mark.parametrize(
    "body",
    [
        {"kyc": {"user_id": "x", "kyc_status": "verified", "source": "auth"}, "wallets": [{"id": W1}]},
        {"kyc": {"kyc_status": "maybe"}, "wallets": [None]},
        {"wallets": [None]},
        {"kyc": {"kyc_status": "verified"}, "wallets": []},  # fewer answers than wallets asked
        ["not", "an", "object"],
    ],
)
def test_an_answer_that_breaks_the_contract_reads_as_unavailable(wallet_http, body):
    answers, _ = wallet_http
    answers[("GET", CHECKS)] = httpx.Response(200, json=body)
    with pytest.raises(ServiceUnavailable):
        wallet_client.checks(ALICE.subject, [W1])


def test_a_posting_refusal_carries_wallets_code(wallet_http):
    answers, seen = wallet_http
    answers[("POST", "/api/wallet/internal/postings")] = httpx.Response(
        422, json={"type": "https://finflow.dev/problems/insufficient-funds", "detail": "Insufficient funds"}
    )
    req = contracts.PostingRequest(posting_id=W1, kind="withdrawal", debit_wallet_id=W2, amount_minor=5, currency="USD")
    with pytest.raises(wallet_client.PostingRefused) as exc:
        wallet_client.post(req)
    assert (exc.value.code, exc.value.final) == ("insufficient-funds", True)
    assert seen[-1].read() and len(seen) == 1


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
    with pytest.raises(ServiceUnavailable) as exc:
        wallet_client.checks(ALICE.subject, [W1])
    assert exc.value.target == "auth"


def test_no_service_token_is_503_naming_auth(monkeypatch):
    def no_token(user_id, wallet_ids):
        raise ServiceUnavailable("auth", "no service token: ReadTimeout")

    monkeypatch.setattr(wallet_client, "checks", no_token)
    assert _problem(_transfer) == (503, "Auth service unavailable")  # the service actually down
