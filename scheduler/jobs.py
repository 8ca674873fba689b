"""The one list of scheduled jobs, in the order a tick runs them, and the one list of renderers.

`serve`'s clock and `sinergi tick` both call `run_due`; each job runs in its own unit of work,
so one failure spoils only itself and the next tick tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Renderer
from scheduler import graduation, ladder, ladder_messages, referrals, reports, retention
from scheduler.ladder import PLAN, Plan
from storage import coordination, outbox
from storage.db import Sessions, unit_of_work
from storage.graduation_rules import RULES, Rules
from storage.jobs import claim_slot

log = logging.getLogger("sinergi.scheduler")


@dataclass(frozen=True)
class Schedule:
    """What the jobs run on: the ladder's plan, the graduation rules, how often slow sweeps run."""

    plan: Plan = PLAN
    rules: Rules = RULES
    # The graduation sweeps read every household in a program (seconds at a million): stages
    # move on evidence of days and months, so once an hour is plenty.
    slots: dict[str, timedelta] = field(
        default_factory=lambda: {
            "graduation": timedelta(hours=1),
            "coordination": timedelta(hours=1),
            "retention": timedelta(days=1),
        }
    )
    # Chat transcripts, photos and voice notes are kept this long after the last contact.
    retention_months: int = 24
    media_root: Path | None = None
    # Where roster previews wait for their confirmation (bot/web/admin/imports.py).
    uploads_root: Path | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> Schedule:
        """The schedule from `bot.config.Settings` (read by attribute: scheduler does not import bot)."""
        return cls(
            plan=Plan.from_settings(settings),
            rules=Rules.from_settings(settings),
            slots={
                "graduation": timedelta(minutes=settings.graduation_every_minutes),
                "coordination": timedelta(hours=1),
                "retention": timedelta(days=1),
            },
            retention_months=settings.retention_months,
            media_root=settings.media_path,
            uploads_root=settings.uploads_path,
        )


Run = Callable[[AsyncSession, datetime, Schedule], Awaitable[object]]


@dataclass(frozen=True)
class Job:
    """One scheduled job; with a `slot`, it runs only when that slot is due (at most every N)."""

    name: str
    run: Run
    slot: str | None = None


def _ladder(job: Callable[[AsyncSession, datetime, Plan], Awaitable[int]]) -> Run:
    """A ladder rung, given the ladder's plan."""
    return lambda session, now, schedule: job(session, now, schedule.plan)


def _graduation(job: Callable[[AsyncSession, datetime, Rules], Awaitable[int]]) -> Run:
    """A graduation sweep, given the graduation rules."""
    return lambda session, now, schedule: job(session, now, schedule.rules)


def _retention(session: AsyncSession, now: datetime, schedule: Schedule) -> Awaitable[int]:
    """The retention purge, given its period and the media folder."""
    return retention.purge(
        session, now, months=schedule.retention_months, media_root=schedule.media_root
    )


def _previews(session: AsyncSession, now: datetime, schedule: Schedule) -> Awaitable[int]:
    """Roster previews past their hour, given their folder."""
    return retention.expire_previews(session, now, folder=schedule.uploads_root)


def _plain(job: Callable[[AsyncSession, datetime], Awaitable[object]]) -> Run:
    """A job of (session, now) alone."""
    return lambda session, now, _schedule: job(session, now)


# Order matters: receipts that beat their send's record first (a bounced chat is unreachable
# before the ladder runs); contact resets before anything climbs; unreachable households go to
# their mentor before a check-in could be tried; escalation timers run after new escalations.
JOBS: tuple[Job, ...] = (
    Job("receipts", _plain(outbox.reconcile_receipts)),
    Job("enrolled", _ladder(ladder.enroll)),
    Job("reset", _ladder(ladder.reset)),
    Job("unreachable", _ladder(ladder.unreachable)),
    Job("checkins", _ladder(ladder.checkins)),
    Job("reminders", _ladder(ladder.reminders)),
    Job("mentor_tasks", _ladder(ladder.mentor_tasks)),
    Job("escalations", _ladder(ladder.escalations)),
    Job("sla", _ladder(ladder.sla)),
    # The weekly list first: on its day it stands for the digest (same names, one message).
    Job("weekly", _ladder(ladder.weekly)),
    Job("digests", _ladder(ladder.digests)),
    Job("stale_reports", _plain(reports.close_stale_reports)),
    Job("referrals_overdue", _ladder(referrals.remind_overdue)),
    Job("graduation", _graduation(graduation.advance_stages), slot="graduation"),
    Job("relapse", _graduation(graduation.watch_relapse), slot="graduation"),
    # The coordinators' summaries, after the stages have moved: the pages read only these.
    Job("coordination", _graduation(coordination.refresh), slot="coordination"),
    Job("retention", _retention, slot="retention"),
    Job("previews", _previews),
)

# Every renderer of deferred messages (bot.messages), installed by the runtime at start-up.
RENDERERS: dict[str, Renderer] = {
    **ladder_messages.RENDERERS,
    **referrals.RENDERERS,
    **{old: ladder_messages.RENDERERS[new] for old, new in ladder_messages.FORMER_NAMES.items()},
}


def named(*names: str) -> tuple[Job, ...]:
    """The jobs of these names, in the list's order (a test or a bench runs a part)."""
    return tuple(job for job in JOBS if job.name in names)


def every_minute() -> tuple[Job, ...]:
    """The jobs without a slot: what each minute's tick runs whatever the hour."""
    return tuple(job for job in JOBS if job.slot is None)


async def _due_slots(
    sessions: Sessions, jobs: Sequence[Job], now: datetime, schedule: Schedule
) -> set[str]:
    """The slots named by `jobs` that are due at `now`, each claimed once (across processes)."""
    wanted = {job.slot for job in jobs if job.slot is not None}
    due: set[str] = set()
    for slot in sorted(wanted):
        every = schedule.slots.get(slot, timedelta(hours=1))
        async with unit_of_work(sessions) as session:
            if await claim_slot(session, slot, now=now, every=every):
                due.add(slot)
    return due


async def run_due(
    sessions: Sessions,
    now: datetime,
    schedule: Schedule | None = None,
    jobs: Sequence[Job] = JOBS,
    *,
    slots: bool = True,
) -> dict[str, int]:
    """Run every job that is due at `now` once; how many things each did (-1: it failed).

    `slots=False` runs slotted jobs whatever their last run (a test running one sweep).
    """
    schedule = schedule or Schedule()
    due = await _due_slots(sessions, jobs, now, schedule) if slots else set()
    counts: dict[str, int] = {}
    for job in jobs:
        if slots and job.slot is not None and job.slot not in due:
            continue
        try:
            async with unit_of_work(sessions) as session:
                result = await job.run(session, now, schedule)
                counts[job.name] = result if isinstance(result, int) else 0
        except Exception:
            log.exception(
                "job %s failed at %s; the next tick tries again", job.name, now.isoformat()
            )
            counts[job.name] = -1
    return counts
