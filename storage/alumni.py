"""The graduates' community: businesses listed with the household's consent, peer mentors, pairings.

Only a household at `mandiri` can be listed or offer to mentor, and only by its own yes in the
chat; `listed_at` is that consent's date. Nothing here lists a row without it. Households and
mentors search every listed business; a partner reads those of its organisation's region.
Withdrawing, erasure and BERHENTI take the listing away (`forget` deletes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AlumniListing, GraduationStage, Household, Organisation, PeerPairing
from storage.partners import Seat
from storage.scope import NotFound, prefix_filter

GRADUATED = "mandiri"
MAX_NAME = 60


class NotGraduate(ValueError):
    """Only a graduated (mandiri) household can be listed or offer to mentor."""


@dataclass(frozen=True)
class Business:
    """One listed business as anyone may read it: the phone only when the household agreed."""

    household_id: int
    name: str
    kind: str
    desa: str | None
    kabupaten: str | None
    phone: str | None
    listed_at: datetime


@dataclass(frozen=True)
class Peer:
    """A graduate who offered to mentor, as a mentor reads it (the name is masked by the caller)."""

    household_id: int
    name: str
    desa: str | None
    business: str | None


async def of_household(session: AsyncSession, household_id: int) -> AlumniListing | None:
    """The household's consents row, if it ever gave one."""
    return await session.scalar(
        select(AlumniListing).where(AlumniListing.household_id == household_id)
    )


async def is_graduate(session: AsyncSession, household_id: int) -> bool:
    """The household is at mandiri."""
    stage = await session.get(GraduationStage, household_id)
    return stage is not None and stage.stage == GRADUATED


async def _row(session: AsyncSession, household: Household, now: datetime) -> AlumniListing:
    """The household's row, made when it has none (only for a graduate)."""
    if not await is_graduate(session, household.id):
        raise NotGraduate(household.id)
    row = await of_household(session, household.id)
    if row is None:
        row = AlumniListing(household_id=household.id, region_code=household.region_code)
        session.add(row)
    row.region_code = household.region_code
    row.updated_at = now
    return row


async def list_business(
    session: AsyncSession,
    household: Household,
    *,
    name: str,
    kind: str,
    share_phone: bool,
    now: datetime,
) -> AlumniListing:
    """The graduate's business listed from now, with its consent dated; NotGraduate otherwise."""
    row = await _row(session, household, now)
    row.business_name = name.strip()[:MAX_NAME]
    row.kind = kind
    row.share_phone = share_phone
    row.listed_at = now
    row.withdrawn_at = None
    await session.flush()
    return row


async def withdraw(session: AsyncSession, household_id: int, *, now: datetime) -> bool:
    """The listing taken down (name, kind and phone consent cleared); False when none was up."""
    row = await of_household(session, household_id)
    if row is None or row.listed_at is None:
        return False
    row.listed_at, row.withdrawn_at = None, now
    row.business_name, row.kind, row.share_phone = None, None, False
    row.updated_at = now
    await session.flush()
    return True


async def offer_peer(
    session: AsyncSession, household: Household, *, offer: bool, now: datetime
) -> AlumniListing:
    """The graduate offers (or stops offering) to be a peer mentor; NotGraduate otherwise."""
    row = await _row(session, household, now)
    row.peer_at = now if offer else None
    await session.flush()
    return row


async def forget(session: AsyncSession, household_id: int) -> int:
    """Erasure and BERHENTI: the household's listing and pairings deleted; how many rows went."""
    gone = await session.execute(
        delete(AlumniListing).where(AlumniListing.household_id == household_id)
    )
    pairs = await session.execute(
        delete(PeerPairing).where(
            or_(
                PeerPairing.household_id == household_id,
                PeerPairing.peer_household_id == household_id,
            )
        )
    )
    return int(gone.rowcount or 0) + int(pairs.rowcount or 0)  # type: ignore[attr-defined]


def _listed() -> ColumnElement[bool]:
    """SQL: consented, still listed, and the household still a graduate."""
    return and_(AlumniListing.listed_at.is_not(None), GraduationStage.stage == GRADUATED)


def _businesses() -> Select[AlumniListing, Household]:
    """The listed businesses with the household's place and phone."""
    return (
        select(AlumniListing, Household)
        .join(Household, Household.id == AlumniListing.household_id)
        .join(GraduationStage, GraduationStage.household_id == Household.id)
        .where(_listed())
    )


def _business(row: AlumniListing, household: Household) -> Business:
    """A row as it may be read."""
    return Business(
        household_id=household.id,
        name=row.business_name or "",
        kind=row.kind or "",
        desa=household.desa,
        kabupaten=household.kabupaten,
        phone=household.phone if row.share_phone else None,
        listed_at=row.listed_at or row.updated_at,
    )


async def search(
    session: AsyncSession, *, kinds: list[str], words: list[str], limit: int = 5
) -> list[Business]:
    """Listed businesses of any of `kinds` (all when empty) matching every word somewhere
    (business name, kind, desa, kecamatan, kabupaten), newest listings first."""
    query = _businesses()
    if kinds:
        query = query.where(AlumniListing.kind.in_(kinds))
    for word in words:
        like = f"%{word.lower()}%"
        query = query.where(
            or_(
                *(
                    func.lower(column).like(like)
                    for column in (
                        AlumniListing.business_name,
                        AlumniListing.kind,
                        Household.desa,
                        Household.kecamatan,
                        Household.kabupaten,
                    )
                )
            )
        )
    rows = await session.execute(
        query.order_by(AlumniListing.listed_at.desc(), AlumniListing.id).limit(limit)
    )
    return [_business(listing, household) for listing, household in rows]


async def places(session: AsyncSession) -> list[str]:
    """The words of the places that have a listed business (desa, kecamatan, kabupaten)."""
    rows = await session.execute(
        select(Household.desa, Household.kecamatan, Household.kabupaten)
        .join(AlumniListing, AlumniListing.household_id == Household.id)
        .join(GraduationStage, GraduationStage.household_id == Household.id)
        .where(_listed())
        .distinct()
    )
    return sorted({w.lower() for row in rows for name in row if name for w in name.split()})


async def for_seat(session: AsyncSession, seat: Seat, *, limit: int = 500) -> list[Business]:
    """The listed businesses in the partner organisation's region, by desa then name."""
    organisation = await session.get(Organisation, seat.organisation_id)
    if organisation is None:
        raise NotFound(seat.organisation_id)
    query = _businesses().where(prefix_filter(AlumniListing.region_code, organisation.region_code))
    rows = await session.execute(
        query.order_by(Household.desa, AlumniListing.business_name).limit(limit)
    )
    return [_business(listing, household) for listing, household in rows]


async def peers_near(session: AsyncSession, region_code: str, *, limit: int = 8) -> list[Peer]:
    """Graduates of the same kabupaten/kota as `region_code` who offered to mentor, newest first."""
    rows = await session.execute(
        select(Household, AlumniListing.business_name)
        .join(AlumniListing, AlumniListing.household_id == Household.id)
        .join(GraduationStage, GraduationStage.household_id == Household.id)
        .where(
            AlumniListing.peer_at.is_not(None),
            GraduationStage.stage == GRADUATED,
            prefix_filter(Household.region_code, region_code[:4]),
        )
        .order_by(AlumniListing.peer_at.desc(), Household.id)
        .limit(limit)
    )
    return [Peer(h.id, h.name, h.desa, business) for h, business in rows]


async def is_peer(session: AsyncSession, household_id: int) -> bool:
    """The household is a graduate who offers to mentor now."""
    row = await of_household(session, household_id)
    return row is not None and row.peer_at is not None and await is_graduate(session, household_id)


async def pair(
    session: AsyncSession,
    *,
    peer_household_id: int,
    household_id: int,
    mentor_id: int,
    now: datetime,
) -> tuple[PeerPairing, bool]:
    """The peer paired with the household by this mentor; the pairing and whether it is new."""
    if peer_household_id == household_id or not await is_peer(session, peer_household_id):
        raise NotGraduate(peer_household_id)
    found = await session.scalar(
        select(PeerPairing).where(
            PeerPairing.peer_household_id == peer_household_id,
            PeerPairing.household_id == household_id,
        )
    )
    if found is not None:
        return found, False
    row = PeerPairing(
        peer_household_id=peer_household_id, household_id=household_id, mentor_id=mentor_id, at=now
    )
    session.add(row)
    await session.flush()
    return row, True


async def mentees(
    session: AsyncSession, mentor_id: int, *, but: int, limit: int = 8
) -> list[Household]:
    """The mentor's own families (not `but`, the peer), those not yet graduated first, by name."""
    rows = await session.scalars(
        select(Household)
        .outerjoin(GraduationStage, GraduationStage.household_id == Household.id)
        .where(Household.mentor_id == mentor_id, Household.id != but)
        .order_by(func.coalesce(GraduationStage.rank, 0), Household.name, Household.id)
        .limit(limit)
    )
    return list(rows)
