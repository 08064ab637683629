"""Payment API through the in-process gateway: real Auth and Wallet functions, real
PostgreSQL, moto. Money is checked where a customer sees it: Wallet's balances and ledger."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from finflow import contracts, money
from finflow.config import settings
from tests.api import payment_helpers as h
from tests.api.payment_helpers import assert_problem


@dataclass
class World:
    """Two verified customers and their wallets, for checks that must not move money."""

    a: h.Customer
    b: h.Customer
    a_usd: str
    a_gbp_frozen: str
    a_chf_closed: str
    a_jpy: str
    b_usd: str
    b_eur: str
    b_gbp_frozen: str


@pytest.fixture(scope="module")
def world(api_env) -> World:
    """Built once per module (every test using it only compares before/after snapshots)."""
    from devserver import inprocess
    from finflow import service_auth, service_client, token_check

    transport = inprocess.transport()
    service_client.route_all_http_through(transport)
    service_auth.forget_tokens()
    token_check.forget_keys()
    try:
        with httpx.Client(transport=transport, base_url="http://gateway.test") as gw:
            return _build_world(gw)
    finally:
        service_client.route_all_http_through(None)


def _build_world(gateway: httpx.Client) -> World:
    a, b = h.customer(gateway), h.customer(gateway)
    w = World(
        a=a,
        b=b,
        a_usd=h.funded_wallet(gateway, a, "100.00"),
        a_gbp_frozen=h.wallet(gateway, a, "GBP"),
        a_chf_closed=h.wallet(gateway, a, "CHF"),
        a_jpy=h.funded_wallet(gateway, a, "5000", "JPY"),
        b_usd=h.wallet(gateway, b),
        b_eur=h.wallet(gateway, b, "EUR"),
        b_gbp_frozen=h.wallet(gateway, b, "GBP"),
    )
    for owner, wallet_id, status in (
        (a, w.a_gbp_frozen, "frozen"),
        (a, w.a_chf_closed, "closed"),
        (b, w.b_gbp_frozen, "frozen"),
    ):
        res = gateway.put(f"/api/wallet/{wallet_id}/status", json={"status": status}, headers=owner.headers)
        assert res.status_code == 200, res.text
    return w


def snapshot(gw, w: World) -> dict:
    return {
        "a_usd": h.balance(gw, w.a, w.a_usd),
        "a_jpy": h.balance(gw, w.a, w.a_jpy),
        "b_usd": h.balance(gw, w.b, w.b_usd),
        "b_eur": h.balance(gw, w.b, w.b_eur),
        "rows_a": len(h.payment_rows(w.a)),
        "rows_b": len(h.payment_rows(w.b)),
    }


def service_headers(api_env, gw) -> dict[str, str]:
    creds = api_env["secrets"]["payment"]
    res = gw.post("/api/auth/token", json={"client_id": creds["client_id"], "client_secret": creds["client_secret"]})
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


# --- happy paths -------------------------------------------------------------------------


def test_transfer_moves_money_and_returns_the_completed_payment(gateway):
    a, b = h.customer(gateway), h.customer(gateway)
    wa, wb = h.funded_wallet(gateway, a, "100.00"), h.wallet(gateway, b)
    res = h.transfer(gateway, a, wa, wb, "25.50", description="rent share")
    assert res.status_code == 201, res.text
    body = res.json()
    assert set(body) == {
        "id",
        "kind",
        "status",
        "amount",
        "currency",
        "from_wallet_id",
        "to_wallet_id",
        "description",
        "failure_reason",
        "created_at",
        "completed_at",
    }
    assert body | {"id": None, "created_at": None, "completed_at": None} == {
        "id": None,
        "kind": "transfer",
        "status": "completed",
        "amount": "25.50",
        "currency": "USD",
        "from_wallet_id": wa,
        "to_wallet_id": wb,
        "description": "rent share",
        "failure_reason": None,
        "created_at": None,
        "completed_at": None,
    }
    assert body["completed_at"] >= body["created_at"]
    assert (h.balance(gateway, a, wa), h.balance(gateway, b, wb)) == ("74.50", "25.50")
    assert [e["posting_id"] for e in h.ledger(gateway, b, wb)] == [body["id"]]
    # the event other modules consume, in the outbox and published after commit
    [event] = h.outbox_events(body["id"])
    assert event["detail_type"] == "PaymentCompleted"
    data = contracts.PaymentCompleted.model_validate(event["data"])
    assert (data.from_user_id, data.to_user_id, data.amount, data.amount_minor, data.currency) == (
        a.id,
        b.id,
        "25.50",
        2550,
        "USD",
    )


def test_deposit_then_withdraw(gateway):
    a = h.customer(gateway)
    w = h.wallet(gateway, a)
    dep = h.deposit(gateway, a, w, 10)  # a JSON number
    assert dep.status_code == 201, dep.text
    assert (dep.json()["kind"], dep.json()["amount"], dep.json()["from_wallet_id"], dep.json()["to_wallet_id"]) == (
        "deposit",
        "10.00",
        None,
        w,
    )
    wd = gateway.post("/api/payment/withdraw", json={"wallet_id": w, "amount": "4.25"}, headers=a.headers)
    assert wd.status_code == 201, wd.text
    assert (wd.json()["kind"], wd.json()["status"], wd.json()["from_wallet_id"], wd.json()["to_wallet_id"]) == (
        "withdrawal",
        "completed",
        w,
        None,
    )
    assert h.balance(gateway, a, w) == "5.75"
    [event] = h.outbox_events(dep.json()["id"])
    assert (event["data"]["from_user_id"], event["data"]["to_user_id"]) == (None, a.id)


def test_jpy_amounts_have_no_decimals(gateway):
    a, b = h.customer(gateway), h.customer(gateway)
    wa, wb = h.funded_wallet(gateway, a, "1000", "JPY"), h.wallet(gateway, b, "JPY")
    res = h.transfer(gateway, a, wa, wb, 250)
    assert res.status_code == 201, res.text
    assert (res.json()["amount"], h.balance(gateway, b, wb)) == ("250", "250")


# --- the validation order ------------------------------------------------------------------


def test_service_tokens_are_refused_on_every_route(gateway, api_env, world):
    svc = service_headers(api_env, gateway)
    pay = h.transfer(gateway, world.a, world.a_usd, world.b_usd, "1.00").json()["id"]
    calls = [
        (
            "POST",
            "/api/payment/transfer",
            {"from_wallet_id": world.a_usd, "to_wallet_id": world.b_usd, "amount": "1.00"},
        ),
        ("POST", "/api/payment/deposit", {"wallet_id": world.a_usd, "amount": "1.00"}),
        ("POST", "/api/payment/withdraw", {"wallet_id": world.a_usd, "amount": "1.00"}),
        ("GET", f"/api/payment/{pay}", None),
        ("GET", "/api/payment", None),
    ]
    before = snapshot(gateway, world)
    for method, path, body in calls:
        assert_problem(gateway.request(method, path, json=body, headers=svc), 403)
    assert snapshot(gateway, world) == before


def test_a_missing_token_is_401(gateway):
    assert gateway.get("/api/payment").status_code == 401
    assert gateway.post("/api/payment/deposit", json={"wallet_id": str(uuid.uuid4()), "amount": 1}).status_code == 401


def _cases(w: World):
    """(who, body, status, detail): each request also breaks every later rule, so the
    answer shows which check comes first."""
    missing = str(uuid.uuid4())
    return [
        (
            "unverified",
            {"from_wallet_id": missing, "to_wallet_id": missing, "amount": "abc"},
            403,
            "KYC verification required",
        ),
        ("a", {"from_wallet_id": missing, "to_wallet_id": missing, "amount": "abc"}, 404, "Source wallet not found"),
        ("a", {"from_wallet_id": "not-a-uuid", "to_wallet_id": w.b_usd, "amount": "1"}, 404, "Source wallet not found"),
        (
            "a",
            {"from_wallet_id": w.b_usd, "to_wallet_id": missing, "amount": "abc"},
            403,
            "You do not own the source wallet",
        ),
        (
            "a",
            {"from_wallet_id": w.a_gbp_frozen, "to_wallet_id": missing, "amount": "abc"},
            400,
            "Source wallet is frozen",
        ),
        (
            "a",
            {"from_wallet_id": w.a_chf_closed, "to_wallet_id": missing, "amount": "abc"},
            400,
            "Source wallet is closed",
        ),
        (
            "a",
            {"from_wallet_id": w.a_usd, "to_wallet_id": missing, "amount": "abc"},
            404,
            "Destination wallet not found",
        ),
        (
            "a",
            {"from_wallet_id": w.a_usd, "to_wallet_id": w.b_gbp_frozen, "amount": "abc"},
            400,
            "Destination wallet is not active",
        ),
        (
            "a",
            {"from_wallet_id": w.a_usd, "to_wallet_id": w.a_chf_closed, "amount": "abc"},
            400,
            "Destination wallet is not active",
        ),
        (
            "a",
            {"from_wallet_id": w.a_usd, "to_wallet_id": w.a_usd, "amount": "abc"},
            422,
            "Source and destination wallets must be different",
        ),
        (
            "a",
            {"from_wallet_id": w.a_usd, "to_wallet_id": w.b_eur, "amount": "abc"},
            422,
            "Currency mismatch: source wallet is USD, destination wallet is EUR",
        ),
        (
            "a",
            {"from_wallet_id": w.a_usd, "to_wallet_id": w.b_usd, "amount": "abc"},
            422,
            "amount must be a number or a decimal string",
        ),
    ]


def test_transfer_checks_come_in_the_documented_order_and_write_nothing(gateway, world):
    unverified = h.customer(gateway, verified=False)
    before = snapshot(gateway, world)
    for who, body, status, detail in _cases(world):
        caller = unverified if who == "unverified" else world.a
        res = gateway.post("/api/payment/transfer", json=body, headers={**caller.headers, "Idempotency-Key": "k1"})
        assert_problem(res, status, detail)
    assert snapshot(gateway, world) == before
    assert h.payment_rows(unverified) == []


def test_deposit_and_withdraw_checks(gateway, world):
    unverified = h.customer(gateway, verified=False)
    missing = str(uuid.uuid4())
    cases = [
        (unverified, "deposit", missing, 403, "KYC verification required"),
        (world.a, "deposit", missing, 404, "Wallet not found"),
        (world.a, "deposit", world.b_usd, 403, "You do not own the wallet"),
        (world.a, "deposit", world.a_gbp_frozen, 400, "Wallet is frozen"),
        (world.a, "deposit", world.a_chf_closed, 400, "Wallet is closed"),
        (unverified, "withdraw", missing, 403, "KYC verification required"),
        (world.a, "withdraw", missing, 404, "Source wallet not found"),
        (world.a, "withdraw", world.b_usd, 403, "You do not own the source wallet"),
        (world.a, "withdraw", world.a_gbp_frozen, 400, "Source wallet is frozen"),
        (world.a, "withdraw", world.a_chf_closed, 400, "Source wallet is closed"),
    ]
    before = snapshot(gateway, world)
    for caller, op, wallet_id, status, detail in cases:
        res = gateway.post(f"/api/payment/{op}", json={"wallet_id": wallet_id, "amount": "abc"}, headers=caller.headers)
        assert_problem(res, status, detail)
    assert snapshot(gateway, world) == before


def test_insufficient_funds_fails_the_payment_and_moves_nothing(gateway):
    a, b = h.customer(gateway), h.customer(gateway)
    wa, wb = h.funded_wallet(gateway, a, "10.00"), h.wallet(gateway, b)
    res = h.transfer(gateway, a, wa, wb, "10.01")
    assert_problem(res, 422, "Insufficient funds")
    wd = gateway.post("/api/payment/withdraw", json={"wallet_id": wa, "amount": "10.01"}, headers=a.headers)
    assert_problem(wd, 422, "Insufficient funds")
    assert (h.balance(gateway, a, wa), h.balance(gateway, b, wb)) == ("10.00", "0.00")
    failed = [r for r in h.payment_rows(a) if r.status == "failed"]
    assert [(r.kind, r.failure_reason) for r in failed] == [
        ("transfer", "Insufficient funds"),
        ("withdrawal", "Insufficient funds"),
    ]
    [event] = h.outbox_events(failed[0].id)
    assert event["detail_type"] == "PaymentFailed"
    assert contracts.PaymentFailed.model_validate(event["data"]).reason == "Insufficient funds"
    # the failed payment is visible to its sender with its reason
    got = gateway.get(f"/api/payment/{failed[0].id}", headers=a.headers).json()
    assert (got["status"], got["failure_reason"], got["completed_at"]) == ("failed", "Insufficient funds", None)


# --- amounts -------------------------------------------------------------------------------


def _money_error(amount, currency: str) -> str:
    with pytest.raises(money.MoneyError) as exc:
        money.to_minor(amount, currency, max_minor=settings().max_amount * 10 ** money.exponent(currency))
    return str(exc.value)


@pytest.mark.parametrize(
    "raw, currency, value",
    [
        ("0", "USD", 0),
        ("-5", "USD", -5),
        ("1e309", "USD", float("inf")),
        ('"abc"', "USD", "abc"),
        ('"1.005"', "USD", "1.005"),
        ('"1.5"', "JPY", "1.5"),
        ('"1000000.01"', "USD", "1000000.01"),
        ('"NaN"', "USD", "NaN"),
        ("0.001", "USD", 0.001),
    ],
)
def test_invalid_amounts_are_422_and_write_nothing(gateway, world, raw, currency, value):
    src, dst = (world.a_usd, world.b_usd) if currency == "USD" else (world.a_jpy, None)
    before = snapshot(gateway, world)
    headers = {**world.a.headers, "Content-Type": "application/json"}
    if dst:
        body = f'{{"from_wallet_id": "{src}", "to_wallet_id": "{dst}", "amount": {raw}}}'
        responses = [gateway.post("/api/payment/transfer", content=body, headers=headers)]
    else:
        responses = []
    # JSON text as sent, so 1e309 reaches the API as the number it is (Python reads it as inf)
    for op in ("deposit", "withdraw"):
        body = f'{{"wallet_id": "{src}", "amount": {raw}}}'
        responses.append(gateway.post(f"/api/payment/{op}", content=body, headers=headers))
    for res in responses:
        assert_problem(res, 422, _money_error(value, currency))
    assert snapshot(gateway, world) == before


@pytest.mark.parametrize("amount", [True, None, [1], {"value": 1}])
def test_amounts_that_are_not_numbers_or_strings_are_422(gateway, world, amount):
    before = snapshot(gateway, world)
    res = h.deposit(gateway, world.a, world.a_usd, amount)
    assert_problem(res, 422)
    assert "amount" in res.json()["detail"]
    assert snapshot(gateway, world) == before


# --- Idempotency-Key -------------------------------------------------------------------------


def test_same_key_and_body_replays_the_first_answer_and_posts_once(gateway):
    a, b = h.customer(gateway), h.customer(gateway)
    wa, wb = h.funded_wallet(gateway, a, "100.00"), h.wallet(gateway, b)
    first = h.transfer(gateway, a, wa, wb, "10", key="order-1", description="once")
    assert first.status_code == 201, first.text
    # the same amount spelled differently is the same request
    for amount in ("10", 10, "10.00", 10.0):
        again = h.transfer(gateway, a, wa, wb, amount, key="order-1", description="once")
        assert (again.status_code, again.content) == (201, first.content)
        assert again.headers["Idempotent-Replayed"] == "true"
    # the stored answer stands even once the checks would now refuse the request
    assert gateway.put(f"/api/wallet/{wa}/status", json="frozen", headers=a.headers).status_code == 200
    again = h.transfer(gateway, a, wa, wb, "10", key="order-1", description="once")
    assert (again.status_code, again.content) == (201, first.content)
    assert len(h.ledger(gateway, b, wb)) == 1
    assert (h.balance(gateway, a, wa), h.balance(gateway, b, wb)) == ("90.00", "10.00")
    assert len(h.outbox_events(first.json()["id"])) == 1


def test_same_key_with_a_different_body_is_409(gateway):
    a, b = h.customer(gateway), h.customer(gateway)
    wa, wb = h.funded_wallet(gateway, a, "100.00"), h.wallet(gateway, b)
    assert h.transfer(gateway, a, wa, wb, "10", key="k").status_code == 201
    for res in (
        h.transfer(gateway, a, wa, wb, "11", key="k"),
        h.transfer(gateway, a, wa, wb, "10", key="k", description="changed"),
        h.deposit(gateway, a, wa, "10", key="k"),
        h.transfer(gateway, a, wa, wb, "abc", key="k"),
    ):
        assert_problem(res, 409, "Idempotency-Key was already used with a different request")
    assert h.balance(gateway, a, wa) == "90.00"


def test_keys_are_scoped_per_caller(gateway):
    a, b = h.customer(gateway), h.customer(gateway)
    wa, wb = h.wallet(gateway, a), h.wallet(gateway, b)
    assert h.deposit(gateway, a, wa, "5", key="shared").status_code == 201
    res = h.deposit(gateway, b, wb, "7", key="shared")
    assert res.status_code == 201 and res.json()["to_wallet_id"] == wb
    assert (h.balance(gateway, a, wa), h.balance(gateway, b, wb)) == ("5.00", "7.00")


def test_a_refusal_is_replayed_too(gateway):
    a, b = h.customer(gateway), h.customer(gateway)
    wa, wb = h.funded_wallet(gateway, a, "5.00"), h.wallet(gateway, b)
    first = h.transfer(gateway, a, wa, wb, "8", key="big")
    assert_problem(first, 422, "Insufficient funds")
    assert h.deposit(gateway, a, wa, "10").status_code == 201
    again = h.transfer(gateway, a, wa, wb, "8", key="big")
    assert (again.status_code, again.content) == (422, first.content)
    assert h.balance(gateway, b, wb) == "0.00"


def test_a_key_over_255_characters_is_422(gateway, world):
    before = snapshot(gateway, world)
    res = h.deposit(gateway, world.a, world.a_usd, "1", key="k" * 256)
    assert_problem(res, 422, "Idempotency-Key must be 1 to 255 characters")
    assert h.deposit(gateway, world.a, world.a_usd, "1", key="k" * 255).status_code == 201
    assert snapshot(gateway, world)["rows_a"] == before["rows_a"] + 1


def test_twenty_concurrent_requests_with_one_key_post_once(api_env, monkeypatch):
    """The race itself, at the logic level (real PostgreSQL, Wallet faked): one request
    claims the key, the others wait for its answer and replay it."""
    from datetime import UTC, datetime

    from finflow.db import engine
    from finflow.http import Principal
    from functions.payment import logic, store, wallet_client
    from functions.payment.schemas import TransferRequest

    user, other = str(uuid.uuid4()), str(uuid.uuid4())
    src, dst = str(uuid.uuid4()), str(uuid.uuid4())
    now = datetime.now(UTC)
    with engine("payment").begin() as conn:  # what Wallet's and Auth's events told Payment
        store.replicate_kyc(conn, user_id=user, status="verified", at=now)
        for wallet_id, owner in ((src, user), (dst, other)):
            store.replicate_wallet(conn, wallet_id=wallet_id, user_id=owner, currency="USD", status="active", at=now)
    posted: list[str] = []
    lock = threading.Lock()

    def post(req):
        with lock:
            posted.append(req.posting_id)
        threading.Event().wait(0.3)  # a slow Wallet: the others must wait, not post
        return contracts.PaymentReadsPostingResult(
            kind="transfer", currency="USD", amount_minor=1234, entries=[{"wallet_id": dst, "user_id": other}]
        )

    monkeypatch.setattr(wallet_client, "post", post)
    p = Principal(subject=user, roles=frozenset({"customer"}), kind="user")
    req = TransferRequest(from_wallet_id=src, to_wallet_id=dst, amount="12.34")
    barrier = threading.Barrier(20)

    def one(_):
        barrier.wait()
        return logic.transfer(p, req, "same-key")

    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(one, range(20)))
    assert len(posted) == 1
    assert {(o.status, o.body) for o in outcomes} == {(201, outcomes[0].body)}
    assert sum(not o.replayed for o in outcomes) == 1


# --- reads -------------------------------------------------------------------------------------


def test_a_payment_is_visible_to_its_parties_and_admins_only(gateway, api_env):
    a, b, stranger = h.customer(gateway), h.customer(gateway), h.customer(gateway)
    wa, wb = h.funded_wallet(gateway, a, "10.00"), h.wallet(gateway, b)
    pid = h.transfer(gateway, a, wa, wb, "1.00").json()["id"]
    for who in (a, b, h.admin(gateway)):
        res = gateway.get(f"/api/payment/{pid}", headers=who.headers)
        assert (res.status_code, res.json()["id"]) == (200, pid)
    for payment_id in (pid, str(uuid.uuid4()), "not-a-uuid"):
        assert_problem(gateway.get(f"/api/payment/{payment_id}", headers=stranger.headers), 404, "Payment not found")


def test_another_customer_cannot_use_my_wallets(gateway):
    a, b, thief = h.customer(gateway), h.customer(gateway), h.customer(gateway)
    wa, wb = h.funded_wallet(gateway, a, "10.00"), h.wallet(gateway, b)
    thief_wallet = h.wallet(gateway, thief)
    pid = h.transfer(gateway, a, wa, wb, "1.00").json()["id"]
    assert_problem(h.transfer(gateway, thief, wa, thief_wallet, "5"), 403, "You do not own the source wallet")
    assert_problem(h.deposit(gateway, thief, wa, "5"), 403, "You do not own the wallet")
    assert_problem(
        gateway.post("/api/payment/withdraw", json={"wallet_id": wa, "amount": "5"}, headers=thief.headers),
        403,
        "You do not own the source wallet",
    )
    assert_problem(gateway.get(f"/api/payment/{pid}", headers=thief.headers), 404, "Payment not found")
    assert gateway.get("/api/payment", headers=thief.headers).json() == {"items": [], "next_cursor": None}
    assert (h.balance(gateway, a, wa), h.balance(gateway, b, wb), h.balance(gateway, thief, thief_wallet)) == (
        "9.00",
        "1.00",
        "0.00",
    )
    assert h.payment_rows(thief) == []


def test_list_pages_newest_first_for_either_party(gateway):
    a, b = h.customer(gateway), h.customer(gateway)
    wa, wb = h.funded_wallet(gateway, a, "10.00"), h.wallet(gateway, b)
    ids = [h.transfer(gateway, a, wa, wb, f"0.0{i}").json()["id"] for i in range(1, 5)]
    seen, cursor = [], None
    while True:
        res = gateway.get(
            "/api/payment", params={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=a.headers
        )
        assert res.status_code == 200, res.text
        page = res.json()
        assert len(page["items"]) <= 2
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen[:4] == ids[::-1] and len(seen) == 5  # 4 transfers, then the funding deposit
    received = gateway.get("/api/payment", headers=b.headers).json()
    assert [p["id"] for p in received["items"]] == ids[::-1] and received["next_cursor"] is None


@pytest.mark.parametrize(
    "params, detail",
    [
        ({"limit": settings().page_size_max + 1}, f"limit must be between 1 and {settings().page_size_max}"),
        ({"limit": 0}, f"limit must be between 1 and {settings().page_size_max}"),
        ({"limit": "abc"}, None),
        ({"cursor": "bm90LWEtY3Vyc29y"}, "cursor is not valid"),
    ],
)
def test_bad_list_parameters_are_422(gateway, params, detail):
    a = h.customer(gateway)
    assert_problem(gateway.get("/api/payment", params=params, headers=a.headers), 422, detail)


def test_health_lists_dependencies_from_the_catalog(gateway):
    for path in ("/api/payment/health",):
        body = gateway.get(path).json()
        assert body["service"] == "payment-service"
        assert set(body["dependencies"]) == {"wallet-service", "auth-service"}
        assert body["cascade_info"]["direct_dependency"] == "wallet-service, auth-service"
