"""KYC/AML over real HTTP: the seed's Test 1 with no manual step (the KYC module verifies
the user, Auth hears of it, Wallet lets them in), and the AML cascade E -> B -> C: a
payment over the threshold raises an alert a compliance officer sees, a severe one freezes
the source wallet, and Payment refuses it until compliance lifts the freeze."""

from __future__ import annotations

import json

import httpx
import pytest

from tests import support
from tests.e2e.support import Account, assert_problem, deposit, get_wallet, login, register, transfer, unique_email

pytestmark = pytest.mark.e2e

FORM = {"Content-Type": "application/x-www-form-urlencoded"}  # curl -d without -H
SEED_SUBMIT = '{"user_id":1,"document_type":"passport","document_url":"..."}'
WAIT = 20.0
POLL = 0.2


def until(what: str, check, timeout: float = WAIT):
    return support.until(what, check, timeout, POLL)


def kyc_verified(http: httpx.Client, devserver, tag: str) -> Account:
    """A customer verified the way a user is: the seed's submit body on KYC's port, then
    waiting for Wallet to let them create a wallet."""
    account = register(http, tag)
    r = httpx.post(f"{devserver.seed_url('kyc')}/api/kyc/submit", content=SEED_SUBMIT, headers=FORM | account.auth)
    assert r.status_code == 202, r.text
    return account


def wallet_once_verified(http: httpx.Client, account: Account) -> dict:
    """POST /api/wallet/create until KYC's decision has reached Auth (201), within WAIT."""

    def attempt():
        r = http.post("/api/wallet/create", headers=account.auth)
        assert r.status_code in (201, 403), r.text
        return r.json() if r.status_code == 201 else None

    return until(f"wallet creation for {account.email}", attempt)


def test_seed_1_kyc_cascade_with_no_manual_step(devserver):
    auth_url, wallet_url, kyc_url = (devserver.seed_url(k) for k in ("auth", "wallet", "kyc"))
    email = unique_email("seed1")

    # curl -X POST :8001/api/auth/register -d '{"email":...,"password":"pass123","name":"Test User"}'
    r = httpx.post(
        f"{auth_url}/api/auth/register",
        content=json.dumps({"email": email, "password": "pass123", "name": "Test User"}),
        headers=FORM,
    )
    assert r.status_code == 201, r.text
    user_id = r.json()["id"]
    with httpx.Client(base_url=auth_url, timeout=15.0) as auth:
        token = login(auth, email, "pass123")["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}

    # curl -X POST :8002/api/wallet/create -H "Authorization: Bearer <token>"  -> 403
    assert_problem(httpx.post(f"{wallet_url}/api/wallet/create", headers=bearer), 403)

    # curl -X POST :8005/api/kyc/submit -d '{"user_id":1,"document_type":"passport","document_url":"..."}'
    r = httpx.post(f"{kyc_url}/api/kyc/submit", content=SEED_SUBMIT, headers=FORM | bearer)
    assert r.status_code == 202, r.text
    assert r.json()["user_id"] == user_id  # the token's user; the body's user_id 1 is ignored

    # the same wallet request succeeds once the decision has reached Auth: no manual step
    with httpx.Client(base_url=wallet_url, timeout=15.0) as wallet_port:
        account = Account(id=user_id, email=email, password="pass123", access_token=token, refresh_token="")
        wallet = wallet_once_verified(wallet_port, account)
    assert (wallet["currency"], wallet["status"], wallet["balance"]) == ("USD", "active", "0.00")
    status = httpx.get(f"{kyc_url}/api/kyc/status", headers=bearer).json()
    assert status["kyc_status"] == "verified" and status["submissions"][0]["document_url"] == "..."


def _compliance_officer(http: httpx.Client, devserver) -> Account:
    admin = login(http, *devserver.admin)["access_token"]
    officer = register(http, "compliance")
    r = http.put(
        f"/api/auth/users/{officer.id}/roles",
        json={"roles": ["compliance"]},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert r.status_code == 200, r.text
    tokens = login(http, officer.email, officer.password)  # roles take effect on the next token
    officer.access_token = tokens["access_token"]
    return officer


def _alerts(http: httpx.Client, officer: Account) -> list[dict]:
    items, cursor = [], None
    while True:
        params = {"status": "open", "limit": 100} | ({"cursor": cursor} if cursor else {})
        r = http.get("/api/aml/alerts", params=params, headers=officer.auth)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return items


def test_a_severe_payment_raises_an_alert_for_compliance_and_freezes_the_wallet(http, devserver):
    officer = _compliance_officer(http, devserver)
    sender, receiver = kyc_verified(http, devserver, "aml-sender"), kyc_verified(http, devserver, "aml-receiver")
    source, destination = wallet_once_verified(http, sender), wallet_once_verified(http, receiver)
    deposit(http, sender, source["id"], "30000.00")
    deposit(http, sender, source["id"], "30000.00")

    # 55,000.00 USD: over 5x the 10,000.00 threshold -> a high-severity alert
    payment = transfer(http, sender, source["id"], destination["id"], "55000.00")
    assert_problem(http.get("/api/aml/alerts", headers=sender.auth), 403)  # customers never see alerts

    def alert_raised():
        return next(
            (a for a in _alerts(http, officer) if a["payment_id"] == payment["id"] and a["rule"] == "large_payment"),
            None,
        )

    alert = until("the AML alert", alert_raised)
    assert (alert["severity"], alert["wallet_id"], alert["user_id"]) == ("high", source["id"], sender.id)
    assert (alert["amount"], alert["currency"]) == ("55000.00", "USD")
    until("the freeze", lambda: get_wallet(http, sender, source["id"])["status"] == "frozen")

    r = http.post(
        "/api/payment/transfer",
        json={"from_wallet_id": source["id"], "to_wallet_id": destination["id"], "amount": "1.00"},
        headers=sender.auth,
    )
    assert_problem(r, 400)
    assert r.json()["detail"] == "Source wallet is frozen"

    lifted = http.post(
        f"/api/aml/alerts/{alert['id']}/resolve",
        json={"resolution": "source of funds documented", "unfreeze": True},
        headers=officer.auth,
    )
    assert lifted.status_code == 200, lifted.text
    assert (lifted.json()["status"], lifted.json()["freeze"]) == ("resolved", "lifted")
    assert get_wallet(http, sender, source["id"])["status"] == "active"
    assert transfer(http, sender, source["id"], destination["id"], "1.00")["status"] == "completed"
