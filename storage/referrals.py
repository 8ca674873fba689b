"""Referrals (handoffs) to other offices: dikirim → diterima → selesai | ditolak, with dates.

Staff functions take the Scope and fail closed and return the referral; the caller tells the
household (`handlers.notices.referral_news`), which also reads its own referrals in the chat.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Household, Referral
from storage.paging import Page, paged
from storage.scope import Scope, region_filter

# The offices a household can be referred to (their names: handlers/labels.py).
OFFICES = ("disperindagkop", "disnakertrans", "pupr", "koperasi")
MOVES = {"dikirim": {"diterima", "ditolak"}, "diterima": {"selesai", "ditolak"}}
OPEN = ("dikirim", "diterima")
MAX_TEXT = 1000


class ReferralError(ValueError):
    """A referral that cannot be made or moved this way."""


async def create(
    session: AsyncSession,
    scope: Scope,
    *,
    household_id: int,
    office: str,
    asked: str,
    actor: str,
    now: datetime,
) -> Referral:
    """Staff hand a household of their region to another office; the new referral."""
    household = await session.scalar(
        select(Household).where(
            Household.id == household_id, region_filter(Household.region_code, scope)
        )
    )
    if household is None:
        raise ReferralError("not found in this region")
    if office not in OFFICES or not asked.strip():
        raise ReferralError("an office and what is asked are needed")
    row = Referral(
        household_id=household.id,
        region_code=household.region_code,
        office=office,
        asked=asked.strip()[:MAX_TEXT],
        state="dikirim",
        created_by=actor[:80],
        sent_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def get(session: AsyncSession, scope: Scope, referral_id: int) -> Referral | None:
    """One referral, only inside the scope."""
    return await session.scalar(
        select(Referral).where(
            Referral.id == referral_id, region_filter(Referral.region_code, scope)
        )
    )


async def move(
    session: AsyncSession,
    scope: Scope,
    referral_id: int,
    to_state: str,
    *,
    now: datetime,
    note: str | None = None,
) -> Referral:
    """Staff record the office's answer; the referral as it stands now."""
    row = await get(session, scope, referral_id)
    if row is None:
        raise ReferralError("not found in this region")
    if to_state not in MOVES.get(row.state, set()):
        raise ReferralError(f"cannot move a referral from {row.state} to {to_state}")
    row.state, row.updated_at = to_state, now
    if to_state == "diterima":
        row.received_at = now
    else:
        row.closed_at = now
    if note and note.strip():
        row.note = note.strip()[:MAX_TEXT]
    return row


async def of_household(
    session: AsyncSession, household_id: int, *, open_only: bool = False
) -> list[Referral]:
    """The household's own referrals, newest first (for its chat)."""
    query = select(Referral).where(Referral.household_id == household_id)
    if open_only:
        query = query.where(Referral.state.in_(OPEN))
    return list(
        await session.scalars(query.order_by(Referral.sent_at.desc(), Referral.id.desc()).limit(10))
    )


def open_query(scope: Scope) -> object:
    """Open referrals of the scope with their households, oldest first."""
    return (
        select(Referral, Household)
        .join(Household, Household.id == Referral.household_id)
        .where(Referral.state.in_(OPEN), region_filter(Referral.region_code, scope))
        .order_by(Referral.sent_at, Referral.id)
    )


async def open_referrals(session: AsyncSession, scope: Scope, page: int = 1) -> Page:
    """One page of the scope's open referrals, as (referral, household) rows."""
    return await paged(session, open_query(scope), page, scalars=False)  # type: ignore[arg-type]


async def overdue_referrals(
    session: AsyncSession, scope: Scope, now: datetime, days: int, *, limit: int = 200
) -> list[tuple[Referral, Household]]:
    """Referrals of the scope still waiting for the office after `days` days, longest first."""
    since = now - timedelta(days=days)
    rows = await session.execute(
        select(Referral, Household)
        .join(Household, Household.id == Referral.household_id)
        .where(
            Referral.state == "dikirim",
            Referral.sent_at <= since,
            region_filter(Referral.region_code, scope),
        )
        .order_by(Referral.sent_at, Referral.id)
        .limit(limit)
    )
    return [(ref, hh) for ref, hh in rows.all()]
