"""Query parameters of the report routes, checked before any query runs: every bad value
is a 422 naming the parameter, never a 500."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from finflow import ids, money
from finflow.problems import Problem
from functions.reporting.search.base import SearchQuery

MAX_Q = 200
MAX_DAYS = 366  # the daily report spans at most a (leap) year
DEFAULT_DAYS = 30
MAX_LIMIT = 100
DEFAULT_LIMIT = 50
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def bad(detail: str) -> Problem:
    return Problem(422, detail)


def currency(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        return money.normalize_currency(value)
    except money.MoneyError as exc:
        raise bad(f"currency: {exc}") from None


def day(name: str, value: str | None) -> date | None:
    if value is None or value == "":
        return None
    try:
        if not _DATE.fullmatch(value):
            raise ValueError
        parsed = date.fromisoformat(value)
    except ValueError:
        raise bad(f"{name}: expected a date as YYYY-MM-DD, got {value[:40]!r}") from None
    if parsed == date.max:
        raise bad(f"{name}: {value} is out of range")
    return parsed


def _ordered(start: date | None, end: date | None) -> None:
    if start and end and start > end:
        raise bad(f"from ({start}) is after to ({end})")


def daily_range(start: str | None, end: str | None, today: date) -> tuple[date, date]:
    """from..to inclusive; defaults: the last 30 days up to `to` (or today)."""
    first, last = day("from", start), day("to", end)
    _ordered(first, last)
    if last is None:
        last = max(today, first) if first else today
    if first is None:
        first = last - timedelta(days=DEFAULT_DAYS - 1)
    if (last - first).days + 1 > MAX_DAYS:
        raise bad(f"from..to spans {(last - first).days + 1} days; at most {MAX_DAYS}")
    return first, last


def _amount(name: str, value: str | None, code: str | None) -> int | None:
    if value is None or value == "":
        return None
    if code is None:
        raise bad(f"{name} needs currency: amounts are in the units of one currency")
    try:
        return money.to_minor(value, code)
    except money.MoneyError as exc:
        raise bad(f"{name}: {exc}") from None


def limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not re.fullmatch(r"[0-9]{1,4}", value) or not 1 <= int(value) <= MAX_LIMIT:
        raise bad(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(value)


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=UTC)


def search(
    *,
    q: str | None = None,
    currency_code: str | None = None,
    min_amount: str | None = None,
    max_amount: str | None = None,
    start: str | None = None,
    end: str | None = None,
    page_size: str | None = None,
    cursor: str | None = None,
) -> SearchQuery:
    text = (q or "").strip()
    if len(text) > MAX_Q:
        raise bad(f"q is longer than {MAX_Q} characters")
    if cursor is not None and len(cursor) > 500:
        raise bad("cursor is not valid")
    code = currency(currency_code)
    low, high = _amount("min_amount", min_amount, code), _amount("max_amount", max_amount, code)
    if low is not None and high is not None and low > high:
        raise bad(f"min_amount ({min_amount}) is more than max_amount ({max_amount})")
    first, last = day("from", start), day("to", end)
    _ordered(first, last)
    payment_or_party = ids.canonical(text) if text else None
    return SearchQuery(
        text=None if payment_or_party else (text or None),
        id=payment_or_party,
        currency=code,
        min_minor=low,
        max_minor=high,
        start=_midnight(first) if first else None,
        end=_midnight(last + timedelta(days=1)) if last else None,
        limit=limit(page_size),
        cursor=cursor or None,
    )
