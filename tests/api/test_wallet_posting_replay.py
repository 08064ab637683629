"""A posting sent again (Payment's retry, its reconciler) is answered as it was first applied,
whatever its checks would say now; the same id with another posting is a conflict either way."""

from __future__ import annotations

import uuid

from tests.api.test_wallet import deposit, post, transfer_body, wallet_of


def test_a_posting_replayed_after_its_checks_changed_answers_as_first_applied(gateway, verified_customer):
    a, b = verified_customer(), verified_customer()
    wa, wb = wallet_of(gateway, a), wallet_of(gateway, b)
    deposit(gateway, wa, 1_000)
    body = transfer_body(wa, wb, 1_000, initiator_user_id=a.id)
    first = post(gateway, body)
    assert first.status_code == 201, first.text
    assert [(e["wallet_id"], e["amount_minor"], e["balance_after_minor"]) for e in first.json()["entries"]] == [
        (wa["id"], -1_000, 0),
        (wb["id"], 1_000, 1_000),
    ]
    # the source is empty now and then frozen: the posting's checks would refuse it
    assert post(gateway, {**body, "posting_id": uuid.uuid4().hex}).status_code == 422
    assert gateway.put(f"/api/wallet/{wa['id']}/status", headers=a.headers, content='"frozen"').status_code == 200
    again = post(gateway, body)
    assert (again.status_code, again.json()) == (200, first.json())
    other = post(gateway, {**body, "amount_minor": 1})
    assert other.status_code == 409 and other.json()["detail"] == "posting id was already used for a different posting"
    assert gateway.get(f"/api/wallet/{wb['id']}", headers=b.headers).json()["balance"] == "10.00"
