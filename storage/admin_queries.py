"""What the admin pages read and change; every function takes the staff member's Scope and fails closed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AuditEvent,
    ChatIdentity,
    Escalation,
    EscalationNote,
    Household,
    InboxUpdate,
    LadderState,
    Mentor,
    MentorVisit,
    OutboxMessage,
    ProgramEnrollment,
    ProgressReport,
    Region,
    RequestEvent,
    ServiceRequest,
    StaffUser,
)
from storage.scope import Scope, narrow, prefix_filter, region_filter, scoped

PAGE_SIZE = 50
OPEN_STATES = ("open", "assigned")
SILENT_RUNGS = ("reminder", "mentor", "dinsos")
AT_RISK_DAYS = 1  # an escalation due today or tomorrow is at risk
VISIT_OVERDUE_DAYS = 30
WITA = timedelta(hours=8)


class NotFound(LookupError):
    """The record does not exist or lies outside the scope: both look the same (404)."""


def today(now: datetime) -> date:
    """The office's date (WITA) at `now`."""
    return (now + WITA).date()


@dataclass
class Page:
    """One page of a list, with what the pager needs."""

    rows: list[Any]
    total: int
    page: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, (self.total + self.size - 1) // self.size)


async def paged(session: AsyncSession, query: Select, page: int, *, scalars: bool = True) -> Page:
    """Count, then fetch one page (never the whole list)."""
    page = max(1, page)
    total = int(
        await session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    )
    limited = query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    rows = (
        list(await session.scalars(limited))
        if scalars
        else list((await session.execute(limited)).all())
    )
    return Page(rows, total, page)


# Regions -------------------------------------------------------------------------------------


async def regions(
    session: AsyncSession, scope: Scope, level: int, within: str = ""
) -> list[Region]:
    """Kecamatan (3) or desa (4) of the scope, for filters."""
    query = scoped(select(Region).where(Region.level == level), scope, Region.code)
    if within:
        query = query.where(prefix_filter(Region.code, narrow(scope, within)))
    return list(await session.scalars(query.order_by(Region.name).limit(500)))


# Dashboard -----------------------------------------------------------------------------------


def sla_status(due: date, now: datetime) -> str:
    """`breached`, `at_risk` or `on_track` for an open escalation due on `due`."""
    day = today(now)
    if due < day:
        return "breached"
    return "at_risk" if due <= day + timedelta(days=AT_RISK_DAYS) else "on_track"


def _sla_bucket(now: datetime) -> Any:
    """The SLA status as SQL, for counting."""
    day = today(now)
    return case(
        (Escalation.sla_due < day, "breached"),
        (Escalation.sla_due <= day + timedelta(days=AT_RISK_DAYS), "at_risk"),
        else_="on_track",
    )


async def dashboard(session: AsyncSession, scope: Scope, now: datetime) -> dict[str, Any]:
    """The region at a glance: counts for the cards."""
    households = await session.scalar(scoped(select(func.count(Household.id)), scope))
    linked = await session.scalar(
        scoped(
            select(func.count(func.distinct(ChatIdentity.household_id))).join(
                Household, Household.id == ChatIdentity.household_id
            ),
            scope,
        )
    )
    silent = await session.scalar(
        scoped(
            select(func.count())
            .select_from(LadderState)
            .join(Household, Household.id == LadderState.household_id)
            .where(LadderState.rung.in_(SILENT_RUNGS)),
            scope,
        )
    )
    bucket = _sla_bucket(now)
    sla_rows = await session.execute(
        scoped(
            select(bucket, func.count()).where(Escalation.state.in_(OPEN_STATES)).group_by(bucket),
            scope,
            Escalation.region_code,
        )
    )
    req_rows = await session.execute(
        scoped(
            select(ServiceRequest.state, func.count()).group_by(ServiceRequest.state),
            scope,
            ServiceRequest.region_code,
        )
    )
    month = today(now).strftime("%Y-%m")
    reports = await session.scalar(
        scoped(
            select(func.count(ProgressReport.id))
            .join(Household, Household.id == ProgressReport.household_id)
            .where(ProgressReport.period == month, ProgressReport.submitted_at.is_not(None)),
            scope,
        )
    )
    return {
        "households": int(households or 0),
        "linked": int(linked or 0),
        "silent": int(silent or 0),
        "sla": {k: int(v) for k, v in sla_rows},
        "requests": {k: int(v) for k, v in req_rows},
        "reports_month": int(reports or 0),
        "month": month,
    }


async def silent_by_kecamatan(session: AsyncSession, scope: Scope) -> list[tuple[str, int, int]]:
    """(kecamatan, households, silent) for the chart, largest first."""
    silent = func.sum(case((LadderState.rung.in_(SILENT_RUNGS), 1), else_=0))
    rows = await session.execute(
        scoped(
            select(func.coalesce(Household.kecamatan, "?"), func.count(Household.id), silent)
            .outerjoin(LadderState, LadderState.household_id == Household.id)
            .group_by(Household.kecamatan)
            .order_by(func.count(Household.id).desc())
            .limit(12),
            scope,
        )
    )
    return [(str(k), int(n), int(s or 0)) for k, n, s in rows]


def last_months(now: datetime, count: int = 6) -> list[str]:
    """`YYYY-MM` of the last `count` months, oldest first."""
    day = today(now).replace(day=1)
    months = []
    for _ in range(count):
        months.append(day.strftime("%Y-%m"))
        day = (day - timedelta(days=1)).replace(day=1)
    return months[::-1]


async def reports_per_month(
    session: AsyncSession, scope: Scope, months: list[str]
) -> list[tuple[str, int]]:
    """Submitted reports in each month."""
    rows = dict(
        (
            await session.execute(
                scoped(
                    select(ProgressReport.period, func.count(ProgressReport.id))
                    .join(Household, Household.id == ProgressReport.household_id)
                    .where(
                        ProgressReport.period.in_(months), ProgressReport.submitted_at.is_not(None)
                    )
                    .group_by(ProgressReport.period),
                    scope,
                )
            )
        ).all()
    )
    return [(m, int(rows.get(m, 0))) for m in months]


async def median_omzet(
    session: AsyncSession, scope: Scope, months: list[str], household_id: int | None = None
) -> list[tuple[str, int | None]]:
    """The median omzet reported in each month (one household's omzet when given)."""
    result: list[tuple[str, int | None]] = []
    for month in months:
        base = scoped(
            select(ProgressReport.omzet)
            .join(Household, Household.id == ProgressReport.household_id)
            .where(ProgressReport.period == month, ProgressReport.omzet.is_not(None)),
            scope,
        )
        if household_id is not None:
            base = base.where(ProgressReport.household_id == household_id)
        n = int(await session.scalar(select(func.count()).select_from(base.subquery())) or 0)
        if not n:
            result.append((month, None))
            continue
        middle = list(
            await session.scalars(
                base.order_by(ProgressReport.omzet).offset((n - 1) // 2).limit(2 - n % 2)
            )
        )
        result.append((month, int(sum(v or 0 for v in middle) / len(middle))))
    return result


# Escalations ---------------------------------------------------------------------------------


@dataclass
class QueueFilter:
    """The escalation queue's filters, as the form sends them."""

    state: str = "open"
    level: int | None = None
    sla: str = ""
    kecamatan: str = ""
    desa: str = ""
    assignee: str = ""  # "", "me", "none" or a staff id


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
        query = query.where(_sla_bucket(now) == flt.sla)
    place = flt.desa or flt.kecamatan
    if place:
        query = query.where(prefix_filter(Escalation.region_code, narrow(scope, place)))
    if flt.assignee == "me":
        query = query.where(Escalation.assignee_id == staff_id)
    elif flt.assignee == "none":
        query = query.where(Escalation.assignee_id.is_(None))
    elif flt.assignee.isdigit():
        query = query.where(Escalation.assignee_id == int(flt.assignee))
    return query.order_by(Escalation.sla_due, Escalation.id)


async def escalation_queue(
    session: AsyncSession,
    scope: Scope,
    flt: QueueFilter,
    *,
    staff_id: int,
    now: datetime,
    page: int = 1,
) -> Page:
    """One page of the queue: (Escalation, Household, assignee username) rows."""
    ids_page = await paged(session, queue_ids(scope, flt, staff_id, now), page)
    if not ids_page.rows:
        return ids_page
    rows = await session.execute(
        select(Escalation, Household, StaffUser.username)
        .join(Household, Household.id == Escalation.household_id)
        .outerjoin(StaffUser, StaffUser.id == Escalation.assignee_id)
        .where(Escalation.id.in_(ids_page.rows))
        .order_by(Escalation.sla_due, Escalation.id)
    )
    return Page(list(rows.all()), ids_page.total, ids_page.page)


async def escalation(session: AsyncSession, scope: Scope, escalation_id: int) -> Escalation:
    """One escalation of the scope, or NotFound."""
    row = await session.scalar(
        scoped(
            select(Escalation).where(Escalation.id == escalation_id), scope, Escalation.region_code
        )
    )
    if row is None:
        raise NotFound(escalation_id)
    return row


async def colleagues(session: AsyncSession, scope: Scope) -> list[StaffUser]:
    """Active staff of the scope, to assign to."""
    query = scoped(
        select(StaffUser).where(StaffUser.active.is_(True)), scope, StaffUser.region_code
    )
    return list(await session.scalars(query.order_by(StaffUser.username)))


async def staff_member(session: AsyncSession, scope: Scope, staff_id: int) -> StaffUser:
    """One active colleague of the scope, or NotFound."""
    row = await session.scalar(
        scoped(
            select(StaffUser).where(StaffUser.id == staff_id, StaffUser.active.is_(True)),
            scope,
            StaffUser.region_code,
        )
    )
    if row is None:
        raise NotFound(staff_id)
    return row


async def assign(
    session: AsyncSession,
    scope: Scope,
    escalation_ids: list[int],
    assignee_id: int,
    *,
    actor: str,
    now: datetime,
) -> int:
    """Give open escalations of the scope to a colleague of the scope; how many changed."""
    assignee = await staff_member(session, scope, assignee_id)
    wanted = set(escalation_ids[:500])
    rows = list(
        await session.scalars(
            scoped(
                select(Escalation).where(Escalation.id.in_(wanted)), scope, Escalation.region_code
            )
        )
    )
    if len(rows) != len(wanted):  # one id outside the scope spoils the whole batch: nothing changes
        raise NotFound(sorted(wanted - {r.id for r in rows}))
    rows = [r for r in rows if r.state in OPEN_STATES]
    for row in rows:
        row.assignee_id, row.state = assignee.id, "assigned"
        session.add(
            EscalationNote(
                escalation_id=row.id, at=now, author=actor, text=f"assigned to {assignee.username}"
            )
        )
    return len(rows)


async def add_note(
    session: AsyncSession, scope: Scope, escalation_id: int, text: str, *, actor: str, now: datetime
) -> Escalation:
    """A note on an escalation of the scope."""
    row = await escalation(session, scope, escalation_id)
    session.add(EscalationNote(escalation_id=row.id, at=now, author=actor, text=text[:2000]))
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
    """Close an escalation of the scope with its outcome."""
    row = await escalation(session, scope, escalation_id)
    if row.state != "resolved":
        row.state, row.outcome, row.resolved_at = "resolved", outcome[:2000], now
        session.add(EscalationNote(escalation_id=row.id, at=now, author=actor, text=outcome[:2000]))
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


# Households ----------------------------------------------------------------------------------


@dataclass
class HouseholdFilter:
    """The household list's filters."""

    q: str = ""
    kecamatan: str = ""
    desa: str = ""
    silent: bool = False


def household_query(scope: Scope, flt: HouseholdFilter) -> Select:
    """Households of the scope matching the filters, by name."""
    query = scoped(select(Household), scope)
    place = flt.desa or flt.kecamatan
    if place:
        query = query.where(prefix_filter(Household.region_code, narrow(scope, place)))
    if flt.q:
        term = flt.q.strip()[:60]
        query = query.where(
            or_(Household.no_kk == term, Household.name.ilike(f"%{term}%"), Household.phone == term)
        )
    if flt.silent:
        query = query.join(LadderState, LadderState.household_id == Household.id).where(
            LadderState.rung.in_(SILENT_RUNGS)
        )
    return query.order_by(Household.name, Household.id)


async def households(
    session: AsyncSession, scope: Scope, flt: HouseholdFilter, page: int = 1
) -> Page:
    """One page of households."""
    return await paged(session, household_query(scope, flt), page)


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
    )


async def timeline(
    session: AsyncSession, identities: list[ChatIdentity], limit: int = 40
) -> tuple[list[InboxUpdate], list[OutboxMessage]]:
    """The latest inbound rows and outbound messages of identities already read through a scope."""
    keys = [f"{i.channel}:{i.external_id}" for i in identities]
    ids = [i.id for i in identities]
    inbound: Any = (
        await session.scalars(
            select(InboxUpdate)
            .where(InboxUpdate.chat_key.in_(keys))
            .order_by(InboxUpdate.id.desc())
            .limit(limit)
        )
        if keys
        else []
    )
    outbound: Any = (
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.identity_id.in_(ids))
            .order_by(OutboxMessage.created_at.desc())
            .limit(limit)
        )
        if ids
        else []
    )
    return list(inbound), list(outbound)


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


# Requests ------------------------------------------------------------------------------------


async def request_queue(session: AsyncSession, scope: Scope, state: str, page: int = 1) -> Page:
    """One page of requests in `state` (open ones when empty), oldest first: (request, household)."""
    query = scoped(
        select(ServiceRequest, Household).join(
            Household, Household.id == ServiceRequest.household_id
        ),
        scope,
        ServiceRequest.region_code,
    )
    if state:
        query = query.where(ServiceRequest.state == state)
    else:
        query = query.where(
            ServiceRequest.state.in_(("diajukan", "diproses", "disetujui", "dirujuk"))
        )
    return await paged(
        session, query.order_by(ServiceRequest.created_at, ServiceRequest.id), page, scalars=False
    )


async def service_request(session: AsyncSession, scope: Scope, request_id: int) -> ServiceRequest:
    """One request of the scope, or NotFound."""
    row = await session.scalar(
        scoped(
            select(ServiceRequest).where(ServiceRequest.id == request_id),
            scope,
            ServiceRequest.region_code,
        )
    )
    if row is None:
        raise NotFound(request_id)
    return row


async def request_history(session: AsyncSession, request_id: int) -> list[RequestEvent]:
    """The steps of a request already read through a scope."""
    return list(
        await session.scalars(
            select(RequestEvent)
            .where(RequestEvent.request_id == request_id)
            .order_by(RequestEvent.at, RequestEvent.id)
        )
    )


# Mentors -------------------------------------------------------------------------------------


async def mentors_overview(
    session: AsyncSession, scope: Scope, now: datetime
) -> list[dict[str, Any]]:
    """Each mentor of the scope with households, silent ones, overdue visits and last activity."""
    silent = func.sum(case((LadderState.rung.in_(SILENT_RUNGS), 1), else_=0))
    counts = dict(
        (m, (int(n), int(s or 0)))
        for m, n, s in (
            await session.execute(
                scoped(
                    select(Household.mentor_id, func.count(Household.id), silent)
                    .outerjoin(LadderState, LadderState.household_id == Household.id)
                    .where(Household.mentor_id.is_not(None))
                    .group_by(Household.mentor_id),
                    scope,
                )
            )
        ).all()
    )
    visits = dict(
        (
            await session.execute(
                select(MentorVisit.mentor_id, func.max(MentorVisit.at))
                .group_by(MentorVisit.mentor_id)
                .where(MentorVisit.mentor_id.in_(list(counts) or [0]))
            )
        ).all()
    )
    overdue = dict(
        (m, int(n))
        for m, n in (
            await session.execute(
                scoped(
                    select(Household.mentor_id, func.count(Household.id))
                    .join(LadderState, LadderState.household_id == Household.id)
                    .where(
                        LadderState.rung.in_(("mentor", "dinsos")),
                        LadderState.updated_at < now - timedelta(days=7),
                    )
                    .group_by(Household.mentor_id),
                    scope,
                )
            )
        ).all()
    )
    mentors = await session.scalars(
        scoped(select(Mentor), scope, Mentor.region_code).order_by(Mentor.name).limit(500)
    )
    return [
        {
            "mentor": m,
            "households": counts.get(m.id, (0, 0))[0],
            "silent": counts.get(m.id, (0, 0))[1],
            "overdue": overdue.get(m.id, 0),
            "last_visit": visits.get(m.id),
        }
        for m in mentors
    ]


async def mentor(session: AsyncSession, scope: Scope, mentor_id: int) -> Mentor:
    """One mentor of the scope, or NotFound."""
    row = await session.scalar(
        scoped(select(Mentor).where(Mentor.id == mentor_id), scope, Mentor.region_code)
    )
    if row is None:
        raise NotFound(mentor_id)
    return row


async def mentor_households(
    session: AsyncSession, scope: Scope, mentor_id: int, page: int = 1
) -> Page:
    """The mentor's households (with ladder state): (Household, LadderState|None) rows."""
    query = scoped(
        select(Household, LadderState)
        .outerjoin(LadderState, LadderState.household_id == Household.id)
        .where(Household.mentor_id == mentor_id),
        scope,
    ).order_by(Household.name, Household.id)
    return await paged(session, query, page, scalars=False)


async def reassign(
    session: AsyncSession, scope: Scope, household_ids: list[int], mentor_id: int
) -> int:
    """Hand households of the scope to a mentor of the scope; how many moved."""
    target = await mentor(session, scope, mentor_id)
    result = await session.execute(
        update(Household)
        .where(
            and_(Household.id.in_(household_ids[:500]), region_filter(Household.region_code, scope))
        )
        .values(mentor_id=target.id, mentor_phone=target.phone)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# Audit and staff -----------------------------------------------------------------------------


async def audit_log(session: AsyncSession, scope: Scope, action: str = "", page: int = 1) -> Page:
    """Audit events of the scope's region, newest first (national admins see everything)."""
    query = select(AuditEvent)
    if scope.prefix:
        query = query.where(region_filter(AuditEvent.region_code, scope))
    if action:
        query = query.where(AuditEvent.action == action)
    return await paged(session, query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()), page)


async def staff_list(session: AsyncSession, scope: Scope) -> list[StaffUser]:
    """Every account of the scope."""
    return list(
        await session.scalars(
            scoped(select(StaffUser), scope, StaffUser.region_code).order_by(StaffUser.username)
        )
    )


async def set_active(session: AsyncSession, scope: Scope, staff_id: int, active: bool) -> StaffUser:
    """Switch an account of the scope on or off."""
    row = await session.scalar(
        scoped(select(StaffUser).where(StaffUser.id == staff_id), scope, StaffUser.region_code)
    )
    if row is None:
        raise NotFound(staff_id)
    row.active = active
    return row


# Simulator -----------------------------------------------------------------------------------


async def phone_in_scope(
    session: AsyncSession, scope: Scope, phone: str, channel: str = "simulator"
) -> bool:
    """Whether staff may chat as `phone`: no household, mentor or linked chat of it lies outside the scope."""
    outside = [
        select(Household.id).where(
            Household.phone == phone, ~region_filter(Household.region_code, scope)
        ),
        select(Mentor.id).where(Mentor.phone == phone, ~region_filter(Mentor.region_code, scope)),
        select(ChatIdentity.id)
        .join(Household, Household.id == ChatIdentity.household_id)
        .where(
            ChatIdentity.channel == channel,
            ChatIdentity.external_id == phone,
            ~region_filter(Household.region_code, scope),
        ),
        select(ChatIdentity.id)
        .join(Mentor, Mentor.id == ChatIdentity.mentor_id)
        .where(
            ChatIdentity.channel == channel,
            ChatIdentity.external_id == phone,
            ~region_filter(Mentor.region_code, scope),
        ),
    ]
    for query in outside:
        if await session.scalar(query.limit(1)) is not None:
            return False
    return True


async def local_chat(
    session: AsyncSession, channel: str, phone: str, limit: int = 60
) -> tuple[list[InboxUpdate], list[OutboxMessage]]:
    """The latest rows of one simulator chat (its phone already checked against the scope)."""
    identity = await session.scalar(
        select(ChatIdentity).where(
            ChatIdentity.channel == channel, ChatIdentity.external_id == phone
        )
    )
    inbound = list(
        await session.scalars(
            select(InboxUpdate)
            .where(InboxUpdate.chat_key == f"{channel}:{phone}")
            .order_by(InboxUpdate.id.desc())
            .limit(limit)
        )
    )
    outbound = (
        []
        if identity is None
        else list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.identity_id == identity.id)
                .order_by(OutboxMessage.created_at.desc())
                .limit(limit)
            )
        )
    )
    return inbound, outbound
