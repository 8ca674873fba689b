"""Households: as the chat finds them (by phone, NIK and No. KK) and as staff list and read them.

Every staff function takes the Scope and fails closed (`NotFound` outside it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, column, func, literal, or_, select, table, text
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
from storage.models.search import FORGET, FTS_TABLE, KEY_SPAN, MIN_TERM, key_range
from storage.paging import PAGE_SIZE, Page, paged
from storage.priority import in_category
from storage.scope import NotFound, Scope, ScopeError, narrow, prefix_filter, scoped

SILENT_RUNGS = ("reminder", "mentor", "dinsos")  # the ladder's rungs of a household gone silent
VOICE_NOTE = "voice_note"  # the audit event a household's voice note is kept as
SEARCH_CAP = 1000  # a search counts this far and no further ("more than 1,000")
EXACT_LIMIT = 20  # No. KK is unique; a phone is shared by a few households at most


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


def _index(dialect: str) -> tuple[Any, Any]:
    """The keyed name index (storage/models/search.py) and its key column, on this dialect."""
    key = "rowid" if dialect == "sqlite" else "key"
    index = table(FTS_TABLE, column(key), column("name"), column(FTS_TABLE))
    return index, index.c[key]


def _match(index: Any, term: str, dialect: str) -> Any:
    """The index rows whose name contains `term` (a shorter term than a trigram: starts with it).

    SQLite asks its FTS5 trigram table; PostgreSQL's ILIKE is served by the pg_trgm index.
    A term shorter than a trigram has no such index: it matches names that start with it,
    found along the key range (the scan it costs is bounded by the staff's region and the page).
    """
    if len(term) < MIN_TERM:
        return index.c.name.ilike(f"{_literal(term)}%", escape="\\")
    if dialect == "sqlite":
        phrase = '"' + term.replace('"', '""') + '"'  # one FTS5 string: no query syntax
        return index.c[FTS_TABLE].op("MATCH")(literal(phrase))
    return index.c.name.ilike(f"%{_literal(term)}%", escape="\\")


def _in_keys(key: Any, prefix: str) -> Any:
    """The index keys of the desa codes that start with `prefix`: one key range."""
    low, high = key_range(prefix)
    return and_(key >= low, key < high)


def name_match(scope: Scope, term: str, dialect: str, place: str = "") -> Select:
    """(household id, key) of the scope's households whose name contains `term`, in region order.

    The scope (narrowed to `place`) is a key range of the index itself, so the database reads
    only the region's part of the index, in order, and stops at whatever limit the caller sets.
    """
    if not isinstance(scope, Scope):
        raise ScopeError("a staff query needs a Scope")
    index, key = _index(dialect)
    return (
        select((key % KEY_SPAN).label("household_id"), key.label("key"))
        .select_from(index)
        .where(_match(index, term, dialect), _in_keys(key, narrow(scope, place)))
        .order_by(key)
    )


def _literal(term: str) -> str:
    """The term with LIKE's wildcards taken as themselves."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(query: Select, scope: Scope, flt: HouseholdFilter) -> Select:
    """`query` (over Household) kept to the scope, the place, the category and 'only silent'."""
    query = scoped(query, scope)
    place = flt.desa or flt.kecamatan
    if place:
        query = query.where(prefix_filter(Household.region_code, narrow(scope, place)))
    if flt.category:
        query = query.where(in_category(flt.category))
    if flt.silent:
        query = query.join(LadderState, LadderState.household_id == Household.id).where(
            LadderState.rung.in_(SILENT_RUNGS)
        )
    return query


def _exact(term: str) -> Any:
    """The households whose No. KK or phone is `term`."""
    return or_(Household.no_kk == term, Household.phone == term)


def household_query(scope: Scope, flt: HouseholdFilter, dialect: str) -> Select:
    """Households of the scope matching the filters, by name (the export's whole list)."""
    query = _filtered(select(Household), scope, flt)
    term = flt.q.strip()[:60]
    if term:
        names = name_match(scope, term, dialect, flt.desa or flt.kecamatan).subquery()
        query = query.where(or_(_exact(term), Household.id.in_(select(names.c.household_id))))
    return query.order_by(Household.name, Household.id)


def _exact_query(scope: Scope, flt: HouseholdFilter, term: str) -> Select:
    """Households of the filters whose No. KK or phone is `term` (a handful at most)."""
    query = _filtered(select(Household), scope, flt).where(_exact(term))
    return query.order_by(Household.region_code, Household.id).limit(EXACT_LIMIT)


def _names(scope: Scope, flt: HouseholdFilter, term: str, dialect: str, skip: list[int]) -> Any:
    """The index's name matches of the filters (the exact hits `skip`ped), in region order."""
    names = name_match(scope, term, dialect, flt.desa or flt.kecamatan)
    return names.where(names.selected_columns.household_id.not_in(skip)) if skip else names


def _rows(names: Select, scope: Scope, flt: HouseholdFilter, limit: int, offset: int) -> Select:
    """Households of `names`' matches, `limit` of them after `offset`, in region order.

    With no filter beyond the place, the scope and the place are the index's key range and the
    limit is taken there; the households' own scope check (failing closed) only reads that page.
    A category or 'only silent' must be asked of each household, so then the limit comes after.
    """
    if flt.category or flt.silent:
        sub = names.subquery()
        joined = select(Household).join(sub, Household.id == sub.c.household_id)
        return _filtered(joined, scope, flt).order_by(sub.c.key).limit(limit).offset(offset)
    sub = names.limit(limit).offset(offset).subquery()
    joined = select(Household).join(sub, Household.id == sub.c.household_id)
    return _filtered(joined, scope, flt).order_by(sub.c.key)


async def search(
    session: AsyncSession, scope: Scope, flt: HouseholdFilter, page: int = 1, size: int = PAGE_SIZE
) -> Page:
    """One page of a search: exact No. KK or phone hits first, then name matches in region order.

    Nothing reads past what the page shows: the count stops at SEARCH_CAP (the page says "more
    than" that) and the pages end there, so a common name costs the same in any register.
    """
    term, dialect = flt.q.strip()[:60], dialect_of(session)
    exact = list(await session.scalars(_exact_query(scope, flt, term)))
    names = _names(scope, flt, term, dialect, [hh.id for hh in exact])
    counted = _rows(names, scope, flt, SEARCH_CAP + 1 - len(exact), 0).order_by(None)
    found = await session.scalar(select(func.count()).select_from(counted.subquery()))
    total = len(exact) + int(found or 0)
    last = max(1, (min(SEARCH_CAP, total) + size - 1) // size)
    page = min(max(1, page), last)
    start = (page - 1) * size
    rows = exact[start : start + size]
    if len(rows) < size:
        more = _rows(names, scope, flt, size - len(rows), max(0, start - len(exact)))
        rows += list(await session.scalars(more))
    return Page(rows, min(total, SEARCH_CAP), page, size, capped=total > SEARCH_CAP)


async def forget(session: AsyncSession, household_id: int) -> None:
    """Take the household out of the name index (an erasure: no search finds it by name)."""
    await session.execute(text(FORGET[dialect_of(session)]), {"id": household_id})


def dialect_of(session: AsyncSession) -> str:
    """The name of the database the session talks to."""
    return session.get_bind().dialect.name


async def listing(session: AsyncSession, scope: Scope, flt: HouseholdFilter, page: int = 1) -> Page:
    """One page of households of the scope (a search when there is a term)."""
    if flt.q.strip():
        return await search(session, scope, flt, page)
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
