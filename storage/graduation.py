"""The graduation path in storage: a household's stage and moves, mandiri confirmation, funnel and at-risk lists.

Household and mentor views read one household (or one mentor's); every staff query takes the
Scope and fails closed. The sweeps that move households live in `scheduler/graduation.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, func, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.graduation_rules import RANK, RULES, STAGES, Rules
from storage.models import GraduationStage, Household, StageTransition
from storage.paging import Page, paged
from storage.scope import Scope, region_filter

GS, ST, HH = GraduationStage, StageTransition, Household
# Report months and office days follow Kalimantan Timur's clock (WITA), like the reports.
WITA = timezone(timedelta(hours=8))


class StageError(ValueError):
    """A stage change that is not allowed from where the household stands."""


def office_day(now: datetime) -> date:
    """The office's date at `now`."""
    return now.astimezone(WITA).date()


def month_of(now: datetime) -> str:
    """The month of `now` as report periods write it, `2026-11`."""
    return f"{now.astimezone(WITA):%Y-%m}"


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def insert_of(session: AsyncSession, table: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


# One household -------------------------------------------------------------------------------


async def stage_of(session: AsyncSession, household_id: int) -> GraduationStage | None:
    """The household's stage row, if it is on the path."""
    return await session.get(GS, household_id)


async def history(
    session: AsyncSession, household_id: int, *, limit: int = 20
) -> list[StageTransition]:
    """The household's moves, newest first."""
    rows = await session.scalars(
        select(ST)
        .where(ST.household_id == household_id)
        .order_by(ST.at.desc(), ST.id.desc())
        .limit(limit)
    )
    return list(rows)


async def confirm_mandiri(
    session: AsyncSession,
    household: Household,
    *,
    by: str,
    now: datetime,
    note: str | None = None,
    rules: Rules = RULES,
) -> GraduationStage:
    """A mentor or staff member confirms the household stands on its own: mandiri, watched for a year."""
    row = await session.get(GS, household.id, with_for_update=True)
    if row is None or row.stage not in rules.confirm_from:
        raise StageError(row.stage if row else "none")
    today = office_day(now)
    session.add(
        ST(
            household_id=household.id,
            region_code=household.region_code,
            from_stage=row.stage,
            to_stage="mandiri",
            direction="forward",
            at=now,
            on_date=today,
            evidence_kind="confirm",
            evidence_detail=(note or "")[:500] or None,
            confirmed_by=by[:40],
        )
    )
    row.stage, row.rank, row.since, row.since_at = "mandiri", RANK["mandiri"], today, now
    row.watch_until = add_months(today, rules.watch_months)
    row.risk_since, row.risk_reason, row.updated_at = None, None, now
    return row


# Mentor --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MentorLine:
    """One of a mentor's households with its stage and warning."""

    household_id: int
    name: str
    desa: str | None
    stage: str
    since: date
    risk_reason: str | None


async def of_mentor(
    session: AsyncSession, mentor_id: int, *, offset: int = 0, limit: int = 8
) -> tuple[list[MentorLine], int]:
    """A page of the mentor's households on the path, those at risk first, and how many in all."""
    where = and_(HH.mentor_id == mentor_id, GS.household_id == HH.id)
    total = await session.scalar(
        select(func.count()).select_from(GS).join(HH, GS.household_id == HH.id).where(where)
    )
    rows = await session.execute(
        select(HH.id, HH.name, HH.desa, GS.stage, GS.since, GS.risk_reason)
        .join(GS, GS.household_id == HH.id)
        .where(where)
        .order_by(GS.risk_since.is_(None), GS.rank.desc(), HH.name, HH.id)
        .offset(offset)
        .limit(limit)
    )
    return [MentorLine(*row) for row in rows], int(total or 0)


# Staff: funnel and at-risk list --------------------------------------------------------------


@dataclass
class FunnelRow:
    """One area's households at each stage, and how many moved forward and back in the quarter."""

    area: str
    name: str
    stages: dict[str, int]
    forward: int = 0
    back: int = 0

    @property
    def total(self) -> int:
        return sum(self.stages.values())


def area_digits(scope: Scope) -> int:
    """Kabupaten rows for a province or the country, kecamatan rows for a kabupaten, desa below."""
    return 4 if len(scope.prefix) < 4 else 6 if len(scope.prefix) < 6 else 10


async def funnel(
    session: AsyncSession,
    scope: Scope,
    quarter_start: date,
    quarter_end: date,
    *,
    digits: int | None = None,
) -> list[FunnelRow]:
    """Households per stage and area in the scope, with forward and backward moves in [start, end)."""
    width = digits or area_digits(scope)
    # Literal numbers, so PostgreSQL sees the GROUP BY expression equal to the selected one.
    area = func.substr(HH.region_code, literal_column("1"), literal_column(str(int(width))))
    counts = await session.execute(
        select(area, GS.stage, func.count())
        .select_from(GS)
        .join(HH, HH.id == GS.household_id)
        .where(region_filter(HH.region_code, scope))
        .group_by(area, GS.stage)
    )
    rows: dict[str, FunnelRow] = {}
    for code, stage, n in counts:
        rows.setdefault(code, FunnelRow(code, code, dict.fromkeys(STAGES, 0))).stages[stage] = int(
            n
        )
    moved_area = func.substr(ST.region_code, literal_column("1"), literal_column(str(int(width))))
    moves = await session.execute(
        select(moved_area, ST.direction, func.count(func.distinct(ST.household_id)))
        .where(
            region_filter(ST.region_code, scope),
            ST.on_date >= quarter_start,
            ST.on_date < quarter_end,
            ST.from_stage.is_not(None),
        )
        .group_by(moved_area, ST.direction)
    )
    for code, direction, n in moves:
        row = rows.setdefault(code, FunnelRow(code, code, dict.fromkeys(STAGES, 0)))
        setattr(row, "forward" if direction == "forward" else "back", int(n))
    await _name_areas(session, rows)
    return sorted(rows.values(), key=lambda r: r.name)


async def _name_areas(session: AsyncSession, rows: dict[str, FunnelRow]) -> None:
    """Put the region's name on each row (the code stays when the region table lacks it)."""
    from storage.models import Region

    if rows:
        names = await session.execute(
            select(Region.code, Region.name).where(Region.code.in_(list(rows)))
        )
        for code, name in names:
            rows[code].name = name


def totals(rows: list[FunnelRow]) -> FunnelRow:
    """The sum of the areas."""
    total = FunnelRow("", "", dict.fromkeys(STAGES, 0))
    for row in rows:
        for stage, n in row.stages.items():
            total.stages[stage] += n
        total.forward += row.forward
        total.back += row.back
    return total


def quarter_of(day: date) -> tuple[date, date]:
    """The calendar quarter holding `day`: its first day and the first day of the next one."""
    start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return start, add_months(start, 3)


def at_risk_query(scope: Scope) -> Any:
    """Households on the at-risk (berisiko) list of the scope, latest first."""
    return (
        select(GS, HH)
        .join(HH, HH.id == GS.household_id)
        .where(region_filter(HH.region_code, scope), GS.risk_since.is_not(None))
        .order_by(GS.risk_since.desc(), HH.id)
    )


async def at_risk(session: AsyncSession, scope: Scope, page: int = 1) -> Page:
    """One page of the scope's at-risk households, as (stage, household) rows."""
    return await paged(session, at_risk_query(scope), page, scalars=False)


async def household_in_scope(
    session: AsyncSession, scope: Scope, household_id: int
) -> Household | None:
    """The household, only when it lies in the scope."""
    return await session.scalar(
        select(HH).where(HH.id == household_id, region_filter(HH.region_code, scope))
    )


async def clear_risk(
    session: AsyncSession, scope: Scope, household_id: int, *, now: datetime
) -> bool:
    """Staff take a household off the at-risk list (support given); False outside the scope."""
    if await household_in_scope(session, scope, household_id) is None:
        return False
    result = await session.execute(
        update(GS)
        .where(GS.household_id == household_id)
        .values(risk_since=None, risk_reason=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
