"""Mentors' visits: finding their own households and recording who was met, and how it goes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Household, MentorVisit
from storage.normalize import sixteen_digits

MAX_NOTE = 4000


async def record_visit(
    session: AsyncSession,
    *,
    mentor_id: int,
    household_id: int,
    met: bool,
    business_state: str | None,
    note: str | None,
    now: datetime,
) -> MentorVisit:
    """One visit of a mentor to one of their own households (another mentor's is refused)."""
    household = await session.get(Household, household_id)
    if household is None or household.mentor_id != mentor_id:
        raise PermissionError("a mentor records visits only to their own households")
    visit = MentorVisit(
        household_id=household_id,
        mentor_id=mentor_id,
        at=now,
        met=met,
        business_state=business_state,
        note=(note or None) and note[:MAX_NOTE],
    )
    session.add(visit)
    await session.flush()
    return visit


async def find_households(
    session: AsyncSession, *, mentor_id: int, text: str, limit: int = 9
) -> list[Household]:
    """The mentor's own households matching a No. KK or part of a name (3 letters or more)."""
    query = select(Household).where(Household.mentor_id == mentor_id)
    kk = sixteen_digits(text)
    words = text.strip()[:60]
    if kk:
        query = query.where(Household.no_kk == kk)
    elif len(words) >= 3:
        escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Household.name.ilike(f"%{escaped}%", escape="\\"))
    else:
        return []
    return list(await session.scalars(query.order_by(Household.name).limit(limit)))


async def own_household(
    session: AsyncSession, *, mentor_id: int, household_id: int
) -> Household | None:
    """The household, only if this mentor is its mentor."""
    household = await session.get(Household, household_id)
    return household if household is not None and household.mentor_id == mentor_id else None
