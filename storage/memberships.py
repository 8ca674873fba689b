"""Cooperative membership: a household applies from the chat, the cooperative's pengurus verify it
and record its savings (simpanan pokok once, simpanan wajib every month).

The pengurus are partner staff of the cooperative (storage/partners.py): their queries take
the `Seat`, so a cooperative sees only the households that applied to it, with the minimum
to act (name, desa, phone), never a NIK or a program.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.graduation import add_months
from storage.models import Household, Membership, Organisation
from storage.organisations import serving
from storage.partners import Seat
from storage.scope import NotFound, ScopeError

COOPERATIVE = "koperasi"
MAX_REASON = 500


class MembershipError(ValueError):
    """A step the membership cannot take (a reason missing, a month before joining…)."""


@dataclass(frozen=True)
class Applicant:
    """One membership as the pengurus read it: who, where, how to reach them, what is paid."""

    id: int
    state: str
    name: str
    desa: str | None
    phone: str | None
    applied_at: datetime
    member_since: date | None
    pokok_paid_on: date | None
    wajib_paid_through: str | None
    reason: str | None


@dataclass(frozen=True)
class Owed:
    """What a member still owes: simpanan pokok unless paid, and simpanan wajib's months."""

    pokok_due: bool
    pokok: int | None  # the cooperative's amount (None when it has not set one)
    wajib_months: list[str]
    wajib_each: int | None

    @property
    def wajib(self) -> int | None:
        """The wajib owed in rupiah (None when the cooperative has not set an amount)."""
        return None if self.wajib_each is None else self.wajib_each * len(self.wajib_months)


async def cooperative_for(session: AsyncSession, region_code: str) -> Organisation | None:
    """The village cooperative serving a household's desa (the nearest one when several do)."""
    query = (
        select(Organisation)
        .where(Organisation.kind == COOPERATIVE, serving(region_code))
        .order_by(func.length(Organisation.region_code).desc(), Organisation.id)
        .limit(1)
    )
    return await session.scalar(query)


async def apply(
    session: AsyncSession,
    household: Household,
    cooperative: Organisation,
    *,
    request_id: int | None,
    now: datetime,
) -> tuple[Membership, bool]:
    """The household's application (a refused one is opened again); the row, and whether it is new."""
    row = await session.scalar(
        select(Membership).where(
            Membership.household_id == household.id, Membership.organisation_id == cooperative.id
        )
    )
    if row is not None and row.state != "ditolak":
        return row, False
    if row is None:
        row = Membership(household_id=household.id, organisation_id=cooperative.id)
        session.add(row)
    row.state, row.reason, row.request_id = "diajukan", None, request_id
    row.applied_at = row.updated_at = now
    await session.flush()
    return row, True


async def of_household(
    session: AsyncSession, household_id: int
) -> list[tuple[Membership, Organisation]]:
    """The household's memberships and applications, with their cooperatives."""
    rows = await session.execute(
        select(Membership, Organisation)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.household_id == household_id)
        .order_by(Membership.applied_at)
    )
    return [(m, o) for m, o in rows.all()]


def _mine(seat: Seat) -> object:
    """The columns the pengurus may read, of their cooperative's memberships."""
    if not isinstance(seat, Seat):
        raise ScopeError("a partner query needs a Seat")
    return (
        select(
            Membership.id,
            Membership.state,
            Household.name,
            Household.desa,
            Household.phone,
            Membership.applied_at,
            Membership.member_since,
            Membership.pokok_paid_on,
            Membership.wajib_paid_through,
            Membership.reason,
        )
        .join(Household, Household.id == Membership.household_id)
        .where(Membership.organisation_id == seat.organisation_id)
    )


async def applicants(session: AsyncSession, seat: Seat, *, limit: int = 500) -> list[Applicant]:
    """The cooperative's applications waiting first (oldest first), then its members."""
    query = _mine(seat).order_by(  # type: ignore[attr-defined]
        Membership.state != "diajukan", Membership.applied_at, Membership.id
    )
    return [Applicant(*row) for row in (await session.execute(query.limit(limit))).all()]


async def _row(session: AsyncSession, seat: Seat, membership_id: int, *, state: str) -> Membership:
    """The membership, only when it is of the seat's cooperative (NotFound) and in `state`."""
    row = await session.get(Membership, membership_id)
    if row is None or not isinstance(seat, Seat) or row.organisation_id != seat.organisation_id:
        raise NotFound(membership_id)
    if row.state != state:
        raise MembershipError(f"the membership is {row.state}, not {state}")
    return row


def _done(row: Membership, seat: Seat, now: datetime) -> Membership:
    row.verified_by, row.updated_at = seat.username, now
    return row


async def verify(
    session: AsyncSession, seat: Seat, membership_id: int, *, today: date, now: datetime
) -> Membership:
    """The pengurus checked the conditions: the household is a member from today."""
    row = await _row(session, seat, membership_id, state="diajukan")
    row.state, row.member_since = "anggota", today
    return _done(row, seat, now)


async def refuse(
    session: AsyncSession, seat: Seat, membership_id: int, *, reason: str, now: datetime
) -> Membership:
    """The pengurus cannot accept the household, and say why (a reason is needed)."""
    row = await _row(session, seat, membership_id, state="diajukan")
    if not reason.strip():
        raise MembershipError("a reason is needed")
    row.state, row.reason = "ditolak", reason.strip()[:MAX_REASON]
    return _done(row, seat, now)


async def pay_pokok(
    session: AsyncSession, seat: Seat, membership_id: int, *, on: date, now: datetime
) -> Membership:
    """Simpanan pokok is paid (once)."""
    row = await _row(session, seat, membership_id, state="anggota")
    row.pokok_paid_on = on
    return _done(row, seat, now)


async def pay_wajib(
    session: AsyncSession, seat: Seat, membership_id: int, *, through: str, now: datetime
) -> Membership:
    """Simpanan wajib is paid up to and including the month `through` (YYYY-MM)."""
    row = await _row(session, seat, membership_id, state="anggota")
    joined = (row.member_since or date.min).strftime("%Y-%m")
    if not _is_month(through) or through < joined:
        raise MembershipError("a month from the month of joining on, as YYYY-MM")
    row.wajib_paid_through = max(through, row.wajib_paid_through or "")
    return _done(row, seat, now)


def _is_month(text: str) -> bool:
    """`YYYY-MM` with a real month."""
    return (
        len(text) == 7
        and text[4] == "-"
        and text[:4].isdigit()
        and text[5:] in {f"{m:02d}" for m in range(1, 13)}
    )


def owed(row: Membership, cooperative: Organisation, today: date) -> Owed:
    """What a member still owes today: pokok if unpaid, and each month of wajib not yet paid."""
    months: list[str] = []
    if row.state == "anggota" and row.member_since is not None:
        month = row.member_since.replace(day=1)
        if row.wajib_paid_through:
            paid = date.fromisoformat(row.wajib_paid_through + "-01")
            month = max(month, add_months(paid, 1))
        while month <= today:
            months.append(month.strftime("%Y-%m"))
            month = add_months(month, 1)
    pokok_due = row.state == "anggota" and row.pokok_paid_on is None
    return Owed(pokok_due, cooperative.simpanan_pokok, months, cooperative.simpanan_wajib)
