"""The benchmark's peer (bench/peer: the seed's three services over HTTP) moves money
correctly, so `make bench` never compares FinFlow with a peer that cuts corners or broke."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from bench.peer import schema
from bench.peer.services import Peer
from bench.transfers import verify


@pytest.fixture(scope="module")
def peer(pg_server_url):
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    prefix = f"p{uuid.uuid4().hex[:6]}_"
    databases = schema.create(pg_server_url, prefix)
    try:
        with Peer(databases) as running:
            yield running, databases
    finally:
        e = create_engine(make_url(pg_server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with e.connect() as conn:
            for service in schema.DDL:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{prefix}peer_{service}" WITH (FORCE)')
        e.dispose()


def balances(databases, *wallet_ids) -> list[int]:
    with psycopg.connect(databases["wallet"]) as conn:
        rows = dict(
            conn.execute("SELECT id::text, balance_minor FROM wallets WHERE id::text = ANY(%s)", (list(wallet_ids),))
        )
    return [rows[w] for w in wallet_ids]


def transfer(client, peer, user_id, src, dst, amount, key):
    return client.post(
        f"{peer.url}/transfer",
        json={"from_wallet_id": src, "to_wallet_id": dst, "amount": amount},
        headers={"Authorization": f"Bearer {peer.user_token(user_id)}", "Idempotency-Key": key},
    )


def test_a_transfer_moves_the_money_once_and_the_ledger_balances(peer):
    import httpx

    running, databases = peer
    (alice, a), (_bob, b) = schema.customers(databases, 2, funds_minor=10_000)
    with httpx.Client() as client:
        first = transfer(client, running, alice, a, b, "12.34", "k-1")
        again = transfer(client, running, alice, a, b, "12.34", "k-1")  # a retry with the same key
        assert first.status_code == 201, first.text
        assert again.status_code == 201 and again.json() == first.json()
        assert balances(databases, a, b) == [8_766, 11_234]

        too_much = transfer(client, running, alice, a, b, "100.00", "k-2")
        assert too_much.status_code == 422 and too_much.json()["detail"] == "Insufficient funds"
        not_mine = transfer(client, running, alice, b, a, "1.00", "k-3")
        assert not_mine.status_code == 403
        assert balances(databases, a, b) == [8_766, 11_234]
    verify(databases["wallet"], databases["payment"], expected_completed=1)


def test_an_unverified_customer_cannot_pay(peer):
    import httpx

    running, databases = peer
    (carol, c), (_dan, d) = schema.customers(databases, 2, funds_minor=10_000, kyc_status="pending")
    with httpx.Client() as client:
        refused = transfer(client, running, carol, c, d, "1.00", "k-1")
    assert refused.status_code == 403 and refused.json()["detail"] == "KYC verification required"
    assert balances(databases, c, d) == [10_000, 10_000]
