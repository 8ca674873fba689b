"""Indonesian time: the three zones by province, delivery hours, working days and holidays."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import false, func, or_, true
from sqlalchemy.sql import ColumnElement

HOLIDAYS_FILE = Path(__file__).resolve().parent / "holidays_id.json"

# UTC offsets; Indonesia keeps no daylight saving, so fixed offsets are exact.
ZONES: dict[str, timezone] = {
    "WIB": timezone(timedelta(hours=7), "WIB"),
    "WITA": timezone(timedelta(hours=8), "WITA"),
    "WIT": timezone(timedelta(hours=9), "WIT"),
}
DEFAULT_ZONE = "WIB"
# Province codes (Kemendagri) outside WIB; every other province (Sumatra, Java, West and
# Central Kalimantan) is WIB.
PROVINCE_ZONE: dict[str, str] = {
    "51": "WITA",
    "52": "WITA",
    "53": "WITA",  # Bali, NTB, NTT
    "63": "WITA",
    "64": "WITA",
    "65": "WITA",  # Kalimantan Selatan, Timur, Utara
    "71": "WITA",
    "72": "WITA",
    "73": "WITA",
    "74": "WITA",
    "75": "WITA",
    "76": "WITA",  # Sulawesi
    "81": "WIT",
    "82": "WIT",  # Maluku, Maluku Utara
    "91": "WIT",
    "92": "WIT",
    "93": "WIT",
    "94": "WIT",
    "95": "WIT",
    "96": "WIT",  # Papua
}
# The "day" of a ladder period: the WIB date. No zone's 08:00-18:00 window crosses WIB
# midnight, so every prompt sent in one window belongs to one period across the country.
PERIOD_ZONE = ZONES["WIB"]


def zone_of(region_code: str | None) -> str:
    """WIB, WITA or WIT for a region code (by its province); WIB when unknown."""
    return PROVINCE_ZONE.get((region_code or "")[:2], DEFAULT_ZONE)


def local(now: datetime, zone: str) -> datetime:
    """`now` on the clocks of that zone."""
    return now.astimezone(ZONES[zone])


def local_day(moment: datetime, region_code: str | None) -> date:
    """The date of `moment` on the clocks of that region: what a person there calls that day."""
    return local(moment, zone_of(region_code)).date()


def period_day(now: datetime) -> date:
    """The date a ladder action of this moment belongs to."""
    return now.astimezone(PERIOD_ZONE).date()


def within_hours(now: datetime, zone: str, start: time, end: time) -> bool:
    """Whether it is delivery time (start ≤ local time < end) in that zone."""
    moment = local(now, zone).time()
    return start <= moment < end


def open_zones(now: datetime, start: time, end: time) -> list[str]:
    """The zones where it is delivery time now."""
    return [zone for zone in ZONES if within_hours(now, zone, start, end)]


def next_opening(now: datetime, zone: str, start: time, end: time) -> datetime:
    """`now` when within hours, else the next `start` o'clock in that zone (in UTC)."""
    if within_hours(now, zone, start, end):
        return now
    here = local(now, zone)
    day = here.date() if here.time() < start else here.date() + timedelta(days=1)
    return datetime.combine(day, start, tzinfo=ZONES[zone]).astimezone(now.tzinfo)


def zone_filter(region_code: ColumnElement[str], zones: Iterable[str]) -> ColumnElement[bool]:
    """SQL: the region's province lies in one of `zones` (for "due and within hours")."""
    wanted = set(zones)
    if wanted >= set(ZONES):
        return true()
    if not wanted:
        return false()
    province = func.substr(region_code, 1, 2)
    parts: list[ColumnElement[bool]] = []
    named = [code for code, zone in PROVINCE_ZONE.items() if zone in wanted]
    if named:
        parts.append(province.in_(named))
    if DEFAULT_ZONE in wanted:
        parts.append(province.not_in(list(PROVINCE_ZONE)))
    return or_(*parts)


_holidays_file = HOLIDAYS_FILE


def use_holidays_file(path: Path) -> None:
    """Read holidays from `path` (SINERGI_HOLIDAYS_FILE): this year's SKB before a release has it."""
    global _holidays_file
    _holidays_file = Path(path)
    _holiday_years.cache_clear()
    holidays.cache_clear()


@cache
def _holiday_years() -> dict[str, dict[str, Any]]:
    """The data file's years: {"2026": {"status": "resmi", "days": {...}}, ...}."""
    data = json.loads(_holidays_file.read_text(encoding="utf-8"))
    return {key: year for key, year in data.items() if not key.startswith("_")}


@cache
def holidays() -> frozenset[date]:
    """National holidays and cuti bersama from the data file."""
    days = (day for year in _holiday_years().values() for day in year["days"])
    return frozenset(date.fromisoformat(day) for day in days)


def holiday_warnings(today: date) -> list[str]:
    """What an operator should fix: this year (and, from November, next year) not official.

    A year missing from the file counts no holidays at all, so an escalation's SLA would fall
    due on Idul Fitri; a year marked "perkiraan" (estimate) may be a day off.
    """
    years = [today.year] + ([today.year + 1] if today.month >= 11 else [])
    known = _holiday_years()
    warnings = []
    for year in years:
        status = known.get(str(year), {}).get("status")
        if status is None:
            warnings.append(
                f"no holidays for {year} in {_holidays_file}: SLAs count them as working days"
            )
        elif status != "resmi":
            warnings.append(
                f"holidays for {year} in {_holidays_file} are {status}, not the signed SKB"
            )
    return warnings


def is_working_day(day: date, off: frozenset[date] | None = None) -> bool:
    """Monday to Friday and not a holiday."""
    return day.weekday() < 5 and day not in (holidays() if off is None else off)


def add_working_days(start: date, count: int, off: frozenset[date] | None = None) -> date:
    """The date `count` working days after `start` (the SLA's due date)."""
    day, left = start, count
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day, off):
            left -= 1
    return day


def working_days_between(start: date, end: date, off: frozenset[date] | None = None) -> int:
    """Working days after `start` up to and including `end` (0 when end ≤ start)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day, off)
    return count
