"""Report jobs: half-finished reports older than 48 hours are saved as partial."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import reports
from storage.models import Household, ProgressReport

# Alerts per tick are bounded to keep memory flat; the rest are picked up by the next tick.
MAX_ALERTS_PER_TICK = 500


async def close_stale_reports(session: AsyncSession, now: datetime) -> int:
    """Drafts started 48 hours ago or more become partial; stopped, closed or urgent ones alert the mentor."""
    result = await session.execute(
        update(ProgressReport)
        .where(
            ProgressReport.status == "draft", ProgressReport.started_at <= now - reports.STALE_AFTER
        )
        .values(status="partial", submitted_at=now)
        .execution_options(synchronize_session=False)
    )
    await _flag_partial(session, now)
    return int(getattr(result, "rowcount", 0) or 0)


async def _flag_partial(session: AsyncSession, now: datetime) -> None:
    """Partial reports not yet flagged that say stopped, closed or urgent: flag and alert."""
    rows = (
        await session.execute(
            select(ProgressReport, Household)
            .join(Household, Household.id == ProgressReport.household_id)
            .where(
                ProgressReport.status == "partial",
                ProgressReport.flagged.is_(False),
                or_(
                    ProgressReport.business_state.in_(("berhenti", "tutup")),
                    ProgressReport.urgent.is_(True),
                ),
            )
            .order_by(ProgressReport.id)
            .limit(MAX_ALERTS_PER_TICK)
        )
    ).all()
    for report, household in rows:
        report.flags = await reports.flags_for(session, report)
        report.flagged = bool(report.flags)
        await reports.alert_mentor(session, report, household, now=now)
