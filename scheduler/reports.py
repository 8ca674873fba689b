"""Report jobs: half-finished reports older than 48 hours are saved as partial."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import notices
from storage import reports
from storage.db import is_postgres
from storage.models import Household, ProgressReport

# Drafts closed per tick are bounded to keep memory flat; the rest are closed by the next tick.
MAX_ALERTS_PER_TICK = 500


async def close_stale_reports(session: AsyncSession, now: datetime) -> int:
    """Drafts started 48 hours ago or more become partial; a worrying one alerts the mentor.

    Worrying as for a sent report: stopped or closed, urgent, or omzet down twice in a row.
    Each tick closes at most MAX_ALERTS_PER_TICK drafts (the rest wait for the next tick,
    still drafts), and each closed one is checked exactly once, here.
    """
    stale = (
        select(ProgressReport.id)
        .where(
            ProgressReport.status == "draft", ProgressReport.started_at <= now - reports.STALE_AFTER
        )
        .order_by(ProgressReport.id)
        .limit(MAX_ALERTS_PER_TICK)
    )
    if is_postgres(session):
        stale = stale.with_for_update(skip_locked=True)  # a second clock takes other drafts
    ids = list(await session.scalars(stale))
    if not ids:
        return 0
    await session.execute(
        update(ProgressReport)
        .where(ProgressReport.id.in_(ids), ProgressReport.status == "draft")
        .values(status="partial", submitted_at=now)
        .execution_options(synchronize_session=False)
    )
    rows = await session.execute(
        select(ProgressReport, Household)
        .join(Household, Household.id == ProgressReport.household_id)
        .where(ProgressReport.id.in_(ids), ProgressReport.status == "partial")
        .order_by(ProgressReport.id)
    )
    for report, household in rows.all():
        report.flags = await reports.flags_for(session, report)
        report.flagged = bool(report.flags)
        await notices.report_flagged(session, report, household, now=now)
    return len(ids)
