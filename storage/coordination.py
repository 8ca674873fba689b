"""The coordinators' numbers: aggregates per area with small cells suppressed, never a person.

BP Taskin, Kemenkop, Bappeda or a provincial team read how households move from aid to
independence across many kabupaten. Every figure here is a count or a median over an area;
any count below `SMALL_CELL` is shown as "<5", and a share is only given when both of its
counts are shown, so no single family can be picked out of a small desa.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import and_, case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.calendar import period_day
from storage.graduation import area_digits, funnel, quarter_of
from storage.graduation_rules import STAGES
from storage.households import SILENT_RUNGS
from storage.models import (
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
    days_to_graduate: list[int] = field(default_factory=list)
    target: int | None = None

    @property
    def median_days(self) -> int | None:
        """Median days from the first recorded stage to independence (None under the small-cell limit)."""
        if len(self.days_to_graduate) < SMALL_CELL:
            return None
        return int(median(self.days_to_graduate))


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
    for row in await funnel(session, scope, *quarter_of(today), digits=width):
        found[row.area] = Area(row.area, row.name, households=row.total, stages=dict(row.stages))
    await _silent(session, scope, width, found)
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


async def _silent(session: AsyncSession, scope: Scope, width: int, found: dict[str, Area]) -> None:
    """Silent households per area (households with no stage yet are counted too)."""
    area = _area(Household.region_code, width)
    silent = func.sum(case((LadderState.rung.in_(SILENT_RUNGS), 1), else_=0))
    rows = await session.execute(
        select(area, func.count(Household.id), silent)
        .outerjoin(LadderState, LadderState.household_id == Household.id)
        .where(region_filter(Household.region_code, scope))
        .group_by(area)
    )
    for code, households, quiet in rows:
        entry = found.setdefault(code, Area(code, code))
        entry.households = int(households)
        entry.silent = int(quiet or 0)


async def _graduations(
    session: AsyncSession, scope: Scope, width: int, today: date, found: dict[str, Area]
) -> None:
    """Graduations this year, days from first stage to independence, relapse within 12 months."""
    first = (
        select(StageTransition.household_id, func.min(StageTransition.on_date).label("first"))
        .where(region_filter(StageTransition.region_code, scope))
        .group_by(StageTransition.household_id)
        .subquery()
    )
    area = _area(StageTransition.region_code, width)
    graduated = await session.execute(
        select(area, StageTransition.household_id, StageTransition.on_date, first.c.first)
        .join(first, first.c.household_id == StageTransition.household_id)
        .where(
            region_filter(StageTransition.region_code, scope),
            StageTransition.to_stage == GRADUATED,
            StageTransition.direction == "forward",
        )
    )
    setbacks: dict[int, list[date]] = defaultdict(list)
    for household_id, on_date in await session.execute(
        select(StageTransition.household_id, StageTransition.on_date).where(
            region_filter(StageTransition.region_code, scope),
            and_(StageTransition.from_stage == GRADUATED, StageTransition.direction == "back"),
        )
    ):
        setbacks[household_id].append(on_date)
    for code, household_id, on_date, first_date in graduated:
        entry = found.setdefault(code, Area(code, code))
        entry.graduates += 1
        entry.graduated_year += on_date.year == today.year
        entry.days_to_graduate.append((on_date - first_date).days)
        if any(on_date <= back <= on_date + RELAPSE_WINDOW for back in setbacks[household_id]):
            entry.relapsed += 1


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
