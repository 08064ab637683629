"""One behavioural suite over both search engines behind Reporting's interface:
PostgreSQL full-text search for real (the read model's payments table) and OpenSearch
through opensearch-py against tests/reporting_opensearch_fake.py, an in-memory cluster
that interprets only the query subset the adapter emits (docs/decisions.md says why that
fake is worth having). Every test runs on both; the last one asks both the same grid of
questions and requires the same pages."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from functions.reporting.search.base import BadCursor, PaymentDoc, SearchQuery, Total
from tests.api.reporting_helpers import empty_read_model
from tests.reporting_opensearch_fake import FakeCluster, client

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _doc(
    n: int,
    currency: str,
    minor: int,
    at: datetime,
    description: str | None = None,
    *,
    kind: str = "transfer",
    status: str = "completed",
    src: int | None = 1,
    dst: int | None = 2,
) -> PaymentDoc:
    return PaymentDoc(
        payment_id=f"00000000-0000-0000-0000-{n:012d}",
        status=status,
        kind=kind,
        currency=currency,
        amount_minor=minor,
        from_wallet_id=f"wallet-{src}" if src else None,
        to_wallet_id=f"wallet-{dst}" if dst else None,
        from_user_id=f"user-{src}" if src else None,
        to_user_id=f"user-{dst}" if dst else None,
        description=description,
        failure_reason="insufficient-funds" if status == "failed" else None,
        at=at,
    )


DOCS = [
    _doc(1, "USD", 10000, T0, "Rent for March", src=1, dst=2),
    _doc(2, "USD", 2550, T0 + timedelta(hours=1), "Dinner with friends", src=2, dst=1),
    _doc(3, "USD", 500, T0 + timedelta(days=1), None, kind="deposit", src=None, dst=1),
    _doc(4, "EUR", 2000, T0 + timedelta(days=1, microseconds=1), "rent deposit, March", src=3, dst=4),
    _doc(5, "JPY", 5000, T0 + timedelta(days=1, microseconds=2), "Sushi", kind="withdrawal", src=5, dst=None),
    # the same instant as the one before: ties go by payment id, descending
    _doc(6, "JPY", 1000, T0 + timedelta(days=1, microseconds=2), "sushi rent", src=5, dst=6),
    _doc(7, "USD", 100000, T0 + timedelta(days=2), "Big rent", status="failed", kind="withdrawal", src=1, dst=None),
    _doc(8, "BHD", 1250, T0 + timedelta(days=3), "Rent in Manama", src=7, dst=8),
]


@pytest.fixture(params=["postgresql", "opensearch"])
def engine(request, api_env):
    return _loaded(request.param)


def _loaded(name: str):
    if name == "postgresql":
        from finflow.db import engine as db
        from functions.reporting import store
        from functions.reporting.search.postgres import PostgresSearch

        empty_read_model()
        with db("reporting").begin() as conn:
            for d in DOCS:
                store.insert_payment(conn, **d.as_dict())
        return PostgresSearch(lambda: db("reporting"))
    from functions.reporting.search.opensearch import OpenSearchSearch

    search = OpenSearchSearch(client(FakeCluster()), "payments")
    search.reset()
    search.index(DOCS[:4])
    search.index(DOCS[3:])  # indexing again is idempotent (same ids)
    return search


def ids(page) -> list[int]:
    return [int(d.payment_id[-12:]) for d in page.items]


def test_words_must_all_occur_case_insensitively(engine):
    assert ids(engine.search(SearchQuery(text="RENT"))) == [8, 7, 6, 4, 1]
    assert ids(engine.search(SearchQuery(text="march rent"))) == [4, 1]
    assert ids(engine.search(SearchQuery(text="rent sushi"))) == [6]
    assert ids(engine.search(SearchQuery(text="rental"))) == []  # no stemming in either engine


def test_an_id_matches_the_payment_or_either_party(engine):
    assert ids(engine.search(SearchQuery(id=DOCS[4].payment_id))) == [5]
    assert ids(engine.search(SearchQuery(id="wallet-1"))) == [7, 3, 2, 1]
    assert ids(engine.search(SearchQuery(id="user-5"))) == [6, 5]
    assert ids(engine.search(SearchQuery(id="wallet-404"))) == []


def test_currency_amount_bounds_are_inclusive_and_time_is_start_inclusive_end_exclusive(engine):
    assert ids(engine.search(SearchQuery(currency="USD", min_minor=2550, max_minor=10000))) == [2, 1]
    assert ids(engine.search(SearchQuery(currency="USD", min_minor=2551))) == [7, 1]
    day2 = T0 + timedelta(days=1)
    assert ids(engine.search(SearchQuery(start=day2, end=day2 + timedelta(microseconds=2)))) == [4, 3]
    assert ids(engine.search(SearchQuery(start=day2 + timedelta(microseconds=2), currency="JPY"))) == [6, 5]


def test_pages_follow_one_order_with_no_gaps_or_repeats(engine):
    whole = ids(engine.search(SearchQuery(limit=100)))
    assert whole == [8, 7, 6, 5, 4, 3, 2, 1]
    seen, cursor = [], None
    while True:
        page = engine.search(SearchQuery(limit=3, cursor=cursor))
        seen.append(ids(page))
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [[8, 7, 6], [5, 4, 3], [2, 1]]


def test_totals_cover_every_match_per_currency_not_only_the_page(engine):
    page = engine.search(SearchQuery(text="rent", limit=1))
    assert ids(page) == [8]
    assert page.totals == {"USD": Total(2, 110000), "EUR": Total(1, 2000), "JPY": Total(1, 1000), "BHD": Total(1, 1250)}
    assert engine.search(SearchQuery(text="nothing-here")).totals == {}


def test_documents_come_back_whole(engine):
    assert engine.search(SearchQuery(id=DOCS[6].payment_id)).items == [DOCS[6]]


@pytest.mark.parametrize("cursor", ["not-base64!", "bm90IGpzb24", "WzFd"])  # garbage, "not json", [1]
def test_a_cursor_the_engine_did_not_hand_out_is_refused(engine, cursor):
    with pytest.raises(BadCursor):
        engine.search(SearchQuery(cursor=cursor))


def test_both_engines_answer_every_combination_alike(api_env):
    engines = [_loaded("postgresql"), _loaded("opensearch")]
    texts = [None, "rent", "march rent", "sushi"]
    parties = [None, "wallet-1", "user-5"]
    currencies = [None, "USD", "JPY"]
    amounts = [(None, None), (1000, None), (None, 2550), (1000, 5000)]
    windows = [(None, None), (T0 + timedelta(days=1), None), (T0, T0 + timedelta(days=1, microseconds=2))]
    for text, party, currency, (low, high), (start, end), limit in itertools.product(
        texts, parties, currencies, amounts, windows, (2, 50)
    ):
        q = SearchQuery(
            text=text, id=party, currency=currency, min_minor=low, max_minor=high, start=start, end=end, limit=limit
        )
        answers = []
        for search in engines:
            pages, cursor = [], None
            while True:
                page = search.search(SearchQuery(**{**q.__dict__, "cursor": cursor}))
                pages.append((ids(page), page.totals))
                cursor = page.next_cursor
                if cursor is None:
                    break
            answers.append(pages)
        assert answers[0] == answers[1], q


# --- with OpenSearch configured: the consumer indexes, the rebuild reloads --------------------------


@pytest.fixture
def opensearch(api_env):
    from functions.reporting import search
    from functions.reporting.search.opensearch import OpenSearchSearch

    cluster = FakeCluster()
    search.use(OpenSearchSearch(client(cluster), "payments"))
    empty_read_model()
    yield cluster
    search.use(None)


def _indexed(cluster: FakeCluster) -> dict:
    return cluster.indices.get("payments", {}).get("docs", {})


def test_the_consumer_indexes_each_payment_after_commit_and_again_on_redelivery(opensearch, monkeypatch):
    from functions.reporting.search.opensearch import OpenSearchSearch
    from tests.api.reporting_helpers import P, deliver, history

    payments = [e for e in history() if e["detail-type"] in ("PaymentCompleted", "PaymentFailed")]
    deliver(payments[:2])
    assert set(_indexed(opensearch)) == {P["dep_ann"], P["dep_eve"]}
    assert _indexed(opensearch)[P["dep_ann"]]["description"] == "Salary January"

    # OpenSearch failing: the record fails (SQS will bring it back), the database keeps the payment
    from devserver.lambda_runtime import LambdaContext
    from functions.reporting.events import handler
    from tests.support import sqs_batch

    def refuse(self, docs):
        raise ConnectionError("OpenSearch is down")

    with monkeypatch.context() as mp:
        mp.setattr(OpenSearchSearch, "index", refuse)
        result = handler(sqs_batch(payments[2], history()[0]), LambdaContext("reporting-events"))
    assert result["batchItemFailures"] == [{"itemIdentifier": "m0"}]
    assert P["dep_eur"] not in _indexed(opensearch)
    deliver([payments[2]])  # the redelivery: already applied, indexed now
    assert P["dep_eur"] in _indexed(opensearch)


def test_the_rebuild_reloads_a_fresh_index_from_the_rebuilt_table(opensearch):
    from finflow.events import Event
    from functions.reporting import rebuild
    from tests.api.reporting_helpers import P, history

    events = [Event.from_eventbridge(e) for e in history()]
    from functions.reporting import search

    search.engine().index([DOCS[0]])  # indexed before the rebuild, in no event
    outcome = rebuild.rebuild(events)
    assert outcome.failed == [] and outcome.applied == len(events)
    docs = _indexed(opensearch)
    assert set(docs) == set(P.values())
    assert docs[P["too_much"]]["status"] == "failed"
