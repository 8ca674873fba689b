"""The region at a glance: counts for the dashboard's cards and the series of its charts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.escalations import OPEN_STATES, office_day, sla_bucket
from storage.households import SILENT_RUNGS
from storage.models import (
    ChatIdentity,
    Escalation,
    Household,
    LadderState,
    ProgressReport,
    ServiceRequest,
)
from storage.priority import in_category
from storage.regions import next_level
from storage.scope import Scope, scoped


async def counts(session: AsyncSession, scope: Scope, now: datetime) -> dict[str, Any]:
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
    bucket = sla_bucket(now)
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
    month = office_day(now).strftime("%Y-%m")
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
    day = office_day(now).replace(day=1)
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


async def by_category(
    session: AsyncSession, scope: Scope, categories: list[str]
) -> list[tuple[str, int, int, int]]:
    """(category, households, silent, open escalations) for each category the programs put first."""
    silent = LadderState.rung.in_(SILENT_RUNGS)
    columns = []
    for code in categories:
        member = in_category(code)
        columns += [
            func.sum(case((member, 1), else_=0)),
            func.sum(case((and_(member, silent), 1), else_=0)),
        ]
    row = (
        await session.execute(
            scoped(
                select(*columns)
                .select_from(Household)
                .outerjoin(LadderState, LadderState.household_id == Household.id),
                scope,
            )
        )
    ).one()
    escalated = dict.fromkeys(categories, 0)
    for code in categories:
        escalated[code] = int(
            await session.scalar(
                scoped(
                    select(func.count(Escalation.id))
                    .join(Household, Household.id == Escalation.household_id)
                    .where(Escalation.state.in_(OPEN_STATES), in_category(code)),
                    scope,
                )
            )
            or 0
        )
    return [
        (code, int(row[2 * i] or 0), int(row[2 * i + 1] or 0), escalated[code])
        for i, code in enumerate(categories)
    ]


@dataclass(frozen=True)
class RegionRow:
    """One region one level below the scope, with what the drill-down table shows of it."""

    code: str
    households: int
    silent: int
    open_escalations: int


async def by_region(session: AsyncSession, scope: Scope) -> list[RegionRow]:
    """The scope's regions one level down (kabupaten of a provinsi, …, desa of a kecamatan)."""
    width = next_level(scope.prefix)
    if width is None:
        return []
    area = func.substr(Household.region_code, 1, width)
    silent = func.sum(case((LadderState.rung.in_(SILENT_RUNGS), 1), else_=0))
    rows = await session.execute(
        scoped(
            select(area, func.count(Household.id), silent)
            .outerjoin(LadderState, LadderState.household_id == Household.id)
            .group_by(area)
            .order_by(area),
            scope,
        )
    )
    esc_area = func.substr(Escalation.region_code, 1, width)
    open_rows = await session.execute(
        scoped(
            select(esc_area, func.count())
            .where(Escalation.state.in_(OPEN_STATES))
            .group_by(esc_area),
            scope,
            Escalation.region_code,
        )
    )
    escalated: dict[str, int] = {str(code): int(n) for code, n in open_rows}
    return [
        RegionRow(str(code), int(n), int(s or 0), int(escalated.get(code, 0)))
        for code, n, s in rows
    ]
