"""The coordinators' numbers: aggregates per area with small cells suppressed, never a person.

BP Taskin, Kemenkop, Bappeda or a provincial team read how households move from aid to
independence across many kabupaten. The hourly `coordination` job (`refresh`) counts the
register into summary tables at desa, kecamatan and kabupaten level with set-based SQL; the
pages read only those summaries (`summary`), so a page costs the same at a million households
as at a hundred thousand, and says when its numbers were counted ("Data per …").

Every figure is a count or a median over an area. Any count from 1 to 4 is shown as "<5";
where a row or column adds up to a total that can be read elsewhere (a parent area's row, the
chart's totals), a lone "<5" is protected by hiding the next smallest count of that line too
(`hide`), so no single family can be worked out of a small desa.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    case,
    cast,
    delete,
    extract,
    func,
    insert,
    literal_column,
    null,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.calendar import period_day
from storage.db import is_postgres
from storage.graduation import area_digits
from storage.graduation_rules import RULES, STAGES, Rules
from storage.households import SILENT_RUNGS
from storage.models import (
    CoordinationArea,
    CoordinationGraduation,
    CoordinationOffice,
    CoordinationRun,
    CoordinationStage,
    GraduationStage,
    Household,
    LadderState,
    Organisation,
    ProgramEnrollment,
    Referral,
    Region,
    RegionTarget,
    StageTransition,
)
from storage.referrals import overdue
from storage.scope import NotFound, Scope, region_filter

SMALL_CELL = 5
SMALL = f"<{SMALL_CELL}"
HIDDEN = "*"  # a count hidden so that a "<5" beside it cannot be worked out from a total
GRADUATED = "mandiri"
RELAPSE_WINDOW = timedelta(days=365)
DESA, KECAMATAN, KABUPATEN = 10, 6, 4
LEVELS = (DESA, KECAMATAN, KABUPATEN)  # the finest first: the coarser ones add it up


def cell(count: int) -> str:
    """A count as a coordinator may read it: "<5" from 1 to 4 (a zero is a zero)."""
    return SMALL if _small(count) else str(count)


def share(part: int, whole: int) -> str:
    """`part / whole` as a percentage, or "–" when either count is too small to show."""
    if part < SMALL_CELL or whole < SMALL_CELL:
        return "–"
    return f"{part / whole:.0%}"


@dataclass
class Area:
    """One kabupaten (or kecamatan, or desa) in numbers."""

    code: str
    name: str
    households: int = 0
    silent: int = 0
    stages: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    graduated_year: int = 0
    graduates: int = 0
    relapsed: int = 0
    median: int | None = None  # days from the first PKH/BPNT/BLT enrollment to independence
    target: int | None = None

    @property
    def median_days(self) -> int | None:
        """Median days from the first aid enrollment to independence (None under the small-cell limit)."""
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


@dataclass(frozen=True)
class Summary:
    """What a coordinator page shows: the scope's areas and offices, and when they were counted."""

    areas: list[Area]
    offices: list[OfficeFigures]
    computed_at: datetime | None


# ---------------------------------------------------------------------------------------------
# Reading: the pages touch only the summaries (a few hundred rows whatever the register's size).


def level_of(scope: Scope) -> int:
    """The level a scope's page lists: kabupaten for the country or a province, then finer."""
    return area_digits(scope)


async def summary(session: AsyncSession, scope: Scope, year: int) -> Summary:
    """The scope's areas (with `year`'s graduations and target) and offices, from the summaries."""
    level = level_of(scope)
    computed_at = await session.scalar(select(func.max(CoordinationRun.computed_at)))
    return Summary(
        await _areas(session, scope, level, year),
        await _offices(session, scope, level),
        computed_at,
    )


async def _areas(session: AsyncSession, scope: Scope, level: int, year: int) -> list[Area]:
    """The summary rows of the scope's areas at `level`, with stages, the year and names."""
    A, S, G = CoordinationArea, CoordinationStage, CoordinationGraduation
    found: dict[str, Area] = {}
    for row in await session.scalars(
        select(A).where(A.level == level, region_filter(A.code, scope))
    ):
        found[row.code] = Area(
            row.code, row.code, row.households, row.silent, graduates=row.graduates,
            relapsed=row.relapsed, median=row.median_days,
        )  # fmt: skip
    for code, stage, n in await session.execute(
        select(S.code, S.stage, S.households).where(S.level == level, region_filter(S.code, scope))
    ):
        if code in found and stage in found[code].stages:
            found[code].stages[stage] = n
    for code, n in await session.execute(
        select(G.code, G.graduated).where(
            G.level == level, G.year == year, region_filter(G.code, scope)
        )
    ):
        if code in found:
            found[code].graduated_year = n
    for code, goal in await session.execute(
        select(RegionTarget.region_code, RegionTarget.graduations).where(
            RegionTarget.year == year, RegionTarget.region_code.in_(list(found))
        )
    ):
        found[code].target = goal
    for code, name in await session.execute(
        select(Region.code, Region.name).where(Region.code.in_(list(found)))
    ):
        found[code].name = name
    return sorted(found.values(), key=lambda a: (a.name, a.code))


async def _offices(session: AsyncSession, scope: Scope, level: int) -> list[OfficeFigures]:
    """Referrals per office over the scope's areas at `level`, from the summaries."""
    O = CoordinationOffice  # noqa: E741,N806
    rows = await session.execute(
        select(
            O.office,
            func.sum(O.sent),
            func.sum(O.accepted),
            func.sum(O.completed),
            func.sum(O.declined),
            func.sum(O.overdue),
        )
        .where(O.level == level, region_filter(O.code, scope))
        .group_by(O.office)
        .order_by(O.office)
    )
    return [OfficeFigures(str(o), *(int(n or 0) for n in rest)) for o, *rest in rows]


# ---------------------------------------------------------------------------------------------
# Small cells: primary suppression (1-4) and secondary suppression along rows and columns.


def hide(
    grid: Sequence[Sequence[int]], *, rows: bool = True, columns: bool = True
) -> list[list[bool]]:
    """Which cells of `grid` to hide: every count 1-4, then, while a row or column (a line whose
    total can be read elsewhere) holds exactly one hidden count, the next smallest count of it."""
    hidden = [[_small(n) for n in row] for row in grid]
    lines: list[list[tuple[int, int]]] = []
    if rows:
        lines += [[(i, j) for j in range(len(row))] for i, row in enumerate(grid)]
    if columns and grid:
        lines += [[(i, j) for i in range(len(grid))] for j in range(len(grid[0]))]
    changed = True
    while changed:
        changed = False
        for line in lines:
            lone = [(i, j) for i, j in line if hidden[i][j]]
            if len(lone) != 1:
                continue
            pick = _next_smallest(grid, hidden, line, lone[0])
            if pick is not None:
                hidden[pick[0]][pick[1]] = changed = True
    return hidden


def _next_smallest(
    grid: Sequence[Sequence[int]],
    hidden: list[list[bool]],
    line: list[tuple[int, int]],
    lone: tuple[int, int],
) -> tuple[int, int] | None:
    """The smallest shown count of the line to hide beside its lone hidden one (None: no need).

    A zero is hidden only when nothing else is left and the lone cell is not a "<5": a line of
    one "<5" and zeros adds up to that "<5", and its total is shown as "<5" too."""
    left = [(grid[i][j], (i, j)) for i, j in line if not hidden[i][j]]
    counted = [c for c in left if c[0] > 0]
    if counted:
        return min(counted)[1]
    if left and not _small(grid[lone[0]][lone[1]]):
        return min(left)[1]
    return None


def _small(count: int) -> bool:
    """A count from 1 to 4: shown as "<5" whatever else is hidden."""
    return 0 < count < SMALL_CELL


def shown(grid: Sequence[Sequence[int]], hidden: list[list[bool]]) -> list[list[str]]:
    """The grid as a coordinator reads it: "<5" for 1-4, "*" for a count hidden beside one."""
    return [
        [SMALL if _small(n) else HIDDEN if h else str(n) for n, h in zip(row, flags, strict=True)]
        for row, flags in zip(grid, hidden, strict=True)
    ]


def shown_share(part: int, part_hidden: bool, whole: int, whole_hidden: bool) -> str:
    """A share, only when both of its counts are shown and not small."""
    if part_hidden or whole_hidden:
        return "–"
    return share(part, whole)


@dataclass(frozen=True)
class Tables:
    """Every count of a summary as shown: each table suppressed along its lines."""

    funnel: list[list[str]]  # per area: households, then each stage
    outcomes: list[list[str]]  # per area: graduated this year, graduates, relapsed, silent
    shares: list[tuple[str, str, str]]  # per area: of the target, relapsed, silent
    offices: list[list[str]]  # per office: sent, accepted, completed, declined, overdue
    totals: dict[str, int | None]  # per stage over the areas, None when small
    silent_bars: list[tuple[str, int, int]]  # (area, households, silent) where both are shown
    target_bars: list[tuple[str, int, int]]  # (area, target, graduated up to it) where shown


def tables(result: Summary) -> Tables:
    """The summary's counts as shown, with primary and secondary suppression."""
    areas = result.areas
    # A row's households add up its stages; each column adds up to the parent area's figure.
    funnel = [[a.households, *(a.stages[s] for s in STAGES)] for a in areas]
    funnel_hidden = hide(funnel)
    outcomes = [[a.graduated_year, a.graduates, a.relapsed, a.silent] for a in areas]
    hidden = hide(outcomes, rows=False)
    offices = [[o.sent, o.accepted, o.completed, o.declined, o.overdue] for o in result.offices]
    shares = [
        (
            shown_share(a.graduated_year, hidden[i][0], a.target or 0, False),
            shown_share(a.relapsed, hidden[i][2], a.graduates, hidden[i][1]),
            shown_share(a.silent, hidden[i][3], a.households, funnel_hidden[i][0]),
        )
        for i, a in enumerate(areas)
    ]
    totals = {s: sum(a.stages[s] for a in areas) for s in STAGES}
    bars = [(a.name, a.households, a.silent) for i, a in enumerate(areas) if shares[i][2] != "–"]
    targets = [
        (a.name, a.target or 0, min(a.graduated_year, a.target or 0))
        for i, a in enumerate(areas)
        if shares[i][0] != "–"
    ]
    return Tables(
        shown(funnel, funnel_hidden),
        shown(outcomes, hidden),
        shares,
        shown(offices, hide(offices, rows=False)),
        {s: n if n >= SMALL_CELL else None for s, n in totals.items()},
        bars,
        targets,
    )


# ---------------------------------------------------------------------------------------------
# The hourly job: every summary recounted from the register in a few set-based statements.


async def refresh(session: AsyncSession, now: datetime, rules: Rules = RULES) -> int:
    """Recount every summary as of `now` (one transaction: a page sees the old run or the new); area rows written."""
    for table in (
        CoordinationArea,
        CoordinationStage,
        CoordinationGraduation,
        CoordinationOffice,
        CoordinationRun,
    ):
        await session.execute(delete(table))
    postgres = is_postgres(session)
    await _count_areas(session, postgres, rules)
    for level in LEVELS:
        await _count_stages(session, level)
        await _count_graduations(session, level, postgres)
        await _count_offices(session, level, now)
    session.add(CoordinationRun(computed_at=now))
    await session.flush()
    written = await session.scalar(select(func.count()).select_from(CoordinationArea))
    return int(written or 0)


def _area(column: Any, width: int) -> Any:
    """The first `width` digits of a region code (literals, so PostgreSQL groups by the same expression)."""
    return func.substr(column, literal_column("1"), literal_column(str(int(width))))


def _level(level: int) -> Any:
    """The level as a literal column of the INSERT … SELECT."""
    return literal_column(str(int(level)))


def _levels() -> Any:
    """The three levels as a one-column table (`width`: a level is its code's number of digits)."""
    return union_all(*(select(_level(level).label("width")) for level in LEVELS)).subquery("lv")


async def _count_areas(session: AsyncSession, postgres: bool, rules: Rules) -> None:
    """One row per area of every level, in one statement: households and silent ones (counted
    per desa from the register, then added up) beside graduates, relapses and the median.

    Each graduation's facts are worked out once for the three levels (a level only cuts the
    desa code shorter); the median, which does not add up, is then ranked per level and area.
    """
    A = CoordinationArea  # noqa: N806
    zero: Any = literal_column("0")
    none: Any = cast(null(), Integer)
    silent = func.sum(case((LadderState.rung.in_(SILENT_RUNGS), 1), else_=0))
    desa = (
        select(
            _area(Household.region_code, DESA).label("code"),
            func.count(Household.id).label("households"),
            silent.label("silent"),
        )
        .outerjoin(LadderState, LadderState.household_id == Household.id)
        .group_by(_area(Household.region_code, DESA))
        .subquery("desa")
    )
    lv = _levels()
    people = select(
        lv.c.width.label("level"),
        func.substr(desa.c.code, literal_column("1"), lv.c.width).label("code"),
        desa.c.households,
        desa.c.silent,
        zero.label("graduates"),
        zero.label("relapsed"),
        none.label("median_days"),
    ).select_from(desa.join(lv, true()))
    both = union_all(people, _graduates(postgres, rules)).subquery()
    await session.execute(
        insert(A).from_select(
            ["level", "code", "households", "silent", "graduates", "relapsed", "median_days"],
            select(
                both.c.level,
                both.c.code,
                func.sum(both.c.households),
                func.sum(both.c.silent),
                func.sum(both.c.graduates),
                func.sum(both.c.relapsed),
                func.max(both.c.median_days),
            ).group_by(both.c.level, both.c.code),
        )
    )


def _graduates(postgres: bool, rules: Rules) -> Any:
    """Per level and area: graduations ever, those set back within 12 months, the median days
    from the first PKH/BPNT/BLT enrollment (the first recorded stage when none was imported).

    Each graduation's three lookups (an index each) are made once, in a materialised CTE, and
    the three levels rank that list: not once per level as before."""
    T = StageTransition  # noqa: N806
    enrolled = (
        select(func.min(ProgramEnrollment.as_of))
        .where(
            ProgramEnrollment.household_id == T.household_id,
            ProgramEnrollment.program.in_(rules.bansos_programs),
        )
        .scalar_subquery()
    )
    earliest = aliased(StageTransition)
    first_stage = (
        select(func.min(earliest.on_date))
        .where(earliest.household_id == T.household_id)
        .scalar_subquery()
    )
    back = aliased(StageTransition)
    relapsed = (
        select(back.id)
        .where(
            back.household_id == T.household_id,
            back.from_stage == GRADUATED,
            back.direction == "back",
            back.on_date >= T.on_date,
            back.on_date <= _days_after(T.on_date, RELAPSE_WINDOW.days, postgres),
        )
        .exists()
    )
    days = _days_between(T.on_date, func.coalesce(enrolled, first_stage), postgres)
    each = (
        select(
            _area(T.region_code, DESA).label("code"),
            days.label("days"),
            case((relapsed, 1), else_=0).label("relapsed"),
        )
        .where(T.to_stage == GRADUATED, T.direction == "forward")
        .cte("each")
        .prefix_with("MATERIALIZED")  # else the lookups are made again for every level
    )
    lv = _levels()
    code = func.substr(each.c.code, literal_column("1"), lv.c.width)
    ranked = (
        select(
            lv.c.width.label("level"),
            code.label("code"),
            each.c.days,
            each.c.relapsed,
            func.row_number()
            .over(partition_by=[lv.c.width, code], order_by=each.c.days)
            .label("rank"),
            func.count().over(partition_by=[lv.c.width, code]).label("n"),
        )
        .select_from(each.join(lv, true()))
        .subquery()
    )
    # The median as statistics.median takes it: the middle one, or the two middle ones' mean
    # (whole days, rounded down alike on both databases by integer division).
    middle = ranked.c.rank.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])
    return select(
        ranked.c.level,
        ranked.c.code,
        literal_column("0").label("households"),
        literal_column("0").label("silent"),
        func.count().label("graduates"),
        func.sum(ranked.c.relapsed).label("relapsed"),
        (
            func.sum(case((middle, ranked.c.days), else_=0), type_=Integer)
            // func.sum(case((middle, 1), else_=0), type_=Integer)
        ).label("median_days"),
    ).group_by(ranked.c.level, ranked.c.code)


def _days_between(later: Any, earlier: Any, postgres: bool) -> Any:
    """SQL: whole days from `earlier` to `later` (two dates)."""
    if postgres:
        return type_coerce(later - earlier, Integer)
    return cast(func.julianday(later) - func.julianday(earlier), Integer)


def _days_after(day: Any, days: int, postgres: bool) -> Any:
    """SQL: the date `days` after `day`."""
    if postgres:
        return day + literal_column(str(int(days)))
    return func.date(day, f"+{int(days)} days")


def _year(day: Any, postgres: bool) -> Any:
    """SQL: the year of a date, as a number."""
    if postgres:
        return cast(extract("year", day), Integer)
    return cast(func.strftime("%Y", day), Integer)


def _rolled_up(table: Any, level: int, keys: list[Any], counts: list[Any]) -> Any:
    """SELECT: the desa rows of a summary `table` added up to `level`, per area and `keys`."""
    area = _area(table.code, level)
    sums = [func.sum(column) for column in counts]
    return (
        select(_level(level), area, *keys, *sums).where(table.level == DESA).group_by(area, *keys)
    )


async def _count_stages(session: AsyncSession, level: int) -> None:
    """Households per area and stage: the desa from the register, the coarser levels added up."""
    S = CoordinationStage  # noqa: N806
    if level == DESA:
        area = _area(Household.region_code, level)
        counted = (
            select(_level(level), area, GraduationStage.stage, func.count())
            .select_from(GraduationStage)
            .join(Household, Household.id == GraduationStage.household_id)
            .group_by(area, GraduationStage.stage)
        )
    else:
        counted = _rolled_up(S, level, [S.stage], [S.households])
    await session.execute(insert(S).from_select(["level", "code", "stage", "households"], counted))


async def _count_graduations(session: AsyncSession, level: int, postgres: bool) -> None:
    """Graduations per area and year (where the household lived when it graduated)."""
    G, T = CoordinationGraduation, StageTransition  # noqa: N806
    if level == DESA:
        area, year = _area(T.region_code, level), _year(T.on_date, postgres)
        counted = (
            select(_level(level), area, year, func.count())
            .where(T.to_stage == GRADUATED, T.direction == "forward")
            .group_by(area, year)
        )
    else:
        counted = _rolled_up(G, level, [G.year], [G.graduated])
    await session.execute(insert(G).from_select(["level", "code", "year", "graduated"], counted))


async def _count_offices(session: AsyncSession, level: int, now: datetime) -> None:
    """Referrals per area and office: sent, accepted, completed, declined, overdue at `now`."""
    O = CoordinationOffice  # noqa: E741,N806
    columns = ["level", "code", "office", "sent", "accepted", "completed", "declined", "overdue"]
    if level == DESA:
        state = Referral.state
        area = _area(Referral.region_code, level)
        # Referrals made before organisations were data name only the kind of office.
        office = func.coalesce(Organisation.name, Referral.office)

        def count(condition: Any) -> Any:
            return func.sum(case((condition, 1), else_=0))

        counted = (
            select(
                _level(level),
                area,
                office,
                func.count(Referral.id),
                count(state == "diterima"),
                count(state == "selesai"),
                count(state == "ditolak"),
                count(overdue(period_day(now))),
            )
            .outerjoin(Organisation, Organisation.id == Referral.organisation_id)
            .group_by(area, office)
        )
    else:
        sums = [O.sent, O.accepted, O.completed, O.declined, O.overdue]
        counted = _rolled_up(O, level, [O.office], sums)
    await session.execute(insert(O).from_select(columns, counted))


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
