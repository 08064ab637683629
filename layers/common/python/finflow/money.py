"""Money as integer minor units (cents, yen, fils) with ISO 4217 data from Babel.

Amounts are stored and moved around as ints so no rounding can creep in; Decimal
is only used at the edges, to parse what a client sent and to print it back. Babel and
its currency list load on the first currency checked (~10 ms of a cold start otherwise).
"""

from __future__ import annotations

import re
from decimal import Decimal, Inexact, localcontext
from functools import cache


@cache
def _currencies() -> frozenset[str]:
    from babel.numbers import list_currencies

    # Babel's list also holds historic codes (e.g. DEM); XXX ("no currency") and XTS
    # ("testing") are ISO codes that never mean real money, so they are refused too.
    return frozenset(list_currencies()) - {"XXX", "XTS"}


# Minor units end up in BIGINT / DynamoDB number columns; refusing anything above
# int64 also keeps a value like "1e999999" from turning into a giant int.
MAX_MINOR = 2**63 - 1

# Strings must be plain decimals: Decimal() alone would also take "NaN",
# "Infinity", "1_000", "1e5" and non-ASCII digits, none of which a client means.
_DECIMAL_RE = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


class MoneyError(ValueError):
    """Invalid amount or currency; str(err) is fit for an API error's `detail`."""


def normalize_currency(code: str) -> str:
    if not isinstance(code, str):
        raise MoneyError("currency must be a 3-letter ISO 4217 code")
    upper = code.strip().upper()
    if upper not in _currencies():
        raise MoneyError(f"unknown currency {code!r}")
    return upper


def exponent(currency: str) -> int:
    from babel.numbers import get_currency_precision

    # Validate first: Babel silently answers 2 for codes it does not know.
    return get_currency_precision(normalize_currency(currency))


def _parse(amount: object) -> Decimal:
    # bool is an int subclass, but `true` is never a sensible amount.
    if isinstance(amount, bool):
        raise MoneyError("amount must be a number or a decimal string")
    if isinstance(amount, (int, Decimal)):
        return Decimal(amount)
    if isinstance(amount, float):
        # str() gives the shortest repr, so JSON 19.99 becomes Decimal("19.99")
        # rather than the binary approximation 19.989999...
        return Decimal(str(amount))
    if isinstance(amount, str) and _DECIMAL_RE.fullmatch(amount):
        return Decimal(amount)
    raise MoneyError("amount must be a number or a decimal string")


def to_minor(amount: object, currency: str, *, max_minor: int | None = None) -> int:
    """Parse a client-supplied amount into minor units, refusing anything inexact."""
    code = normalize_currency(currency)
    exp = exponent(code)
    value = _parse(amount)
    if not value.is_finite():
        raise MoneyError("amount must be a finite number")
    if value <= 0:
        raise MoneyError("amount must be greater than zero")
    limit = MAX_MINOR if max_minor is None else min(max_minor, MAX_MINOR)
    # Decimal comparisons are exact, so check the size before any arithmetic that
    # could be rounded to the context precision.
    if value > Decimal(limit).scaleb(-exp):
        raise MoneyError(f"amount exceeds the maximum of {to_decimal_string(limit, code)} {code}")
    with localcontext() as ctx:
        ctx.prec = 40  # room for every in-range value: nothing legitimate is rounded
        ctx.traps[Inexact] = True  # dropping a non-zero digit must fail, not round
        try:
            # Trailing zeros ("1.000" USD) quantize without Inexact: value is exact.
            quantized = value.quantize(Decimal(1).scaleb(-exp))
        except Inexact:
            raise MoneyError(f"amount has more decimals than {code} allows ({exp})") from None
        return int(quantized.scaleb(exp))


def to_decimal_string(minor: int, currency: str) -> str:
    """Exact wire format: 10000 USD -> "100.00", 500 JPY -> "500"."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise TypeError("minor units must be an int")
    exp = exponent(currency)
    sign = "-" if minor < 0 else ""  # refunds and reversals can be negative
    whole, frac = divmod(abs(minor), 10**exp)
    return f"{sign}{whole}.{frac:0{exp}d}" if exp else f"{sign}{whole}"


def format_display(minor: int, currency: str, locale: str = "en_US") -> str:
    """Localised text for humans ("$100.00", "¥500"); never parse this back."""
    from babel.numbers import format_currency

    code = normalize_currency(currency)
    return format_currency(Decimal(to_decimal_string(minor, code)), code, locale=locale)
