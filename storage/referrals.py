"""Referrals (handoffs) to other offices: dikirim → diterima → selesai | ditolak, with dates.

Staff functions take the Scope and fail closed and return the referral; the caller tells the
household (`handlers.notices.referral_news`), which also reads its own referrals in the chat.
A referral goes to an organisation (storage/organisations.py) that serves the household's
region; the partner's side of it is storage/partners.py. Without an answer by `answer_by`
(N working days after it was sent) it is overdue.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from storage.bulk import Hours, as_text, deferred, outbox_insert, promptable, touched_rows
from storage.calendar import add_working_days, period_day
from storage.identities import of_organisation
from storage.models import ChatIdentity, Household, Organisation, OutboxMessage, Referral
from storage.organisations import serving
from storage.paging import Page, paged
from storage.roster.rules import ORGANISATION_KINDS
from storage.scope import Scope, region_filter

# The kinds of office a household can be referred to (their names: handlers/labels.py).
OFFICES = ORGANISATION_KINDS
MOVES = {"dikirim": {"diterima", "ditolak"}, "diterima": {"selesai", "ditolak"}}
OPEN = ("dikirim", "diterima")
# What came of a closed referral (their names: handlers/labels.py).
OUTCOMES = ("trained", "hired", "member", "house", "other")
MAX_TEXT = 1000


class ReferralError(ValueError):
    """A referral that cannot be made or moved this way."""


async def create(
    session: AsyncSession,
    scope: Scope,
    *,
    household_id: int,
    organisation_id: int,
    asked: str,
    actor: str,
    now: datetime,
    answer_days: int,
    why: str = "",
    referred_by_id: int | None = None,
    request_id: int | None = None,
    escalation_id: int | None = None,
) -> Referral:
    """Staff hand a household of their region to an organisation serving it; the new referral.

    The organisation has `answer_days` working days to answer before the referral is overdue.
    """
    household = await session.scalar(
        select(Household).where(
            Household.id == household_id, region_filter(Household.region_code, scope)
        )
    )
    if household is None:
        raise ReferralError("not found in this region")
    organisation = await session.scalar(
        select(Organisation).where(
            Organisation.id == organisation_id, serving(household.region_code)
        )
    )
    if organisation is None or not asked.strip():
        raise ReferralError("an organisation serving the household and what is asked are needed")
    row = Referral(
        household_id=household.id,
        region_code=household.region_code,
        office=organisation.kind,
        organisation_id=organisation.id,
        request_id=request_id,
        escalation_id=escalation_id,
        asked=asked.strip()[:MAX_TEXT],
        why=why.strip()[:MAX_TEXT] or None,
        state="dikirim",
        created_by=actor[:80],
        referred_by_id=referred_by_id,
        sent_at=now,
        answer_by=add_working_days(period_day(now), answer_days),
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
    return answer(row, to_state, now=now, actor=scope.username, note=note)


def answer(
    row: Referral, to_state: str, *, now: datetime, actor: str, note: str | None = None
) -> Referral:
    """The referral moved one step (accepted, declined or closed) by `actor`; refuses other moves."""
    if to_state not in MOVES.get(row.state, set()):
        raise ReferralError(f"cannot move a referral from {row.state} to {to_state}")
    row.state, row.updated_at, row.answered_by = to_state, now, actor[:80]
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


def overdue(today: date) -> ColumnElement[bool]:
    """SQL: a referral still waiting for its answer after its last day to answer."""
    return (Referral.state == "dikirim") & (Referral.answer_by < today)


async def overdue_referrals(
    session: AsyncSession,
    scope: Scope,
    now: datetime,
    *,
    referred_by: int | None = None,
    limit: int = 200,
) -> list[tuple[Referral, Household]]:
    """Referrals of the scope (or sent by one officer) still unanswered past their day, longest first."""
    query = (
        select(Referral, Household)
        .join(Household, Household.id == Referral.household_id)
        .where(overdue(period_day(now)), region_filter(Referral.region_code, scope))
    )
    if referred_by is not None:
        query = query.where(Referral.referred_by_id == referred_by)
    rows = await session.execute(query.order_by(Referral.sent_at, Referral.id).limit(limit))
    return [(ref, hh) for ref, hh in rows.all()]


async def count_overdue(
    session: AsyncSession, scope: Scope, now: datetime, *, referred_by: int | None = None
) -> int:
    """How many referrals `overdue_referrals` would list without its limit."""
    query = select(func.count(Referral.id)).where(
        overdue(period_day(now)), region_filter(Referral.region_code, scope)
    )
    if referred_by is not None:
        query = query.where(Referral.referred_by_id == referred_by)
    return int(await session.scalar(query) or 0)


async def overdue_per_office(
    session: AsyncSession, scope: Scope, now: datetime
) -> list[tuple[str, int]]:
    """How many referrals of the scope each organisation has left unanswered past their day."""
    rows = await session.execute(
        select(Organisation.name, func.count(Referral.id))
        .join(Organisation, Organisation.id == Referral.organisation_id)
        .where(overdue(period_day(now)), region_filter(Referral.region_code, scope))
        .group_by(Organisation.id, Organisation.name)
        .order_by(func.count(Referral.id).desc(), Organisation.name)
    )
    return [(name, count) for name, count in rows.all()]


async def remind_overdue(session: AsyncSession, now: datetime, *, render: str, hours: Hours) -> int:
    """Set-based: each overdue referral not yet reminded gets one deferred reminder to every
    chat of its organisation (its number's, its partners' own), and is marked reminded; how
    many referrals.

    Marked even when the organisation has no linked chat: the reminder is once, and the
    referring officer sees the referral as overdue on their dashboard either way.
    """
    ci, og, hh = ChatIdentity, Organisation, Household
    due = and_(overdue(period_day(now)), Referral.reminded_at.is_(None))
    at = literal(now, OutboxMessage.created_at.type)
    args = [("name", hh.name), ("desa", hh.desa), ("sent", as_text(Referral.sent_at))]
    source = (
        select(
            ci.id,
            ci.channel,
            ci.external_id,
            deferred(session, render, ci.locale, *args, region=og.region_code, hours=hours),
            literal("referral-overdue:") + as_text(Referral.id) + literal(":") + as_text(ci.id),
            at,
            at,
            literal("pending"),
            literal(0),
        )
        .select_from(Referral)
        .join(og, og.id == Referral.organisation_id)
        .join(hh, hh.id == Referral.household_id)
        .join(ci, of_organisation(og.phone, og.id))
        .where(due, promptable(ci))
    )
    await session.execute(outbox_insert(session, source))
    marked = await session.execute(
        update(Referral)
        .where(due)
        .values(reminded_at=now)
        .execution_options(synchronize_session=False)
    )
    return touched_rows(marked)


async def history_of(
    session: AsyncSession, scope: Scope, household_id: int
) -> list[tuple[Referral, str | None]]:
    """A household's referrals of the scope, newest first, with their organisation's name."""
    rows = await session.execute(
        select(Referral, Organisation.name)
        .outerjoin(Organisation, Organisation.id == Referral.organisation_id)
        .where(Referral.household_id == household_id, region_filter(Referral.region_code, scope))
        .order_by(Referral.sent_at.desc(), Referral.id.desc())
        .limit(50)
    )
    return [(ref, name) for ref, name in rows.all()]
