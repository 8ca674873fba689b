"""The record of processing's live numbers (UU PDP): how much of each kind Sinergi holds, in scope."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ChatIdentity,
    Household,
    MentorVisit,
    ProgressReport,
    Proposal,
    ServiceRequest,
)
from storage.scope import Scope, scoped


async def _count(session: AsyncSession, query: object) -> int:
    """One count."""
    return int(await session.scalar(query) or 0)  # type: ignore[call-overload]


async def held(session: AsyncSession, scope: Scope) -> dict[str, int]:
    """How many households, linked chats, reports, photos, visits, requests and proposals."""
    households = scoped(select(func.count()).select_from(Household), scope)
    of_household = scoped(select(Household.id), scope)
    chats = select(func.count()).where(ChatIdentity.household_id.in_(of_household))
    reports = select(func.count()).where(ProgressReport.household_id.in_(of_household))
    photos = reports.where(ProgressReport.photo_path.is_not(None))
    visits = select(func.count()).where(MentorVisit.household_id.in_(of_household))
    requests = scoped(
        select(func.count()).select_from(ServiceRequest), scope, ServiceRequest.region_code
    )
    proposals = scoped(select(func.count()).select_from(Proposal), scope, Proposal.region_code)
    return {
        "households": await _count(session, households),
        "chats": await _count(session, chats),
        "reports": await _count(session, reports),
        "photos": await _count(session, photos),
        "visits": await _count(session, visits),
        "requests": await _count(session, requests),
        "proposals": await _count(session, proposals),
    }
