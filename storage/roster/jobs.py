"""Import jobs in the database: every web process sees their progress, and their results outlast a restart.

A job goes queued → running → preview (the check's report, waiting for "Impor baris yang benar")
→ saving → done, or to failed from any active state. Its runner beats the heartbeat while it
works; an active job whose heartbeat is older than STALE lost its runner (the process was
restarted) and is marked failed by whoever reads it next.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import NikVault
from storage.models import ImportJob
from storage.roster.report import N_, ImportReport, Problem
from storage.roster.uploads import MAX_AGE

ACTIVE = ("queued", "running", "saving")
BEAT = timedelta(seconds=15)  # how often a working runner says it is alive
STALE = timedelta(minutes=2)  # no beat for this long: the runner is gone
RECENT = 10  # jobs listed on the import page
KEPT = timedelta(days=30)  # an ended job (its sealed reports) is deleted this long after
RESTARTED = N_("The import stopped because the server was restarted. Upload your file again.")
BROKE = N_("Nothing of it was saved. Try again, or ask the operator to look at the log.")


def create(
    session: AsyncSession,
    *,
    job_id: str,
    staff_id: int,
    kind: str,
    filename: str,
    data: bytes,
    total: int,
    vault: NikVault,
    now: datetime,
) -> ImportJob:
    """A new job, queued, its file sealed in the row (never on disk)."""
    job = ImportJob(
        id=job_id,
        staff_id=staff_id,
        kind=kind,
        filename=filename,
        state="queued",
        done=0,
        total=total,
        upload=vault.seal_bytes(data),
        created_at=now,
        updated_at=now,
        heartbeat_at=now,
    )
    session.add(job)
    return job


async def own(session: AsyncSession, job_id: str, staff_id: int) -> ImportJob | None:
    """The job if this staff member uploaded it (anyone else's is as if it did not exist)."""
    job = await session.get(ImportJob, job_id[:32])
    return job if job is not None and job.staff_id == staff_id else None


async def recent(session: AsyncSession, staff_id: int) -> list[ImportJob]:
    """The staff member's latest jobs, newest first."""
    rows = await session.scalars(
        select(ImportJob)
        .where(ImportJob.staff_id == staff_id)
        .order_by(ImportJob.created_at.desc(), ImportJob.id)
        .limit(RECENT)
    )
    return list(rows)


async def has_stale(session: AsyncSession, staff_id: int, now: datetime) -> bool:
    """True when one of the staff member's active jobs lost its runner (a read: no lock taken)."""
    found = await session.scalar(
        select(ImportJob.id).where(ImportJob.staff_id == staff_id, *_stale(now)).limit(1)
    )
    return found is not None


async def fail_stale(session: AsyncSession, now: datetime, staff_id: int | None = None) -> int:
    """Mark failed every active job whose runner stopped beating; how many (one UPDATE)."""
    where = [*_stale(now)] + ([ImportJob.staff_id == staff_id] if staff_id is not None else [])
    done = await session.execute(
        update(ImportJob)
        .where(*where)
        .values(state="failed", error=RESTARTED, upload=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(done, "rowcount", 0) or 0)


def _stale(now: datetime) -> tuple[Any, ...]:
    """The conditions of an active job without a runner."""
    return (ImportJob.state.in_(ACTIVE), ImportJob.heartbeat_at < now - STALE)


async def move(session: AsyncSession, job_id: str, *, from_: str, to: str, now: datetime) -> bool:
    """Change the job's state if it is still in `from_` (a second confirm finds it moved)."""
    moved = await session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.state == from_)
        .values(state=to, updated_at=now, heartbeat_at=now, done=0)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(moved, "rowcount", 0))


async def beat(session: AsyncSession, job_id: str, done: int, now: datetime) -> None:
    """The runner is alive and this many rows are done (only while the job is active)."""
    await session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.state.in_(ACTIVE))
        .values(done=done, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )


async def finish(
    session: AsyncSession, job_id: str, report: ImportReport, *, vault: NikVault, now: datetime
) -> None:
    """The check's report waits as the preview; a saving's report ends the job (its file emptied)."""
    sealed = vault.seal_json(to_json(report))
    values: dict[str, Any] = {"updated_at": now, "heartbeat_at": now}
    if report.dry_run:
        values.update(state="preview", preview=sealed)
    else:
        values.update(state="done", result=sealed, upload=None)
    await session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def fail(session: AsyncSession, job_id: str, now: datetime, error: str = BROKE) -> None:
    """The job broke: it says why, and its file goes."""
    await session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.state.in_(ACTIVE))
        .values(state="failed", error=error, upload=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def confirmable(job: ImportJob, now: datetime) -> bool:
    """A preview whose file is still kept (for an hour after the check)."""
    return job.state == "preview" and job.upload is not None and job.updated_at > now - MAX_AGE


async def expire_previews(session: AsyncSession, now: datetime) -> int:
    """The files of previews left unconfirmed for an hour emptied (one UPDATE); how many."""
    gone = await session.execute(
        update(ImportJob)
        .where(
            ImportJob.state == "preview",
            ImportJob.upload.is_not(None),
            ImportJob.updated_at <= now - MAX_AGE,
        )
        .values(upload=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(gone, "rowcount", 0) or 0)


def to_json(report: ImportReport) -> dict[str, Any]:
    """The report as plain JSON."""
    return asdict(report)


def from_json(data: dict[str, Any]) -> ImportReport:
    """A report read back from its JSON."""
    problems = [Problem(**p) for p in data.pop("problems", [])]
    return ImportReport(**data, problems=problems)


def report_of(job: ImportJob, vault: NikVault) -> ImportReport | None:
    """The job's latest report: the saving's result, else the check's preview."""
    sealed = job.result or job.preview
    return from_json(vault.open_json(sealed)) if sealed else None


async def purge_ended(session: AsyncSession, now: datetime) -> int:
    """Ended jobs older than KEPT deleted, their sealed reports with them (one DELETE); how many."""
    gone = await session.execute(
        delete(ImportJob)
        .where(ImportJob.state.not_in(ACTIVE), ImportJob.updated_at <= now - KEPT)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(gone, "rowcount", 0) or 0)
