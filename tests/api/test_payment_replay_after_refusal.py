"""A request repeated with its Idempotency-Key answers what its first use did even when
Payment's own checks, from its replicas, would refuse it now; another request under that key
is still a 409."""

from __future__ import annotations

import pytest

from tests.api import delivery
from tests.api import payment_helpers as h
from tests.api.payment_helpers import assert_problem


@pytest.fixture
def bus():
    capture = delivery.CaptureQueue()
    yield capture
    capture.close()


def test_a_keyed_transfer_replays_after_its_source_was_closed(gateway, bus):
    a, b = h.customer(gateway), h.customer(gateway)
    a_usd, b_usd = h.funded_wallet(gateway, a, "10.00"), h.wallet(gateway, b)
    first = h.transfer(gateway, a, a_usd, b_usd, "10.00", key="close-after")
    assert first.status_code == 201, first.text
    r = gateway.put(f"/api/wallet/{a_usd}/status", headers=a.headers, json={"status": "closed"})
    assert r.status_code == 200, r.text
    delivery.deliver_cascade(bus)  # Payment's replica now knows the source is closed
    assert_problem(h.transfer(gateway, a, a_usd, b_usd, "10.00"), 400, "Source wallet is closed")

    again = h.transfer(gateway, a, a_usd, b_usd, "10.00", key="close-after")
    assert (again.status_code, again.content) == (201, first.content)
    assert again.headers["Idempotent-Replayed"] == "true"
    other = h.transfer(gateway, a, a_usd, b_usd, "9.00", key="close-after")
    assert_problem(other, 409, "Idempotency-Key was already used with a different request")
    assert h.balance(gateway, b, b_usd) == "10.00"
