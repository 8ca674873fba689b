"""Checking one roster row: every column of INTERFACES.md ("Rosters"), all reasons at once."""

from __future__ import annotations

import re
from typing import Any

from storage import wilayah
from storage.crypto import NikVault, mask_nik
from storage.normalize import parse_date, phone_e164, region_code, sixteen_digits, valid_nik
from storage.roster.report import N_

Reasons = list[tuple[str, dict[str, Any]]]
Record = dict[str, Any]

# The households roster's columns, in the order of the operator contract (docs/OPERATING.md).
HOUSEHOLD_COLUMNS = (
    "no_kk",
    "nik",
    "nama",
    "tanggal_lahir",
    "jenis_kelamin",
    "no_hp",
    "alamat",
    "kode_wilayah",
    "desa",
    "kecamatan",
    "kabupaten",
    "provinsi",
    "desil",
    "kategori",
    "pendamping_hp",
)


REQUIRED = {
    "households": ("no_kk", "nik", "nama", "kode_wilayah"),
    "mentors": ("nama", "no_hp", "kode_wilayah"),
    "programs": ("no_kk", "program", "status", "periode", "tanggal_data", "sumber"),
    "organisations": ("kode", "nama", "jenis", "kode_wilayah"),
}
# The kinds of organisation a referral can go to (their names: handlers/labels.py).
ORGANISATION_KINDS = (
    "dinsos",
    "disperindagkop",
    "diskop_ukm",
    "disnakertrans",
    "pupr",
    "koperasi",
    "lainnya",
)
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
CATEGORIES = ("perempuan_kepala_keluarga", "disabilitas", "lansia")
GENDERS = {"L": "L", "P": "P", "LAKI-LAKI": "L", "LAKI_LAKI": "L", "PEREMPUAN": "P"}
_AMOUNT = re.compile(r"^(\d+|\d{1,3}([.,]\d{3})+)$")
_NOT_DIGIT = re.compile(r"\D")
_MOBILE = re.compile(r"^8\d{8,11}$")  # an Indonesian mobile number without its 0 or 62
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def roster_phone(raw: str) -> str | None:
    """An Indonesian phone in E.164; `812…` (a zero lost to a spreadsheet) counts as `0812…`."""
    digits = _NOT_DIGIT.sub("", raw)
    if digits.startswith("8") and not raw.lstrip().startswith("+"):
        raw = "0" + digits
    national = (
        digits[1:] if digits.startswith("08") else digits[2:] if digits.startswith("628") else ""
    )
    if _MOBILE.match(national):
        return "+62" + national  # the common case, the same answer phone_e164 gives, 10× faster
    phone = phone_e164(raw)
    return phone if phone and phone.startswith("+62") else None


def _text(cells: dict[str, str], key: str, limit: int, label: str, why: Reasons) -> str | None:
    """A free-text cell, None when empty; too long is a reason."""
    value = cells.get(key, "").strip()
    if len(value) > limit:
        why.append(
            (
                N_("{column} is too long (at most {limit} characters)"),
                {"column": label, "limit": limit},
            )
        )
    return value or None


def _required(cells: dict[str, str], keys: tuple[str, ...], why: Reasons) -> None:
    """A reason for each required cell left empty."""
    for key in keys:
        if not cells.get(key, "").strip():
            why.append((N_("{column} is empty"), {"column": key}))


def household(
    cells: dict[str, str], vault: NikVault, *, seal: bool = True
) -> tuple[Record, Reasons]:
    """A households row as table values (the NIK only encrypted, hashed and masked), or the reasons.

    With `seal=False` the NIK is hashed and masked but not yet encrypted: it stays in the
    record, under `nik`, for the importer to encrypt only when the stored hash differs.
    """
    why: Reasons = []
    _required(cells, REQUIRED["households"], why)
    no_kk = _kk(cells, why)
    nik = _nik(cells.get("nik", ""), why)
    record: Record = {
        "no_kk": no_kk,
        "name": _text(cells, "nama", 120, "nama", why),
        "birth_date": _date(cells.get("tanggal_lahir", ""), "tanggal_lahir", why),
        "gender": _gender(cells.get("jenis_kelamin", ""), why),
        "phone": _phone(cells.get("no_hp", ""), "no_hp", why),
        "address": _text(cells, "alamat", 500, "alamat", why),
        "region_code": _desa_code(cells.get("kode_wilayah", ""), why),
        "desil": _desil(cells.get("desil", ""), why),
        "categories": _categories(cells.get("kategori", ""), why),
        "mentor_phone": _phone(cells.get("pendamping_hp", ""), "pendamping_hp", why),
    }
    for level in ("desa", "kecamatan", "kabupaten", "provinsi"):
        record[level] = _text(cells, level, 120, level, why)
    if nik and not why:
        record.update(nik_hash=vault.hash(nik), nik_masked=mask_nik(nik))
        if seal:
            record["nik_encrypted"] = vault.encrypt(nik)
        else:
            record["nik"] = nik
    return record, why


def mentor(cells: dict[str, str]) -> tuple[Record, Reasons]:
    """A mentors row as table values, or the reasons."""
    why: Reasons = []
    _required(cells, REQUIRED["mentors"], why)
    code = cells.get("kode_wilayah", "")
    region = region_code(code)
    if code and region is None:
        why.append(
            (
                N_("kode_wilayah must be a region code such as 64.72.01 or 64.72.01.1001"),
                _shown(code),
            )
        )
    elif region is not None:
        region = _official(region, code, why)
    email = _text(cells, "email", 200, "email", why)
    if email and not _EMAIL.match(email):
        why.append((N_("email is not a valid address"), _shown(email)))
    record = {
        "name": _text(cells, "nama", 120, "nama", why),
        "phone": _phone(cells.get("no_hp", ""), "no_hp", why),
        "region_code": region,
        "email": email,
        "gender": _gender(cells.get("jenis_kelamin", ""), why),
    }
    return record, why


def organisation(cells: dict[str, str]) -> tuple[Record, Reasons]:
    """An organisations row as table values, or the reasons (each naming the wrong value)."""
    why: Reasons = []
    _required(cells, REQUIRED["organisations"], why)
    code = _text(cells, "kode", 32, "kode", why)
    if code and not _CODE.match(code):
        why.append(
            (N_("kode may have only letters, digits, '.', '-' and '_': {value}"), {"value": code})
        )
    kind = cells.get("jenis", "").strip().lower().replace(" ", "_")
    if kind and kind not in ORGANISATION_KINDS:
        why.append(
            (
                N_("jenis {value} is not one of {kinds}"),
                {"value": cells.get("jenis", "").strip(), "kinds": ", ".join(ORGANISATION_KINDS)},
            )
        )
    raw_region = cells.get("kode_wilayah", "").strip()
    region = region_code(raw_region) if raw_region else None
    if raw_region and region is None:
        why.append(
            (
                N_("kode_wilayah {value} is not a region code such as 64.72 or 64.72.01"),
                {"value": raw_region},
            )
        )
    elif region is not None:
        region = _official(region, raw_region, why)
    raw_phone = cells.get("no_hp", "").strip()
    phone = roster_phone(raw_phone) if raw_phone else None
    if raw_phone and phone is None:
        why.append(
            (N_("no_hp {value} is not a valid Indonesian phone number"), {"value": raw_phone})
        )
    record = {
        "code": code.upper() if code else None,
        "name": _text(cells, "nama", 120, "nama", why),
        "kind": kind or None,
        "region_code": region,
        "phone": phone,
        "simpanan_pokok": _amount(cells.get("simpanan_pokok", ""), why),
        "simpanan_wajib": _amount(cells.get("simpanan_wajib", ""), why),
    }
    return record, why


def program(cells: dict[str, str]) -> tuple[Record, Reasons]:
    """A programs row as table values (keyed by no_kk until the household is found), or the reasons."""
    why: Reasons = []
    _required(cells, REQUIRED["programs"], why)
    code = (_text(cells, "program", 32, "program", why) or "").upper()
    status = (_text(cells, "status", 32, "status", why) or "").lower().replace(" ", "_")
    record = {
        "no_kk": _kk(cells, why),
        "program": code.replace(" ", "_"),
        "status": status,
        "period": _text(cells, "periode", 64, "periode", why),
        "amount": _amount(cells.get("nominal", ""), why),
        "as_of": _date(cells.get("tanggal_data", ""), "tanggal_data", why),
        "source": _text(cells, "sumber", 120, "sumber", why),
        "note": _text(cells, "keterangan", 2000, "keterangan", why),
    }
    return record, why


def _shown(raw: str) -> dict[str, str]:
    """The wrong value as the file has it, cut short, for the page to show beside its reason.

    (A msgid that does not name `{value}` ignores it; the page shows it in its own column.)
    """
    return {"value": raw[:40]}


def _kk(cells: dict[str, str], why: Reasons) -> str | None:
    """The No. KK, or a reason."""
    raw = cells.get("no_kk", "")
    value = sixteen_digits(raw)
    if raw and value is None:
        why.append((N_("No. KK must be 16 digits"), _shown(raw)))
    return value


def _nik(raw: str, why: Reasons) -> str | None:
    """The NIK, or a reason that never repeats its digits."""
    if not raw:
        return None
    if sixteen_digits(raw) is None:
        why.append((N_("NIK must be 16 digits"), {}))
        return None
    nik = valid_nik(raw)
    if nik is None:
        why.append((N_("NIK is not valid: the region or birth date in it is impossible"), {}))
    return nik


def _date(raw: str, column: str, why: Reasons) -> Any:
    """A date cell, or a reason."""
    value = parse_date(raw) if raw else None
    if raw and value is None:
        why.append(
            (
                N_("{column} is not a real date (write YYYY-MM-DD or DD-MM-YYYY)"),
                {"column": column, **_shown(raw)},
            )
        )
    return value


def _gender(raw: str, why: Reasons) -> str | None:
    """`L` or `P`, or a reason."""
    if not raw:
        return None
    value = GENDERS.get(raw.strip().upper())
    if value is None:
        why.append((N_("jenis_kelamin must be L or P"), _shown(raw)))
    return value


def _phone(raw: str, column: str, why: Reasons) -> str | None:
    """A phone in E.164, or a reason."""
    if not raw:
        return None
    value = roster_phone(raw)
    if value is None:
        why.append(
            (
                N_("{column} is not a valid Indonesian phone number"),
                {"column": column, **_shown(raw)},
            )
        )
    return value


def _desa_code(raw: str, why: Reasons) -> str | None:
    """The 10-digit desa code, or a reason."""
    if not raw:
        return None
    value = region_code(raw)
    if value is None or len(value) != 10:
        why.append(
            (N_("kode_wilayah must be a 10-digit desa code such as 64.72.01.1001"), _shown(raw))
        )
        return None
    return _official(value, raw, why)


def _official(value: str, raw: str, why: Reasons) -> str | None:
    """The code when the Kemendagri list knows it, else a reason that shows the value."""
    if wilayah.exists(value):
        return value
    why.append(
        (N_("kode_wilayah {value} is not in the Kemendagri list of regions"), {"value": raw[:20]})
    )
    return None


def _desil(raw: str, why: Reasons) -> int | None:
    """Desil 1 to 10, or a reason."""
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 10:
        why.append((N_("desil must be a number from 1 to 10"), _shown(raw)))
        return None
    return int(raw)


def _categories(raw: str, why: Reasons) -> str:
    """Known categories joined by `;`, or a reason naming the unknown one."""
    found = [c.strip().lower().replace(" ", "_") for c in re.split(r"[;,]", raw) if c.strip()]
    for unknown in (c for c in found if c not in CATEGORIES):
        why.append((N_("unknown kategori: {value}"), {"value": unknown[:40]}))
    return ";".join(dict.fromkeys(c for c in found if c in CATEGORIES))


def _amount(raw: str, why: Reasons) -> int | None:
    """Whole rupiah (`1500000`, `1.500.000`, `Rp1.500.000`), or a reason."""
    text = re.sub(r"^rp\.?\s*", "", raw.strip().lower())
    if not text:
        return None
    if not _AMOUNT.match(text):
        why.append((N_("nominal must be whole rupiah, e.g. 1500000"), _shown(raw)))
        return None
    return int(re.sub(r"[.,]", "", text))
