"""A user's export and erasure over real HTTP, across every module, each driven by an event
of Auth (UserExportRequested, UserErased).

Alice is verified through a real KYC upload, holds a wallet, pays and is paid, has
notifications and a phone number on file. She exports her data (every module's part), then
erases her account (with her password).
Afterwards no module answers or keeps her email, name, phone or document; her login and
sessions are dead; the money and the ledger are exactly as before; and each consumer
applied the event once, also when the bus delivers it a second time.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests import support
from tests.e2e.support import (
    Account,
    create_wallet,
    deposit,
    ledger_entries,
    login,
    transfer,
    unique_email,
    verified_user,
)

pytestmark = pytest.mark.e2e

WAIT = 30.0
POLL = 0.2
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def until(what: str, check, timeout: float = WAIT):
    return support.until(what, check, timeout, POLL)


def database(devserver, module: str):
    """An engine on one module's database of the devserver (it prints its DATABASE_URL)."""
    found = re.search(
        r"^\s*database\s+(\S+)\s+\(DATABASE_URL", devserver.log_path.read_text(errors="replace"), re.MULTILINE
    )
    assert found, "the devserver did not print its database"
    return create_engine(make_url(found.group(1)).set(database=module))


def rows(devserver, module: str, sql: str, **params) -> list:
    engine = database(devserver, module)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params))
    finally:
        engine.dispose()


def register_named(http: httpx.Client, name: str) -> Account:
    email, password = unique_email("erasure"), "a-long-password-1"
    r = http.post("/api/auth/register", json={"email": email, "password": password, "name": name})
    assert r.status_code == 201, r.text
    tokens = login(http, email, password)
    return Account(
        id=r.json()["id"],
        email=email,
        password=password,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
    )


def upload_and_submit(http: httpx.Client, account: Account) -> tuple[str, str]:
    """An identity document uploaded to S3 and submitted: (submission id, document key)."""
    ticket = http.post(
        "/api/kyc/uploads", json={"document_type": "passport", "content_type": "application/pdf"}, headers=account.auth
    )
    assert ticket.status_code == 201, ticket.text
    ticket = ticket.json()
    sent = httpx.post(ticket["upload_url"], data=ticket["fields"], files={"file": ("p.pdf", PDF, "application/pdf")})
    assert sent.status_code in (200, 201, 204), sent.text
    r = http.post(
        "/api/kyc/submit",
        json={"document_type": "passport", "document_key": ticket["document_key"]},
        headers=account.auth,
    )
    assert r.status_code == 202, r.text
    return r.json()["id"], ticket["document_key"]


def inbox(http: httpx.Client, account: Account) -> list[dict]:
    r = http.get("/api/notifications", params={"limit": 100}, headers=account.auth)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def settled(devserver, *queues: str) -> bool:
    """Every message of these consumer queues received and deleted (none waiting or in flight)."""
    sqs = devserver.aws("sqs")
    for name in queues:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        attrs = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        if any(int(v) for v in attrs.values()):
            return False
    return True


CONSUMERS = ("finflow-notification-from-auth", "finflow-kyc-from-auth", "finflow-reporting-from-auth")


def test_an_erased_user_is_gone_from_every_module_and_the_money_stays(http, devserver):
    admin_token = login(http, *devserver.admin)["access_token"]
    admin = {"Authorization": f"Bearer {admin_token}"}
    name, phone = "Alice Erasmus", "+14155550187"
    alice = register_named(http, name)
    submission_id, key = upload_and_submit(http, alice)
    wallet = until(
        "Alice's wallet once KYC verified her",
        lambda: (r := http.post("/api/wallet/create", headers=alice.auth)).status_code == 201 and r.json(),
    )
    assert (
        http.put(
            "/api/notifications/preferences",
            headers=alice.auth,
            json={"email": True, "sms": True, "in_app": True, "phone": phone},
        ).status_code
        == 200
    )
    bob = verified_user(http, devserver, "erasure-bob")
    bob_wallet = create_wallet(http, bob)
    deposit(http, alice, wallet["id"], "100.00")
    r = http.post(
        "/api/payment/transfer",
        headers=alice.auth,
        json={
            "from_wallet_id": wallet["id"],
            "to_wallet_id": bob_wallet["id"],
            "amount": "30.00",
            "description": "dinner",
        },
    )
    assert r.status_code == 201, r.text
    transfer(http, bob, bob_wallet["id"], wallet["id"], "5.00")
    until("Bob's notification naming Alice", lambda: any(name in n["body"] for n in inbox(http, bob)))
    until("Alice's welcome", lambda: any(name in n["body"] for n in inbox(http, alice)))
    until(
        "Reporting holding the transfer's description", lambda: "dinner" in json.dumps(reports_of(http, admin, alice))
    )
    as_admin = Account(alice.id, alice.email, "", admin_token, "")
    ledger_before = ledger_entries(http, as_admin, wallet["id"])

    # before leaving, Alice takes her data with her: every module's part, through links Auth signs
    r = http.post("/api/auth/me/exports", headers=alice.auth)
    assert r.status_code == 202, r.text
    export = until(
        "every module's part of Alice's export",
        lambda: (
            (e := http.get(f"/api/auth/me/exports/{r.json()['export_id']}", headers=alice.auth).json())["status"]
            == "complete"
            and e
        ),
    )
    parts = {m: httpx.get(url).json()["data"] for m, url in export["parts"].items()}
    assert parts["auth"]["profile"]["email"] == alice.email
    assert [w["id"] for w in parts["wallet"]["wallets"]] == [wallet["id"]]
    assert len(parts["wallet"]["transactions"][wallet["id"]]) == len(ledger_before)
    assert {p["description"] for p in parts["payment"]["payments"]} >= {"dinner"}
    assert parts["notification"]["preferences"]["phone"] == phone
    assert parts["notification"]["contact"]["name"] == name
    assert [s["document_key"] for s in parts["kyc"]["submissions"]] == [key]

    wrong = http.post("/api/auth/me/erasure", json={"password": "not-it"}, headers=alice.auth)
    assert wrong.status_code == 403, wrong.text
    r = http.post("/api/auth/me/erasure", json={"password": alice.password}, headers=alice.auth)
    assert r.status_code == 202, r.text

    # Auth at once: no login, no session, a placeholder profile
    assert http.post("/api/auth/login", json={"email": alice.email, "password": alice.password}).status_code == 401
    assert http.post("/api/auth/refresh", json={"refresh_token": alice.refresh_token}).status_code == 401
    profile = http.get(f"/api/auth/users/{alice.id}", headers=admin).json()
    assert alice.email not in profile["email"] and profile["name"] != name

    # the other modules, once the event reached them
    until("Bob's notification no longer naming Alice", lambda: not any(name in n["body"] for n in inbox(http, bob)))
    until(
        "Reporting dropping the transfer's description",
        lambda: "dinner" not in json.dumps(reports_of(http, admin, alice)),
    )
    submission = until(
        "KYC forgetting Alice's document",
        lambda: (
            (s := http.get(f"/api/kyc/submissions/{submission_id}", headers=admin).json())["documents_erased_at"] and s
        ),
    )
    assert (submission["document_key"], submission["document_url"], submission["status"]) == (None, None, "verified")
    assert submission.get("document_download_url") is None

    # what the APIs answer
    assert inbox(http, alice) == []
    assert http.get("/api/notifications/preferences", headers=alice.auth).json().get("phone") is None
    seen = json.dumps([inbox(http, bob), submission, reports_of(http, admin, alice), profile])
    for personal in (alice.email, name, key, phone):
        assert personal not in seen

    # what the stores keep
    s3 = devserver.aws("s3")
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if "kyc" in b["Name"])
    versions = s3.list_object_versions(Bucket=bucket, Prefix=f"users/{alice.id}/")
    assert versions.get("Versions", []) + versions.get("DeleteMarkers", []) == []
    exports_bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if "exports" in b["Name"])
    assert s3.list_objects_v2(Bucket=exports_bucket, Prefix=f"exports/{export['export_id']}/")["KeyCount"] == 0
    for module, sql in (
        ("auth", "SELECT email, name FROM users"),
        ("auth", "SELECT detail::text FROM outbox"),
        ("kyc", "SELECT document_url, document_key FROM submissions"),
        ("reporting", "SELECT description FROM payments WHERE from_user_id = :u OR to_user_id = :u"),
    ):
        stored = json.dumps([list(map(str, row)) for row in rows(devserver, module, sql, u=alice.id)])
        for personal in (alice.email, name, key):
            assert personal not in stored, (module, sql, personal)

    # the money: balances and Alice's ledger exactly as before
    assert http.get(f"/api/wallet/{wallet['id']}", headers=admin).json()["balance"] == "75.00"
    assert http.get(f"/api/wallet/{bob_wallet['id']}", headers=admin).json()["balance"] == "25.00"
    assert ledger_entries(http, as_admin, wallet["id"]) == ledger_before

    # once per consumer, also when the bus brings the same event again
    (event,) = rows(
        devserver,
        "auth",
        "SELECT detail FROM outbox WHERE detail_type = 'UserErased' AND detail->'data'->>'user_id' = :u",
        u=alice.id,
    )
    bob_inbox = inbox(http, bob)
    until("the first delivery consumed", lambda: settled(devserver, *CONSUMERS))
    result = devserver.aws("events").put_events(
        Entries=[
            {
                "EventBusName": "finflow",
                "Source": "finflow.auth",
                "DetailType": "UserErased",
                "Detail": json.dumps(event.detail),
            }
        ]
    )
    assert result["FailedEntryCount"] == 0, result
    until("the redelivery consumed", lambda: settled(devserver, *CONSUMERS))
    assert inbox(http, bob) == bob_inbox
    for module in ("kyc", "reporting"):
        (claims,) = rows(
            devserver, module, "SELECT count(*) FROM processed_events WHERE event_id = :e", e=event.detail["event_id"]
        )
        assert claims[0] == 1, module
    for queue in CONSUMERS:  # nothing failed its way to a dead-letter queue
        assert settled(devserver, f"{queue}-dlq"), queue


def reports_of(http: httpx.Client, admin: dict, account: Account) -> list[dict]:
    r = http.get("/api/reports/payments/search", params={"q": account.id, "limit": 100}, headers=admin)
    assert r.status_code == 200, r.text
    return r.json()["items"]
