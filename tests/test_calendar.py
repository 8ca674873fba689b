"""Indonesian time: zones by province, delivery hours, working days around holidays."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from bot.config import Settings
from bot.runtime import build_runtime
from storage import calendar

START, END = time(8), time(18)


@pytest.mark.parametrize(
    ("code", "zone"),
    [
        ("6472011001", "WITA"),  # Samarinda
        ("3578011001", "WIB"),  # Surabaya
        ("5171", "WITA"),  # Denpasar
        ("9471", "WIT"),  # Jayapura (Papua)
        ("8171", "WIT"),  # Ambon
        ("6171", "WIB"),  # Pontianak
        ("", "WIB"),
    ],
)
def test_zone_of_province(code: str, zone: str) -> None:
    assert calendar.zone_of(code) == zone


def test_delivery_hours_are_local() -> None:
    now = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # 07:30 WIB, 08:30 WITA, 09:30 WIT
    assert calendar.open_zones(now, START, END) == ["WITA", "WIT"]
    night = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # 20:00 WIB
    assert calendar.open_zones(night, START, END) == []
    assert calendar.within_hours(datetime(2026, 11, 23, 10, 59, tzinfo=UTC), "WIB", START, END)
    assert not calendar.within_hours(datetime(2026, 11, 23, 11, 0, tzinfo=UTC), "WIB", START, END)


def test_next_opening_is_eight_local() -> None:
    evening = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 19:00 WIB
    assert calendar.next_opening(evening, "WIB", START, END) == datetime(
        2026, 11, 24, 1, 0, tzinfo=UTC
    )
    early = datetime(2026, 11, 22, 22, 0, tzinfo=UTC)  # 06:00 WITA on the 23rd
    assert calendar.next_opening(early, "WITA", START, END) == datetime(
        2026, 11, 23, 0, 0, tzinfo=UTC
    )
    inside = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert calendar.next_opening(inside, "WIT", START, END) == inside


def test_period_day_is_one_day_for_every_window() -> None:
    # 08:00 WIT is 23:00 UTC the day before: the ladder's day is still the WIB date.
    assert calendar.period_day(datetime(2026, 11, 22, 23, 0, tzinfo=UTC)) == date(2026, 11, 23)


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (date(2026, 11, 23), 5, date(2026, 11, 30)),  # a plain week
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday + 1 skips the weekend
        (date(2026, 12, 21), 5, date(2026, 12, 30)),  # 24 (cuti bersama) and 25 December
        (date(2026, 3, 17), 5, date(2026, 3, 31)),  # Nyepi and Idul Fitri with cuti bersama
        (date(2026, 8, 14), 1, date(2026, 8, 18)),  # 17 August
    ],
)
def test_working_days_skip_weekends_and_holidays(start: date, days: int, due: date) -> None:
    assert calendar.add_working_days(start, days) == due
    assert calendar.working_days_between(start, due) == days


def test_holiday_file_covers_2026_and_2027() -> None:
    off = calendar.holidays()
    assert date(2026, 3, 21) in off and date(2026, 12, 24) in off
    assert date(2027, 1, 1) in off and date(2027, 12, 25) in off
    assert not calendar.is_working_day(date(2026, 8, 17))
    assert calendar.is_working_day(date(2026, 8, 18))


def test_an_operator_is_told_when_holidays_are_not_the_signed_list() -> None:
    assert calendar.holiday_warnings(date(2026, 6, 1)) == []  # 2026 is the signed SKB
    # From November, next year counts too: 2027 is still an estimate in the release.
    (warning,) = calendar.holiday_warnings(date(2026, 11, 23))
    assert "2027" in warning and "perkiraan" in warning
    (missing,) = calendar.holiday_warnings(date(2028, 3, 1))
    assert missing.startswith("no holidays for 2028")


def test_the_signed_list_can_be_dropped_in_without_a_release(tmp_path: Path) -> None:
    skb = tmp_path / "libur.json"
    skb.write_text(
        json.dumps({"2028": {"status": "resmi", "days": {"2028-03-02": "Hari libur"}}}),
        encoding="utf-8",
    )
    try:
        config = Settings(
            database_url="sqlite+aiosqlite://",
            data_dir=tmp_path,
            secret_key="test-secret-key",
            holidays_file=skb,
        )
        build_runtime(config, clients={})
        assert calendar.holiday_warnings(date(2028, 3, 1)) == []
        # Wednesday 1 March 2028 + 1 working day: Thursday is the holiday, so Friday.
        assert calendar.add_working_days(date(2028, 3, 1), 1) == date(2028, 3, 3)
    finally:
        calendar.use_holidays_file(calendar.HOLIDAYS_FILE)
    assert calendar.add_working_days(date(2028, 3, 1), 1) == date(2028, 3, 2)
