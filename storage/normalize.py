"""Parsing what people and rosters type: phones, region codes, NIK, No. KK, dates."""

from __future__ import annotations

import re
from datetime import date

import phonenumbers

_DIGITS = re.compile(r"\D")


def phone_e164(raw: str | None) -> str | None:
    """`0812-3456-7890`, `62812…` or `+62812…` → `+6281234567890`; None when it is not a number."""
    if not raw:
        return None
    text = raw.strip()
    digits = _DIGITS.sub("", text)
    if not digits:
        return None
    if text.startswith("+"):
        candidate = "+" + digits
    elif digits.startswith("0"):
        candidate = "+62" + digits[1:]
    else:
        candidate = "+" + digits
    try:
        parsed = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def region_code(raw: str | None) -> str | None:
    """`64.72.01.1001` or `6472011001` → `6472011001`; None unless 2, 4, 6 or 10 digits."""
    if not raw:
        return None
    digits = re.sub(r"[.\s]", "", raw.strip())
    if not digits.isdigit() or len(digits) not in (2, 4, 6, 10):
        return None
    return digits


def sixteen_digits(raw: str | None) -> str | None:
    """A NIK or No. KK with spaces and dots removed, or None when it is not 16 digits."""
    if raw is None:
        return None
    digits = re.sub(r"[\s.\-]", "", str(raw).strip())
    if digits.endswith(".0"):
        digits = digits[:-2]
    return digits if len(digits) == 16 and digits.isdigit() else None


def nik_birth_date(nik: str) -> date | None:
    """The birth date written in a NIK (day + 40 for women), or None when it is impossible."""
    day, month, year2 = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    if day > 40:
        day -= 40
    # Two-digit years: either century may be meant; 29 February needs a leap year in it.
    for century in (1900, 2000):
        try:
            return date(century + year2, month, day)
        except ValueError:
            continue
    return None


def valid_nik(raw: str | None) -> str | None:
    """The NIK when it has 16 digits, a province code and a possible birth date; else None."""
    nik = sixteen_digits(raw)
    if nik is None or not ("11" <= nik[:2] <= "97"):
        return None
    return nik if nik_birth_date(nik) else None


def parse_date(raw: str | None) -> date | None:
    """`YYYY-MM-DD` or `DD-MM-YYYY` (also with `/`), or None when it is not a real date."""
    if not raw:
        return None
    text = str(raw).strip()[:10].replace("/", "-")
    for pattern, order in (
        (r"^(\d{4})-(\d{1,2})-(\d{1,2})$", "ymd"),
        (r"^(\d{1,2})-(\d{1,2})-(\d{4})$", "dmy"),
    ):
        match = re.match(pattern, text)
        if match:
            a, b, c = (int(g) for g in match.groups())
            y, m, d = (a, b, c) if order == "ymd" else (c, b, a)
            try:
                return date(y, m, d)
            except ValueError:
                return None
    return None
