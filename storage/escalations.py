"""Escalations: the Dinsos queue of households that need a person, scoped by region, with SLA.

Every staff function takes a `Scope` (storage/scope.py) and fails closed: without one it
raises, and a record outside the scope is not found. Mentors hand up through `hand_up`, which
is scoped by the mentor owning the household.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, ladder
from storage.models import (
    Escalation,
    EscalationNote,
    Household,
    LadderAction,
    MentorVisit,
    StaffUser,
)
from storage.scope import Scope, ScopeError, region_filter

OPEN = ladder.OPEN_ESCALATION
SORTS = {
    "sla": (Escalation.sla_due, Escalation.id),
    "newest": (Escalation.created_at.desc(), Escalation.id.desc()),
    "level": (Escalation.level.desc(), Escalation.sla_due, Escalation.id),
}
MAX_NOTE = 2000


@dataclass(frozen=True)
class Filters:
    """What an officer narrows the queue to; None means any."""

    state: str | None = "open_or_assigned"
    level: int | None = None
    at_risk: bool | None = None
    reason: str | None = None
    assignee_id: int | None = None


def _scoped(scope: Scope, query: Any) -> Any:
    """The query joined to households and limited to the scope (raises without one)."""
    if not isinstance(scope, Scope):
        raise ScopeError("an escalation query needs a Scope")
    return query.join(Household, Household.id == Escalation.household_id).where(
        region_filter(Household.region_code, scope)
    )


def _filtered(query: Any, filters: Filters) -> Any:
    """Apply the officer's filters."""
    es = Escalation
    if filters.state == "open_or_assigned":
        query = query.where(es.state.in_(OPEN))
    elif filters.state:
        query = query.where(es.state == filters.state)
    for column, value in (
        (es.level, filters.level),
        (es.at_risk, filters.at_risk),
        (es.reason, filters.reason),
        (es.assignee_id, filters.assignee_id),
    ):
        if value is not None:
            query = query.where(column == value)
    return query


async def queue(
    session: AsyncSession,
    scope: Scope,
    *,
    filters: Filters = Filters(),
    sort: str = "sla",
    limit: int = 50,
    offset: int = 0,
) -> list[tuple[Escalation, Household]]:
    """A page of the queue inside the scope, by SLA due date first (default)."""
    query = _filtered(_scoped(scope, select(Escalation, Household)), filters)
    query = query.order_by(*SORTS.get(sort, SORTS["sla"])).limit(min(limit, 200)).offset(offset)
    return [(e, h) for e, h in (await session.execute(query)).all()]


async def count(session: AsyncSession, scope: Scope, *, filters: Filters = Filters()) -> int:
    """How many escalations the filters match inside the scope."""
    query = _filtered(_scoped(scope, select(func.count(Escalation.id))), filters)
    return int(await session.scalar(query) or 0)


async def get(session: AsyncSession, scope: Scope, escalation_id: int) -> Escalation | None:
    """One escalation, only when inside the scope."""
    query = _scoped(scope, select(Escalation)).where(Escalation.id == escalation_id)
    return await session.scalar(query)


async def assign(
    session: AsyncSession, scope: Scope, escalation_id: int, *, assignee_id: int, now: datetime
) -> Escalation | None:
    """Give the escalation to an active officer whose region lies inside the scope."""
    row = await get(session, scope, escalation_id)
    officer = await session.get(StaffUser, assignee_id)
    if (
        row is None
        or officer is None
        or not officer.active
        or not scope.covers(officer.region_code)
    ):
        return None
    row.assignee_id = assignee_id
    if row.state == "open":
        row.state = "assigned"
    await _note(
        session,
        row,
        author=scope.username,
        now=now,
        text=f"assigned to {officer.username}",
        action="escalation_assign",
    )
    return row


async def add_note(
    session: AsyncSession, scope: Scope, escalation_id: int, *, text: str, now: datetime
) -> EscalationNote | None:
    """A staff member's note on an escalation inside the scope."""
    row = await get(session, scope, escalation_id)
    if row is None or not text.strip():
        return None
    return await _note(
        session, row, author=scope.username, now=now, text=text, action="escalation_note"
    )


async def resolve(
    session: AsyncSession,
    scope: Scope,
    escalation_id: int,
    *,
    outcome: str,
    now: datetime,
    today: date,
) -> Escalation | None:
    """Close the escalation with its outcome; the household starts a fresh month on the ladder."""
    row = await get(session, scope, escalation_id)
    if row is None or row.state == "resolved":
        return None
    row.state, row.outcome, row.resolved_at, row.at_risk = (
        "resolved",
        outcome[:MAX_NOTE],
        now,
        False,
    )
    await _note(
        session, row, author=scope.username, now=now, text=outcome, action="escalation_resolve"
    )
    await ladder.restart(session, row.household_id, today=today, now=now)
    return row


async def _note(
    session: AsyncSession, row: Escalation, *, author: str, now: datetime, text: str, action: str
) -> EscalationNote:
    """Add a note and the audit event of the staff action."""
    note = EscalationNote(escalation_id=row.id, at=now, author=author[:80], text=text[:MAX_NOTE])
    session.add(note)
    audit.record(
        session,
        actor=author,
        action=action,
        now=now,
        household_id=row.household_id,
        region_code=row.region_code,
        escalation_id=row.id,
    )
    await session.flush()
    return note


@dataclass(frozen=True)
class Event:
    """One line of an escalation's history."""

    at: datetime
    kind: str  # ladder step, visit, or note
    text: str


async def history(session: AsyncSession, scope: Scope, escalation_id: int) -> list[Event]:
    """What led here and what happened since: ladder steps, mentor visits, notes, oldest first."""
    row = await get(session, scope, escalation_id)
    if row is None:
        return []
    steps = await session.scalars(
        select(LadderAction)
        .where(LadderAction.household_id == row.household_id)
        .order_by(LadderAction.at)
        .limit(50)
    )
    visits = await session.scalars(
        select(MentorVisit)
        .where(MentorVisit.household_id == row.household_id)
        .order_by(MentorVisit.at)
        .limit(50)
    )
    notes = await session.scalars(
        select(EscalationNote)
        .where(EscalationNote.escalation_id == row.id)
        .order_by(EscalationNote.at)
    )
    events = [Event(a.at, a.step, a.period) for a in steps]
    events += [Event(v.at, "visit", _visit_text(v)) for v in visits]
    events += [Event(n.at, "note", f"{n.author}: {n.text}") for n in notes]
    return sorted(events, key=lambda e: e.at)


def _visit_text(visit: MentorVisit) -> str:
    """`met, berjalan: note` in the staff's words."""
    met = "met" if visit.met else "not met"
    return ", ".join(p for p in (met, visit.business_state, visit.note) if p)


async def hand_up(
    session: AsyncSession,
    *,
    household: Household,
    mentor_id: int,
    note: str,
    now: datetime,
    sla_due: date,
) -> Escalation:
    """A mentor passes their household to Dinsos; an open escalation gets the note instead."""
    if household.mentor_id != mentor_id:
        raise PermissionError("a mentor hands up only their own households")
    row = await session.scalar(
        select(Escalation).where(
            Escalation.household_id == household.id, Escalation.state.in_(OPEN)
        )
    )
    if row is None:
        row = Escalation(
            household_id=household.id,
            region_code=household.region_code[:4],
            reason="mentor_handoff",
            level=1,
            state="open",
            sla_due=sla_due,
            at_risk=False,
            created_at=now,
        )
        session.add(row)
        await session.flush()
    await _note(
        session, row, author=f"mentor:{mentor_id}", now=now, text=note, action="escalation_handoff"
    )
    return row
