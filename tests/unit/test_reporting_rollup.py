"""Reporting's money figures from grouped rows: balances and volumes stay per currency, in
each currency's own exponent; failed payments are counted apart; a wallet seen only in a
payment so far counts as `unknown`."""

from collections import namedtuple
from datetime import date

from functions.reporting.logic import currency_figures, daily_totals

Wallets = namedtuple("Wallets", "currency status wallets balance_minor")
Totals = namedtuple("Totals", "currency status kind count volume_minor")
DayRow = namedtuple("DayRow", "day currency count volume_minor")


def test_balances_and_volumes_are_per_currency_in_its_exponent():
    wallets, figures = currency_figures(
        [
            Wallets("USD", "active", 2, 14000),
            Wallets("USD", "frozen", 1, 50),
            Wallets("JPY", "active", 1, 4000),
            Wallets("BHD", "closed", 1, 0),
            Wallets("BHD", "active", 1, 1234),
        ],
        [
            Totals("USD", "completed", "deposit", 2, 15000),
            Totals("USD", "completed", "withdrawal", 1, 950),
            Totals("USD", "completed", "transfer", 3, 2550),
            Totals("JPY", "completed", "deposit", 1, 4000),
            Totals("USD", "failed", "withdrawal", 2, 100000),
            Totals("USD", "failed", "transfer", 1, 1),
            Totals("BHD", "completed", "deposit", 1, 1234),
        ],
    )
    assert wallets == {
        "USD": {"active": 2, "frozen": 1, "closed": 0},
        "JPY": {"active": 1, "frozen": 0, "closed": 0},
        "BHD": {"active": 1, "frozen": 0, "closed": 1},
    }
    usd, jpy, bhd = figures["USD"], figures["JPY"], figures["BHD"]
    assert (usd.balance, jpy.balance, bhd.balance) == ("140.50", "4000", "1.234")
    assert usd.payments.model_dump() == {"count": 6, "volume": "185.00"}
    assert usd.by_kind["transfer"].volume == "25.50" and usd.by_kind["withdrawal"].volume == "9.50"
    assert usd.failed.model_dump() == {"count": 3, "volume": "1000.01"}
    assert jpy.payments.model_dump() == {"count": 1, "volume": "4000"}
    assert jpy.by_kind["transfer"].model_dump() == {"count": 0, "volume": "0"}
    assert jpy.failed.model_dump() == {"count": 0, "volume": "0"}
    assert (usd.wallets, jpy.wallets, bhd.wallets) == (3, 1, 2)


def test_a_currency_with_only_payments_or_unknown_wallets_still_reports():
    wallets, figures = currency_figures(
        [Wallets("EUR", None, 1, 2000)],
        [Totals("EUR", "completed", "deposit", 1, 2000), Totals("CHF", "failed", "deposit", 1, 700)],
    )
    assert wallets == {"EUR": {"active": 0, "frozen": 0, "closed": 0, "unknown": 1}}
    assert figures["EUR"].balance == "20.00" and figures["EUR"].wallets == 1
    assert figures["CHF"].balance == "0.00" and figures["CHF"].failed.volume == "7.00"


def test_daily_totals_add_days_within_each_currency_only():
    totals = daily_totals(
        [
            DayRow(date(2026, 1, 1), "USD", 2, 15000),
            DayRow(date(2026, 1, 1), "JPY", 1, 500),
            DayRow(date(2026, 1, 2), "USD", 1, 2550),
            DayRow(date(2026, 1, 3), "JPY", 2, 1500),
        ]
    )
    assert {c: f.model_dump() for c, f in totals.items()} == {
        "JPY": {"count": 3, "volume": "2000"},
        "USD": {"count": 3, "volume": "175.50"},
    }
    assert daily_totals([]) == {}
