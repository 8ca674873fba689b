"""Mentors as staff see them: each with their numbers, their households, and reassigning households."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.households import SILENT_RUNGS
from storage.models import (
    ChatIdentity,
    Household,
    LadderState,
    Mentor,
    MentorVisit,
    ProgressReport,
)
from storage.paging import Page, paged
from storage.scope import NotFound, Scope, region_filter, scoped


async def overview(session: AsyncSession, scope: Scope, now: datetime) -> list[dict[str, Any]]:
    """Each mentor of the scope with households, silent ones, overdue visits and last activity."""
    silent = func.sum(case((LadderState.rung.in_(SILENT_RUNGS), 1), else_=0))
    counts = dict(
        (m, (int(n), int(s or 0)))
        for m, n, s in (
            await session.execute(
                scoped(
                    select(Household.mentor_id, func.count(Household.id), silent)
                    .outerjoin(LadderState, LadderState.household_id == Household.id)
                    .where(Household.mentor_id.is_not(None))
                    .group_by(Household.mentor_id),
                    scope,
                )
            )
        ).all()
    )
    visits = dict(
        (
            await session.execute(
                select(MentorVisit.mentor_id, func.max(MentorVisit.at))
                .group_by(MentorVisit.mentor_id)
                .where(MentorVisit.mentor_id.in_(list(counts) or [0]))
            )
        ).all()
    )
    overdue = dict(
        (m, int(n))
        for m, n in (
            await session.execute(
                scoped(
                    select(Household.mentor_id, func.count(Household.id))
                    .join(LadderState, LadderState.household_id == Household.id)
                    .where(
                        LadderState.rung.in_(("mentor", "dinsos")),
                        LadderState.updated_at < now - timedelta(days=7),
                    )
                    .group_by(Household.mentor_id),
                    scope,
                )
            )
        ).all()
    )
    mentors = await session.scalars(
        scoped(select(Mentor), scope, Mentor.region_code).order_by(Mentor.name).limit(500)
    )
    return [
        {
            "mentor": m,
            "households": counts.get(m.id, (0, 0))[0],
            "silent": counts.get(m.id, (0, 0))[1],
            "overdue": overdue.get(m.id, 0),
            "last_visit": visits.get(m.id),
        }
        for m in mentors
    ]


async def get(session: AsyncSession, scope: Scope, mentor_id: int) -> Mentor:
    """One mentor of the scope, or NotFound."""
    row = await session.scalar(
        scoped(select(Mentor).where(Mentor.id == mentor_id), scope, Mentor.region_code)
    )
    if row is None:
        raise NotFound(mentor_id)
    return row


async def households(session: AsyncSession, scope: Scope, mentor_id: int, page: int = 1) -> Page:
    """The mentor's households (with ladder state): (Household, LadderState|None) rows."""
    query = scoped(
        select(Household, LadderState)
        .outerjoin(LadderState, LadderState.household_id == Household.id)
        .where(Household.mentor_id == mentor_id),
        scope,
    ).order_by(Household.name, Household.id)
    return await paged(session, query, page, scalars=False)


async def reassign(
    session: AsyncSession, scope: Scope, household_ids: list[int], mentor_id: int
) -> int:
    """Hand households of the scope to a mentor of the scope; how many moved."""
    target = await get(session, scope, mentor_id)
    result = await session.execute(
        update(Household)
        .where(
            and_(Household.id.in_(household_ids[:500]), region_filter(Household.region_code, scope))
        )
        .values(mentor_id=target.id, mentor_phone=target.phone)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def last_contacts(session: AsyncSession, household_ids: list[int]) -> dict[int, datetime]:
    """Each household's latest message, submitted report or met visit (none: never in touch).

    Read from the rows themselves, not the ladder's `last_contact_at`, which moves only when a
    running check-in cycle ends: a family that chatted today shows today.
    """
    if not household_ids:
        return {}
    ci, pr, mv = ChatIdentity, ProgressReport, MentorVisit
    ids = household_ids[:500]
    moments = union_all(
        select(ci.household_id.label("hid"), func.max(ci.last_inbound_at).label("at"))
        .where(ci.household_id.in_(ids))
        .group_by(ci.household_id),
        select(pr.household_id, func.max(pr.submitted_at))
        .where(pr.household_id.in_(ids))
        .group_by(pr.household_id),
        select(mv.household_id, func.max(mv.at))
        .where(mv.household_id.in_(ids), mv.met.is_(True))
        .group_by(mv.household_id),
    ).subquery()
    rows = await session.execute(
        select(moments.c.hid, func.max(moments.c.at))
        .where(moments.c.at.is_not(None))
        .group_by(moments.c.hid)
    )
    return {int(hid): at for hid, at in rows.all() if at is not None}
