"""Households, mentors and programs as the chat sees them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Household, Mentor, ProgramEnrollment


async def households_by_phone(session: AsyncSession, phone: str) -> list[Household]:
    """Households whose roster phone is this number (there may be more than one)."""
    return list(await session.scalars(select(Household).where(Household.phone == phone).limit(3)))


async def mentor_by_phone(session: AsyncSession, phone: str) -> Mentor | None:
    """The mentor with this phone, if any."""
    return await session.scalar(select(Mentor).where(Mentor.phone == phone))


async def mentor_households_matching(
    session: AsyncSession, mentor_id: int | None, *, no_kk: str | None = None, name: str = ""
) -> list[Household]:
    """The mentor's own households with this No. KK, or whose name contains `name` (10 at most)."""
    query = select(Household).where(Household.mentor_id == mentor_id)
    if no_kk:
        query = query.where(Household.no_kk == no_kk)
    elif name:
        query = query.where(Household.name.ilike(f"%{name}%"))
    else:
        return []
    return list(await session.scalars(query.order_by(Household.name).limit(10)))


async def household_of_mentor(
    session: AsyncSession, mentor_id: int | None, household_id: int
) -> Household | None:
    """The household, only if this mentor is its mentor."""
    household = await session.get(Household, household_id)
    return household if household and household.mentor_id == mentor_id else None


async def household_by_nik_and_kk(
    session: AsyncSession, nik_hash: str, no_kk: str
) -> Household | None:
    """The household whose head has this NIK (by keyed hash) and whose card is this No. KK."""
    return await session.scalar(
        select(Household).where(Household.nik_hash == nik_hash, Household.no_kk == no_kk)
    )


async def household_by_kk(session: AsyncSession, no_kk: str) -> Household | None:
    """The household with this No. KK."""
    return await session.scalar(select(Household).where(Household.no_kk == no_kk))


async def programs_of(session: AsyncSession, household_id: int) -> list[ProgramEnrollment]:
    """The household's enrollments, newest data first."""
    rows = await session.scalars(
        select(ProgramEnrollment)
        .where(ProgramEnrollment.household_id == household_id)
        .order_by(ProgramEnrollment.as_of.desc(), ProgramEnrollment.program)
    )
    return list(rows)


async def households_of_mentor(
    session: AsyncSession, mentor_id: int, *, limit: int = 200
) -> list[Household]:
    """The mentor's households by name."""
    rows = await session.scalars(
        select(Household)
        .where(Household.mentor_id == mentor_id)
        .order_by(Household.name)
        .limit(limit)
    )
    return list(rows)
