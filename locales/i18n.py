"""Babel catalogs, the active locale of this turn, and Indonesian formats for rupiah and dates."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path

from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LOCALES = ("id", "en")
DEFAULT_LOCALE = "id"
LOCALE_DIR = Path(__file__).resolve().parent

_active: ContextVar[str] = ContextVar("sinergi_locale", default=DEFAULT_LOCALE)


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalog; compiled in memory from the .po when no .mo was built."""
    base = LOCALE_DIR / locale / "LC_MESSAGES"
    mo = base / "messages.mo"
    po = base / "messages.po"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return Translations(handle)
    if po.exists():
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return Translations(buffer)
    return NullTranslations()


def _(message: str) -> str:
    """The message in the active locale (placeholders are filled by the caller afterwards)."""
    return translations(_active.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Singular or plural in the active locale."""
    return translations(_active.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a string for the catalog without translating it yet (menus, data tables)."""
    return message


def current_locale() -> str:
    """The locale of this turn."""
    return _active.get()


@contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    """Speak `locale` (or Indonesian when unknown) inside the block."""
    chosen = locale if locale in LOCALES else DEFAULT_LOCALE
    token = _active.set(chosen)
    try:
        yield chosen
    finally:
        _active.reset(token)


def rupiah(amount: int) -> str:
    """`Rp1.500.000`: the Indonesian grouping, no decimals, no space."""
    return "Rp" + format_decimal(amount, format="#,##0", locale="id")


def long_date(day: date) -> str:
    """`12 November 2026` in Indonesian (`November 12, 2026` in English)."""
    return _long_date(day, _active.get())


@lru_cache(maxsize=4096)
def _long_date(day: date, locale: str) -> str:
    """Babel's formatting is slow for a digest of 150 lines; the same days recur."""
    return format_date(day, format="long", locale=locale)


def long_moment(moment: datetime) -> str:
    """`2 Desember 2026 13.05` (`December 2, 2026 1:05 PM`): a moment on the reader's clock."""
    locale = _active.get()
    return (
        f"{_long_date(moment.date(), locale)} {format_time(moment.time(), 'short', locale=locale)}"
    )


def short_month(period: str) -> str:
    """`Des 2026` for the month `2026-12` (`Dec 2026` in English)."""
    year, month = period[:7].split("-")
    return _short_month(int(year), int(month), _active.get())


@lru_cache(maxsize=512)
def _short_month(year: int, month: int, locale: str) -> str:
    """Babel is slow and months recur on every chart."""
    return format_date(date(year, month, 1), "LLL y", locale=locale)


def month_name(month: str) -> str:
    """`2026-12` → `Desember 2026` (`December 2026` in English)."""
    return format_date(date.fromisoformat(month + "-01"), format="MMMM y", locale=_active.get())
