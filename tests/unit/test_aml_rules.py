"""AML rules (functions/kyc/aml.py): pure functions over lists of payments."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from functions.kyc import aml

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
USD = aml.Limits(
    "USD", threshold_minor=10_000_00, velocity_count=10, velocity_amount_minor=20_000_00, rapid_min_minor=1_000_00
)
JPY = aml.Limits(
    "JPY", threshold_minor=1_500_000, velocity_count=10, velocity_amount_minor=3_000_000, rapid_min_minor=150_000
)
_ids = itertools.count(1)


def pay(
    amount_minor: int,
    minutes: float = 0,
    *,
    kind: str = "transfer",
    src: str | None = "w-a",
    dst: str | None = "w-b",
    currency: str = "USD",
) -> aml.Payment:
    if kind == "deposit":
        src = None
    if kind == "withdrawal":
        dst = None
    return aml.Payment(
        id=f"p{next(_ids):04d}",
        kind=kind,
        from_wallet_id=src,
        to_wallet_id=dst,
        from_user_id="u-" + src if src else None,
        to_user_id="u-" + dst if dst else None,
        amount_minor=amount_minor,
        currency=currency,
        completed_at=T0 + timedelta(minutes=minutes),
    )


def run(payments: list[aml.Payment], limits: aml.Limits = USD, created_at: datetime | None = None) -> list[list[str]]:
    """Feed payments one by one, as the consumer does; the rules each one triggered."""
    seen: list[aml.Payment] = []
    out = []
    for p in payments:
        seen.append(p)
        src = p.from_wallet_id
        hits = aml.evaluate(
            p,
            outgoing=[q for q in seen if src and q.from_wallet_id == src],
            incoming=[q for q in seen if src and q.to_wallet_id == src],
            wallet_created_at=created_at,
            limits=limits,
        )
        out.append(sorted(h.rule for h in hits))
    return out


# --- large payment --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, severity",
    [(9_999_99, None), (10_000_00, "medium"), (49_999_99, "medium"), (50_000_00, "high"), (900_000_00, "high")],
)
def test_large_payment_threshold_and_high_multiple(amount, severity):
    hit = aml.large_payment(pay(amount), USD)
    assert (hit.severity if hit else None) == severity
    if hit:
        assert hit.wallet_id == "w-a" and hit.user_id == "u-w-a"
        assert hit.evidence["payments"][0]["amount"] == f"{amount // 100}.{amount % 100:02d}"
        assert hit.evidence["threshold"] == "10000.00"
        assert hit.freezes_wallet == (severity == "high")


def test_a_large_deposit_is_about_the_wallet_it_arrived_in():
    hit = aml.large_payment(pay(12_000_00, kind="deposit", dst="w-new"), USD)
    assert (hit.wallet_id, hit.user_id, hit.severity) == ("w-new", "u-w-new", "medium")


def test_thresholds_are_per_currency():
    assert aml.large_payment(pay(1_499_999, currency="JPY"), JPY) is None
    hit = aml.large_payment(pay(1_500_000, currency="JPY"), JPY)
    assert hit.severity == "medium" and hit.evidence["threshold"] == "1500000"


def test_an_unconfigured_currency_has_no_amount_rules_but_still_counts():
    sek = aml.Limits.unconfigured("SEK")
    assert aml.large_payment(pay(10**12, currency="SEK"), sek) is None
    burst = [pay(100, i, currency="SEK") for i in range(11)]
    assert run(burst, sek)[-1] == ["velocity"]


# --- velocity ---------------------------------------------------------------------------------


def test_velocity_fires_once_on_the_eleventh_payment_in_an_hour():
    burst = [pay(1_00, minutes=i * 5) for i in range(12)]  # 0..55 minutes
    assert run(burst) == [[]] * 10 + [["velocity"], []]


def test_velocity_by_count_is_low_and_lists_the_window():
    burst = [pay(1_00, minutes=i) for i in range(11)]
    hit = aml.velocity(burst[-1], burst, USD)
    assert hit.severity == "low"
    assert hit.evidence["count"] == 11 and len(hit.evidence["payments"]) == 11
    assert hit.evidence["total"] == "11.00" and hit.evidence["window"]["hours"] == 1


def test_payments_older_than_an_hour_leave_the_window():
    spread = [pay(1_00, minutes=i * 6.5) for i in range(11)]  # the first is 65 minutes before the last
    assert run(spread) == [[]] * 11


def test_velocity_by_amount_is_medium_on_the_crossing_payment():
    payments = [pay(8_000_00, 0), pay(8_000_00, 10), pay(4_000_00, 20), pay(1, 30), pay(5_000_00, 40)]
    assert run(payments) == [[], [], [], ["velocity"], []]  # 20,000.01 > 20,000.00
    hit = aml.velocity(payments[3], payments, USD)
    assert hit.severity == "medium" and hit.evidence["total"] == "20000.01"
    assert hit.evidence["limit_amount"] == "20000.00"


def test_one_payment_alone_is_never_velocity():
    assert aml.velocity(pay(90_000_00), [], USD) is None  # large_payment covers it


def test_velocity_counts_only_the_same_wallet_going_out():
    mixed = [pay(1_00, i, src="w-a" if i % 2 else "w-c") for i in range(20)]
    mixed += [pay(1_00, 21, kind="deposit", dst="w-a")]
    assert all(r == [] for r in run(mixed))


def test_payments_into_a_wallet_are_not_velocity():
    deposits = [pay(1_00, i, kind="deposit", dst="w-a") for i in range(15)]
    assert all(r == [] for r in run(deposits))


# --- structuring ------------------------------------------------------------------------------


def test_three_payments_just_below_the_threshold_within_a_day_are_structuring():
    payments = [pay(9_500_00, 0), pay(9_000_00, 600), pay(9_999_99, 1400), pay(9_900_00, 1410)]
    assert run(payments) == [[], [], ["structuring"], []]
    hit = aml.structuring(payments[2], payments, USD)
    assert hit.severity == "high" and hit.freezes_wallet
    assert [p["amount"] for p in hit.evidence["payments"]] == ["9500.00", "9000.00", "9999.99"]
    assert hit.evidence["band"] == ["9000.00", "10000.00"] and hit.evidence["window"]["hours"] == 24


@pytest.mark.parametrize(
    "amounts, minutes",
    [
        ([8_999_99, 9_500_00, 9_500_00], [0, 1, 2]),  # one under 90%
        ([10_000_00, 9_500_00, 9_500_00], [0, 1, 2]),  # one at the threshold (a large payment instead)
        ([9_500_00, 9_500_00, 9_500_00], [0, 1, 1441]),  # more than 24 hours apart
    ],
)
def test_not_structuring(amounts, minutes):
    results = run([pay(a, m) for a, m in zip(amounts, minutes, strict=False)])
    assert all("structuring" not in r for r in results)


def test_near_threshold_band_edges():
    assert aml.near_threshold(9_000_00, 10_000_00) and aml.near_threshold(9_999_99, 10_000_00)
    assert not aml.near_threshold(8_999_99, 10_000_00) and not aml.near_threshold(10_000_00, 10_000_00)


# --- rapid in and out -------------------------------------------------------------------------


def test_a_new_wallet_passing_funds_through_within_an_hour():
    created = T0 - timedelta(hours=2)
    payments = [pay(2_000_00, 0, kind="deposit", dst="w-a"), pay(1_000_00, 20), pay(600_00, 30), pay(100_00, 35)]
    assert run(payments, created_at=created) == [[], [], ["rapid_in_out"], []]  # 1,600 >= 80% of 2,000
    hit = aml.rapid_in_out(payments[2], payments, payments, created, USD)
    assert hit.severity == "medium" and hit.wallet_id == "w-a"
    assert (hit.evidence["received"], hit.evidence["sent"]) == ("2000.00", "1600.00")


def test_rapid_in_out_counts_transfers_in_as_well():
    created = T0 - timedelta(hours=1)
    payments = [pay(3_000_00, 0, src="w-x", dst="w-a"), pay(2_500_00, 5, src="w-a", dst="w-y")]
    assert run(payments, created_at=created)[-1] == ["rapid_in_out"]


@pytest.mark.parametrize(
    "created_hours_ago, received, sent, minutes_apart",
    [
        (25, 2_000_00, 2_000_00, 10),  # the wallet is older than 24 hours
        (2, 900_00, 900_00, 10),  # received less than the minimum
        (2, 2_000_00, 1_599_99, 10),  # sent less than 80%
        (2, 2_000_00, 2_000_00, 61),  # sent more than an hour later
    ],
)
def test_not_rapid_in_out(created_hours_ago, received, sent, minutes_apart):
    created = T0 - timedelta(hours=created_hours_ago)
    payments = [pay(received, 0, kind="deposit", dst="w-a"), pay(sent, minutes_apart)]
    assert all("rapid_in_out" not in r for r in run(payments, created_at=created))


def test_rapid_in_out_needs_the_wallet_age_only_after_enough_came_in():
    p = pay(1_000_00, 10)
    assert not aml.needs_wallet_age(p, [pay(999_99, 0, kind="deposit", dst="w-a")], USD)
    assert aml.needs_wallet_age(p, [pay(1_000_00, 0, kind="deposit", dst="w-a")], USD)
    assert aml.rapid_in_out(p, [pay(5_000_00, 0, kind="deposit", dst="w-a")], [p], None, USD) is None


# --- together ---------------------------------------------------------------------------------


def test_one_payment_can_break_several_rules():
    created = T0 - timedelta(minutes=30)
    payments = [pay(60_000_00, 0, kind="deposit", dst="w-a"), pay(55_000_00, 5)]
    payments.append(pay(1_00, 6))
    assert run(payments, created_at=created) == [["large_payment"], ["large_payment", "rapid_in_out"], ["velocity"]]
    hits = aml.evaluate(payments[1], outgoing=payments, incoming=payments, wallet_created_at=created, limits=USD)
    assert {h.rule: h.severity for h in hits} == {"large_payment": "high", "rapid_in_out": "medium"}


def test_the_order_of_arrival_in_a_list_does_not_matter_to_one_evaluation():
    burst = [pay(1_00, i) for i in range(11)]
    hit = aml.velocity(burst[-1], list(reversed(burst)) + burst, USD)  # duplicates and any order
    assert hit is not None and hit.evidence["count"] == 11
