"""Import: upload a roster (CSV/XLSX), see a dry-run preview with each bad row, then confirm."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Form, HTTPException, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.web.admin.deps import CheckedStaff, CurrentStaff, Rt, Staff
from bot.web.admin.web import locale_of, now_of, render
from locales.i18n import N_, _, use_locale
from storage import audit
from storage.db import unit_of_work
from storage.models import Household
from storage.normalize import region_code
from storage.roster import KINDS, ImportReport, Problem, import_roster
from storage.roster.read import open_roster
from storage.roster.report import RosterFileError
from storage.scope import Scope, scoped

router = APIRouter()
MAX_UPLOAD = 20 * 1024 * 1024


def _upload_path(rt: Rt, staff: Staff, token: str) -> Path:
    """Where an upload waits for its confirmation; the name binds it to its uploader."""
    if not token.isalnum():
        raise HTTPException(404)
    return rt.settings.data_dir / "uploads" / f"{staff.id}-{token}.bin"


@router.get("/admin/import")
async def form(request: Request, staff: CurrentStaff) -> Response:
    """Choose what to import and the file."""
    return render(request, "admin/import.html", staff=staff, kinds=KINDS, report=None)


async def _outside(
    session: AsyncSession, scope: Scope, kind: str, data: bytes, filename: str
) -> list[Problem]:
    """Rows for a region this staff member does not cover: refused, like any other bad row."""
    try:
        _keys, rows = open_roster(data, filename)
        cells = list(rows)
    except RosterFileError:
        return []
    if kind == "programs":
        kks = {c.get("no_kk", "") for _, c in cells}
        mine = set(
            await session.scalars(
                scoped(
                    select(Household.no_kk).where(Household.no_kk.in_(kks)),
                    scope,
                )
            )
        )
        return [
            Problem(
                line,
                N_("No. KK {no_kk} is not a household of your region"),
                {"no_kk": c.get("no_kk", "")},
            )
            for line, c in cells
            if c.get("no_kk", "") not in mine
        ]
    return [
        Problem(
            line,
            N_("kode_wilayah {code} is outside your region"),
            {"code": c.get("kode_wilayah", "")},
        )
        for line, c in cells
        if not scope.covers(region_code(c.get("kode_wilayah")) or "")
    ]


async def _run(
    rt: Rt, staff: Staff, kind: str, data: bytes, filename: str, *, dry_run: bool, now: datetime
) -> ImportReport:
    """Import (or only check) the file; rows outside the region refuse the whole import."""
    async with unit_of_work(rt.sessions) as session:
        outside = await _outside(session, staff.scope, kind, data, filename)
        report = await import_roster(
            session,
            kind,
            data,
            filename,
            vault=rt.vault,
            now=now,
            dry_run=dry_run or bool(outside),
            actor=staff.username,
        )
        report.problems.extend(outside)
        if outside:
            report.dry_run = True
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
    path = _upload_path(rt, staff, token)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
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
        confirmed=False,
    )


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
    path = _upload_path(rt, staff, token)
    if kind not in KINDS or not path.is_file():
        raise HTTPException(404)
    data = path.read_bytes()
    report = await _run(rt, staff, kind, data, filename[-120:], dry_run=False, now=now_of(request))
    path.unlink(missing_ok=True)
    return render(
        request,
        "admin/import.html",
        staff=staff,
        kinds=KINDS,
        report=report,
        kind=kind,
        token="",
        filename=filename,
        problems=_messages(request, report),
        confirmed=not report.dry_run,
    )
