"""Import: upload a roster (CSV/XLSX), see a dry-run preview with each bad row, then confirm.

Every upload is a job in the database (storage/roster/jobs.py), its file sealed in the row. A
file of more than BACKGROUND_ROWS rows is checked (and later saved) in the background: the
officer is sent to the job's page, which shows a progress bar and reloads itself until the
result is there. Any web process shows it, and the result outlasts a restart; the import page
lists the officer's recent jobs.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.exc import OperationalError

from bot.runtime import Runtime
from bot.web.admin.actions import see_other
from bot.web.admin.deps import CheckedStaff, CurrentStaff, Rt, Staff
from bot.web.admin.web import locale_of, now_of, render
from locales.i18n import N_, _, use_locale
from storage import audit, regions
from storage.db import is_locked, is_postgres, unit_of_work
from storage.models import ImportJob
from storage.roster import KINDS, ImportReport, count_rows, import_roster
from storage.roster import jobs as import_jobs

router = APIRouter()
log = logging.getLogger(__name__)
MAX_UPLOAD = 20 * 1024 * 1024
BACKGROUND_ROWS = 5000  # more rows than this: checked and saved in the background
MAX_PLACES = 300  # region codes listed in a preview
STATES = {
    "queued": N_("Waiting"),
    "running": N_("Checking"),
    "preview": N_("Checked, not saved yet"),
    "saving": N_("Saving"),
    "done": N_("Saved"),
    "failed": N_("Stopped"),
}
Clock = Callable[[], datetime]


@dataclass
class Runner:
    """One job's work in this process: the rows done so far, told to the database as it goes."""

    rt: Runtime
    job_id: str
    clock: Clock
    live: bool  # False while SQLite's write lock is ours: nobody else could write a beat
    done: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def told(self, rows: int) -> None:
        """A batch is done: the page's bar moves."""
        self.done += rows
        await self.beat()

    async def beat(self) -> None:
        """Progress and a sign of life, in a transaction of their own (a failed one is only logged)."""
        if not self.live:
            return
        try:
            async with unit_of_work(self.rt.sessions) as session:
                await import_jobs.beat(session, self.job_id, self.done, self.clock())
        except OperationalError as exc:
            log.warning("import %s: no beat written (%s)", self.job_id, type(exc).__name__)

    async def beating(self) -> None:
        """Beat every BEAT while the work lasts (a long XLSX read or region check moves no bar)."""
        while not self.stop.is_set():
            try:
                await asyncio.wait_for(self.stop.wait(), import_jobs.BEAT.total_seconds())
            except TimeoutError:
                await self.beat()


def _spawn(request: Request) -> Callable[[Coroutine[Any, Any, None]], Any]:
    """How a job starts: a task of the serve process (a test sets its own to drive it)."""
    return getattr(request.app.state, "import_spawn", None) or asyncio.create_task


async def _sweep(rt: Runtime, staff: Staff, now: datetime) -> None:
    """Mark failed the staff member's jobs whose runner died (a read first: usually none)."""
    async with rt.sessions() as session:
        if not await import_jobs.has_stale(session, staff.id, now):
            return
    try:
        async with unit_of_work(rt.sessions) as session:
            await import_jobs.fail_stale(session, now, staff.id)
    except OperationalError as exc:  # SQLite: a long saving holds the lock; it is alive
        if not is_locked(exc):
            raise


@router.get("/admin/import")
async def form(request: Request, rt: Rt, staff: CurrentStaff) -> Response:
    """Choose what to import and the file; the officer's recent imports below."""
    return render(
        request,
        "admin/import.html",
        staff=staff,
        kinds=KINDS,
        report=None,
        **await _recent(rt, staff, now_of(request)),
    )


async def _recent(rt: Runtime, staff: Staff, now: datetime) -> dict[str, Any]:
    """The officer's own latest jobs, for the list on the import page."""
    await _sweep(rt, staff, now)
    async with rt.sessions() as session:
        return {"recent": await import_jobs.recent(session, staff.id), "states": STATES}


async def _work(
    rt: Runtime, staff: Staff, job: ImportJob, data: bytes, *, dry_run: bool, clock: Clock
) -> None:
    """The job's work: its report kept in its row when done, or `failed` (logged) when it broke."""
    live = dry_run or is_postgres(rt.engine)
    runner = Runner(rt, job.id, clock, live=live)
    beating = asyncio.create_task(runner.beating())
    try:
        if dry_run:
            await _check(rt, staff, job, data, runner)
        else:
            await _save(rt, staff, job, data, runner)
    except Exception:
        log.exception("import %s failed", job.id)
        async with unit_of_work(rt.sessions) as session:
            await import_jobs.fail(session, job.id, clock())
    finally:
        runner.stop.set()
        await beating


async def _check(rt: Runtime, staff: Staff, job: ImportJob, data: bytes, runner: Runner) -> None:
    """The dry run reads a snapshot (no write lock: the beats get through), then keeps its preview."""
    now = runner.clock()
    async with unit_of_work(rt.sessions) as session:
        await import_jobs.move(session, job.id, from_="queued", to="running", now=now)
    async with unit_of_work(rt.sessions, write=False) as session:
        report = await _import(session, rt, staff, job, data, runner, dry_run=True, now=now)
    async with unit_of_work(rt.sessions) as session:
        _audit(session, staff, job, report, now)
        await import_jobs.finish(session, job.id, report, vault=rt.vault, now=runner.clock())


async def _save(rt: Runtime, staff: Staff, job: ImportJob, data: bytes, runner: Runner) -> None:
    """The correct rows in one transaction, which also ends the job: both or neither."""
    now = runner.clock()
    async with unit_of_work(rt.sessions) as session:
        report = await _import(session, rt, staff, job, data, runner, dry_run=False, now=now)
        _audit(session, staff, job, report, now)
        await import_jobs.finish(session, job.id, report, vault=rt.vault, now=runner.clock())


async def _import(
    session: Any,
    rt: Runtime,
    staff: Staff,
    job: ImportJob,
    data: bytes,
    runner: Runner,
    *,
    dry_run: bool,
    now: datetime,
) -> ImportReport:
    """Import (or only check) the file; rows outside the region are refused, each with its reason."""
    return await import_roster(
        session,
        job.kind,
        data,
        job.filename,
        vault=rt.vault,
        now=now,
        dry_run=dry_run,
        actor=staff.username,
        scope=staff.scope,
        progress=runner.told,
    )


def _audit(session: Any, staff: Staff, job: ImportJob, report: ImportReport, now: datetime) -> None:
    """The audit line of a check or an import, with its counts."""
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


def _messages(request: Request, report: ImportReport) -> list[tuple[int, str, str]]:
    """Each problem in the reader's language, by line, with the value the file had."""
    with use_locale(locale_of(request)):
        return [
            (p.line, _(p.msgid).format(**p.params), str(p.params.get("value", "")))
            for p in sorted(report.problems, key=lambda p: p.line)
        ]


async def _result_page(request: Request, rt: Runtime, staff: Staff, job: ImportJob) -> Response:
    """The import page with a preview (its job id confirms it) or the saved result."""
    report = import_jobs.report_of(job, rt.vault)
    assert report is not None
    places = sorted(report.places.items())[:MAX_PLACES]
    now = now_of(request)
    async with rt.sessions() as session:
        names = await regions.names(session, [code for code, _n in places])
    confirmable = import_jobs.confirmable(job, now)
    return render(
        request,
        "admin/import.html",
        staff=staff,
        kinds=KINDS,
        report=report,
        kind=job.kind,
        token=job.id if confirmable else "",
        expired=report.dry_run and not confirmable,
        filename=job.filename,
        problems=_messages(request, report),
        places=places,
        place_names=names,
        good=report.created + report.updated,
        confirmed=not report.dry_run,
        **await _recent(rt, staff, now),
    )


async def _start(
    request: Request, rt: Runtime, staff: Staff, job: ImportJob, data: bytes, *, dry_run: bool
) -> Response:
    """Run the job here and show its result, or, for a big file, start it and go to its page."""
    work = _work(rt, staff, job, data, dry_run=dry_run, clock=partial(now_of, request))
    if job.total > BACKGROUND_ROWS:
        _spawn(request)(work)
        return see_other(f"/admin/import/jobs/{job.id}")
    await work
    return await _job_page(request, rt, staff, job.id)


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
    async with unit_of_work(rt.sessions) as session:
        job = import_jobs.create(
            session,
            job_id=secrets.token_hex(16),
            staff_id=staff.id,
            kind=kind,
            filename=filename,
            data=data,
            total=count_rows(data, filename),
            vault=rt.vault,
            now=now_of(request),
        )
    return await _start(request, rt, staff, job, data, dry_run=True)


@router.post("/admin/import/confirm")
async def confirm(request: Request, rt: Rt, staff: CheckedStaff, token: str = Form("")) -> Response:
    """Save the valid rows of the previewed file (`token` is its job); the bad ones stay refused."""
    now = now_of(request)
    async with unit_of_work(rt.sessions) as session:
        job = await import_jobs.own(session, token, staff.id)
        # Unknown, someone else's, already confirmed, or older than an hour: nothing to save.
        if job is None or not import_jobs.confirmable(job, now):
            raise HTTPException(404)
        await import_jobs.move(session, job.id, from_="preview", to="saving", now=now)
        assert job.upload is not None
        data = rt.vault.open_bytes(job.upload)
    return await _start(request, rt, staff, job, data, dry_run=False)


@router.get("/admin/import/jobs/{job_id}")
async def job_page(request: Request, rt: Rt, staff: CurrentStaff, job_id: str) -> Response:
    """An import: its progress (the page reloads itself), then its result, for its uploader alone."""
    return await _job_page(request, rt, staff, job_id)


async def _job_page(request: Request, rt: Runtime, staff: Staff, job_id: str) -> Response:
    """The job's result page, or its progress while it runs; 404 for anyone but its uploader."""
    await _sweep(rt, staff, now_of(request))
    async with rt.sessions() as session:
        job = await import_jobs.own(session, job_id, staff.id)
    if job is None:
        raise HTTPException(404)
    if job.state in ("preview", "done"):
        return await _result_page(request, rt, staff, job)
    percent = min(99, job.done * 100 // max(1, job.total))
    return render(request, "admin/import_job.html", staff=staff, job=job, percent=percent)
