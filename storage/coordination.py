"""The coordinators' numbers: aggregates per area with small cells suppressed, never a person.

BP Taskin, Kemenkop, Bappeda or a provincial team read how households move from aid to
independence across many kabupaten. Every figure here is a count or a median over an area;
any count below `SMALL_CELL` is shown as "<5", and a share is only given when both of its
counts are shown, so no single family can be picked out of a small desa.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, literal_column, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.calendar import period_day
from storage.graduation import area_digits
from storage.graduation_rules import STAGES
from storage.households import SILENT_RUNGS
from storage.models import (
    GraduationStage,
    Household,
    LadderState,
    Organisation,
    Referral,
    Region,
    RegionTarget,
    StageTransition,
)
from storage.referrals import overdue
from storage.scope import NotFound, Scope, region_filter

SMALL_CELL = 5
GRADUATED = "mandiri"
RELAPSE_WINDOW = timedelta(days=365)


def cell(count: int) -> str:
    """A count as a coordinator may read it: "<5" below the small-cell limit."""
    return f"<{SMALL_CELL}" if count < SMALL_CELL else str(count)


def share(part: int, whole: int) -> str:
    """`part / whole` as a percentage, or "–" when either count is too small to show."""
    if part < SMALL_CELL or whole < SMALL_CELL:
        return "–"
    return f"{part / whole:.0%}"


@dataclass
class Area:
    """One kabupaten (or kecamatan) in numbers."""

    code: str
    name: str
    households: int = 0
    silent: int = 0
    stages: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    graduated_year: int = 0
    graduates: int = 0
    relapsed: int = 0
    median: int | None = None  # days from the first recorded stage to independence
    target: int | None = None

    @property
    def median_days(self) -> int | None:
        """Median days from the first recorded stage to independence (None under the small-cell limit)."""
        if self.graduates < SMALL_CELL:
            return None
        return self.median


@dataclass(frozen=True)
class OfficeFigures:
    """Referrals to one office: sent, accepted, completed, declined, overdue."""

    office: str
    sent: int
    accepted: int
    completed: int
    declined: int
    overdue: int


def _area(column: Any, width: int) -> Any:
    """The first `width` digits of a region code (literals, so PostgreSQL groups by the same expression)."""
    return func.substr(column, literal_column("1"), literal_column(str(int(width))))


async def areas(session: AsyncSession, scope: Scope, now: datetime) -> list[Area]:
    """Every area of the scope: households, silent, stages, graduations, relapse and target."""
    width = area_digits(scope)
    today = now.date()
    found: dict[str, Area] = {}
    await _households(session, scope, width, found)
    await _graduations(session, scope, width, today, found)
    for target in await session.scalars(
        select(RegionTarget).where(
            RegionTarget.year == today.year, RegionTarget.region_code.in_(list(found))
        )
    ):
        found[target.region_code].target = target.graduations
    for code, name in await session.execute(
        select(Region.code, Region.name).where(Region.code.in_(list(found)))
    ):
        found[code].name = name
    return sorted(found.values(), key=lambda a: a.name)


async def _households(
    session: AsyncSession, scope: Scope, width: int, found: dict[str, Area]
) -> None:
    """Households per stage, all households and silent ones per area (households with no stage
    yet are counted too). Two grouped scans: one three-way join grouped by area and stage is
    slower on SQLite than both together."""
    area = _area(Household.region_code, width)
    for code, stage, n in await session.execute(
        select(area, GraduationStage.stage, func.count())
        .select_from(GraduationStage)
        .join(Household, Household.id == GraduationStage.household_id)
        .where(region_filter(Household.region_code, scope))
        .group_by(area, GraduationStage.stage)
    ):
        found.setdefault(code, Area(code, code)).stages[stage] = int(n)
    silent = func.sum(case((LadderState.rung.in_(SILENT_RUNGS), 1), else_=0))
    for code, households, quiet in await session.execute(
        select(area, func.count(Household.id), silent)
        .outerjoin(LadderState, LadderState.household_id == Household.id)
        .where(region_filter(Household.region_code, scope))
        .group_by(area)
    ):
        entry = found.setdefault(code, Area(code, code))
        entry.households = int(households)
        entry.silent = int(quiet or 0)


def _dialect(session: AsyncSession) -> str:
    """The database's dialect name (date arithmetic is written differently on each)."""
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def _days_between(later: Any, earlier: Any, dialect: str) -> Any:
    """SQL: whole days from `earlier` to `later` (two dates)."""
    if dialect == "postgresql":
        return type_coerce(later - earlier, Integer)
    return cast(func.julianday(later) - func.julianday(earlier), Integer)


def _days_after(day: Any, days: int, dialect: str) -> Any:
    """SQL: the date `days` after `day`."""
    if dialect == "postgresql":
        return day + literal_column(str(int(days)))
    return func.date(day, f"+{int(days)} days")


async def _graduations(
    session: AsyncSession, scope: Scope, width: int, today: date, found: dict[str, Area]
) -> None:
    """Graduations this year, median days from first stage to independence, relapse within 12
    months: counted and ranked in SQL, one row per area whatever the number of graduates."""
    dialect = _dialect(session)
    first = (
        select(StageTransition.household_id, func.min(StageTransition.on_date).label("first"))
        .where(region_filter(StageTransition.region_code, scope))
        .group_by(StageTransition.household_id)
        .subquery()
    )
    back = aliased(StageTransition)
    relapsed = (
        select(back.id)
        .where(
            back.household_id == StageTransition.household_id,
            region_filter(back.region_code, scope),
            back.from_stage == GRADUATED,
            back.direction == "back",
            back.on_date >= StageTransition.on_date,
            back.on_date <= _days_after(StageTransition.on_date, RELAPSE_WINDOW.days, dialect),
        )
        .exists()
    )
    area = _area(StageTransition.region_code, width)
    days = _days_between(StageTransition.on_date, first.c.first, dialect)
    this_year = and_(
        StageTransition.on_date >= date(today.year, 1, 1),
        StageTransition.on_date < date(today.year + 1, 1, 1),
    )
    each = (
        select(
            area.label("area"),
            days.label("days"),
            case((this_year, 1), else_=0).label("this_year"),
            case((relapsed, 1), else_=0).label("relapsed"),
            func.row_number().over(partition_by=area, order_by=days).label("rank"),
            func.count().over(partition_by=area).label("n"),
        )
        .join(first, first.c.household_id == StageTransition.household_id)
        .where(
            region_filter(StageTransition.region_code, scope),
            StageTransition.to_stage == GRADUATED,
            StageTransition.direction == "forward",
        )
        .subquery()
    )
    # The median as statistics.median takes it: the middle one, or the mean of the two middle.
    middle = each.c.rank.in_([(each.c.n + 1) // 2, (each.c.n + 2) // 2])
    rows = await session.execute(
        select(
            each.c.area,
            func.count(),
            func.sum(each.c.this_year),
            func.sum(each.c.relapsed),
            func.avg(case((middle, each.c.days))),
        ).group_by(each.c.area)
    )
    for code, graduates, this_year_count, relapsed_count, middle_days in rows:
        entry = found.setdefault(code, Area(code, code))
        entry.graduates = int(graduates)
        entry.graduated_year = int(this_year_count or 0)
        entry.relapsed = int(relapsed_count or 0)
        entry.median = None if middle_days is None else int(middle_days)


async def offices(session: AsyncSession, scope: Scope, now: datetime) -> list[OfficeFigures]:
    """Referrals per office in the scope: sent, accepted, completed, declined, overdue."""
    state = Referral.state
    # Referrals made before organisations were data name only the kind of office.
    office = func.coalesce(Organisation.name, Referral.office)

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    rows = await session.execute(
        select(
            office,
            func.count(Referral.id),
            count(state == "diterima"),
            count(state == "selesai"),
            count(state == "ditolak"),
            count(overdue(period_day(now))),
        )
        .outerjoin(Organisation, Organisation.id == Referral.organisation_id)
        .where(region_filter(Referral.region_code, scope))
        .group_by(office)
        .order_by(office)
    )
    return [OfficeFigures(str(o), *(int(n or 0) for n in rest)) for o, *rest in rows]


async def set_target(
    session: AsyncSession,
    scope: Scope,
    *,
    region_code: str,
    year: int,
    graduations: int,
    now: datetime,
) -> RegionTarget:
    """The year's graduation target (angka graduasi) of one region of the scope, set or replaced."""
    if not scope.covers(region_code) or not region_code.isdigit():
        raise NotFound(region_code)
    target = await session.scalar(
        select(RegionTarget).where(
            RegionTarget.region_code == region_code, RegionTarget.year == year
        )
    )
    if target is None:
        target = RegionTarget(region_code=region_code, year=year)
        session.add(target)
    target.graduations = graduations
    target.set_by = scope.username
    target.set_at = now
    await session.flush()
    return target
