"""Report query parameters: every bad value is a 422 naming the parameter."""

from datetime import UTC, date, datetime

import pytest

from finflow.http import Problem
from functions.reporting import params

TODAY = date(2026, 5, 20)


def refused(fn, *args, **kw) -> str:
    with pytest.raises(Problem) as err:
        fn(*args, **kw)
    assert err.value.status == 422
    return err.value.detail


def test_daily_range_defaults_to_the_last_30_days():
    assert params.daily_range(None, None, TODAY) == (date(2026, 4, 21), TODAY)
    assert params.daily_range(None, "2026-01-31", TODAY) == (date(2026, 1, 2), date(2026, 1, 31))
    assert params.daily_range("2026-05-01", None, TODAY) == (date(2026, 5, 1), TODAY)
    assert params.daily_range("2026-06-01", None, TODAY) == (date(2026, 6, 1), date(2026, 6, 1))
    assert params.daily_range("2025-05-21", "2026-05-20", TODAY) == (date(2025, 5, 21), TODAY)  # 365 days


@pytest.mark.parametrize(
    "start, end, words",
    [
        ("2026-1-5", None, "from: expected a date as YYYY-MM-DD"),
        ("20260105", None, "from: expected a date"),
        (None, "2026-02-29", "to: expected a date"),  # not a leap year
        (None, "2026-05-20T00:00:00", "to: expected a date"),
        ("2026-05-02", "2026-05-01", "from (2026-05-02) is after to (2026-05-01)"),
        ("2024-01-01", "2025-01-02", "spans 368 days; at most 366"),
        (None, "9999-12-31", "out of range"),
    ],
)
def test_bad_daily_ranges(start, end, words):
    assert words in refused(params.daily_range, start, end, TODAY)


def test_currency_is_normalised_or_refused():
    assert params.currency("eur") == "EUR" and params.currency(None) is None and params.currency("") is None
    assert "unknown currency" in refused(params.currency, "EURO")
    assert "unknown currency" in refused(params.currency, "XXX")


def test_search_takes_amounts_in_the_currency_and_days_as_a_utc_window():
    q = params.search(
        q="  Rent  ",
        currency_code="jpy",
        min_amount="500",
        max_amount="1000",
        start="2026-01-01",
        end="2026-01-02",
        page_size="10",
    )
    assert (q.text, q.id, q.currency, q.min_minor, q.max_minor, q.limit) == ("Rent", None, "JPY", 500, 1000, 10)
    assert q.start == datetime(2026, 1, 1, tzinfo=UTC)
    assert q.end == datetime(2026, 1, 3, tzinfo=UTC)  # "to" is inclusive: up to the next midnight
    assert params.search(currency_code="BHD", min_amount="1.005").min_minor == 1005
    assert params.search().limit == params.DEFAULT_LIMIT


def test_a_uuid_in_q_searches_ids_in_their_canonical_spelling():
    q = params.search(q="4A5B6C7D-0000-4000-8000-00000000000A")
    assert (q.text, q.id) == (None, "4a5b6c7d-0000-4000-8000-00000000000a")


@pytest.mark.parametrize(
    "kw, words",
    [
        ({"q": "x" * 201}, "q is longer than 200"),
        ({"min_amount": "5"}, "min_amount needs currency"),
        ({"currency_code": "USD", "min_amount": "0"}, "min_amount: amount must be greater than zero"),
        ({"currency_code": "USD", "max_amount": "1.001"}, "max_amount: amount has more decimals than USD allows"),
        ({"currency_code": "USD", "max_amount": "NaN"}, "max_amount: amount must be a number"),
        ({"currency_code": "USD", "min_amount": "2", "max_amount": "1"}, "min_amount (2) is more than max_amount (1)"),
        ({"start": "2026-02-02", "end": "2026-02-01"}, "is after to"),
        ({"page_size": "101"}, "limit must be a whole number from 1 to 100"),
        ({"page_size": "-1"}, "limit must be"),
        ({"page_size": "ten"}, "limit must be"),
        ({"cursor": "c" * 501}, "cursor is not valid"),
    ],
)
def test_bad_search_parameters(kw, words):
    assert words in refused(params.search, **kw)
