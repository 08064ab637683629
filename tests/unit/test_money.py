from decimal import Decimal

import pytest

from finflow.money import (
    MoneyError,
    exponent,
    format_display,
    normalize_currency,
    to_decimal_string,
    to_minor,
)


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (10, "USD", 1000),
        ("1.50", "USD", 150),
        ("10.0", "USD", 1000),
        ("1.000", "USD", 100),  # trailing zeros are exact, so accepted
        (19.99, "USD", 1999),  # a JSON float must not become 1998
        (Decimal("12.5"), "eur", 1250),
        (500, "JPY", 500),
        ("1.234", "BHD", 1234),
    ],
)
def test_to_minor_accepts_exact_amounts(amount, currency, minor):
    assert to_minor(amount, currency) == minor


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        (0, "USD", "amount must be greater than zero"),
        ("-5.00", "USD", "amount must be greater than zero"),
        (float("1e309"), "USD", "amount must be a finite number"),  # JSON 1e309 parses to inf
        (float("nan"), "USD", "amount must be a finite number"),
        ("abc", "USD", "amount must be a number or a decimal string"),
        ("", "USD", "amount must be a number or a decimal string"),
        (" ", "USD", "amount must be a number or a decimal string"),
        ("NaN", "USD", "amount must be a number or a decimal string"),
        ("1e309", "USD", "amount must be a number or a decimal string"),
        (None, "USD", "amount must be a number or a decimal string"),
        (True, "USD", "amount must be a number or a decimal string"),
        ("1.005", "USD", "amount has more decimals than USD allows (2)"),
        ("1.5", "JPY", "amount has more decimals than JPY allows (0)"),
        (0.1 + 0.2, "USD", "amount has more decimals than USD allows (2)"),
        (Decimal("1e309"), "USD", "amount exceeds the maximum of"),
        ("9" * 400, "USD", "amount exceeds the maximum of"),
    ],
)
def test_to_minor_rejects_with_readable_message(amount, currency, message):
    with pytest.raises(MoneyError) as err:
        to_minor(amount, currency)
    assert str(err.value).startswith(message)


def test_max_minor_is_enforced_and_inclusive():
    assert to_minor("1000000.00", "USD", max_minor=100_000_000) == 100_000_000
    with pytest.raises(MoneyError, match=r"^amount exceeds the maximum of 1000000\.00 USD$"):
        to_minor("1000000.01", "USD", max_minor=100_000_000)


def test_currency_validation():
    assert normalize_currency("usd") == "USD"
    assert (exponent("USD"), exponent("JPY"), exponent("BHD")) == (2, 0, 3)
    with pytest.raises(MoneyError, match=r"^unknown currency 'XYZ'$"):
        normalize_currency("XYZ")
    with pytest.raises(MoneyError, match="unknown currency"):
        to_minor(10, "dollars")
    assert isinstance(MoneyError("x"), ValueError)


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [(10000, "USD", "100.00"), (5, "USD", "0.05"), (500, "JPY", "500"), (1234, "BHD", "1.234"), (-150, "USD", "-1.50")],
)
def test_to_decimal_string(minor, currency, text):
    assert to_decimal_string(minor, currency) == text


@pytest.mark.parametrize("text,currency", [("100.00", "USD"), ("0.01", "USD"), ("500", "JPY"), ("1.234", "BHD")])
def test_round_trip(text, currency):
    assert to_decimal_string(to_minor(text, currency), currency) == text


def test_format_display():
    assert format_display(10000, "USD") == "$100.00"
    assert format_display(500, "JPY") == "¥500"
    assert format_display(1250, "EUR") == "€12.50"
