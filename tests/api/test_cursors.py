"""One signed cursor codec for every list (finflow.pages): a cursor is honoured only by the
list that handed it out, unaltered; anything else is a 422 problem+json saying so."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import pytest

from finflow import pages
from finflow.http import Problem

AT = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
ROW = str(uuid.uuid4())


def _flip(cursor: str, index: int) -> str:
    """The cursor with one bit of its payload changed."""
    body, _, mac = cursor.partition(".")
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[index] ^= 1
    return f"{base64.urlsafe_b64encode(bytes(raw)).decode().rstrip('=')}.{mac}"


def _refused(tag: str, cursor: str, detail: str = pages.FORGED) -> None:
    with pytest.raises(Problem) as caught:
        pages.decode_cursor(tag, cursor)
    assert (caught.value.status, caught.value.detail) == (422, detail)


def test_a_cursor_comes_back_as_the_position_it_was_made_from(api_env):
    cursor = pages.encode_cursor("p", AT, ROW)
    assert pages.decode_cursor("p", cursor) == (AT, ROW)
    assert pages.decode_values("r", pages.encode_values("r", ["2026-03-01T12:30:15+00:00", "p-1"]), 2) == [
        "2026-03-01T12:30:15+00:00",
        "p-1",
    ]
    assert len(cursor) <= 64  # fits the shortest cursor parameter (Wallet's)


def test_an_altered_cursor_is_refused(api_env):
    cursor = pages.encode_cursor("s", AT, ROW)
    _refused("s", _flip(cursor, 3))  # an earlier time
    _refused("s", _flip(cursor, 20))  # another row
    _refused("s", cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB"))  # another MAC


def test_a_cursor_of_another_list_or_module_is_refused(api_env):
    _refused("a", pages.encode_cursor("s", AT, ROW))  # KYC's submissions, not its alerts
    _refused("n", pages.encode_cursor("p", AT, ROW))  # Payment's, at Notification
    with pytest.raises(Problem) as caught:
        pages.decode_values("p", pages.encode_values("r", [1, "x"]), 2)
    assert caught.value.detail == pages.FORGED


@pytest.mark.parametrize("cursor", ["garbage", "bm9wZQ", "bm9wZQ.", "not base64!.AAAA", "."])
def test_a_cursor_that_is_no_cursor_is_refused(api_env, cursor):
    _refused("p", cursor, pages.INVALID)


def test_the_api_answers_a_tampered_cursor_with_a_problem(gateway, customer):
    person = customer()
    good = pages.encode_cursor("p", AT, ROW)
    assert gateway.get("/api/payment", params={"cursor": good}, headers=person.headers).status_code == 200
    for bad in (_flip(good, 0), pages.encode_cursor("n", AT, ROW)):
        res = gateway.get("/api/payment", params={"cursor": bad}, headers=person.headers)
        assert res.status_code == 422, res.text
        assert res.headers["content-type"].startswith("application/problem+json")
        assert res.json()["detail"] == pages.FORGED
