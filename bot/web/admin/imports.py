"""Import: upload a roster (CSV/XLSX), see a dry-run preview with each bad row, then confirm.

A file of more than BACKGROUND_ROWS rows is checked (and later written) in the background: the
officer is sent to the job's page, which shows a progress bar and reloads itself until the
result is there, and which they can come back to for as long as the serve process runs.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request, UploadFile
from fastapi.responses import Response

from bot.web.admin.actions import see_other
from bot.web.admin.deps import CheckedStaff, CurrentStaff, Rt, Staff
from bot.web.admin.web import locale_of, now_of, render
from locales.i18n import _, use_locale
from storage import audit, regions
from storage.db import unit_of_work
from storage.roster import KINDS, ImportReport, count_rows, import_roster, uploads

router = APIRouter()
log = logging.getLogger(__name__)
MAX_UPLOAD = 20 * 1024 * 1024
BACKGROUND_ROWS = 5000  # more rows than this: checked and written in the background
MAX_JOBS = 200  # finished jobs kept for their result pages; the oldest go first
MAX_PLACES = 300  # region codes listed in a preview


@dataclass
class ImportJob:
    """A big upload being checked or written in the background, and its result when done."""

    id: str
    staff_id: int
    kind: str
    filename: str
    token: str  # the kept upload, to confirm after the check
    dry_run: bool
    total: int
    done: int = 0
    report: ImportReport | None = None
    failed: bool = False
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def percent(self) -> int:
        """How far it is, 0 to 100."""
        return 100 if self.report else min(99, self.done * 100 // max(1, self.total))


def _uploads(rt: Rt) -> Path:
    """The folder where previews wait for their confirmation."""
    return rt.settings.uploads_path


def _jobs(request: Request) -> dict[str, ImportJob]:
    """The serve process's import jobs, by id."""
    state = request.app.state
    if not hasattr(state, "import_jobs"):
        state.import_jobs = {}
    jobs: dict[str, ImportJob] = state.import_jobs
    return jobs


def _spawn(request: Request) -> Callable[[Coroutine[Any, Any, None]], Any]:
    """How a job starts: a task of the serve process (a test sets its own to drive it)."""
    return getattr(request.app.state, "import_spawn", None) or asyncio.create_task


@router.get("/admin/import")
async def form(request: Request, staff: CurrentStaff) -> Response:
    """Choose what to import and the file."""
    return render(request, "admin/import.html", staff=staff, kinds=KINDS, report=None)


async def _run(
    rt: Rt,
    staff: Staff,
    job: ImportJob,
    data: bytes,
    *,
    now: datetime,
) -> ImportReport:
    """Import (or only check) the file; rows outside the region are refused, each with its reason."""

    def progress(rows: int) -> None:
        job.done += rows

    async with unit_of_work(rt.sessions) as session:
        report = await import_roster(
            session,
            job.kind,
            data,
            job.filename,
            vault=rt.vault,
            now=now,
            dry_run=job.dry_run,
            actor=staff.username,
            scope=staff.scope,
            progress=progress,
        )
        audit.record(
            session,
            actor=staff.username,
            action="import.check" if report.dry_run else "import",
            now=now,
            region_code=staff.region_code,
            kind=job.kind,
            created=report.created,
            updated=report.updated,
            rejected=report.rejected,
        )
    return report


async def _in_background(rt: Rt, staff: Staff, job: ImportJob, data: bytes, now: datetime) -> None:
    """The job's work: its report when done, or `failed` (logged) when it broke."""
    try:
        job.report = await _run(rt, staff, job, data, now=now)
        if not job.dry_run:
            uploads.forget(_uploads(rt), staff.id, job.token)
    except Exception:
        job.failed = True
        log.exception("background import %s failed", job.id)


def _messages(request: Request, report: ImportReport) -> list[tuple[int, str, str]]:
    """Each problem in the reader's language, by line, with the value the file had."""
    with use_locale(locale_of(request)):
        return [
            (p.line, _(p.msgid).format(**p.params), str(p.params.get("value", "")))
            for p in sorted(report.problems, key=lambda p: p.line)
        ]


async def _result_page(request: Request, rt: Rt, staff: Staff, job: ImportJob) -> Response:
    """The import page with a preview (a token to confirm it) or the written result."""
    report = job.report
    assert report is not None
    places = sorted(report.places.items())[:MAX_PLACES]
    async with rt.sessions() as session:
        names = await regions.names(session, [code for code, _n in places])
    return render(
        request,
        "admin/import.html",
        staff=staff,
        kinds=KINDS,
        report=report,
        kind=job.kind,
        token=job.token if report.dry_run else "",
        filename=job.filename,
        problems=_messages(request, report),
        places=places,
        place_names=names,
        good=report.created + report.updated,
        confirmed=not report.dry_run,
    )


async def _start(
    request: Request, rt: Rt, staff: Staff, job: ImportJob, data: bytes, now: datetime
) -> Response:
    """Run the job here and show its result, or, for a big file, start it and go to its page."""
    if job.total <= BACKGROUND_ROWS:
        job.report = await _run(rt, staff, job, data, now=now)
        if not job.dry_run:
            uploads.forget(_uploads(rt), staff.id, job.token)
        return await _result_page(request, rt, staff, job)
    jobs = _jobs(request)
    for old in [j for j in jobs.values() if j.report or j.failed][: max(0, len(jobs) - MAX_JOBS)]:
        del jobs[old.id]
    jobs[job.id] = job
    job.task = _spawn(request)(_in_background(rt, staff, job, data, now))
    return see_other(f"/admin/import/jobs/{job.id}")


@router.post("/admin/import")
async def preview(
    request: Request, rt: Rt, staff: CheckedStaff, file: UploadFile, kind: str = Form(...)
) -> Response:
    """A dry run: what would be created, updated and refused, with the reasons; nothing is written."""
    if kind not in KINDS:
        raise HTTPException(400, "unknown kind")
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise HTTPException(413, "file too large")
    filename = (file.filename or "roster.csv")[-120:]
    token, now = secrets.token_hex(16), now_of(request)
    uploads.keep(_uploads(rt), staff.id, token, data, now=now)
    job = ImportJob(
        secrets.token_hex(8), staff.id, kind, filename, token, True, count_rows(data, filename)
    )
    return await _start(request, rt, staff, job, data, now)


@router.post("/admin/import/confirm")
async def confirm(
    request: Request,
    rt: Rt,
    staff: CheckedStaff,
    token: str = Form(""),
    kind: str = Form(""),
    filename: str = Form("roster.csv"),
) -> Response:
    """Write the valid rows of the previewed file; the bad ones stay refused."""
    now = now_of(request)
    data = uploads.take(_uploads(rt), staff.id, token, now=now) if kind in KINDS else None
    if data is None:  # unknown, someone else's, or older than an hour (and then deleted)
        raise HTTPException(404)
    filename = filename[-120:]
    job = ImportJob(
        secrets.token_hex(8), staff.id, kind, filename, token, False, count_rows(data, filename)
    )
    return await _start(request, rt, staff, job, data, now)


@router.get("/admin/import/jobs/{job_id}")
async def job_page(request: Request, rt: Rt, staff: CurrentStaff, job_id: str) -> Response:
    """A big import: its progress (the page reloads itself) and then its result, for its uploader."""
    job = _jobs(request).get(job_id[:32])
    if job is None or job.staff_id != staff.id:
        raise HTTPException(404)
    if job.report is not None:
        return await _result_page(request, rt, staff, job)
    return render(request, "admin/import_job.html", staff=staff, job=job)
