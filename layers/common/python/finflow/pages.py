"""Keyset pagination over (created time, id): opaque cursors tagged per list, and the limit check."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

from finflow.config import settings
from finflow.http import Problem


def check_limit(limit: int) -> int:
    if not 1 <= limit <= settings().page_size_max:
        raise Problem(422, f"limit must be between 1 and {settings().page_size_max}")
    return limit


def encode_cursor(tag: str, at: datetime, row_id: str) -> str:
    return base64.urlsafe_b64encode(f"{tag}|{at.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(tag: str, cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        found, at, row_id = raw.split("|")
        when = datetime.fromisoformat(at)
        if found == tag and when.tzinfo is not None:
            return when, str(uuid.UUID(row_id))
    except (ValueError, UnicodeDecodeError):
        pass
    raise Problem(422, "cursor is not valid")


def page(rows: list, limit: int, tag: str, created: str) -> tuple[list, str | None]:
    """The first `limit` of `limit + 1` rows and the cursor after them (None: last page)."""
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(tag, getattr(last, created), last.id)
