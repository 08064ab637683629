"""Money over real HTTP: the seed's KYC and wallet-status cascades, v1 next to v2 wallets,
races on one balance, idempotent retries, bad amounts, other users' wallets, Payment's
health. Auth, Wallet and Payment run in the devserver; KYC decisions are put on the bus
as the KYC module will put them."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest

from tests.e2e.support import (
    Account,
    assert_problem,
    balance,
    create_wallet,
    deposit,
    get_wallet,
    ledger_entries,
    login,
    payment_ids,
    put_kyc_decisions,
    unique_email,
    verified_users,
    wait_for_kyc,
    withdraw,
)

pytestmark = pytest.mark.e2e

# curl -d without -H: the body is JSON, the content type says form data
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}
PROBLEM = "application/problem+json"


def bearer(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.access_token}"}


def problem_detail(r: httpx.Response, status: int) -> str:
    """The `detail` of a problem+json answer with `status`."""
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text}"
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    return r.json()["detail"]


# -- the seed's Test 1: KYC validation cascade ----------------------------------------


def test_seed_1_kyc_validation_cascade(devserver):
    auth_url, wallet_url = devserver.seed_url("auth"), devserver.seed_url("wallet")
    email = unique_email("test")

    # 1. curl -X POST :8001/api/auth/register -d '{"email":...,"password":"pass123","name":"Test User"}'
    r = httpx.post(
        f"{auth_url}/api/auth/register",
        content=json.dumps({"email": email, "password": "pass123", "name": "Test User"}),
        headers=FORM,
    )
    assert r.status_code == 201, r.text
    assert r.json()["kyc_status"] == "pending"
    with httpx.Client(base_url=auth_url, timeout=15.0) as auth:
        tokens = login(auth, email, "pass123")
        user = Account(
            id=r.json()["id"],
            email=email,
            password="pass123",
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
        )

        # 2. curl -X POST :8002/api/wallet/create -H "Authorization: Bearer <token>" -> 403
        r = httpx.post(f"{wallet_url}/api/wallet/create", headers=bearer(user))
        assert problem_detail(r, 403) == "KYC verification required"

        # 3./4. the KYC module verifies the user: KycDecisionMade on the bus -> Auth
        put_kyc_decisions(devserver, [user.id])
        me = wait_for_kyc(auth, user, "verified")
        assert me["kyc_status"] == "verified", f"KYC decision did not reach Auth in time: {me}"

    # 5. the same request now creates the wallet
    r = httpx.post(f"{wallet_url}/api/wallet/create", headers=bearer(user))
    assert r.status_code == 201, r.text
    wallet = r.json()
    assert wallet["user_id"] == user.id and wallet["currency"] == "USD"
    assert wallet["balance"] == "0.00" and wallet["status"] == "active" and wallet["id"]


# -- the seed's Test 2: wallet status change ----------------------------------------------


def test_seed_2_wallet_status_change(http, devserver):
    wallet_url, payment_url = devserver.seed_url("wallet"), devserver.seed_url("payment")
    owner, other = verified_users(http, devserver, 2, "seed2")
    source, destination = create_wallet(http, owner), create_wallet(http, other)
    # funded, so the freeze is the only thing that can stop the transfer below
    deposit(http, owner, source["id"], "100.00")
    payments_before = payment_ids(http, owner)

    # 1. curl -X PUT :8002/api/wallet/<id>/status -H "Authorization: Bearer <token>" -d '"frozen"'
    r = httpx.put(f"{wallet_url}/api/wallet/{source['id']}/status", content='"frozen"', headers=FORM | bearer(owner))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == source["id"] and r.json()["status"] == "frozen"

    # 2. curl -X POST :8003/api/payment/transfer -d '{"from_wallet_id":...,"to_wallet_id":...,"amount":100}'
    body = json.dumps({"from_wallet_id": source["id"], "to_wallet_id": destination["id"], "amount": 100})
    # The seed's curl sends no token; the contract requires one on every money route.
    anonymous = httpx.post(f"{payment_url}/api/payment/transfer", content=body, headers=FORM)
    assert_problem(anonymous, 401)
    r = httpx.post(f"{payment_url}/api/payment/transfer", content=body, headers=FORM | bearer(owner))
    assert problem_detail(r, 400) == "Source wallet is frozen"

    assert get_wallet(http, owner, source["id"])["status"] == "frozen"
    assert balance(http, owner, source["id"]) == "100.00"
    assert balance(http, other, destination["id"]) == "0.00"
    assert payment_ids(http, owner) == payments_before


# -- Scenario 2: v1 clients next to v2 (multi-currency) wallets ---------------------------


def test_v1_clients_keep_working_next_to_v2_wallets(http, devserver):
    alice, bob = verified_users(http, devserver, 2, "multi")
    eur, jpy = create_wallet(http, alice, "EUR"), create_wallet(http, alice, "JPY")
    assert (eur["currency"], eur["balance"]) == ("EUR", "0.00")
    assert (jpy["currency"], jpy["balance"]) == ("JPY", "0")  # no minor unit

    # v1 creation, under both v1 prefixes, still makes USD wallets
    r = http.post("/api/v1/wallet/create", headers=alice.auth)
    assert r.status_code == 201, r.text
    alice_usd = r.json()
    assert alice_usd["currency"] == "USD" and alice_usd["balance"] == "0.00"
    r = http.post("/api/wallet/create", headers=bob.auth)
    assert r.status_code == 201, r.text
    bob_usd = r.json()
    assert bob_usd["currency"] == "USD"
    bob_eur = create_wallet(http, bob, "EUR")

    # v1 reads see every wallet, each with its currency
    r = http.get("/api/wallet", headers=alice.auth)
    assert r.status_code == 200, r.text
    assert {w["id"]: w["currency"] for w in r.json()["items"]} == {
        alice_usd["id"]: "USD",
        eur["id"]: "EUR",
        jpy["id"]: "JPY",
    }
    r = http.get(f"/api/v1/wallet/{eur['id']}", headers=alice.auth)
    assert r.status_code == 200 and r.json()["currency"] == "EUR", r.text

    # a v1-style transfer: USD -> USD, no currency anywhere in the body
    deposit(http, alice, alice_usd["id"], "50.00")
    body = {"from_wallet_id": alice_usd["id"], "to_wallet_id": bob_usd["id"], "amount": 20}
    r = http.post("/api/payment/transfer", json=body, headers=alice.auth)
    assert r.status_code == 201, r.text
    payment = r.json()
    assert payment["status"] == "completed" and payment["amount"] == "20.00" and payment["currency"] == "USD"
    assert balance(http, alice, alice_usd["id"]) == "30.00"
    assert balance(http, bob, bob_usd["id"]) == "20.00"

    # USD -> EUR is refused: no silent conversion
    before = payment_ids(http, alice)
    r = http.post(
        "/api/payment/transfer",
        headers=alice.auth,
        json={"from_wallet_id": alice_usd["id"], "to_wallet_id": bob_eur["id"], "amount": 10},
    )
    assert_problem(r, 422, "currency")
    assert balance(http, alice, alice_usd["id"]) == "30.00"
    assert balance(http, bob, bob_eur["id"]) == "0.00"
    assert payment_ids(http, alice) == before


# -- concurrency: one balance, fifty transfers --------------------------------------------


def _parallel(devserver, requests: list[tuple[str, dict, dict]], workers: int) -> list[httpx.Response]:
    """POST every (path, json, headers) at once from `workers` threads over one pooled client."""
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    with (
        httpx.Client(base_url=devserver.url, timeout=90.0, limits=limits) as client,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        return list(pool.map(lambda req: client.post(req[0], json=req[1], headers=req[2]), requests))


def _total(http, wallets: list[tuple[Account, str]]) -> Decimal:
    return sum((Decimal(balance(http, owner, wallet_id)) for owner, wallet_id in wallets), Decimal(0))


def test_fifty_parallel_transfers_never_overdraw(http, devserver):
    payer, payee = verified_users(http, devserver, 2, "race")
    source, destination = create_wallet(http, payer), create_wallet(http, payee)
    deposit(http, payer, source["id"], "100.00")
    deposited, withdrawn = Decimal("100.00"), Decimal(0)
    body = {"from_wallet_id": source["id"], "to_wallet_id": destination["id"], "amount": "10.00"}

    responses = _parallel(devserver, [("/api/payment/transfer", body, payer.auth)] * 50, workers=50)

    server_errors = [(r.status_code, r.text) for r in responses if r.status_code >= 500]
    assert not server_errors, server_errors
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 10, 422: 40}, [(r.status_code, r.text) for r in responses if r.status_code != 201]
    assert {problem_detail(r, 422) for r in responses if r.status_code == 422} == {"Insufficient funds"}
    completed = [r.json() for r in responses if r.status_code == 201]
    assert len({p["id"] for p in completed}) == 10
    assert all(p["status"] == "completed" and p["amount"] == "10.00" for p in completed), completed

    assert balance(http, payer, source["id"]) == "0.00"
    assert balance(http, payee, destination["id"]) == "100.00"
    debits = [e for e in ledger_entries(http, payer, source["id"]) if e["kind"] == "transfer"]
    assert sorted(e["posting_id"] for e in debits) == sorted(p["id"] for p in completed)
    assert all(e["amount"] == "-10.00" and Decimal(e["balance_after"]) >= 0 for e in debits), debits

    # the invariant: USD in these wallets is exactly what came in minus what went out
    wallets = [(payer, source["id"]), (payee, destination["id"])]
    assert _total(http, wallets) == deposited - withdrawn
    withdraw(http, payee, destination["id"], "30.00")
    withdrawn += Decimal("30.00")
    assert _total(http, wallets) == deposited - withdrawn == Decimal("70.00")


# -- idempotency: one key, twenty concurrent retries ----------------------------------------


def test_one_idempotency_key_moves_money_once(http, devserver):
    payer, payee = verified_users(http, devserver, 2, "idem")
    source, destination = create_wallet(http, payer), create_wallet(http, payee)
    deposit(http, payer, source["id"], "100.00")
    key = f"e2e-{uuid.uuid4()}"
    body = {"from_wallet_id": source["id"], "to_wallet_id": destination["id"], "amount": "25.00"}
    headers = payer.auth | {"Idempotency-Key": key}

    responses = _parallel(devserver, [("/api/payment/transfer", body, headers)] * 20, workers=20)

    assert [r.status_code for r in responses] == [201] * 20, [(r.status_code, r.text) for r in responses]
    first = responses[0].json()
    assert all(r.json() == first for r in responses), {r.text for r in responses}
    assert first["status"] == "completed" and first["amount"] == "25.00"
    debits = [e for e in ledger_entries(http, payer, source["id"]) if e["posting_id"] == first["id"]]
    assert [e["amount"] for e in debits] == ["-25.00"], debits
    assert balance(http, payer, source["id"]) == "75.00"
    assert balance(http, payee, destination["id"]) == "25.00"
    assert payment_ids(http, payer).count(first["id"]) == 1

    # the same key once more, now that the payment is done: the same answer, nothing moves
    again = http.post("/api/payment/transfer", json=body, headers=headers)
    assert again.status_code == 201 and again.json() == first, again.text
    # the same key with another amount is another request: refused
    r = http.post("/api/payment/transfer", json=body | {"amount": "26.00"}, headers=headers)
    assert_problem(r, 409)
    assert balance(http, payer, source["id"]) == "75.00"
    assert balance(http, payee, destination["id"]) == "25.00"


# -- amounts that are not money ---------------------------------------------------------------

RAW = object()  # the amount is sent as the raw JSON number text 1e309 (json.dumps cannot write it)

BAD_AMOUNTS = [
    pytest.param("USD", 0, id="zero"),
    pytest.param("USD", -5, id="negative"),
    pytest.param("USD", RAW, id="1e309"),
    pytest.param("USD", "abc", id="not-a-number"),
    pytest.param("USD", "1.005", id="usd-three-decimals"),
    pytest.param("JPY", "1.5", id="jpy-decimals"),
    pytest.param("USD", "1000000.01", id="over-max-string"),
    pytest.param("USD", 1000001, id="over-max-number"),
]


@pytest.fixture(scope="module")
def funded(devserver):
    """A payer with funded USD and JPY wallets and a payee with one of each (shared, read-mostly)."""
    with httpx.Client(base_url=devserver.url, timeout=15.0) as client:
        payer, payee = verified_users(client, devserver, 2, "amounts")
        wallets = {
            "payer": {c: create_wallet(client, payer, c)["id"] for c in ("USD", "JPY")},
            "payee": {c: create_wallet(client, payee, c)["id"] for c in ("USD", "JPY")},
        }
        deposit(client, payer, wallets["payer"]["USD"], "500.00")
        deposit(client, payer, wallets["payer"]["JPY"], 5000)
        yield payer, payee, wallets


def _request_text(fields: dict, amount) -> str:
    if amount is RAW:
        return json.dumps(fields | {"amount": 0}).replace('"amount": 0', '"amount": 1e309')
    return json.dumps(fields | {"amount": amount})


def _snapshot(http, funded) -> tuple:
    payer, payee, wallets = funded
    balances = {
        (who, c): balance(http, payer if who == "payer" else payee, wid)
        for who, by_currency in wallets.items()
        for c, wid in by_currency.items()
    }
    return balances, payment_ids(http, payer), payment_ids(http, payee)


@pytest.mark.parametrize("operation", ["deposit", "transfer"])
@pytest.mark.parametrize("currency, amount", BAD_AMOUNTS)
def test_an_invalid_amount_is_refused_and_moves_nothing(http, funded, operation, currency, amount):
    payer, _, wallets = funded
    if operation == "deposit":
        fields = {"wallet_id": wallets["payer"][currency]}
    else:
        fields = {"from_wallet_id": wallets["payer"][currency], "to_wallet_id": wallets["payee"][currency]}
    before = _snapshot(http, funded)

    r = http.post(f"/api/payment/{operation}", content=_request_text(fields, amount), headers=JSON | payer.auth)

    detail = assert_problem(r, 422, "amount")["detail"]
    assert "insufficient" not in detail.lower(), detail  # refused for the amount itself, not the balance
    assert _snapshot(http, funded) == before


# -- BOLA: another user's token on someone else's wallet and payment ---------------------------


def test_another_user_cannot_read_or_move_someone_elses_money(http, devserver):
    owner, intruder = verified_users(http, devserver, 2, "bola")
    wallet = create_wallet(http, owner)
    wid = wallet["id"]
    payment = deposit(http, owner, wid, "50.00")
    intruders_wallet = create_wallet(http, intruder)
    entries_before = ledger_entries(http, owner, wid)

    attempts = [
        ("GET", f"/api/wallet/{wid}", None),
        ("GET", f"/api/v1/wallet/{wid}", None),
        ("GET", f"/api/v2/wallet/{wid}", None),
        ("PUT", f"/api/wallet/{wid}/status", "frozen"),
        ("PUT", f"/api/v2/wallet/{wid}/status", {"status": "frozen", "reason": "mine now"}),
        ("PUT", f"/api/wallet/{wid}/status", {"status": "closed"}),
        ("GET", f"/api/wallet/{wid}/transactions", None),
        (
            "POST",
            "/api/payment/transfer",
            {"from_wallet_id": wid, "to_wallet_id": intruders_wallet["id"], "amount": "10.00"},
        ),
        ("POST", "/api/payment/deposit", {"wallet_id": wid, "amount": "10.00"}),
        ("POST", "/api/payment/withdraw", {"wallet_id": wid, "amount": "10.00"}),
        ("GET", f"/api/payment/{payment['id']}", None),
    ]
    for method, path, body in attempts:
        r = http.request(method, path, json=body, headers=intruder.auth)
        assert r.status_code in (403, 404), f"{method} {path} by another user: {r.status_code} {r.text}"
        assert r.headers["content-type"].startswith(PROBLEM), (method, path, r.headers)
        assert "50.00" not in r.text, (method, path, r.text)  # nothing of the wallet leaks
    assert payment["id"] not in payment_ids(http, intruder)

    after = get_wallet(http, owner, wid)
    assert (after["balance"], after["status"]) == ("50.00", "active")
    assert ledger_entries(http, owner, wid) == entries_before
    assert balance(http, intruder, intruders_wallet["id"]) == "0.00"
    assert payment_ids(http, owner) == [payment["id"]]


# -- health ---------------------------------------------------------------------------------


def test_payment_health_on_its_seed_port_shows_the_cascade(devserver):
    r = httpx.get(f"{devserver.seed_url('payment')}/health", timeout=15.0)
    assert r.status_code == 200, r.text
    health = r.json()
    assert health["status"] == "healthy" and health["service"] == "payment-service", health
    assert health["dependencies"] == {"wallet-service": "healthy", "auth-service": "healthy"}, health
    cascade = health["cascade_info"]
    assert "wallet-service" in cascade["direct_dependency"].split(", "), cascade
    assert cascade["indirect_dependency"] == "auth-service (via wallet-service)", cascade
    assert {"KYC check", "token validation", "wallet status"} <= set(cascade["cascaded_validations"]), cascade


def test_a_wallet_outage_fails_payments_fast_with_503(http, devserver):
    """With Wallet down (the devserver's failure injection), a transfer answers 503
    (problem+json, Retry-After) instead of hanging, and no money moves."""
    payer, payee = verified_users(http, devserver, 2, "outage")
    source, destination = create_wallet(http, payer), create_wallet(http, payee)
    deposit(http, payer, source["id"], "30.00")
    before = payment_ids(http, payer)
    body = {"from_wallet_id": source["id"], "to_wallet_id": destination["id"], "amount": "10.00"}

    attempts = (("transfer", body), ("deposit", {"wallet_id": source["id"], "amount": "5.00"}))
    keys = [f"outage-{operation}-{uuid.uuid4().hex[:8]}" for operation, _ in attempts]
    assert http.post("/_dev/modules/wallet/down").json()["status"] == "down"
    try:
        for (operation, fields), key in zip(attempts, keys, strict=True):
            r = http.post(f"/api/payment/{operation}", json=fields, headers=payer.auth | {"Idempotency-Key": key})
            assert_problem(r, 503, "wallet")  # pending (the posting may have arrived) or, breaker open, nothing
            assert r.headers.get("Retry-After"), r.headers
    finally:
        assert http.post("/_dev/modules/wallet/up").json()["status"] == "up"
    # Wallet back (Payment's breaker closes again after 2 s locally): a retry with the same key converges
    deadline = time.monotonic() + 20
    for (operation, fields), key in zip(attempts, keys, strict=True):
        while (
            http.post(f"/api/payment/{operation}", json=fields, headers=payer.auth | {"Idempotency-Key": key})
        ).status_code != 201:
            assert time.monotonic() < deadline, "payments did not recover after Wallet came back"
            time.sleep(0.5)
    assert len(payment_ids(http, payer)) == len(before) + 2  # each once, however often it was retried
    assert balance(http, payer, source["id"]) == "25.00"
    assert balance(http, payee, destination["id"]) == "10.00"
