"""Escalations: the Dinsos queue of households that need a person, scoped by region, with SLA.

Every staff function takes a `Scope` (storage/scope.py) and fails closed: without one it
raises `ScopeError`, and a record outside the scope raises `NotFound`, exactly like a record
that does not exist. Mentors hand up through `hand_up`, which is scoped by the mentor owning
the household. Nothing here writes words for a person: notes are what staff typed, and the
pages say the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, ladder
from storage.mentors import last_contacts
from storage.models import (
    Escalation,
    EscalationNote,
    Household,
    LadderAction,
    Mentor,
    MentorVisit,
    StaffUser,
)
from storage.paging import PAGE_SIZE, Page, paged
from storage.priority import in_category, is_vulnerable
from storage.scope import NotFound, Scope, narrow, prefix_filter, scoped
from storage.staff import colleague

OPEN_STATES = ladder.OPEN_ESCALATION
AT_RISK_DAYS = 1  # an escalation due today or tomorrow is at risk
MAX_NOTE = 2000
MAX_BATCH = 500
WITA = timedelta(hours=8)


def office_day(now: datetime) -> date:
    """The office's date (WITA) at `now`: the day SLAs are counted in."""
    return (now + WITA).date()


def sla_status(due: date, now: datetime) -> str:
    """`breached`, `at_risk` or `on_track` for an open escalation due on `due`."""
    day = office_day(now)
    if due < day:
        return "breached"
    return "at_risk" if due <= day + timedelta(days=AT_RISK_DAYS) else "on_track"


def sla_bucket(now: datetime) -> Any:
    """The SLA status as SQL, for filtering and counting."""
    day = office_day(now)
    return case(
        (Escalation.sla_due < day, "breached"),
        (Escalation.sla_due <= day + timedelta(days=AT_RISK_DAYS), "at_risk"),
        else_="on_track",
    )


# The queue -----------------------------------------------------------------------------------


def needs_action_first(now: datetime) -> tuple[Any, ...]:
    """The queue's order: breached, then at risk, then on track; within each, nobody's case before
    an assigned one, the households the programs put first before the others, then the nearest SLA.

    Every key is a column of `ix_escalations_queue` (state, region, vulnerable, SLA day) or a CASE
    over one, so sorting a kabupaten's queue reads the narrow index rows and no household.
    """
    return (
        case(
            (Escalation.sla_due < office_day(now), 0),
            (Escalation.sla_due <= office_day(now) + timedelta(days=AT_RISK_DAYS), 1),
            else_=2,
        ),
        case((Escalation.state == "assigned", 1), else_=0),
        Escalation.vulnerable.desc(),
        Escalation.sla_due,
        Escalation.id,
    )


@dataclass
class QueueFilter:
    """The escalation queue's filters, as the form sends them."""

    state: str = "open"
    level: int | None = None
    sla: str = ""
    kecamatan: str = ""
    desa: str = ""
    assignee: str = ""  # "", "me", "none" or a staff id
    category: str = ""  # "", a roster kategori or "desil1" (storage/priority.py)


def queue_ids(scope: Scope, flt: QueueFilter, staff_id: int, now: datetime) -> Select:
    """The filtered, scoped queue's escalation ids, most urgent first.

    Escalations alone: sorting a kabupaten's queue touches only their narrow index rows, and the
    households and assignees are joined for the one page shown, not for the whole queue.
    """
    query = scoped(select(Escalation.id), scope, Escalation.region_code)
    query = query.where(
        Escalation.state.in_(OPEN_STATES) if flt.state == "open" else Escalation.state == flt.state
    )
    if flt.level:
        query = query.where(Escalation.level == flt.level)
    if flt.sla:
        query = query.where(sla_bucket(now) == flt.sla)
    place = flt.desa or flt.kecamatan
    if place:
        query = query.where(prefix_filter(Escalation.region_code, narrow(scope, place)))
    if flt.assignee == "me":
        query = query.where(Escalation.assignee_id == staff_id)
    elif flt.assignee == "none":
        query = query.where(Escalation.assignee_id.is_(None))
    elif flt.assignee.isdigit():
        query = query.where(Escalation.assignee_id == int(flt.assignee))
    if flt.category:
        query = query.where(
            Escalation.household_id.in_(select(Household.id).where(in_category(flt.category)))
        )
    return query.order_by(*needs_action_first(now))


async def queue(
    session: AsyncSession,
    scope: Scope,
    flt: QueueFilter | None = None,
    *,
    staff_id: int,
    now: datetime,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of the queue, needs action first: `QueueRow`s with the household, mentor and last contact."""
    query = queue_ids(scope, flt or QueueFilter(), staff_id, now)
    ids_page = await paged(session, query, page, size=size)
    if not ids_page.rows:
        return ids_page
    rows = await session.execute(
        select(Escalation, Household, StaffUser.username, Mentor.name)
        .join(Household, Household.id == Escalation.household_id)
        .outerjoin(StaffUser, StaffUser.id == Escalation.assignee_id)
        .outerjoin(Mentor, Mentor.id == Household.mentor_id)
        .where(Escalation.id.in_(ids_page.rows))
        .order_by(*needs_action_first(now))
    )
    found = list(rows.all())
    contacts = await last_contacts(session, [hh.id for _e, hh, _a, _m in found])
    shown = [QueueRow(e, hh, a, m, contacts.get(hh.id)) for e, hh, a, m in found]
    return Page(shown, ids_page.total, ids_page.page, ids_page.size)


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue: the case, its household, who has it, the mentor, the last contact."""

    esc: Escalation
    household: Household
    assignee: str | None
    mentor: str | None
    silent_since: datetime | None  # the household's last message, report or met visit


async def get(session: AsyncSession, scope: Scope, escalation_id: int) -> Escalation:
    """One escalation of the scope, or NotFound."""
    row = await session.scalar(
        scoped(
            select(Escalation).where(Escalation.id == escalation_id), scope, Escalation.region_code
        )
    )
    if row is None:
        raise NotFound(escalation_id)
    return row


async def notes(
    session: AsyncSession, escalation_ids: list[int]
) -> dict[int, list[EscalationNote]]:
    """Notes of escalations already read through a scope, newest first."""
    rows = await session.scalars(
        select(EscalationNote)
        .where(EscalationNote.escalation_id.in_(escalation_ids))
        .order_by(EscalationNote.at.desc(), EscalationNote.id.desc())
    )
    found: dict[int, list[EscalationNote]] = {}
    for row in rows:
        found.setdefault(row.escalation_id, []).append(row)
    return found


# Staff actions -------------------------------------------------------------------------------


@dataclass
class Assigned:
    """What an assignment changed: to whom, and the escalations that were still open."""

    assignee: StaffUser
    escalations: list[Escalation] = field(default_factory=list)


async def assign(
    session: AsyncSession,
    scope: Scope,
    escalation_ids: list[int],
    assignee_id: int,
    *,
    actor: str,
    now: datetime,
) -> Assigned:
    """Give open escalations of the scope to an active colleague of the scope.

    One id outside the scope, or an assignee outside it, spoils the whole batch: NotFound and
    nothing changes. Each change is audited; the page writes the note in its own words.
    """
    assignee = await colleague(session, scope, assignee_id)
    wanted = set(escalation_ids[:MAX_BATCH])
    rows = list(
        await session.scalars(
            scoped(
                select(Escalation).where(Escalation.id.in_(wanted)), scope, Escalation.region_code
            )
        )
    )
    if len(rows) != len(wanted):
        raise NotFound(sorted(wanted - {r.id for r in rows}))
    done = Assigned(assignee, [r for r in rows if r.state in OPEN_STATES])
    for row in done.escalations:
        row.assignee_id, row.state = assignee.id, "assigned"
        _audit(session, row, actor=actor, now=now, action="escalation_assign", to=assignee.id)
    return done


def note_on(
    session: AsyncSession, rows: list[Escalation], text: str, *, actor: str, now: datetime
) -> None:
    """The same note on escalations already read through a scope (no audit: the action has its own)."""
    for row in rows:
        session.add(
            EscalationNote(escalation_id=row.id, at=now, author=actor[:80], text=text[:MAX_NOTE])
        )


async def add_note(
    session: AsyncSession, scope: Scope, escalation_id: int, text: str, *, actor: str, now: datetime
) -> Escalation:
    """A staff member's note on an escalation of the scope, audited; NotFound outside it."""
    row = await get(session, scope, escalation_id)
    note_on(session, [row], text, actor=actor, now=now)
    _audit(session, row, actor=actor, now=now, action="escalation_note")
    return row


async def resolve(
    session: AsyncSession,
    scope: Scope,
    escalation_id: int,
    outcome: str,
    *,
    actor: str,
    now: datetime,
) -> Escalation:
    """Close an escalation of the scope with its outcome; the household starts a fresh month on the ladder.

    A second resolve changes nothing; NotFound outside the scope.
    """
    row = await get(session, scope, escalation_id)
    if row.state == "resolved":
        return row
    row.state, row.outcome, row.resolved_at, row.at_risk = (
        "resolved",
        outcome[:MAX_NOTE],
        now,
        False,
    )
    note_on(session, [row], outcome, actor=actor, now=now)
    _audit(session, row, actor=actor, now=now, action="escalation_resolve")
    await session.flush()
    await ladder.restart(session, row.household_id, today=office_day(now), now=now)
    return row


def _audit(
    session: AsyncSession, row: Escalation, *, actor: str, now: datetime, action: str, **detail: Any
) -> None:
    """The audit event of one staff or mentor action on an escalation."""
    audit.record(
        session,
        actor=actor,
        action=action,
        now=now,
        household_id=row.household_id,
        region_code=row.region_code,
        escalation_id=row.id,
        **detail,
    )


# History -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One line of an escalation's history, as data: the page words it."""

    at: datetime
    kind: str  # a ladder step, "visit" or "note"
    text: str = ""  # the ladder period, the visit's business state and note, or the note
    author: str = ""  # who wrote a note
    met: bool | None = None  # whether a visit met the household


async def history(session: AsyncSession, scope: Scope, escalation_id: int) -> list[Event]:
    """What led here and what happened since: ladder steps, mentor visits, notes, oldest first."""
    row = await get(session, scope, escalation_id)
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
    written = await session.scalars(
        select(EscalationNote)
        .where(EscalationNote.escalation_id == row.id)
        .order_by(EscalationNote.at)
    )
    events = [Event(a.at, a.step, a.period) for a in steps]
    events += [
        Event(v.at, "visit", ", ".join(p for p in (v.business_state, v.note) if p), met=v.met)
        for v in visits
    ]
    events += [Event(n.at, "note", n.text, author=n.author) for n in written]
    return sorted(events, key=lambda e: e.at)


# Mentors -------------------------------------------------------------------------------------


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
            Escalation.household_id == household.id, Escalation.state.in_(OPEN_STATES)
        )
    )
    if row is None:
        row = Escalation(
            household_id=household.id,
            region_code=household.region_code,  # the desa: every level above sees it
            reason="mentor_handoff",
            level=1,
            state="open",
            sla_due=sla_due,
            at_risk=False,
            vulnerable=is_vulnerable(household),
            created_at=now,
        )
        session.add(row)
        await session.flush()
    author = f"mentor:{mentor_id}"
    note_on(session, [row], note, actor=author, now=now)
    _audit(session, row, actor=author, now=now, action="escalation_handoff")
    await session.flush()
    return row


async def count_breached(session: AsyncSession, now: datetime) -> int:
    """Open escalations past their SLA day, every region: the operator's metric, no staff view."""
    query = select(func.count()).where(
        Escalation.state.in_(OPEN_STATES), Escalation.sla_due < office_day(now)
    )
    return int(await session.scalar(query) or 0)
