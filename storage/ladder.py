"""The silent-household ladder in SQL: one set-based statement per step, idempotent by unique keys.

Every rung first claims its (household, step, period) in `ladder_actions` with INSERT … SELECT
… ON CONFLICT DO NOTHING, tagged with the job's run id: two ticks at once claim each household
once, and only the claimer's next statements (move the state, write the messages) select its
rows by that run id. No household passes through Python, so a sweep's memory does not grow
with the due set. Contact is read from the dates the core already keeps (`last_inbound_at`,
`submitted_at`), so no message writes to the ladder.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.elements import True_

from storage import identities
from storage.bulk import (
    Hours,
    as_text,
    deferred,
    insert_of,
    inserted,
    outbox_insert,
    promptable,
    touched_rows,
)
from storage.db import is_postgres
from storage.models import (
    ChatIdentity,
    Conversation,
    Escalation,
    GraduationStage,
    Household,
    LadderAction,
    LadderState,
    MentorVisit,
    OutboxMessage,
    ProgramEnrollment,
    ProgressReport,
)
from storage.priority import vulnerable

EMPOWERMENT = ("BANTUAN_USAHA", "PELATIHAN", "KOPERASI")
ACTIVE = ("aktif", "dalam_proses", "disalurkan")
# Rungs whose cycle is running: contact or a visit sends them back to waiting.
RUNNING = ("checkin", "reminder", "mentor", "dinsos")
SILENT = ("reminder", "mentor", "dinsos")
OPEN_ESCALATION = ("open", "assigned")
GRADUATED = "mandiri"

LS, HH = LadderState, Household


def in_program(household_id: Any) -> ColumnElement[bool]:
    """The household is in an empowerment program that is still running."""
    pe = ProgramEnrollment
    return exists().where(
        pe.household_id == household_id, pe.program.in_(EMPOWERMENT), pe.status.in_(ACTIVE)
    )


def watched_graduate(household_id: Any, today: date) -> ColumnElement[bool]:
    """A graduated (mandiri) household in its watch year, whether or not its programs have ended."""
    gs = GraduationStage
    return exists().where(
        gs.household_id == household_id, gs.stage == GRADUATED, gs.watch_until >= today
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


# Seeding and resets -------------------------------------------------------------------------


async def enroll(
    session: AsyncSession,
    *,
    now: datetime,
    since: datetime | None = None,
    limit: int = 5000,
    after: int = 0,
) -> tuple[int, int | None]:
    """Up to `limit` households after id `after`, newly in an empowerment program, get a
    ladder; how many did, and the last household id this batch reached (None: no more).

    With `since`, only enrollments written after it are looked at (the roster import stamps
    `updated_at`); without it, every empowerment household (the first run). The caller pages
    on with the id returned: each batch reads only households after the previous one, so a
    first set-up of half a million costs its rows once, not once per batch.
    """
    pe = ProgramEnrollment
    anchor = (
        select(func.min(pe.as_of))
        .where(pe.household_id == HH.id, pe.program.in_(EMPOWERMENT), pe.status.in_(ACTIVE))
        .scalar_subquery()
    )
    new: Any
    if since is None:
        # The first run walks the households in id order (their primary key) and stops after
        # `limit` of them in a program: no batch sorts what is still waiting.
        # (`> after` is said of every table: PostgreSQL's merge joins then start there too.)
        enrolled = exists().where(
            pe.household_id == HH.id,
            pe.household_id > after,
            pe.program.in_(EMPOWERMENT),
            pe.status.in_(ACTIVE),
        )
        has_ladder = exists().where(LS.household_id == HH.id, LS.household_id > after)
        new = (
            select(HH.id.label("household_id"))
            .where(HH.id > after, enrolled, ~has_ladder)
            .order_by(HH.id)
            .limit(limit)
        )
    else:
        # Later runs are driven by the few rows written since (materialized first: SQLite
        # would otherwise pick the wider index).
        rows = (
            select(pe.household_id, pe.program, pe.status)
            .where(pe.updated_at > since)
            .cte("recent", nesting=True)
            .prefix_with("MATERIALIZED")
        )
        new = (
            select(rows.c.household_id)
            .where(
                rows.c.household_id > after,
                rows.c.program.in_(EMPOWERMENT),
                rows.c.status.in_(ACTIVE),
                ~exists().where(LS.household_id == rows.c.household_id),
            )
            .distinct()
            .order_by(rows.c.household_id)
            .limit(limit)
        )
    batch = new.subquery()
    last = await session.scalar(select(func.max(batch.c.household_id)))
    if last is None:
        return 0, None
    source = select(HH.id, anchor, literal("waiting"), literal(now, LS.updated_at.type)).where(
        HH.id.in_(select(batch.c.household_id))
    )
    stmt = (
        insert_of(session, LS)
        .from_select(["household_id", "cycle_start", "rung", "updated_at"], source)
        .on_conflict_do_nothing(index_elements=["household_id"])
    )
    return await inserted(session, stmt), int(last)


def touched_since(since: datetime) -> Any:
    """SQL: households that wrote, reported or were visited after `since` (each by its index)."""
    ci, pr, mv = ChatIdentity, ProgressReport, MentorVisit
    return union(
        select(ci.household_id).where(ci.last_inbound_at > since, ci.household_id.is_not(None)),
        select(pr.household_id).where(pr.submitted_at > since),
        select(mv.household_id).where(mv.at > since, mv.met.is_(True)),
    )


async def reset_contacted(
    session: AsyncSession, *, now: datetime, since: datetime | None = None
) -> int:
    """A running cycle ends when the household writes or reports, or its mentor meets it.

    With `since`, only households touched after it are looked at; without it, every running
    ladder (the first run).
    """
    anchor = LS.checkin_at
    touched = [] if since is None else [LS.household_id.in_(touched_since(since))]
    stmt = (
        update(LS)
        .where(
            LS.rung.in_(RUNNING),
            *touched,
            or_(contact_since(LS.household_id, anchor), visited_since(LS.household_id, anchor)),
        )
        .values(rung="waiting", reason=None, mentor_at=None, last_contact_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return touched_rows(await session.execute(stmt))


# Rungs ----------------------------------------------------------------------------------------


def vulnerable_household(household_id: Any) -> ColumnElement[bool]:
    """The household is one the programs put first: its wide row is read only for the ladder
    rows whose other conditions leave the question open, not joined to every due row."""
    # A scalar lookup by the primary key, row by row: as an EXISTS, PostgreSQL may hash the
    # vulnerable households of the whole register (a scan of every household) to test a few
    # (it did at 100k households; at 1M its estimate chose the lookups).
    return select(vulnerable(HH)).where(HH.id == household_id).scalar_subquery()


def _names_households(zones: ColumnElement[bool]) -> bool:
    """Whether a zone filter reads the households' region (not when every zone is in hours)."""
    return not isinstance(zones, True_)


@dataclass(frozen=True)
class Due:
    """One rung's due set: which ladder rows, and the period each action belongs to."""

    step: str
    where: Sequence[ColumnElement[bool]]
    period: Any  # a SQL expression or a literal string
    join_household: bool = False


@dataclass(frozen=True)
class Interval:
    """When a check-in is due again: the cycle began before `anchor_before`, and no word since `quiet_since`."""

    anchor_before: date
    quiet_since: datetime


def checkin_due(
    *, usual: Interval, graduate: Interval, zones: ColumnElement[bool], today: date
) -> Due:
    """Waiting households whose month is up (a graduate's quarter), quiet since, reachable, in hours."""
    hid = LS.household_id
    return Due(
        "checkin",
        [
            LS.rung.in_(("waiting", "dinsos")),
            LS.cycle_start <= max(usual.anchor_before, graduate.anchor_before),
            zones,
            reachable(hid),
            or_(
                and_(
                    LS.cycle_start <= usual.anchor_before,
                    in_program(hid),
                    ~contact_since(hid, usual.quiet_since),
                ),
                and_(
                    LS.cycle_start <= graduate.anchor_before,
                    watched_graduate(hid, today),
                    ~contact_since(hid, graduate.quiet_since),
                ),
            ),
        ],
        literal(today.isoformat()),
        join_household=_names_households(zones),
    )


def reminder_due(*, checked_before: datetime, zones: ColumnElement[bool]) -> Due:
    """Checked-in households that have not answered for some days, in delivery hours."""
    return Due(
        "reminder",
        [LS.rung == "checkin", LS.checkin_at <= checked_before, zones, reachable(LS.household_id)],
        cast(LS.cycle_start, String),
        join_household=_names_households(zones),
    )


def mentor_due(*, checked_before: datetime, vulnerable_before: datetime) -> Due:
    """Households still silent a week after the check-in go to their mentor (the vulnerable sooner)."""
    return Due(
        "mentor",
        [
            LS.rung.in_(("checkin", "reminder")),
            LS.checkin_at <= vulnerable_before,
            or_(LS.checkin_at <= checked_before, vulnerable_household(LS.household_id)),
        ],
        cast(LS.cycle_start, String),
    )


def unreachable_due(*, today: date) -> Due:
    """Households whose chats all bounce go to their mentor at once: they are not silent."""
    ci = ChatIdentity
    # Driven by the few bounced chats (a partial index), not by every ladder.
    bounced = select(ci.household_id).where(ci.unreachable_at.is_not(None))
    return Due(
        "unreachable",
        [
            LS.household_id.in_(bounced),
            LS.rung.in_(("waiting", "checkin", "reminder")),
            or_(in_program(LS.household_id), watched_graduate(LS.household_id, today)),
            unreachable(LS.household_id),
        ],
        literal(today.isoformat()),
    )


def dinsos_due(
    *, checked_before: datetime, mentor_before: datetime, vulnerable_before: datetime
) -> Due:
    """Mentor tasks past D+14 (the vulnerable's sooner), or past the mentor's deadline without a visit."""
    return Due(
        "dinsos",
        [
            LS.rung == "mentor",
            or_(
                LS.checkin_at <= checked_before,
                LS.mentor_at <= mentor_before,
                and_(LS.checkin_at <= vulnerable_before, vulnerable_household(LS.household_id)),
            ),
        ],
        cast(LS.cycle_start, String),
    )


def new_run() -> int:
    """A fresh run id: it marks the rows one job claimed, for the statements that follow."""
    return secrets.randbits(62)


async def claim(session: AsyncSession, due: Due, *, now: datetime, run: int) -> int:
    """Record the step for every due household under `run`; how many this call (alone) claimed."""
    source: Select[Any] = select(
        LS.household_id,
        literal(due.step),
        due.period,
        literal(now, LadderAction.at.type),
        literal(run, LadderAction.run.type),
    )
    if due.join_household:
        source = source.join(HH, HH.id == LS.household_id)
    source = source.where(*due.where)
    if is_postgres(session):
        # A second clock skips rows the first one holds instead of queueing behind them.
        source = source.with_for_update(of=LS, skip_locked=True)
    stmt = (
        insert_of(session, LadderAction)
        .from_select(["household_id", "step", "period", "at", "run"], source)
        .on_conflict_do_nothing(index_elements=["household_id", "step", "period"])
    )
    # The INSERT's own count: every row it added carries this fresh run id.
    return await inserted(session, stmt)


def claimed(run: int) -> Select[Any]:
    """SQL: the households claimed under `run`."""
    return select(LadderAction.household_id).where(LadderAction.run == run)


async def move(session: AsyncSession, run: int, **values: Any) -> None:
    """Put the households claimed under `run` on their new rung."""
    await session.execute(
        update(LS)
        .where(LS.household_id.in_(claimed(run)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class SlaDue:
    """The day a new escalation is due: for most households, and for the vulnerable."""

    usual: date
    vulnerable: date

    def of(self, household: Any = HH) -> Any:
        """SQL: the due day of `household`'s escalation."""
        return case(
            (vulnerable(household), literal(self.vulnerable, Date)), else_=literal(self.usual, Date)
        )


async def open_escalations(
    session: AsyncSession, run: int, *, now: datetime, sla_due: SlaDue
) -> int:
    """One escalation per claimed household, under its desa code (none if one is open).

    The full code is kept so that every level of staff above the desa sees it.
    """
    es = Escalation
    source = (
        select(
            LS.household_id,
            HH.region_code,
            func.coalesce(LS.reason, "silent"),
            literal(1),
            literal("open"),
            sla_due.of(HH),
            false(),
            vulnerable(HH),
            literal(now, es.created_at.type),
        )
        .join(HH, HH.id == LS.household_id)
        .where(
            LS.household_id.in_(claimed(run)),
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
        "vulnerable",
        "created_at",
    ]
    return await inserted(session, insert_of(session, es).from_select(cols, source))


# Escalation clock -----------------------------------------------------------------------------


async def flag_at_risk(session: AsyncSession, *, due_by: date) -> int:
    """Open escalations due by the next working day are flagged at risk."""
    es = Escalation
    stmt = (
        update(es)
        .where(es.state.in_(OPEN_ESCALATION), es.at_risk.is_(False), es.sla_due <= due_by)
        .values(at_risk=True)
    )
    return touched_rows(await session.execute(stmt))


async def raise_breached(
    session: AsyncSession, *, today: date, now: datetime, new_due: SlaDue
) -> int:
    """Officer-level escalations past their SLA go up to the supervisor, with a fresh SLA."""
    es = Escalation
    fresh = case(
        (es.vulnerable.is_(True), literal(new_due.vulnerable, Date)),
        else_=literal(new_due.usual, Date),
    )
    stmt = (
        update(es)
        .where(es.state.in_(OPEN_ESCALATION), es.level == 1, es.sla_due < today)
        .values(level=2, breached_at=now, at_risk=False, sla_due=fresh)
    )
    return touched_rows(await session.execute(stmt))


# Who gets the messages ------------------------------------------------------------------------
#
# Prompts are written as deferred messages (storage/bulk.py): one INSERT … SELECT per rung
# builds every row's JSON in SQL; mentors' lists are storage/mentor_lists.py.


async def prompt(
    session: AsyncSession,
    run: int,
    *,
    now: datetime,
    key: str,
    render: str,
    hours: Hours,
    extra: Sequence[tuple[str, str]] = (),
) -> None:
    """One deferred prompt to every promptable chat of the households claimed under `run`.

    Its args are the head's name and gender (for "Bu Siti"), and the `extra` literals.
    """
    ci = ChatIdentity
    at = literal(now, OutboxMessage.created_at.type)
    args: list[tuple[str, Any]] = [("name", HH.name), ("gender", HH.gender)]
    args += [(name, literal(value, String)) for name, value in extra]
    source = (
        select(
            ci.id,
            ci.channel,
            ci.external_id,
            deferred(session, render, ci.locale, *args, region=HH.region_code, hours=hours),
            literal(f"ladder:{key}:") + as_text(ci.household_id) + literal(":") + as_text(ci.id),
            at,
            at,
            literal("pending"),
            literal(0),
        )
        .join(HH, HH.id == ci.household_id)
        .where(ci.household_id.in_(claimed(run)), promptable())
    )
    await session.execute(outbox_insert(session, source))


async def offer_choices(
    session: AsyncSession, run: int, choices: Mapping[str, list[list[str]]], *, default: str
) -> None:
    """Idle chats (at the menu) take the prompt's choices in their language, so "1" answers it.

    `choices` has one entry per locale; chats in a locale not listed count as `default`.
    """
    ci = ChatIdentity
    others = [locale for locale in choices if locale != default]
    for locale, labelled in choices.items():
        speaks = ci.locale == locale if locale != default else ci.locale.not_in(others)
        chats = select(ci.id).where(ci.household_id.in_(claimed(run)), speaks)
        await session.execute(
            update(Conversation)
            .where(Conversation.identity_id.in_(chats), Conversation.journey == "menu")
            .values(data=identities.only_offered(labelled))
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True)
class SilentHousehold:
    """One line of a mentor's list."""

    household_id: int
    name: str
    desa: str | None
    rung: str
    reason: str | None
    since: date
    connected: bool = True  # False: no chat of the family ever reached Sinergi


@dataclass(frozen=True)
class SilentPage:
    """One page of "who is silent": families that went quiet, then those never connected."""

    rows: list[SilentHousehold]
    quiet: int
    never: int

    @property
    def total(self) -> int:
        """Both kinds together."""
        return self.quiet + self.never


def never_connected(mentor_id: int, rungs: Sequence[str]) -> list[ColumnElement[bool]]:
    """The mentor's families with no chat at all (and not already on the silent rungs)."""
    return [
        HH.mentor_id == mentor_id,
        ~exists().where(ChatIdentity.household_id == HH.id),
        ~exists().where(LS.household_id == HH.id, LS.rung.in_(rungs)),
    ]


async def silent_of_mentor(
    session: AsyncSession,
    mentor_id: int,
    *,
    rungs: Sequence[str] = SILENT,
    offset: int = 0,
    limit: int = 8,
) -> SilentPage:
    """A page of the mentor's silent households, longest silent first, then the never connected."""
    quiet_where = (HH.mentor_id == mentor_id, LS.rung.in_(rungs))
    quiet = await session.scalar(
        select(func.count()).select_from(LS).join(HH, HH.id == LS.household_id).where(*quiet_where)
    )
    never = await session.scalar(
        select(func.count()).select_from(HH).where(*never_connected(mentor_id, rungs))
    )
    rows = await session.execute(
        select(LS.household_id, HH.name, HH.desa, LS.rung, LS.reason, LS.cycle_start)
        .join(HH, HH.id == LS.household_id)
        .where(*quiet_where)
        .order_by(LS.cycle_start, HH.name, LS.household_id)
        .offset(offset)
        .limit(limit)
    )
    found = [SilentHousehold(*row) for row in rows]
    if len(found) < limit:
        rest = await session.execute(
            select(HH.id, HH.name, HH.desa, HH.created_at)
            .where(*never_connected(mentor_id, rungs))
            .order_by(HH.name, HH.id)
            .offset(max(0, offset - int(quiet or 0)))
            .limit(limit - len(found))
        )
        found += [
            SilentHousehold(hid, name, desa, "", None, created.date(), connected=False)
            for hid, name, desa, created in rest
        ]
    return SilentPage(found, int(quiet or 0), int(never or 0))


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
