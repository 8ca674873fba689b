"""Households: search, the household page (every view audited), report photos, and exports."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response

from bot.web.admin import charts, names, spreadsheet
from bot.web.admin.conversation import transcript
from bot.web.admin.deps import CurrentStaff, Rt
from bot.web.admin.referrals import referral_labels
from bot.web.admin.story import story_context
from bot.web.admin.web import Id, locale_of, now_of, page_number, render
from handlers.labels import category_of
from locales.i18n import _, short_month, use_locale
from storage import audit, chats, households, referrals, regions, subject_access
from storage.db import unit_of_work
from storage.media import MediaStore
from storage.models import Household
from storage.scope import NotFound

router = APIRouter()
# What a browser's <audio> player is served as (voice notes are Ogg/Opus), and the file suffix.
AUDIO_TYPES = {
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/aac": ".aac",
    "audio/amr": ".amr",
    "audio/webm": ".webm",
}
EXPORT_LIMIT = 100_000
COLUMNS = (
    "no_kk",
    "nama",
    "jenis_kelamin",
    "no_hp",
    "desa",
    "kecamatan",
    "kabupaten",
    "kode_wilayah",
    "desil",
    "kategori",
)


def _filter(request: Request) -> households.HouseholdFilter:
    """The list's filters from the query string."""
    params = request.query_params
    return households.HouseholdFilter(
        q=params.get("q", "")[:60],
        kecamatan=params.get("kecamatan", "")[:10],
        desa=params.get("desa", "")[:10],
        silent=params.get("silent") == "1",
        category=category_of(params.get("category", "")),
    )


@router.get("/admin/households")
async def listing(request: Request, rt: Rt, staff: CurrentStaff) -> Response:
    """Households of my region, searchable by name, No. KK or phone."""
    flt = _filter(request)
    async with rt.sessions() as session:
        page = await households.listing(session, staff.scope, flt, page_number(request))
        kecamatan = await regions.within(session, staff.scope, 3)
        desa = await regions.within(session, staff.scope, 4, flt.kecamatan)
        places = await names.places(session, [hh.region_code for hh in page.rows])
    query = {k: v for k, v in request.query_params.items() if k != "page"}
    return render(
        request,
        "admin/households.html",
        staff=staff,
        page=page,
        places=places,
        flt=flt,
        kecamatan=kecamatan,
        desa=desa,
        base="/admin/households?" + urlencode(query) + ("&" if query else ""),
        export_query=urlencode({k: v for k, v in query.items() if k != "format"}),
    )


@router.get("/admin/households/export")
async def export(request: Request, rt: Rt, staff: CurrentStaff, format: str = "csv") -> Response:
    """The filtered list as CSV or XLSX; NIK only for admins; every export is audited."""
    flt, with_nik = _filter(request), staff.scope.is_admin
    rows: list[list[object]] = []
    async with unit_of_work(rt.sessions) as session:
        found = await session.stream_scalars(
            households.household_query(staff.scope, flt, households.dialect_of(session)).limit(
                EXPORT_LIMIT
            )
        )
        async for hh in found:
            rows.append(_row(hh) + ([rt.vault.decrypt(hh.nik_encrypted)] if with_nik else []))
        spreadsheet.audit_export(
            session,
            staff,
            now_of(request),
            rows=len(rows),
            format=format,
            with_nik=with_nik,
            filters={
                "q": flt.q,
                "kecamatan": flt.kecamatan,
                "desa": flt.desa,
                "silent": flt.silent,
            },
        )
    header = list(COLUMNS) + (["nik"] if with_nik else [])
    if format == "xlsx":
        return spreadsheet.xlsx_response(header, rows, "rumah-tangga.xlsx", "rumah_tangga")
    return spreadsheet.csv_response(header, rows, "rumah-tangga.csv")


def _row(hh: Household) -> list[object]:
    """One household as an export row (no NIK)."""
    return [
        hh.no_kk,
        hh.name,
        hh.gender or "",
        hh.phone or "",
        hh.desa or "",
        hh.kecamatan or "",
        hh.kabupaten or "",
        hh.region_code,
        hh.desil or "",
        hh.categories.replace(",", ";"),
    ]


@router.get("/admin/households/{household_id}")
async def detail(request: Request, rt: Rt, staff: CurrentStaff, household_id: Id) -> Response:
    """The household page: masked NIK, programs, requests, reports, ladder, mentor, viewers, and
    its story: one dated stream of everything, filterable by kind, 50 to a page, newest first."""
    now = now_of(request)
    async with unit_of_work(rt.sessions) as session:
        try:
            view = await households.household_view(session, staff.scope, household_id)
        except NotFound:
            raise HTTPException(404) from None
        story = await story_context(rt, session, staff.scope, household_id, request)
        history = await referrals.history_of(session, staff.scope, view.household.id)
        places = await names.places(session, [view.household.region_code])
        audit.record_on(
            session,
            view.household,
            actor=staff.username,
            action="household.view",
            now=now,
        )
    months = sorted({r.period for r in view.reports})[-12:]
    with use_locale(locale_of(request)):
        omzet = [
            (short_month(r.period), r.omzet)
            for r in sorted(view.reports, key=lambda r: r.period)
            if r.period in months
        ]
        chart = charts.columns(omzet, _("Omzet per month"), _("No reports yet"), money=True)
    return render(
        request,
        "admin/household.html",
        staff=staff,
        v=view,
        chart=chart,
        history=history,
        places=places,
        **referral_labels(now),
        **story,
    )


@router.get("/admin/households/{household_id}/voice/{event_id}")
async def voice(
    request: Request, rt: Rt, staff: CurrentStaff, household_id: Id, event_id: Id
) -> Response:
    """A household's voice note, played on its page, only for staff of its region; each listen
    is an audit event (a player asking for the rest of the file is the same listen)."""
    async with unit_of_work(rt.sessions) as session:
        try:
            household, event = await households.voice_note(
                session, staff.scope, household_id, event_id
            )
        except NotFound:
            raise HTTPException(404) from None
        detail = event.detail or {}
        # Served by the event's id; the file is only one the media store kept, inside its root.
        path = MediaStore(rt.settings.media_path).path_of(str(detail.get("media") or ""))
        if path is None or not path.is_file():
            raise HTTPException(404)
        if not _continues(request):
            audit.record_on(
                session,
                household,
                actor=staff.username,
                action="voice_note.listen",
                now=now_of(request),
                voice_note=event.id,
            )
    mime = str(detail.get("mime_type") or "").split(";")[0].strip()
    return FileResponse(
        path,
        media_type=mime if mime in AUDIO_TYPES else "application/octet-stream",
        content_disposition_type="inline",
        filename=f"pesan-suara-{event.id}{AUDIO_TYPES.get(mime, '.bin')}",
    )


def _continues(request: Request) -> bool:
    """A range request past the first byte: the player fetching more of a listen under way."""
    wanted = request.headers.get("range", "")
    return wanted.startswith("bytes=") and not wanted.startswith("bytes=0-")


@router.get("/admin/households/{household_id}/export")
async def export_one(
    request: Request, rt: Rt, staff: CurrentStaff, household_id: Id, format: str = "csv"
) -> Response:
    """Everything Sinergi holds about one household (the access right), NIK masked; audited."""
    async with unit_of_work(rt.sessions) as session:
        try:
            record = await subject_access.household_record(session, staff.scope, household_id)
        except NotFound:
            raise HTTPException(404) from None
        inbound, outbound = await chats.timeline(session, record.chats, limit=200)
        rows = record.rows + [
            ("message", n, "in" if line.inbound else "out", f"{line.at.isoformat()} {line.text}")
            for n, line in enumerate(transcript(rt, inbound, outbound), 1)
        ]
        audit.record_on(
            session,
            record.household,
            actor=staff.username,
            action="export",
            now=now_of(request),
            what="household",
            rows=len(rows),
            format=format,
        )
    header = ["bagian", "nomor", "kolom", "nilai"]
    name = f"data-keluarga-{record.household.no_kk[-4:]}"
    if format == "xlsx":
        return spreadsheet.xlsx_response(header, rows, f"{name}.xlsx", "data_keluarga")
    return spreadsheet.csv_response(header, rows, f"{name}.csv")


@router.get("/admin/households/{household_id}/reports/{report_id}/photo")
async def photo(rt: Rt, staff: CurrentStaff, household_id: Id, report_id: Id) -> Response:
    """A report's photo, only for staff of the household's region."""
    async with rt.sessions() as session:
        try:
            row = await households.report(session, staff.scope, report_id)
        except NotFound:
            raise HTTPException(404) from None
    if row.household_id != household_id or not row.photo_path:
        raise HTTPException(404)
    # Only files the media store kept (a `file:` reference inside its root) are served.
    path = MediaStore(rt.settings.media_path).path_of(row.photo_path)
    if path is None or not path.is_file():
        raise HTTPException(404)
    return FileResponse(path)
