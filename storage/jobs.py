"""Periodic jobs across ticks and processes: a slot at most once per interval, a mark for incremental sweeps."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import is_postgres
from storage.models.jobs import JobRun


async def _row_of(session: AsyncSession, name: str, now: datetime) -> JobRun | None:
    """The job's row, locked; None when this call created it (with `now`)."""
    insert = pg_insert if is_postgres(session) else sqlite_insert
    created = await session.execute(
        insert(JobRun)
        .values(name=name, last_run_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(JobRun.name)
    )
    if created.scalar() is not None:
        return None
    # The row lock makes a second process wait here and then see the first one's run.
    row = await session.scalar(select(JobRun).where(JobRun.name == name).with_for_update())
    assert row is not None
    return row


async def claim_slot(session: AsyncSession, name: str, *, now: datetime, every: timedelta) -> bool:
    """True (and the run recorded) when `name` has not run within `every` before `now`."""
    row = await _row_of(session, name, now)
    if row is None:
        return True
    if row.last_run_at + every > now:
        return False
    row.last_run_at = now
    return True


async def advance_mark(session: AsyncSession, name: str, *, now: datetime) -> datetime | None:
    """The previous mark of `name` (None the first time); the mark moves to `now`.

    Incremental sweeps look at what changed since their previous run. The mark is written in
    the sweep's own transaction, so a sweep that fails leaves it where it was.
    """
    row = await _row_of(session, name, now)
    if row is None:
        return None
    previous = row.last_run_at
    row.last_run_at = max(previous, now)
    return previous
