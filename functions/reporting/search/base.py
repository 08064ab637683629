"""Payment search behind one interface, with two engines: PostgreSQL full-text search in
Reporting's own database (the default) and OpenSearch (when OPENSEARCH_ENDPOINT is set).

Both answer the same question the same way:
- `text`: every word must occur in the description (lower-cased, split on non-letters,
  no stemming: PostgreSQL's `simple` configuration, OpenSearch's standard analyzer);
- `id`: the payment's id, either wallet's id or either user's id equals it;
- currency exact; amount between min and max (minor units, inclusive); time in
  [start, end);
- newest first (time, then payment id, both descending), `limit` per page, and an opaque
  cursor for the next page; `totals` are count and volume per currency of every match.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Protocol

from finflow import pages
from finflow.problems import Problem

CURSOR_TAG = "r"  # finflow.pages.LISTS
ID_FIELDS = ("payment_id", "from_wallet_id", "to_wallet_id", "from_user_id", "to_user_id")


class BadCursor(ValueError):
    """A cursor this engine did not hand out (or a tampered one)."""


@dataclass(frozen=True)
class PaymentDoc:
    payment_id: str
    status: str
    kind: str
    currency: str
    amount_minor: int
    from_wallet_id: str | None
    to_wallet_id: str | None
    from_user_id: str | None
    to_user_id: str | None
    description: str | None
    failure_reason: str | None
    at: datetime

    @classmethod
    def from_row(cls, row) -> PaymentDoc:
        return cls(**{f: getattr(row, f) for f in cls.__dataclass_fields__})

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SearchQuery:
    text: str | None = None
    id: str | None = None
    currency: str | None = None
    min_minor: int | None = None
    max_minor: int | None = None
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class Total:
    count: int
    volume_minor: int


@dataclass
class SearchPage:
    items: list[PaymentDoc]
    next_cursor: str | None
    totals: dict[str, Total] = field(default_factory=dict)


class PaymentSearch(Protocol):
    name: str

    def index(self, docs: Sequence[PaymentDoc]) -> None:
        """Make `docs` searchable (idempotent by payment id)."""

    def search(self, query: SearchQuery) -> SearchPage:
        """One page of matches. Raises BadCursor for a cursor it did not hand out."""

    def reset(self) -> None:
        """Empty the index (a rebuild refills it)."""

    def check(self) -> None:
        """Raise if the engine cannot be used (for /health)."""


def encode_cursor(values: list) -> str:
    """The engine's sort values after the last match, signed (finflow.pages: the one cursor codec)."""
    return pages.encode_values(CURSOR_TAG, values)


def decode_cursor(cursor: str, length: int) -> list:
    try:
        values = pages.decode_values(CURSOR_TAG, cursor, length)
    except Problem as exc:
        raise BadCursor(exc.detail) from None
    if values is None:  # an empty cursor: the engines decode only one they were sent
        raise BadCursor("cursor is empty")
    return values
