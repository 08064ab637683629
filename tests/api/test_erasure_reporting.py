"""Reporting's part of an erasure (UserErased): the user's payments lose their free-text
descriptions (in the table and in the search engine), also payments whose events arrive
after the erasure; amounts, ids and every figure stay; applied once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tests.api.reporting_helpers import deliver, empty_read_model
from tests.reporting_opensearch_fake import FakeCluster, client
from tests.support import envelope


def ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def paid(
    payment_id: str, frm: tuple[str, str] | None, to: tuple[str, str] | None, minor: int, description: str | None
) -> dict:
    when = datetime.now(UTC).isoformat()
    return envelope(
        "finflow.payment",
        "PaymentCompleted",
        {
            "payment_id": payment_id,
            "kind": "transfer" if frm and to else "deposit",
            "from_wallet_id": frm[1] if frm else None,
            "to_wallet_id": to[1] if to else None,
            "from_user_id": frm[0] if frm else None,
            "to_user_id": to[0] if to else None,
            "amount": f"{minor / 100:.2f}",
            "amount_minor": minor,
            "currency": "USD",
            "description": description,
            "completed_at": when,
        },
        occurred_at=when,
    )


def erased(user_id: str) -> dict:
    return envelope("finflow.auth", "UserErased", {"user_id": user_id, "erased_at": datetime.now(UTC).isoformat()})


def stored(payment_id: str):
    from finflow.db import engine
    from functions.reporting import store

    with engine("reporting").connect() as conn:
        return store.payment(conn, payment_id)


def figures_of(*payment_ids: str) -> list[tuple]:
    return [
        (r.payment_id, r.amount_minor, r.from_user_id, r.to_user_id, r.status) for r in (stored(p) for p in payment_ids)
    ]


@pytest.fixture(params=["postgresql", "opensearch"])
def search_engine(request, api_env):
    from functions.reporting import search

    cluster = None
    if request.param == "opensearch":
        from functions.reporting.search.opensearch import OpenSearchSearch

        cluster = FakeCluster()
        search.use(OpenSearchSearch(client(cluster), "payments"))
    empty_read_model()
    yield cluster
    search.use(None)


def found(text: str | None = None, user_id: str | None = None) -> list[str]:
    from functions.reporting import search
    from functions.reporting.search.base import SearchQuery

    page = search.engine().search(SearchQuery(text=text, id=user_id, limit=50))
    return [d.payment_id for d in page.items]


def test_an_erased_users_payments_keep_their_figures_but_no_description(search_engine):
    (ann, ann_w), (bob, bob_w) = ids(2), ids(2)
    rent, salary, lunch, late = ids(4)
    deliver(
        [
            paid(rent, (ann, ann_w), (bob, bob_w), 90000, "rent flat 3 Ann Example"),
            paid(salary, None, (ann, ann_w), 250000, "salary Ann Example"),
            paid(lunch, (bob, bob_w), None, 1500, None),
        ]
    )
    before = figures_of(rent, salary)
    assert set(found("example")) == {rent, salary}

    event = erased(ann)
    deliver([event, event])  # redelivered: applied once
    # a payment from before the erasure whose event was held up arrives after it
    deliver([paid(late, (bob, bob_w), (ann, ann_w), 700, "late note for Ann Example")])

    assert [stored(p).description for p in (rent, salary, late)] == [None, None, None]
    assert figures_of(rent, salary) == before
    assert found("example") == []
    assert set(found(user_id=ann)) == {rent, salary, late}  # still found by the ids the ledger keeps
    if search_engine is not None:
        docs = search_engine.indices["payments"]["docs"]
        assert {docs[p]["description"] for p in (rent, salary, late)} == {None}
