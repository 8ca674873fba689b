"""Demo data: one kelurahan of Samarinda (Kalimantan Timur, WITA) with mentors, households, programs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import NikVault, mask_nik
from storage.models import Household, Mentor, ProgramEnrollment, Region, StaffUser
from storage.staff import add_staff

DEMO_STAFF = ("demo", "sinergi-demo-2026")
REGIONS = [
    ("64", "Kalimantan Timur", 1),
    ("6472", "Kota Samarinda", 2),
    ("647201", "Palaran", 3),
    ("6472011001", "Rawa Makmur", 4),
    ("6472011002", "Handil Bakti", 4),
]
MENTORS = [
    ("Rina Marlina", "+6281200000001", "6472011001"),
    ("Agus Salim", "+6281200000002", "6472011002"),
]
HOUSEHOLDS = [
    # name, sex, born, desa, desil, categories, phone suffix
    ("Siti Aminah", "P", date(1981, 3, 14), "6472011001", 1, "perempuan_kepala_keluarga"),
    ("Budi Santoso", "L", date(1975, 8, 2), "6472011001", 2, ""),
    ("Wahyuni Lestari", "P", date(1990, 1, 25), "6472011001", 1, "perempuan_kepala_keluarga"),
    ("Slamet Riyadi", "L", date(1958, 11, 9), "6472011001", 3, "lansia"),
    ("Dewi Kartika", "P", date(1986, 6, 30), "6472011001", 2, "disabilitas"),
    ("Ahmad Fauzi", "L", date(1979, 4, 17), "6472011002", 1, ""),
    ("Nurhayati", "P", date(1969, 12, 5), "6472011002", 2, "perempuan_kepala_keluarga"),
    ("Joko Purnomo", "L", date(1983, 9, 21), "6472011002", 4, ""),
    ("Sri Wahyuningsih", "P", date(1992, 2, 11), "6472011002", 3, ""),
    ("Hendra Gunawan", "L", date(1971, 7, 28), "6472011002", 1, "disabilitas"),
]
AS_OF = date(2026, 11, 10)
SOURCE = "DTSEN Kemensos"


def demo_nik(index: int, desa: str, sex: str, born: date) -> str:
    """A well-formed NIK for demo household `index` (day + 40 for women, as on real cards)."""
    day = born.day + 40 if sex == "P" else born.day
    return f"{desa[:6]}{day:02d}{born.month:02d}{born.year % 100:02d}{index + 1:04d}"


async def seed(session: AsyncSession, vault: NikVault, now: datetime) -> bool:
    """Add the demo region once; False when it was already there."""
    if await session.scalar(select(StaffUser.id).where(StaffUser.username == DEMO_STAFF[0])):
        return False
    # `sinergi regions load` (run by `make demo` first) may already hold the official names.
    codes = [code for code, _name, _level in REGIONS]
    present = set(await session.scalars(select(Region.code).where(Region.code.in_(codes))))
    session.add_all(Region(code=c, name=n, level=lvl) for c, n, lvl in REGIONS if c not in present)
    mentors = [
        Mentor(name=n, phone=p, region_code=r, created_at=now, updated_at=now)
        for n, p, r in MENTORS
    ]
    session.add_all(mentors)
    await session.flush()
    for index, row in enumerate(HOUSEHOLDS):
        household = _household(index, row, vault, mentors, now)
        session.add(household)
        await session.flush()
        session.add_all(_programs(index, household.id, now))
    await add_staff(
        session,
        username=DEMO_STAFF[0],
        password=DEMO_STAFF[1],
        role="supervisor",
        region_code="6472",
        now=now,
    )
    return True


def _household(
    index: int, row: tuple[Any, ...], vault: NikVault, mentors: list[Mentor], now: datetime
) -> Household:
    """One demo household with its NIK encrypted, hashed and masked."""
    name, sex, born, desa, desil, categories = row
    nik = demo_nik(index, desa, sex, born)
    mentor = mentors[0] if desa == "6472011001" else mentors[1]
    return Household(
        no_kk=f"6472010101{index + 1:06d}",
        nik_hash=vault.hash(nik),
        nik_encrypted=vault.encrypt(nik),
        nik_masked=mask_nik(nik),
        name=name,
        birth_date=born,
        gender=sex,
        phone=f"+62813000000{index + 1:02d}",
        address=f"Jl. Demo No. {index + 1}",
        region_code=desa,
        desa="Rawa Makmur" if desa.endswith("1001") else "Handil Bakti",
        kecamatan="Palaran",
        kabupaten="Kota Samarinda",
        provinsi="Kalimantan Timur",
        desil=desil,
        categories=categories,
        mentor_id=mentor.id,
        created_at=now,
        updated_at=now,
    )


def _programs(index: int, household_id: int, now: datetime) -> list[ProgramEnrollment]:
    """PKH and BPNT for most, a business package for some, nothing for the last one."""
    if index == len(HOUSEHOLDS) - 1:
        return []
    rows = [
        ("PKH", "disalurkan", "Tahap 4 2026", 750_000),
        ("BPNT", "aktif", "November 2026", 200_000),
    ]
    if index % 3 == 0:
        rows.append(("BANTUAN_USAHA", "dalam_proses", "2026", 5_000_000))
    return [
        ProgramEnrollment(
            household_id=household_id,
            program=p,
            status=s,
            period=per,
            amount=amt,
            as_of=AS_OF,
            source=SOURCE,
            updated_at=now,
        )
        for p, s, per, amt in rows
    ]
