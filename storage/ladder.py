"""The silent-household ladder in SQL: one set-based statement per rung, idempotent by unique keys.

Every rung first claims its (household, step, period) in `ladder_actions` with INSERT … SELECT
… ON CONFLICT DO NOTHING RETURNING: two ticks at once claim each household once, and only the
claimer moves the state and writes the messages. Contact is read from the dates the core
already keeps (`last_inbound_at`, `submitted_at`), so no message writes to the ladder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    String,
    and_,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select

from storage.db import is_postgres
from storage.models import (
    ChatIdentity,
    Conversation,
    Escalation,
    Household,
    LadderAction,
    LadderState,
    Mentor,
    MentorVisit,
    OutboxMessage,
    ProgramEnrollment,
    ProgressReport,
)

EMPOWERMENT = ("BANTUAN_USAHA", "PELATIHAN", "KOPERASI")
ACTIVE = ("aktif", "dalam_proses", "disalurkan")
# Rungs whose cycle is running: contact or a visit sends them back to waiting.
RUNNING = ("checkin", "reminder", "mentor", "dinsos")
SILENT = ("reminder", "mentor", "dinsos")
OPEN_ESCALATION = ("open", "assigned")

LS, HH = LadderState, Household


def in_program(household_id: Any) -> ColumnElement[bool]:
    """The household is in an empowerment program that is still running."""
    pe = ProgramEnrollment
    return exists().where(
        pe.household_id == household_id, pe.program.in_(EMPOWERMENT), pe.status.in_(ACTIVE)
    )


def _chat(household_id: Any) -> ColumnElement[bool]:
    """A chat of the household that agreed and did not say BERHENTI."""
    ci = ChatIdentity
    return and_(
        ci.household_id == household_id, ci.consent_at.is_not(None), ci.opted_out.is_(False)
    )


def reachable(household_id: Any) -> ColumnElement[bool]:
    """The household has a chat we may prompt and that still receives messages."""
    return exists().where(_chat(household_id), ChatIdentity.unreachable_at.is_(None))


def unreachable(household_id: Any) -> ColumnElement[bool]:
    """Every chat we may prompt has bounced (blocked the bot, undeliverable number)."""
    bounced = exists().where(_chat(household_id), ChatIdentity.unreachable_at.is_not(None))
    return and_(bounced, ~reachable(household_id))


def contact_since(household_id: Any, since: Any) -> ColumnElement[bool]:
    """The household wrote, or submitted a report, after `since`."""
    ci, pr = ChatIdentity, ProgressReport
    return or_(
        exists().where(ci.household_id == household_id, ci.last_inbound_at > since),
        exists().where(pr.household_id == household_id, pr.submitted_at > since),
    )


def visited_since(household_id: Any, since: Any) -> ColumnElement[bool]:
    """The mentor met the household after `since`."""
    mv = MentorVisit
    return exists().where(mv.household_id == household_id, mv.met.is_(True), mv.at > since)


def _insert(session: AsyncSession, table: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING."""
    return (postgresql.insert if is_postgres(session) else sqlite.insert)(table)


# Seeding and resets -------------------------------------------------------------------------


async def enroll(session: AsyncSession, *, now: datetime, limit: int = 5000) -> list[int]:
    """Up to `limit` households newly in an empowerment program get a ladder (their ids)."""
    pe = ProgramEnrollment
    anchor = (
        select(func.min(pe.as_of))
        .where(pe.household_id == HH.id, pe.program.in_(EMPOWERMENT), pe.status.in_(ACTIVE))
        .scalar_subquery()
    )
    # Driven by the enrollments' (program, status) index: only empowerment households are read.
    new = (
        select(pe.household_id)
        .where(
            pe.program.in_(EMPOWERMENT),
            pe.status.in_(ACTIVE),
            ~exists().where(LS.household_id == pe.household_id),
        )
        .distinct()
        .order_by(pe.household_id)
        .limit(limit)
        .subquery()
    )
    source = select(HH.id, anchor, literal("waiting"), literal(now, LS.updated_at.type)).where(
        HH.id.in_(select(new.c.household_id))
    )
    stmt = (
        _insert(session, LS)
        .from_select(["household_id", "cycle_start", "rung", "updated_at"], source)
        .on_conflict_do_nothing(index_elements=["household_id"])
        .returning(LS.household_id)
    )
    return list(await session.scalars(stmt))


async def reset_contacted(session: AsyncSession, *, now: datetime) -> int:
    """A running cycle ends when the household writes or reports, or its mentor meets it."""
    anchor = LS.checkin_at
    stmt = (
        update(LS)
        .where(
            LS.rung.in_(RUNNING),
            or_(contact_since(LS.household_id, anchor), visited_since(LS.household_id, anchor)),
        )
        .values(rung="waiting", reason=None, mentor_at=None, last_contact_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return _count(await session.execute(stmt))


# Rungs ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """One rung's due set: which ladder rows, and the period each action belongs to."""

    step: str
    where: Sequence[ColumnElement[bool]]
    period: Any  # a SQL expression or a literal string
    join_household: bool = False


def checkin_due(
    *, anchor_before: date, quiet_since: datetime, zones: ColumnElement[bool], today: date
) -> Due:
    """Waiting households whose month is up, quiet for a month, reachable, in delivery hours."""
    return Due(
        "checkin",
        [
            LS.rung.in_(("waiting", "dinsos")),
            LS.cycle_start <= anchor_before,
            zones,
            in_program(LS.household_id),
            reachable(LS.household_id),
            ~contact_since(LS.household_id, quiet_since),
        ],
        literal(today.isoformat()),
        join_household=True,
    )


def reminder_due(*, checked_before: datetime, zones: ColumnElement[bool]) -> Due:
    """Checked-in households that have not answered for some days, in delivery hours."""
    return Due(
        "reminder",
        [LS.rung == "checkin", LS.checkin_at <= checked_before, zones, reachable(LS.household_id)],
        cast(LS.cycle_start, String),
        join_household=True,
    )


def mentor_due(*, checked_before: datetime) -> Due:
    """Households still silent a week after the check-in go to their mentor."""
    return Due(
        "mentor",
        [LS.rung.in_(("checkin", "reminder")), LS.checkin_at <= checked_before],
        cast(LS.cycle_start, String),
    )


def unreachable_due(*, today: date) -> Due:
    """Households whose chats all bounce go to their mentor at once: they are not silent."""
    return Due(
        "unreachable",
        [
            LS.rung.in_(("waiting", "checkin", "reminder")),
            in_program(LS.household_id),
            unreachable(LS.household_id),
        ],
        literal(today.isoformat()),
    )


def dinsos_due(*, checked_before: datetime, mentor_before: datetime) -> Due:
    """Mentor tasks past D+14, or past the mentor's own deadline without a visit."""
    return Due(
        "dinsos",
        [LS.rung == "mentor", or_(LS.checkin_at <= checked_before, LS.mentor_at <= mentor_before)],
        cast(LS.cycle_start, String),
    )


async def claim(session: AsyncSession, due: Due, *, now: datetime, limit: int) -> list[int]:
    """Record the step for up to `limit` due households; the ids this call (alone) claimed."""
    source: Select[Any] = select(
        LS.household_id, literal(due.step), due.period, literal(now, LadderAction.at.type)
    )
    if due.join_household:
        source = source.join(HH, HH.id == LS.household_id)
    source = source.where(*due.where).order_by(LS.household_id).limit(limit)
    if is_postgres(session):
        # A second clock skips rows the first one holds instead of queueing behind them.
        source = source.with_for_update(of=LS, skip_locked=True)
    stmt = (
        _insert(session, LadderAction)
        .from_select(["household_id", "step", "period", "at"], source)
        .on_conflict_do_nothing(index_elements=["household_id", "step", "period"])
        .returning(LadderAction.household_id)
    )
    return list(await session.scalars(stmt))


async def move(session: AsyncSession, ids: Sequence[int], **values: Any) -> None:
    """Put the claimed households on their new rung."""
    if ids:
        await session.execute(
            update(LS)
            .where(LS.household_id.in_(ids))
            .values(**values)
            .execution_options(synchronize_session=False)
        )


async def open_escalations(
    session: AsyncSession, ids: Sequence[int], *, now: datetime, sla_due: date
) -> int:
    """One escalation per claimed household for its kabupaten's Dinsos (none if one is open)."""
    if not ids:
        return 0
    es = Escalation
    source = (
        select(
            LS.household_id,
            func.substr(HH.region_code, 1, 4),
            func.coalesce(LS.reason, "silent"),
            literal(1),
            literal("open"),
            literal(sla_due, es.sla_due.type),
            false(),
            literal(now, es.created_at.type),
        )
        .join(HH, HH.id == LS.household_id)
        .where(
            LS.household_id.in_(ids),
            ~exists().where(es.household_id == LS.household_id, es.state.in_(OPEN_ESCALATION)),
        )
    )
    cols = [
        "household_id",
        "region_code",
        "reason",
        "level",
        "state",
        "sla_due",
        "at_risk",
        "created_at",
    ]
    result = await session.execute(_insert(session, es).from_select(cols, source))
    return _count(result)


# Escalation clock -----------------------------------------------------------------------------


async def flag_at_risk(session: AsyncSession, *, due_by: date) -> int:
    """Open escalations due by the next working day are flagged at risk."""
    es = Escalation
    stmt = (
        update(es)
        .where(es.state.in_(OPEN_ESCALATION), es.at_risk.is_(False), es.sla_due <= due_by)
        .values(at_risk=True)
    )
    return _count(await session.execute(stmt))


async def raise_breached(
    session: AsyncSession, *, today: date, now: datetime, new_due: date
) -> int:
    """Officer-level escalations past their SLA go up to the supervisor, with a fresh SLA."""
    es = Escalation
    stmt = (
        update(es)
        .where(es.state.in_(OPEN_ESCALATION), es.level == 1, es.sla_due < today)
        .values(level=2, breached_at=now, at_risk=False, sla_due=new_due)
    )
    return _count(await session.execute(stmt))


# Who gets the messages ------------------------------------------------------------------------


@dataclass(frozen=True)
class Chat:
    """One chat to write to."""

    identity_id: int
    channel: str
    external_id: str
    locale: str
    owner_id: int  # household or mentor
    name: str = ""


async def household_chats(session: AsyncSession, ids: Sequence[int]) -> list[Chat]:
    """The promptable chats of these households."""
    ci = ChatIdentity
    rows = await session.execute(
        select(ci.id, ci.channel, ci.external_id, ci.locale, ci.household_id, HH.name)
        .join(HH, HH.id == ci.household_id)
        .where(
            ci.household_id.in_(ids),
            ci.consent_at.is_not(None),
            ci.opted_out.is_(False),
            ci.unreachable_at.is_(None),
        )
    )
    return [Chat(*row) for row in rows]  # type: ignore[arg-type]


def _mentor_chat() -> Any:
    """Mentors' chats that agreed and did not opt out."""
    ci = ChatIdentity
    return select(ci.id, ci.channel, ci.external_id, ci.locale, ci.mentor_id).where(
        ci.mentor_id.is_not(None),
        ci.consent_at.is_not(None),
        ci.opted_out.is_(False),
        ci.unreachable_at.is_(None),
    )


async def mentors_with(
    session: AsyncSession,
    rungs: Sequence[str],
    *,
    zones: ColumnElement[bool],
    unsent_key: ColumnElement[str],
    limit: int,
) -> list[Chat]:
    """Chats of mentors, in delivery hours, with households on `rungs` and no message of this key."""
    ci = ChatIdentity
    # Driven by the ladder's rung index: only mentors of households on those rungs are looked at.
    with_work = select(HH.mentor_id).join(LS, LS.household_id == HH.id).where(LS.rung.in_(rungs))
    sent = exists().where(OutboxMessage.dedupe_key == unsent_key)
    query = (
        _mentor_chat()
        .join(Mentor, Mentor.id == ci.mentor_id)
        .where(~sent, zones, ci.mentor_id.in_(with_work))
        .order_by(ci.id)
        .limit(limit)
    )
    return [Chat(*row) for row in await session.execute(query)]


@dataclass(frozen=True)
class SilentHousehold:
    """One line of a mentor's list."""

    household_id: int
    name: str
    desa: str | None
    rung: str
    reason: str | None
    since: date


async def silent_of_mentor(
    session: AsyncSession,
    mentor_id: int,
    *,
    rungs: Sequence[str] = SILENT,
    offset: int = 0,
    limit: int = 8,
) -> tuple[list[SilentHousehold], int]:
    """A page of the mentor's silent households, longest silent first, and how many in all."""
    total = await session.scalar(
        select(func.count())
        .select_from(LS)
        .join(HH, HH.id == LS.household_id)
        .where(HH.mentor_id == mentor_id, LS.rung.in_(rungs))
    )
    rows = await session.execute(
        select(LS.household_id, HH.name, HH.desa, LS.rung, LS.reason, LS.cycle_start)
        .join(HH, HH.id == LS.household_id)
        .where(HH.mentor_id == mentor_id, LS.rung.in_(rungs))
        .order_by(LS.cycle_start, HH.name, LS.household_id)
        .offset(offset)
        .limit(limit)
    )
    return [SilentHousehold(*row) for row in rows], int(total or 0)


async def silent_pages(
    session: AsyncSession, mentor_ids: Sequence[int], *, rungs: Sequence[str], limit: int
) -> dict[int, tuple[list[SilentHousehold], int]]:
    """The first page and the total of several mentors' lists, in one windowed query."""
    order = (LS.cycle_start, HH.name, LS.household_id)
    ranked = (
        select(
            HH.mentor_id.label("mentor_id"),
            LS.household_id,
            HH.name,
            HH.desa,
            LS.rung,
            LS.reason,
            LS.cycle_start,
            func.row_number().over(partition_by=HH.mentor_id, order_by=order).label("n"),
            func.count().over(partition_by=HH.mentor_id).label("total"),
        )
        .join(HH, HH.id == LS.household_id)
        .where(LS.rung.in_(rungs), HH.mentor_id.in_(mentor_ids))
        .subquery()
    )
    c = ranked.c
    rows = await session.execute(
        select(
            c.mentor_id, c.household_id, c.name, c.desa, c.rung, c.reason, c.cycle_start, c.total
        )
        .where(c.n <= limit)
        .order_by(c.mentor_id, c.n)
    )
    pages: dict[int, tuple[list[SilentHousehold], int]] = {}
    for mentor_id, *line, total in rows:
        pages.setdefault(mentor_id, ([], int(total)))[0].append(SilentHousehold(*line))
    return pages


async def state_of(session: AsyncSession, household_id: int) -> LadderState | None:
    """The household's ladder row."""
    return await session.get(LS, household_id)


async def restart(session: AsyncSession, household_id: int, *, today: date, now: datetime) -> None:
    """An escalation resolved: the household starts a new month from today."""
    await session.execute(
        update(LS)
        .where(LS.household_id == household_id, LS.rung.in_(RUNNING))
        .values(rung="waiting", cycle_start=today, reason=None, mentor_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def enqueue_many(session: AsyncSession, rows: list[dict[str, Any]], *, now: datetime) -> int:
    """Outbox rows with unique keys; a key already there (an earlier tick's) is skipped."""
    if not rows:
        return 0
    values = [
        {"state": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now, **r}
        for r in rows
    ]
    # Parameters passed beside the statement (executemany, batched by SQLAlchemy's
    # insertmanyvalues) compile once; `.values(list)` compiled a bind per value.
    stmt = (
        _insert(session, OutboxMessage)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxMessage.id)
    )
    return len((await session.scalars(stmt, values)).all())


async def offer_choices(
    session: AsyncSession, identity_ids: Sequence[int], choices: list[list[str]]
) -> None:
    """Idle chats (at the menu) take the prompt's choices, so typing "1" answers the prompt."""
    if identity_ids:
        await session.execute(
            update(Conversation)
            .where(Conversation.identity_id.in_(identity_ids), Conversation.journey == "menu")
            .values(data={"_choices": choices})
            .execution_options(synchronize_session=False)
        )


def digest_key(kind: str, mentor_id: Any, period: str) -> Any:
    """`ladder:digest:<mentor>:<day>`, as SQL when `mentor_id` is a column."""
    if isinstance(mentor_id, int):
        return f"ladder:{kind}:{mentor_id}:{period}"
    return literal(f"ladder:{kind}:") + cast(mentor_id, String) + literal(f":{period}")


def _count(result: Any) -> int:
    """Rows a statement touched."""
    # -1 means the driver does not know; the counts are for the summary line only.
    return max(0, int(getattr(result, "rowcount", 0) or 0))
