"""OpenSearch search (when OPENSEARCH_ENDPOINT is set), through opensearch-py.

Payments are documents with id = payment id, so indexing is idempotent; the consumer
indexes each payment after its database transaction commits (and again on redelivery),
the rebuild re-creates the index and bulk-loads it from the database. Every request body
is built by a pure function here, so tests check them as data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from functions.reporting.search.base import (
    ID_FIELDS,
    PaymentDoc,
    SearchPage,
    SearchQuery,
    Total,
    decode_cursor,
    encode_cursor,
)

CURRENCY_BUCKETS = 500  # more than there are ISO 4217 currencies

# strict: a document with a field the mapping does not know is refused, not guessed at
INDEX_BODY: dict[str, Any] = {
    "settings": {"index": {"number_of_shards": 1, "number_of_replicas": 1, "refresh_interval": "1s"}},
    "mappings": {
        "dynamic": "strict",
        "properties": {
            "payment_id": {"type": "keyword"},
            "status": {"type": "keyword"},
            "kind": {"type": "keyword"},
            "currency": {"type": "keyword"},
            "amount_minor": {"type": "long"},
            "from_wallet_id": {"type": "keyword"},
            "to_wallet_id": {"type": "keyword"},
            "from_user_id": {"type": "keyword"},
            "to_user_id": {"type": "keyword"},
            "description": {"type": "text", "analyzer": "standard"},
            "failure_reason": {"type": "text", "index": False},
            # microseconds, as PostgreSQL keeps them: pages break ties the same way in both engines
            "at": {"type": "date_nanos"},
        },
    },
}


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def document(doc: PaymentDoc) -> dict:
    return {**doc.as_dict(), "at": _iso(doc.at)}


def bulk_body(index: str, docs: Sequence[PaymentDoc]) -> list[dict]:
    lines: list[dict] = []
    for doc in docs:
        lines += [{"index": {"_index": index, "_id": doc.payment_id}}, document(doc)]
    return lines


def query_body(q: SearchQuery) -> dict:
    filters: list[dict] = []
    if q.id:
        filters.append({"bool": {"should": [{"term": {f: q.id}} for f in ID_FIELDS], "minimum_should_match": 1}})
    if q.currency:
        filters.append({"term": {"currency": q.currency}})
    amount = {k: v for k, v in (("gte", q.min_minor), ("lte", q.max_minor)) if v is not None}
    if amount:
        filters.append({"range": {"amount_minor": amount}})
    at = {k: _iso(v) for k, v in (("gte", q.start), ("lt", q.end)) if v is not None}
    if at:
        filters.append({"range": {"at": at}})
    query: dict = {"filter": filters}
    if q.text:
        query["must"] = [{"match": {"description": {"query": q.text, "operator": "and"}}}]
    body = {
        "size": q.limit + 1,  # one more than a page: is there a next page?
        "query": {"bool": query},
        "sort": [{"at": {"order": "desc"}}, {"payment_id": {"order": "desc"}}],
        "track_total_hits": False,
        "aggs": {
            "currencies": {
                "terms": {"field": "currency", "size": CURRENCY_BUCKETS},
                "aggs": {"volume": {"sum": {"field": "amount_minor"}}},
            }
        },
    }
    if q.cursor:
        body["search_after"] = decode_cursor(q.cursor, 2)
    return body


def parse_page(response: dict, limit: int) -> SearchPage:
    hits = response["hits"]["hits"]
    docs = [
        PaymentDoc(**{**h["_source"], "at": datetime.fromisoformat(h["_source"]["at"].replace("Z", "+00:00"))})
        for h in hits[:limit]
    ]
    cursor = encode_cursor(hits[limit - 1]["sort"]) if len(hits) > limit else None
    buckets = response.get("aggregations", {}).get("currencies", {}).get("buckets", [])
    # a sum aggregation answers a double: exact while a currency's volume stays under 2**53 minor units
    totals = {b["key"]: Total(b["doc_count"], int(round(b["volume"]["value"]))) for b in buckets}
    return SearchPage(items=docs, next_cursor=cursor, totals=totals)


class OpenSearchSearch:
    name = "opensearch"

    def __init__(self, client, index: str):
        self.client, self.index_name = client, index
        self._ready = False

    @classmethod
    def from_settings(cls, endpoint: str, index: str, region: str) -> OpenSearchSearch:
        return cls(client(endpoint, region), index)

    def _ensure_index(self) -> None:
        if self._ready:
            return
        if not self.client.indices.exists(index=self.index_name):
            # two containers may race here: the loser's "already exists" (400) is fine
            self.client.indices.create(index=self.index_name, body=INDEX_BODY, ignore=400)
        self._ready = True

    def index(self, docs: Sequence[PaymentDoc]) -> None:
        if not docs:
            return
        self._ensure_index()
        result = self.client.bulk(body=bulk_body(self.index_name, docs))
        if result.get("errors"):
            failed = [i["index"] for i in result["items"] if i["index"].get("error")]
            raise RuntimeError(f"OpenSearch refused {len(failed)} of {len(docs)} payments: {failed[0]['error']}")

    def search(self, q: SearchQuery) -> SearchPage:
        body = query_body(q)
        self._ensure_index()
        return parse_page(self.client.search(index=self.index_name, body=body), q.limit)

    def reset(self) -> None:
        self.client.indices.delete(index=self.index_name, ignore=404)
        self.client.indices.create(index=self.index_name, body=INDEX_BODY)
        self._ready = True

    def refresh(self) -> None:
        self.client.indices.refresh(index=self.index_name)

    def check(self) -> None:
        self.client.indices.exists(index=self.index_name)  # raises when the domain cannot be reached


def client(endpoint: str, region: str):
    """An opensearch-py client; requests to an Amazon OpenSearch Service domain are SigV4
    signed with the function's role (service `es`), anything else (a local OpenSearch) is not."""
    from opensearchpy import OpenSearch, Urllib3AWSV4SignerAuth

    parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    https = parts.scheme == "https"
    auth = None
    if (parts.hostname or "").endswith(".amazonaws.com"):
        import boto3

        auth = Urllib3AWSV4SignerAuth(boto3.Session().get_credentials(), region, "es")
    return OpenSearch(
        hosts=[{"host": parts.hostname, "port": parts.port or (443 if https else 80)}],
        http_auth=auth,
        use_ssl=https,
        verify_certs=https,
        timeout=5,
        max_retries=2,
        retry_on_timeout=True,
    )
