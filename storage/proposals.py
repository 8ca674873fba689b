"""Proposals (usul): a family not on the roster, proposed from a chat, in its desa's office queue.

diajukan → dikunjungi → didaftarkan | ditolak; staff move one inside their region scope and the
caller tells the person (handlers/notices.py). Limits per chat and per phone stop a flood.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Proposal, Region
from storage.paging import Page, paged
from storage.requests import LOCAL_TZ
from storage.scope import NotFound, Scope, scoped

PREFIX = "US"
TRANSITIONS = {
    "diajukan": {"dikunjungi", "didaftarkan", "ditolak"},
    "dikunjungi": {"didaftarkan", "ditolak"},
}
OPEN = ("diajukan", "dikunjungi")
CLOSED = ("didaftarkan", "ditolak")
# At most this many proposals from one chat, or for one phone number, in LIMIT_WINDOW.
LIMIT = 2
LIMIT_WINDOW = timedelta(days=30)
DESA_LEVEL = 4
MAX_TEXT = 1000


class ProposalError(ValueError):
    """A proposal that cannot be found or moved this way."""


async def desa_named(session: AsyncSession, typed: str, *, limit: int = 5) -> list[Region]:
    """The desa/kelurahan whose name is what was typed (or contains it), best match first."""
    words = " ".join(typed.lower().replace("desa ", " ").replace("kelurahan ", " ").split())
    if len(words) < 3:
        return []
    name = func.lower(Region.name)
    exact = list(
        await session.scalars(
            select(Region).where(
                Region.level == DESA_LEVEL,
                or_(name == words, name == "desa " + words, name == "kelurahan " + words),
            )
        )
    )
    if exact:
        return exact[:limit]
    rows = await session.scalars(
        select(Region)
        .where(Region.level == DESA_LEVEL, name.contains(words, autoescape=True))
        .order_by(Region.name)
        .limit(limit)
    )
    return list(rows)


async def recent_count(
    session: AsyncSession, *, identity_id: int, phone: str | None, now: datetime
) -> int:
    """How many proposals this chat (or this phone number) made within the limit's window."""
    who = Proposal.identity_id == identity_id
    if phone:
        who = or_(who, Proposal.phone == phone)
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Proposal)
            .where(who, Proposal.created_at >= now - LIMIT_WINDOW)
        )
        or 0
    )


async def file_proposal(
    session: AsyncSession,
    *,
    identity_id: int,
    name: str,
    phone: str | None,
    region_code: str,
    about: str | None,
    now: datetime,
) -> Proposal:
    """A new proposal with its reference (`US-2612-0001`)."""
    stem = f"{PREFIX}-{now.astimezone(LOCAL_TZ):%y%m}-"
    for _attempt in range(20):
        last = await session.scalar(
            select(Proposal.reference)
            .where(Proposal.reference.like(stem + "%"))
            .order_by(Proposal.reference.desc())
            .limit(1)
        )
        number = int(last[len(stem) :]) + 1 if last and last[len(stem) :].isdigit() else 1
        row = Proposal(
            reference=f"{stem}{number:04d}",
            identity_id=identity_id,
            name=name[:120],
            phone=phone,
            region_code=region_code,
            about=(about or None) and about[:MAX_TEXT],
            state="diajukan",
            created_at=now,
            updated_at=now,
        )
        try:
            async with session.begin_nested():  # another chat may take the number at once
                session.add(row)
                await session.flush()
        except IntegrityError:
            continue
        return row
    raise ProposalError("could not file the proposal, try again")


async def queue(session: AsyncSession, scope: Scope, page: int = 1) -> Page:
    """One page of the scope's open proposals, oldest first."""
    query = scoped(select(Proposal), scope, Proposal.region_code).where(Proposal.state.in_(OPEN))
    return await paged(session, query.order_by(Proposal.created_at, Proposal.id), page)


async def get(session: AsyncSession, scope: Scope, proposal_id: int) -> Proposal:
    """One proposal of the scope, or NotFound."""
    row = await session.scalar(
        scoped(select(Proposal).where(Proposal.id == proposal_id), scope, Proposal.region_code)
    )
    if row is None:
        raise NotFound(proposal_id)
    return row


async def move(
    session: AsyncSession,
    scope: Scope,
    proposal_id: int,
    to_state: str,
    *,
    actor: str,
    note: str | None,
    now: datetime,
) -> Proposal:
    """Staff record a visit, a registration or a refusal (which needs a reason)."""
    row = await get(session, scope, proposal_id)
    if to_state not in TRANSITIONS.get(row.state, set()):
        raise ProposalError(f"cannot move a proposal from {row.state} to {to_state}")
    if to_state == "ditolak" and not (note or "").strip():
        raise ProposalError("a refusal needs a reason")
    row.state, row.updated_at, row.decided_by = to_state, now, actor[:80]
    row.note = (note or "").strip()[:MAX_TEXT] or None
    await session.flush()
    return row


async def pseudonymise_closed(session: AsyncSession, *, cutoff: datetime) -> int:
    """Proposals closed before `cutoff` keep their reference, desa, state and dates; the
    person's name, number, story and the office's note go. How many."""
    result = await session.execute(
        update(Proposal)
        .where(
            Proposal.state.in_(CLOSED),
            Proposal.updated_at < cutoff,
            or_(
                Proposal.name != "",
                Proposal.phone.is_not(None),
                Proposal.about.is_not(None),
                Proposal.note.is_not(None),
            ),
        )
        .values(name="", phone=None, about=None, note=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)
