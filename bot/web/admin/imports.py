"""Import: upload a roster (CSV/XLSX), see a dry-run preview with each bad row, then confirm."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Form, HTTPException, Request, UploadFile
from fastapi.responses import Response

from bot.web.admin.deps import CheckedStaff, CurrentStaff, Rt, Staff
from bot.web.admin.web import locale_of, now_of, render
from locales.i18n import _, use_locale
from storage import audit
from storage.db import unit_of_work
from storage.roster import KINDS, ImportReport, import_roster, uploads

router = APIRouter()
MAX_UPLOAD = 20 * 1024 * 1024


def _uploads(rt: Rt) -> Path:
    """The folder where previews wait for their confirmation."""
    return rt.settings.uploads_path


@router.get("/admin/import")
async def form(request: Request, staff: CurrentStaff) -> Response:
    """Choose what to import and the file."""
    return render(request, "admin/import.html", staff=staff, kinds=KINDS, report=None)


async def _run(
    rt: Rt, staff: Staff, kind: str, data: bytes, filename: str, *, dry_run: bool, now: datetime
) -> ImportReport:
    """Import (or only check) the file; rows outside the region refuse the whole import."""
    async with unit_of_work(rt.sessions) as session:
        report = await import_roster(
            session,
            kind,
            data,
            filename,
            vault=rt.vault,
            now=now,
            dry_run=dry_run,
            actor=staff.username,
            scope=staff.scope,
        )
        audit.record(
            session,
            actor=staff.username,
            action="import.check" if report.dry_run else "import",
            now=now,
            region_code=staff.region_code,
            kind=kind,
            created=report.created,
            updated=report.updated,
            rejected=report.rejected,
        )
    return report


def _messages(request: Request, report: ImportReport) -> list[tuple[int, str]]:
    """Each problem in the reader's language, by line."""
    with use_locale(locale_of(request)):
        return [
            (p.line, _(p.msgid).format(**p.params))
            for p in sorted(report.problems, key=lambda p: p.line)
        ]


def _result_page(
    request: Request, staff: Staff, report: ImportReport, kind: str, filename: str, *, token: str
) -> Response:
    """The import page with a preview (a token to confirm it) or the written result."""
    return render(
        request,
        "admin/import.html",
        staff=staff,
        kinds=KINDS,
        report=report,
        kind=kind,
        token=token,
        filename=filename,
        problems=_messages(request, report),
        confirmed=not report.dry_run,
    )


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
    report = await _run(rt, staff, kind, data, filename, dry_run=True, now=now_of(request))
    token = secrets.token_hex(16)
    uploads.keep(_uploads(rt), staff.id, token, data, now=now_of(request))
    return _result_page(request, staff, report, kind, filename, token=token)


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
    report = await _run(rt, staff, kind, data, filename[-120:], dry_run=False, now=now)
    uploads.forget(_uploads(rt), staff.id, token)
    return _result_page(request, staff, report, kind, filename, token="")
