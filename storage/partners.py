"""A partner's seat: the staff of an organisation see and answer only the referrals sent to it.

A partner's queries take a `Seat` (their organisation), never a region Scope: a partner sees
the minimum to act (name, desa, phone, what is asked and why, who referred), never a NIK, a
program or a conversation. A referral of another organisation looks like none at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import referrals
from storage.models import Household, Organisation, Referral, StaffUser
from storage.scope import NotFound, ScopeError
from storage.staff import StaffError, new_account

ROLE = "partner"


@dataclass(frozen=True)
class Seat:
    """What one partner may see: the referrals of their organisation."""

    organisation_id: int
    staff_id: int
    username: str


@dataclass(frozen=True)
class Handoff:
    """One referral as the partner reads it: nothing more than they need to act."""

    id: int
    state: str
    name: str
    desa: str | None
    phone: str | None
    asked: str
    why: str | None
    referred_by: str
    sent_at: datetime
    answer_by: date | None
    plan: str | None
    plan_date: date | None
    reason: str | None
    outcome: str | None
    note: str | None


async def add_partner(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    organisation_code: str,
    now: datetime,
    phone: str | None = None,
) -> StaffUser:
    """A new active partner account of an organisation; its region is the organisation's.

    `phone` (E.164) is the partner's own number: the chat that shares it links to this account.
    """
    organisation = await session.scalar(
        select(Organisation).where(Organisation.code == organisation_code.strip().upper())
    )
    if organisation is None:
        raise StaffError(f"no organisation with kode {organisation_code}")
    if phone and await partner_by_phone(session, phone) is not None:
        raise StaffError(f"the number {phone} is already another partner's")
    user = await new_account(
        session,
        username=username,
        password=password,
        role=ROLE,
        region_code=organisation.region_code,
        organisation_id=organisation.id,
        now=now,
    )
    user.phone = phone or None
    return user


async def partner_by_phone(session: AsyncSession, phone: str) -> StaffUser | None:
    """The active partner account whose own number this is (a chat recognising itself)."""
    return await session.scalar(
        select(StaffUser)
        .where(
            StaffUser.phone == phone,
            StaffUser.role == ROLE,
            StaffUser.active.is_(True),
            StaffUser.organisation_id.is_not(None),
        )
        .order_by(StaffUser.id)
        .limit(1)
    )


async def partner_by_id(session: AsyncSession, staff_id: object) -> StaffUser | None:
    """The active partner account with this id (None for any other account or none)."""
    if not isinstance(staff_id, int):
        return None
    user = await session.get(StaffUser, staff_id)
    if user is None or not user.active or user.role != ROLE or user.organisation_id is None:
        return None
    return user


async def seat_of(session: AsyncSession, staff_id: int | None) -> Seat | None:
    """The seat of an active partner account (None once it is switched off or is no partner)."""
    user = await partner_by_id(session, staff_id)
    if user is None or user.organisation_id is None:
        return None
    return Seat(organisation_id=user.organisation_id, staff_id=user.id, username=user.username)


_FIELDS = (
    Referral.id,
    Referral.state,
    Household.name,
    Household.desa,
    Household.phone,
    Referral.asked,
    Referral.why,
    Referral.created_by,
    Referral.sent_at,
    Referral.answer_by,
    Referral.plan,
    Referral.plan_date,
    Referral.reason,
    Referral.outcome,
    Referral.note,
)
# Waiting for an answer first, then accepted ones, then the closed.
_FIRST = case({"dikirim": 0, "diterima": 1}, value=Referral.state, else_=2)


def _mine(seat: Seat) -> object:
    """Only the columns a partner may read, of their organisation's referrals."""
    if not isinstance(seat, Seat):
        raise ScopeError("a partner query needs a Seat")
    return (
        select(*_FIELDS)
        .join(Household, Household.id == Referral.household_id)
        .where(Referral.organisation_id == seat.organisation_id)
    )


async def queue(
    session: AsyncSession, seat: Seat, *, limit: int = 200, state: str | None = None
) -> list[Handoff]:
    """The organisation's referrals: unanswered first (oldest first), then accepted, then closed
    (only those in `state` when given)."""
    query = _mine(seat)
    if state is not None:
        query = query.where(Referral.state == state)  # type: ignore[attr-defined]
    query = query.order_by(_FIRST, Referral.sent_at, Referral.id).limit(limit)  # type: ignore[attr-defined]
    return [Handoff(*row) for row in (await session.execute(query)).all()]


async def handoff(session: AsyncSession, seat: Seat, referral_id: int) -> Handoff:
    """One referral of the organisation, or NotFound."""
    row = (await session.execute(_mine(seat).where(Referral.id == referral_id))).first()  # type: ignore[attr-defined]
    if row is None:
        raise NotFound(referral_id)
    return Handoff(*row)


async def _row(session: AsyncSession, seat: Seat, referral_id: int) -> Referral:
    """The referral row itself, only when it was sent to the seat's organisation."""
    await handoff(session, seat, referral_id)
    row = await session.get(Referral, referral_id)
    if row is None:
        raise NotFound(referral_id)
    return row


async def accept(
    session: AsyncSession,
    seat: Seat,
    referral_id: int,
    *,
    plan: str,
    plan_date: date | None,
    now: datetime,
) -> Referral:
    """The partner takes the household on, with a date or a plan (one is needed)."""
    if not plan.strip() and plan_date is None:
        raise referrals.ReferralError("a date or a plan is needed")
    row = referrals.answer(
        await _row(session, seat, referral_id), "diterima", now=now, actor=seat.username
    )
    row.plan, row.plan_date = plan.strip()[: referrals.MAX_TEXT] or None, plan_date
    return row


async def decline(
    session: AsyncSession, seat: Seat, referral_id: int, *, reason: str, now: datetime
) -> Referral:
    """The partner cannot take the household on, and says why (a reason is needed)."""
    if not reason.strip():
        raise referrals.ReferralError("a reason is needed")
    row = referrals.answer(
        await _row(session, seat, referral_id), "ditolak", now=now, actor=seat.username
    )
    row.reason = reason.strip()[: referrals.MAX_TEXT]
    return row


async def close(
    session: AsyncSession,
    seat: Seat,
    referral_id: int,
    *,
    outcome: str,
    note: str,
    now: datetime,
) -> Referral:
    """The partner closes an accepted referral with what came of it (trained, hired, …)."""
    if outcome not in referrals.OUTCOMES:
        raise referrals.ReferralError("an outcome is needed")
    row = referrals.answer(
        await _row(session, seat, referral_id), "selesai", now=now, actor=seat.username, note=note
    )
    row.outcome = outcome
    return row
