"""Progress reports (laporan usaha): one per household and month, drafts, flags and mentor alerts.

Answers live in the conversation while the household types them, and in a draft row (so a
report can be resumed and a stale one saved as partial). A confirmed report replaces the
month's earlier one. Stopped or closed, urgent, or omzet falling twice in a row: flagged; the
caller then tells the household's mentor at once (`handlers.notices.report_flagged`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Household, MentorVisit, ProgressReport
from storage.requests import LOCAL_TZ

DONE = ("complete", "partial")
STALE_AFTER = timedelta(hours=48)
MAX_NOTE = 4000


def period_of(now: datetime) -> str:
    """The report month of this moment, `2026-11`, on the local clock."""
    return f"{now.astimezone(LOCAL_TZ):%Y-%m}"


async def of_period(session: AsyncSession, household_id: int, period: str) -> ProgressReport | None:
    """The household's report of this month, whatever its status."""
    return await session.scalar(
        select(ProgressReport).where(
            ProgressReport.household_id == household_id, ProgressReport.period == period
        )
    )


def answers_of(row: ProgressReport) -> dict[str, Any]:
    """A draft's answers, as the conversation keeps them (only those given)."""
    answers: dict[str, Any] = {}
    if row.business_state:
        answers["state"] = row.business_state
    if row.omzet is not None:
        answers["omzet"] = row.omzet
    if row.problem:
        answers["problem"] = row.problem
        answers["urgent"] = row.urgent
    if row.problem_note:
        answers["problem_note"] = row.problem_note
    if row.photo_path:
        answers["photo"] = row.photo_path
    return answers


def _fill(row: ProgressReport, answers: dict[str, Any]) -> None:
    """Copy the answers onto the row."""
    row.business_state = answers.get("state")
    row.omzet = answers.get("omzet")
    row.problem = answers.get("problem")
    row.problem_note = (answers.get("problem_note") or None) and str(answers["problem_note"])[
        :MAX_NOTE
    ]
    row.urgent = bool(answers.get("urgent"))
    row.photo_path = answers.get("photo") or None


async def _row_for(
    session: AsyncSession, household_id: int, period: str, now: datetime
) -> ProgressReport:
    """The month's row, made as a draft when there is none (a second chat may race us)."""
    row = await of_period(session, household_id, period)
    if row is not None:
        return row
    row = ProgressReport(
        household_id=household_id,
        period=period,
        status="draft",
        flagged=False,
        flags=[],
        urgent=False,
        started_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        found = await of_period(session, household_id, period)
        assert found is not None
        return found
    return row


async def save_draft(
    session: AsyncSession, *, household_id: int, period: str, answers: dict[str, Any], now: datetime
) -> ProgressReport | None:
    """Keep the answers so far; a confirmed report of the month stays until the new one is sent."""
    row = await _row_for(session, household_id, period, now)
    if row.status == "complete":
        return None
    _fill(row, answers)
    return row


async def submit(
    session: AsyncSession, *, household_id: int, period: str, answers: dict[str, Any], now: datetime
) -> ProgressReport:
    """The confirmed report: saved complete (replacing the month's earlier one) and flagged."""
    row = await _row_for(session, household_id, period, now)
    _fill(row, answers)
    row.status, row.submitted_at = "complete", now
    row.flags = await flags_for(session, row)
    row.flagged = bool(row.flags)
    return row


async def flags_for(session: AsyncSession, row: ProgressReport) -> list[str]:
    """Why a mentor should look: stopped or closed, no omzet, urgent, omzet down twice in a row."""
    flags = [row.business_state] if row.business_state in ("berhenti", "tutup") else []
    if row.omzet == 0 and row.business_state not in ("berhenti", "tutup"):
        flags.append("omzet_nol")  # running, yet nothing sold this month
    if row.urgent:
        flags.append("mendesak")
    if row.omzet is not None and await _fell_twice(session, row):
        flags.append("omzet_turun")
    return [f for f in flags if f]


async def _fell_twice(session: AsyncSession, row: ProgressReport) -> bool:
    """This omzet is below the last report's, which was below the one before."""
    earlier: list[int] = list(
        await session.scalars(
            select(ProgressReport.omzet)
            .where(
                ProgressReport.household_id == row.household_id,
                ProgressReport.period < row.period,
                ProgressReport.status.in_(DONE),
                ProgressReport.omzet.is_not(None),
            )
            .order_by(ProgressReport.period.desc())
            .limit(2)
        )
    )
    return len(earlier) == 2 and row.omzet is not None and row.omzet < earlier[0] < earlier[1]


async def recent(
    session: AsyncSession, household_id: int, *, limit: int = 6
) -> list[ProgressReport]:
    """The household's last sent (or partly sent) reports, newest month first."""
    rows = await session.scalars(
        select(ProgressReport)
        .where(ProgressReport.household_id == household_id, ProgressReport.status.in_(DONE))
        .order_by(ProgressReport.period.desc())
        .limit(limit)
    )
    return list(rows)


async def new_of_mentor(
    session: AsyncSession, *, mentor_id: int, since: datetime, limit: int = 10
) -> list[tuple[ProgressReport, Household]]:
    """Reports of the mentor's households sent since `since`, newest first."""
    rows = await session.execute(
        select(ProgressReport, Household)
        .join(Household, Household.id == ProgressReport.household_id)
        .where(
            Household.mentor_id == mentor_id,
            ProgressReport.status.in_(DONE),
            ProgressReport.submitted_at >= since,
        )
        .order_by(ProgressReport.submitted_at.desc(), ProgressReport.id.desc())
        .limit(limit)
    )
    return [(report, household) for report, household in rows.all()]


async def flagged_of_mentor(
    session: AsyncSession, *, mentor_id: int, since: datetime, limit: int = 9
) -> list[tuple[ProgressReport, Household]]:
    """Flagged reports of the mentor's households with no visit recorded after them."""
    visited = (
        select(MentorVisit.id)
        .where(
            MentorVisit.household_id == ProgressReport.household_id,
            MentorVisit.at >= ProgressReport.submitted_at,
        )
        .exists()
    )
    rows = await session.execute(
        select(ProgressReport, Household)
        .join(Household, Household.id == ProgressReport.household_id)
        .where(
            Household.mentor_id == mentor_id,
            ProgressReport.flagged.is_(True),
            ProgressReport.submitted_at >= since,
            ~visited,
        )
        .order_by(ProgressReport.submitted_at.desc(), ProgressReport.id.desc())
        .limit(limit)
    )
    return [(report, household) for report, household in rows.all()]
