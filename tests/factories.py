"""Test factories: households, mentors and programs in a few words, so tests read like scenarios."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import NikVault, mask_nik
from storage.models import Household, Mentor, Organisation, ProgramEnrollment
from tests.conftest import T0

NIK = "6472016503810001"  # a woman born 25-03-1981 in Samarinda
NO_KK = "6472010101000001"


async def mentor(
    session: AsyncSession,
    *,
    name: str = "Rina Marlina",
    phone: str = "+6281200000001",
    region_code: str = "6472011001",
) -> Mentor:
    """A mentor of one desa."""
    row = Mentor(name=name, phone=phone, region_code=region_code, created_at=T0, updated_at=T0)
    session.add(row)
    await session.flush()
    return row


async def household(
    session: AsyncSession,
    vault: NikVault,
    *,
    nik: str = NIK,
    no_kk: str = NO_KK,
    name: str = "Siti Aminah Rahayu",
    phone: str | None = "+6281300000001",
    region_code: str = "6472011001",
    mentor_id: int | None = None,
    now: datetime = T0,
    desil: int | None = 3,
    categories: str = "",
) -> Household:
    """A household with its NIK kept as Sinergi keeps it (not one the programs put first, unless told)."""
    row = Household(
        no_kk=no_kk,
        nik_hash=vault.hash(nik),
        nik_encrypted=vault.encrypt(nik),
        nik_masked=mask_nik(nik),
        name=name,
        birth_date=date(1981, 3, 25),
        gender="P",
        phone=phone,
        region_code=region_code,
        desa="Rawa Makmur",
        kecamatan="Palaran",
        kabupaten="Kota Samarinda",
        provinsi="Kalimantan Timur",
        desil=desil,
        categories=categories,
        mentor_id=mentor_id,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def program(
    session: AsyncSession,
    household_id: int,
    *,
    code: str = "PKH",
    status: str = "disalurkan",
    period: str = "Tahap 4 2026",
    amount: int | None = 1_500_000,
    as_of: date = date(2026, 11, 10),
    source: str = "DTSEN Kemensos",
) -> ProgramEnrollment:
    """One enrollment."""
    row = ProgramEnrollment(
        household_id=household_id,
        program=code,
        status=status,
        period=period,
        amount=amount,
        as_of=as_of,
        source=source,
        updated_at=T0,
    )
    session.add(row)
    await session.flush()
    return row


async def organisation(
    session: AsyncSession,
    *,
    code: str = "DPK-SMD",
    name: str = "Disperindagkop Kota Samarinda",
    kind: str = "disperindagkop",
    region_code: str = "6472",
    phone: str | None = None,
) -> Organisation:
    """An organisation that receives referrals."""
    row = Organisation(
        code=code,
        name=name,
        kind=kind,
        region_code=region_code,
        phone=phone,
        created_at=T0,
        updated_at=T0,
    )
    session.add(row)
    await session.flush()
    return row
