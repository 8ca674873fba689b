"""Households: as the chat finds them (by phone, NIK and No. KK) and as staff list and read them.

Every staff function takes the Scope and fails closed (`NotFound` outside it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, column, func, literal, select, table, union
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AuditEvent,
    ChatIdentity,
    Escalation,
    Household,
    LadderState,
    Mentor,
    ProgramEnrollment,
    ProgressReport,
    ServiceRequest,
)
from storage.models.search import FTS_TABLE, MIN_TERM
from storage.paging import Page, paged
from storage.priority import in_category
from storage.scope import NotFound, Scope, narrow, prefix_filter, scoped

SILENT_RUNGS = ("reminder", "mentor", "dinsos")  # the ladder's rungs of a household gone silent
VOICE_NOTE = "voice_note"  # the audit event a household's voice note is kept as


async def households_by_phone(session: AsyncSession, phone: str) -> list[Household]:
    """Households whose roster phone is this number (there may be more than one)."""
    return list(await session.scalars(select(Household).where(Household.phone == phone).limit(3)))


async def mentor_by_phone(session: AsyncSession, phone: str) -> Mentor | None:
    """The mentor with this phone, if any."""
    return await session.scalar(select(Mentor).where(Mentor.phone == phone))


async def mentor_households_matching(
    session: AsyncSession, mentor_id: int | None, *, no_kk: str | None = None, name: str = ""
) -> list[Household]:
    """The mentor's own households with this No. KK, or whose name contains `name` (10 at most)."""
    query = select(Household).where(Household.mentor_id == mentor_id)
    if no_kk:
        query = query.where(Household.no_kk == no_kk)
    elif name:
        query = query.where(Household.name.ilike(f"%{name}%"))
    else:
        return []
    return list(await session.scalars(query.order_by(Household.name).limit(10)))


async def household_of_mentor(
    session: AsyncSession, mentor_id: int | None, household_id: int
) -> Household | None:
    """The household, only if this mentor is its mentor."""
    household = await session.get(Household, household_id)
    return household if household and household.mentor_id == mentor_id else None


async def household_by_nik_and_kk(
    session: AsyncSession, nik_hash: str, no_kk: str
) -> Household | None:
    """The household whose head has this NIK (by keyed hash) and whose card is this No. KK."""
    return await session.scalar(
        select(Household).where(Household.nik_hash == nik_hash, Household.no_kk == no_kk)
    )


async def programs_of(session: AsyncSession, household_id: int) -> list[ProgramEnrollment]:
    """The household's enrollments, newest data first."""
    rows = await session.scalars(
        select(ProgramEnrollment)
        .where(ProgramEnrollment.household_id == household_id)
        .order_by(ProgramEnrollment.as_of.desc(), ProgramEnrollment.program)
    )
    return list(rows)


# Staff views ---------------------------------------------------------------------------------


@dataclass
class HouseholdFilter:
    """The household list's filters."""

    q: str = ""
    kecamatan: str = ""
    desa: str = ""
    silent: bool = False
    category: str = ""  # "", a roster kategori or "desil1" (storage/priority.py)


def name_match(term: str, dialect: str) -> Select:
    """Ids of households whose name contains `term`, found through the name index.

    SQLite asks its FTS5 trigram table; PostgreSQL's ILIKE is served by the pg_trgm index.
    A term shorter than a trigram has no such index: it matches names that start with it,
    which keeps the answer short (the scan it costs is bounded by the staff's region).
    """
    if len(term) < MIN_TERM:
        return select(Household.id).where(Household.name.ilike(f"{_literal(term)}%", escape="\\"))
    if dialect == "sqlite":
        phrase = '"' + term.replace('"', '""') + '"'  # one FTS5 string: no query syntax
        match = column(FTS_TABLE).op("MATCH")(literal(phrase))
        return select(column("rowid")).select_from(table(FTS_TABLE)).where(match)
    return select(Household.id).where(Household.name.ilike(f"%{_literal(term)}%", escape="\\"))


def _literal(term: str) -> str:
    """The term with LIKE's wildcards taken as themselves."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matching_ids(term: str, dialect: str) -> Any:
    """Ids of households whose No. KK or phone is `term`, or whose name contains it."""
    return union(
        select(Household.id).where(Household.no_kk == term),
        select(Household.id).where(Household.phone == term),
        name_match(term, dialect),
    )


def household_query(scope: Scope, flt: HouseholdFilter, dialect: str) -> Select:
    """Households of the scope matching the filters, by name."""
    query = scoped(select(Household), scope)
    place = flt.desa or flt.kecamatan
    if place:
        query = query.where(prefix_filter(Household.region_code, narrow(scope, place)))
    if flt.q.strip():
        query = query.where(Household.id.in_(matching_ids(flt.q.strip()[:60], dialect)))
    if flt.category:
        query = query.where(in_category(flt.category))
    if flt.silent:
        query = query.join(LadderState, LadderState.household_id == Household.id).where(
            LadderState.rung.in_(SILENT_RUNGS)
        )
    return query.order_by(Household.name, Household.id)


def dialect_of(session: AsyncSession) -> str:
    """The name of the database the session talks to."""
    return session.get_bind().dialect.name


async def listing(session: AsyncSession, scope: Scope, flt: HouseholdFilter, page: int = 1) -> Page:
    """One page of households of the scope."""
    return await paged(session, household_query(scope, flt, dialect_of(session)), page)


async def household(session: AsyncSession, scope: Scope, household_id: int) -> Household:
    """One household of the scope, or NotFound."""
    row = await session.scalar(scoped(select(Household).where(Household.id == household_id), scope))
    if row is None:
        raise NotFound(household_id)
    return row


@dataclass
class HouseholdView:
    """Everything the household page shows, read through the scope."""

    household: Household
    mentor: Mentor | None
    programs: list[ProgramEnrollment]
    requests: list[ServiceRequest]
    reports: list[ProgressReport]
    ladder: LadderState | None
    escalations: list[Escalation]
    identities: list[ChatIdentity]
    viewers: list[tuple[str, datetime]] = field(default_factory=list)
    # The household's voice notes still held (an erased one keeps its line, not its file).
    voice_notes: list[AuditEvent] = field(default_factory=list)


async def _latest(
    session: AsyncSession, model: Any, household_id: int, newest: Any, limit: int
) -> list[Any]:
    """The household's last `limit` rows of `model`, newest first (an index lookup)."""
    return list(
        await session.scalars(
            select(model)
            .where(model.household_id == household_id)
            .order_by(newest.desc())
            .limit(limit)
        )
    )


async def household_view(session: AsyncSession, scope: Scope, household_id: int) -> HouseholdView:
    """The household page's data (bounded lists, each an index lookup)."""
    hh = await household(session, scope, household_id)
    mentor = await session.get(Mentor, hh.mentor_id) if hh.mentor_id else None
    programs = await _latest(session, ProgramEnrollment, hh.id, ProgramEnrollment.as_of, 50)
    reqs = await _latest(session, ServiceRequest, hh.id, ServiceRequest.created_at, 50)
    reports = await _latest(session, ProgressReport, hh.id, ProgressReport.period, 24)
    escs = await _latest(session, Escalation, hh.id, Escalation.created_at, 20)
    idents = await session.scalars(
        select(ChatIdentity).where(ChatIdentity.household_id == hh.id).limit(10)
    )
    viewers = await session.execute(
        select(AuditEvent.actor, func.max(AuditEvent.at))
        .where(AuditEvent.household_id == hh.id, AuditEvent.action == "household.view")
        .group_by(AuditEvent.actor)
        .order_by(func.max(AuditEvent.at).desc())
        .limit(30)
    )
    return HouseholdView(
        hh,
        mentor,
        programs,
        reqs,
        reports,
        await session.get(LadderState, hh.id),
        escs,
        list(idents),
        [(a, t) for a, t in viewers],
        await _voice_notes(session, hh.id),
    )


async def _voice_notes(session: AsyncSession, household_id: int, limit: int = 20) -> list[Any]:
    """The household's latest voice notes whose file is still referenced, newest first."""
    rows = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.household_id == household_id, AuditEvent.action == VOICE_NOTE)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return [row for row in rows if (row.detail or {}).get("media")]


async def voice_note(
    session: AsyncSession, scope: Scope, household_id: int, event_id: int
) -> tuple[Household, AuditEvent]:
    """One voice note of a household of the scope, and the household; NotFound outside it."""
    found = (
        await session.execute(
            scoped(
                select(Household, AuditEvent)
                .join(AuditEvent, AuditEvent.household_id == Household.id)
                .where(
                    Household.id == household_id,
                    AuditEvent.id == event_id,
                    AuditEvent.action == VOICE_NOTE,
                ),
                scope,
            )
        )
    ).first()
    if found is None:
        raise NotFound(event_id)
    return found[0], found[1]


async def report(session: AsyncSession, scope: Scope, report_id: int) -> ProgressReport:
    """One report of a household of the scope (for its photo), or NotFound."""
    row = await session.scalar(
        scoped(
            select(ProgressReport)
            .join(Household, Household.id == ProgressReport.household_id)
            .where(ProgressReport.id == report_id),
            scope,
        )
    )
    if row is None:
        raise NotFound(report_id)
    return row
