"""The rupiah parser: real-world spellings, never a crash, and a round trip of what we format."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.money import MAX_AMOUNT, parse_rupiah
from locales.i18n import rupiah

# Spellings seen in chats and on receipts, with what the person meant.
HELD = [
    ("1500000", 1_500_000),
    ("1.500.000", 1_500_000),
    ("Rp 1.500.000", 1_500_000),
    ("Rp1.500.000", 1_500_000),
    ("Rp. 1.500.000,-", 1_500_000),
    ("rp 1.500.000,00", 1_500_000),
    ("1,500,000", 1_500_000),
    ("1 500 000", 1_500_000),
    ("1,5 juta", 1_500_000),
    ("1.5jt", 1_500_000),
    ("1,5jt", 1_500_000),
    ("1.25 juta", 1_250_000),
    ("750rb", 750_000),
    ("750 ribu", 750_000),
    ("750k", 750_000),
    ("750 rebu", 750_000),
    ("dua juta", 2_000_000),
    ("Dua Juta Rupiah", 2_000_000),
    ("sejuta", 1_000_000),
    ("setengah juta", 500_000),
    ("satu setengah juta", 1_500_000),
    ("dua setengah juta", 2_500_000),
    ("seratus ribu", 100_000),
    ("seribu", 1_000),
    ("sebelas ribu", 11_000),
    ("dua belas juta", 12_000_000),
    ("sepuluh juta", 10_000_000),
    ("dua ratus lima puluh ribu", 250_000),
    ("tiga ratus ribu", 300_000),
    ("seratus dua puluh lima ribu", 125_000),
    ("dua juta lima ratus ribu", 2_500_000),
    ("1 juta 500 ribu", 1_500_000),
    ("2jt 300rb", 2_300_000),
    ("5 ratus ribu", 500_000),
    ("sekitar 3 juta", 3_000_000),
    ("3 juta per bulan", 3_000_000),
    ("0", 0),
    ("nol", 0),
    ("  400000  ", 400_000),
    ("150.000", 150_000),
]

UNREADABLE = [
    "",
    "   ",
    "banyak",
    "tidak tahu",
    "1,5",
    "2.5",
    "juta",
    "ribu ribu",
    "setengah",
    "dua tiga",
    "5 7",
    "12 belas",
    "📷",
    "08123456789012345",
    "1.5.5",
    "Rp",
    "-",
    "1/2 juta",
    "999999999999999999 juta",
]


@pytest.mark.parametrize(("typed", "amount"), HELD)
def test_reads_real_world_spellings(typed: str, amount: int) -> None:
    assert parse_rupiah(typed) == amount


@pytest.mark.parametrize("typed", UNREADABLE)
def test_unreadable_text_is_not_guessed(typed: str) -> None:
    assert parse_rupiah(typed) is None


@given(st.text(max_size=300))
def test_never_crashes_on_any_string(text: str) -> None:
    amount = parse_rupiah(text)
    assert amount is None or (isinstance(amount, int) and 0 <= amount <= MAX_AMOUNT)


@given(st.integers(min_value=0, max_value=MAX_AMOUNT))
def test_round_trips_every_amount_it_formats(amount: int) -> None:
    assert parse_rupiah(rupiah(amount)) == amount
    assert parse_rupiah(str(amount)) == amount
    assert parse_rupiah(f"{amount:,}") == amount


@given(st.integers(min_value=1, max_value=9_999), st.sampled_from(["jt", " juta", "rb", " ribu"]))
def test_scaled_whole_numbers(amount: int, scale: str) -> None:
    factor = 10**6 if "j" in scale else 1000
    assert parse_rupiah(f"{amount}{scale}") == amount * factor


def test_rupiah_formats_as_people_read_it() -> None:
    assert rupiah(1_500_000) == "Rp1.500.000"
