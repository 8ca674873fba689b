"""Indonesian first: the catalog is complete, and rupiah and dates read the Indonesian way."""

from __future__ import annotations

import re
from datetime import date

from babel.messages.pofile import read_po

from locales.i18n import LOCALE_DIR, _, long_date, rupiah, use_locale


def test_indonesian_catalog_has_no_missing_or_fuzzy_entry() -> None:
    with (LOCALE_DIR / "id" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="id")
    missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert missing == []
    assert len(catalog) > 50


def test_every_placeholder_survives_translation() -> None:
    with (LOCALE_DIR / "id" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="id")
    for message in catalog:
        if not message.id or isinstance(message.id, tuple):
            continue
        wanted = set(re.findall(r"\{\w+\}", message.id))
        assert set(re.findall(r"\{\w+\}", message.string)) == wanted, message.id


def test_the_source_code_uses_every_catalog_entry_through_gettext() -> None:
    with use_locale("id"):
        assert _("Yes") == "Ya"
    with use_locale("en"):
        assert _("Yes") == "Yes"
    with use_locale("xx"):  # unknown locales fall back to Indonesian
        assert _("Yes") == "Ya"


def test_rupiah_and_dates_the_indonesian_way() -> None:
    assert rupiah(1_500_000) == "Rp1.500.000"
    assert rupiah(750) == "Rp750"
    with use_locale("id"):
        assert long_date(date(2026, 11, 12)) == "12 November 2026"
        assert long_date(date(2026, 8, 17)) == "17 Agustus 2026"
