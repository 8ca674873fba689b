"""Progress reports (laporan usaha): one per household and month, drafts, flags and mentor alerts.

Answers live in the conversation while the household types them, and in a draft row (so a
report can be resumed and a stale one saved as partial). A confirmed report replaces the
month's earlier one. Stopped or closed, urgent, or omzet falling twice in a row: flagged, and
the household's mentor is told at once through the outbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Reply
from locales.i18n import N_, _, rupiah
from storage.crypto import mask_name
from storage.models import Household, MentorVisit, ProgressReport
from storage.notify import tell_mentor
from storage.requests import LOCAL_TZ

BUSINESS_STATES = {
    "berjalan": N_("Running"),
    "berhenti": N_("Stopped for now"),
    "tutup": N_("Closed"),
}
PROBLEMS = {
    "tidak_ada": N_("No problem"),
    "modal": N_("Capital"),
    "pemasaran": N_("Selling / customers"),
    "bahan_baku": N_("Raw materials"),
    "kesehatan": N_("Health"),
    "cuaca": N_("Weather"),
    "lainnya": N_("Something else"),
}
FLAG_NAMES = {
    "berhenti": N_("business stopped for now"),
    "tutup": N_("business closed"),
    "omzet_turun": N_("omzet fell two reports in a row"),
    "mendesak": N_("urgent problem"),
}
NOT_ANSWERED = N_("not answered")
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
    """Why a mentor should look: stopped or closed, urgent, omzet down twice in a row."""
    flags = [row.business_state] if row.business_state in ("berhenti", "tutup") else []
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


async def alert_mentor(
    session: AsyncSession, row: ProgressReport, household: Household, *, now: datetime
) -> int:
    """Tell the household's mentor, on each of their chats, why this report needs a look."""
    if household.mentor_id is None or not row.flags:
        return 0
    stamp = f"{row.submitted_at or now:%Y%m%d%H%M%S}"
    return await tell_mentor(
        session,
        household.mentor_id,
        lambda: Reply(text=alert_text(row, household)),
        now=now,
        dedupe_key=f"report-flag:{row.id}:{stamp}",
    )


def alert_text(row: ProgressReport, household: Household) -> str:
    """What the mentor reads: whose report, why it was flagged, the answers, a phone to call."""
    reasons = ", ".join(_(FLAG_NAMES[f]) for f in row.flags if f in FLAG_NAMES)
    text = _("Report of {name} (No. KK ending {kk}) needs your attention: {reasons}.").format(
        name=mask_name(household.name), kk=household.no_kk[-4:], reasons=reasons
    )
    text += "\n" + summary(row)
    if household.phone:
        text += "\n" + _("Phone: {phone}").format(phone=household.phone)
    return text + "\n\n" + _("Type MENU and choose Record a visit after you meet them.")


def summary(row: ProgressReport) -> str:
    """One line of a report: business state, omzet and problem."""
    parts = [_(BUSINESS_STATES.get(row.business_state or "", NOT_ANSWERED))]
    if row.omzet is not None:
        parts.append(_("omzet {amount}").format(amount=rupiah(row.omzet)))
    if row.problem and row.problem != "tidak_ada":
        problem = _(PROBLEMS.get(row.problem, row.problem))
        if row.problem_note:
            problem += f" ({row.problem_note[:80]})"
        parts.append(_("problem: {problem}").format(problem=problem))
    if row.urgent:
        parts.append(_("urgent"))
    return " · ".join(parts)


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
