"""The scheduled jobs in the order a tick runs them, each in its own unit of work."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler import ladder
from scheduler.ladder import PLAN, Plan
from storage import outbox
from storage.db import Sessions, unit_of_work

log = logging.getLogger("sinergi.scheduler")

Job = Callable[[AsyncSession, datetime, Plan], Awaitable[int]]


def _plain(job: Callable[[AsyncSession, datetime], Awaitable[object]]) -> Job:
    """A job of (session, now) from another module, counted as one when it returns nothing."""

    async def run(session: AsyncSession, now: datetime, _plan: Plan) -> int:
        result = await job(session, now)
        return result if isinstance(result, int) else 0

    return run


# Order matters: contact resets before anything climbs; unreachable households go to their
# mentor before a check-in could be tried; escalation timers run after new escalations.
JOBS: list[tuple[str, Job]] = [
    # Receipts that beat their send's record first: a bounced chat is unreachable before the ladder runs.
    ("receipts", _plain(outbox.reconcile_receipts)),
    ("enrolled", ladder.enroll),
    ("reset", ladder.reset),
    ("unreachable", ladder.unreachable),
    ("checkins", ladder.checkins),
    ("reminders", ladder.reminders),
    ("mentor_tasks", ladder.mentor_tasks),
    ("escalations", ladder.escalations),
    ("sla", ladder.sla),
    ("digests", ladder.digests),
    ("weekly", ladder.weekly),
]


def extra_jobs() -> list[tuple[str, Job]]:
    """Jobs of other modules that exist in this build (stale progress reports)."""
    try:
        reports = importlib.import_module("scheduler.reports")
    except ImportError:
        return []
    return [("stale_reports", _plain(reports.close_stale_reports))]


async def run_due(sessions: Sessions, now: datetime, plan: Plan = PLAN) -> dict[str, int]:
    """Run every job once at `now`; one transaction per job, so one failure spoils only itself."""
    counts: dict[str, int] = {}
    for name, job in [*JOBS, *extra_jobs()]:
        try:
            async with unit_of_work(sessions) as session:
                counts[name] = await job(session, now, plan)
        except Exception:
            log.exception("job %s failed at %s; the next tick tries again", name, now.isoformat())
            counts[name] = -1
    return counts
