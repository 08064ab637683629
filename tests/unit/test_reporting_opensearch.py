"""Reporting's OpenSearch adapter as data: the index mapping, the bulk body, the search
body for each filter, and the parsing of OpenSearch's response shape; then the requests
the adapter actually sends through opensearch-py (a recording fake connection)."""

import json
from datetime import UTC, datetime

import pytest
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError

from finflow import pages
from functions.reporting.search import opensearch as adapter
from functions.reporting.search.base import PaymentDoc, SearchQuery, Total, decode_cursor, encode_cursor
from tests.reporting_opensearch_fake import FakeCluster, client

AT = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
DOC = PaymentDoc(
    payment_id="p-1",
    status="completed",
    kind="transfer",
    currency="USD",
    amount_minor=2550,
    from_wallet_id="w-1",
    to_wallet_id="w-2",
    from_user_id="u-1",
    to_user_id="u-2",
    description="Rent for March",
    failure_reason=None,
    at=AT,
)


@pytest.fixture(autouse=True)
def cursor_key(monkeypatch):
    """Cursors are signed with the module's key (finflow.pages), read from Secrets Manager in a
    function; a fixed one here, where no AWS endpoint runs."""
    monkeypatch.setattr(pages, "_module_key", lambda module: b"k" * 32)


SORT = [{"at": {"order": "desc"}}, {"payment_id": {"order": "desc"}}]
AGGS = {
    "currencies": {"terms": {"field": "currency", "size": 500}, "aggs": {"volume": {"sum": {"field": "amount_minor"}}}}
}


def test_mapping_is_strict_keywords_for_ids_long_amounts_text_description_nanosecond_dates():
    mapping = adapter.INDEX_BODY["mappings"]
    assert mapping["dynamic"] == "strict"
    types = {f: spec["type"] for f, spec in mapping["properties"].items()}
    assert types == {
        "payment_id": "keyword",
        "status": "keyword",
        "kind": "keyword",
        "currency": "keyword",
        "amount_minor": "long",
        "from_wallet_id": "keyword",
        "to_wallet_id": "keyword",
        "from_user_id": "keyword",
        "to_user_id": "keyword",
        "description": "text",
        "failure_reason": "text",
        "at": "date_nanos",
    }
    assert set(types) == set(PaymentDoc.__dataclass_fields__)  # every field a document carries, no more


def test_bulk_body_indexes_by_payment_id_with_utc_microsecond_times():
    assert adapter.bulk_body("payments", [DOC]) == [
        {"index": {"_index": "payments", "_id": "p-1"}},
        {
            "payment_id": "p-1",
            "status": "completed",
            "kind": "transfer",
            "currency": "USD",
            "amount_minor": 2550,
            "from_wallet_id": "w-1",
            "to_wallet_id": "w-2",
            "from_user_id": "u-1",
            "to_user_id": "u-2",
            "description": "Rent for March",
            "failure_reason": None,
            "at": "2026-01-02T03:04:05.123456Z",
        },
    ]


def test_an_empty_query_sorts_newest_first_and_aggregates_per_currency():
    assert adapter.query_body(SearchQuery(limit=20)) == {
        "size": 21,
        "query": {"bool": {"filter": []}},
        "sort": SORT,
        "track_total_hits": False,
        "aggs": AGGS,
    }


def test_every_filter_as_the_request_body_carries_it():
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 3, tzinfo=UTC)
    cursor = encode_cursor([1767225600000000000, "p-9"])
    body = adapter.query_body(
        SearchQuery(
            text="rent march",
            currency="USD",
            min_minor=100,
            max_minor=5000,
            start=start,
            end=end,
            limit=2,
            cursor=cursor,
        )
    )
    assert body == {
        "size": 3,
        "query": {
            "bool": {
                "filter": [
                    {"term": {"currency": "USD"}},
                    {"range": {"amount_minor": {"gte": 100, "lte": 5000}}},
                    {"range": {"at": {"gte": "2026-01-01T00:00:00Z", "lt": "2026-01-03T00:00:00Z"}}},
                ],
                "must": [{"match": {"description": {"query": "rent march", "operator": "and"}}}],
            }
        },
        "sort": SORT,
        "track_total_hits": False,
        "aggs": AGGS,
        "search_after": [1767225600000000000, "p-9"],
    }


def test_an_id_matches_any_of_the_five_id_fields_and_one_sided_ranges_stay_one_sided():
    body = adapter.query_body(SearchQuery(id="u-1", max_minor=10, start=AT))
    assert body["query"] == {
        "bool": {
            "filter": [
                {
                    "bool": {
                        "should": [
                            {"term": {"payment_id": "u-1"}},
                            {"term": {"from_wallet_id": "u-1"}},
                            {"term": {"to_wallet_id": "u-1"}},
                            {"term": {"from_user_id": "u-1"}},
                            {"term": {"to_user_id": "u-1"}},
                        ],
                        "minimum_should_match": 1,
                    }
                },
                {"range": {"amount_minor": {"lte": 10}}},
                {"range": {"at": {"gte": "2026-01-02T03:04:05.123456Z"}}},
            ]
        }
    }


def test_a_response_in_opensearchs_shape_becomes_a_page():
    source = adapter.document(DOC)
    response = {
        "took": 3,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {
            "max_score": None,
            "hits": [
                {
                    "_index": "payments",
                    "_id": "p-1",
                    "_score": None,
                    "_source": source,
                    "sort": [1767323045123456000, "p-1"],
                },
                {
                    "_index": "payments",
                    "_id": "p-0",
                    "_score": None,
                    "_source": {**source, "payment_id": "p-0"},
                    "sort": [1767323045123456000, "p-0"],
                },
            ],
        },
        "aggregations": {
            "currencies": {
                "doc_count_error_upper_bound": 0,
                "sum_other_doc_count": 0,
                "buckets": [
                    {"key": "USD", "doc_count": 7, "volume": {"value": 123456789.0}},
                    {"key": "JPY", "doc_count": 1, "volume": {"value": 500.0}},
                ],
            }
        },
    }
    page = adapter.parse_page(response, limit=1)
    assert page.items == [DOC]
    assert decode_cursor(page.next_cursor, 2) == [1767323045123456000, "p-1"]  # the last item's sort values
    assert page.totals == {"USD": Total(7, 123456789), "JPY": Total(1, 500)}
    assert adapter.parse_page(response, limit=2).next_cursor is None


def test_the_adapter_creates_the_index_once_bulk_indexes_and_searches():
    cluster = FakeCluster()
    search = adapter.OpenSearchSearch(client(cluster), "payments")
    search.index([DOC])
    search.index([DOC])
    page = search.search(SearchQuery(text="rent", limit=5))
    sent = [(m, p) for m, p, _, _ in cluster.requests]
    assert sent == [
        ("HEAD", "/payments"),
        ("PUT", "/payments"),
        ("POST", "/_bulk"),
        ("POST", "/_bulk"),
        ("POST", "/payments/_search"),
    ]
    assert cluster.requests[1][3] == adapter.INDEX_BODY
    assert cluster.requests[2][3] == adapter.bulk_body("payments", [DOC])  # ndjson, as sent
    assert cluster.requests[4][3] == adapter.query_body(SearchQuery(text="rent", limit=5))
    assert page.items == [DOC]


def test_reset_drops_and_recreates_the_index():
    cluster = FakeCluster()
    search = adapter.OpenSearchSearch(client(cluster), "payments")
    search.reset()  # no index yet: the 404 on delete is fine
    search.index([DOC])
    search.reset()
    assert [(m, p) for m, p, _, _ in cluster.requests] == [
        ("DELETE", "/payments"),
        ("PUT", "/payments"),
        ("POST", "/_bulk"),
        ("DELETE", "/payments"),
        ("PUT", "/payments"),
    ]
    assert search.search(SearchQuery()).items == []


def test_a_refused_document_fails_the_indexing():
    cluster = FakeCluster()
    search = adapter.OpenSearchSearch(client(cluster), "payments")
    search.reset()
    cluster.indices["payments"]["body"] = json.loads(json.dumps(adapter.INDEX_BODY))
    del cluster.indices["payments"]["body"]["mappings"]["properties"]["kind"]  # a mapping that lost a field
    with pytest.raises(RuntimeError, match="OpenSearch refused 1 of 1 payments"):
        search.index([DOC])


def test_the_client_signs_for_amazon_domains_only(monkeypatch):
    from opensearchpy import Urllib3AWSV4SignerAuth

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    local = adapter.client("http://localhost:9200", "eu-west-1").transport.get_connection()
    assert (local.host, local.use_ssl, local.http_auth) == ("http://localhost:9200", False, None)
    domain = adapter.client("https://search-finflow-abc.eu-west-1.es.amazonaws.com", "eu-west-1")
    conn = domain.transport.get_connection()
    assert conn.host == "https://search-finflow-abc.eu-west-1.es.amazonaws.com:443" and conn.use_ssl
    assert isinstance(conn.http_auth, Urllib3AWSV4SignerAuth)
    assert (conn.http_auth.signer.region, conn.http_auth.signer.service) == ("eu-west-1", "es")
    with pytest.raises(OpenSearchConnectionError):
        adapter.OpenSearchSearch(adapter.client("http://127.0.0.1:9", "eu-west-1"), "payments").check()
