"""Organisations (admins only): the offices and cooperatives that receive referrals, listed, added, edited."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from bot.web.admin import names
from bot.web.admin.actions import see_other, staff_action
from bot.web.admin.deps import AdminStaff, CheckedStaff, Rt, Staff, admin_staff
from bot.web.admin.web import Id, locale_of, now_of, render, whole_number
from handlers.labels import OFFICE_NAMES
from locales.i18n import _, use_locale
from storage import audit, organisations
from storage.models import Organisation
from storage.roster.rules import ORGANISATION_KINDS

router = APIRouter()
PAGE = "/admin/organisations"


def _page(
    request: Request,
    staff: Staff,
    listed: tuple[list[Organisation], dict[str, str]],
    *,
    form: dict[str, str],
    errors: list[str],
    done: str = "",
    status_code: int = 200,
) -> Response:
    """The list of organisations with the add/edit form (filled in, with its errors)."""
    return render(
        request,
        "admin/organisations.html",
        status_code=status_code,
        staff=staff,
        rows=listed[0],
        places=listed[1],
        kinds=ORGANISATION_KINDS,
        names=OFFICE_NAMES,
        done=done,
        errors=errors,
        form=form,
    )


async def _listing(
    session: AsyncSession, staff: Staff
) -> tuple[list[Organisation], dict[str, str]]:
    """The organisations of my region, and the names of their regions."""
    rows = await organisations.listing(session, staff.scope)
    return rows, await names.places(session, [o.region_code for o in rows])


@router.get(PAGE)
async def listing(request: Request, rt: Rt, staff: AdminStaff) -> Response:
    """Every organisation of my region, with a form to add one and to edit each."""
    async with rt.sessions() as session:
        rows = await _listing(session, staff)
    return _page(
        request, staff, rows, form={}, errors=[], done=request.query_params.get("done", "")
    )


@router.post(PAGE)
async def save(
    request: Request,
    rt: Rt,
    staff: CheckedStaff,
    organisation_id: str = Form(""),
    kode: str = Form(""),
    nama: str = Form(""),
    jenis: str = Form(""),
    kode_wilayah: str = Form(""),
    no_hp: str = Form(""),
    simpanan_pokok: str = Form(""),
    simpanan_wajib: str = Form(""),
) -> Response:
    """Add an organisation, or change one (same checks as the roster import); admins only."""
    await admin_staff(staff)  # officers and supervisors cannot manage organisations (403)
    cells = {
        "kode": kode,
        "nama": nama,
        "jenis": jenis,
        "kode_wilayah": kode_wilayah,
        "no_hp": no_hp,
        "simpanan_pokok": simpanan_pokok,
        "simpanan_wajib": simpanan_wajib,
    }
    now = now_of(request)
    try:
        async with staff_action(rt) as session:
            row = await organisations.save(
                session, staff.scope, cells, now=now, organisation_id=whole_number(organisation_id)
            )
            audit.record(
                session,
                actor=staff.username,
                action="organisation.save",
                now=now,
                region_code=row.region_code,
                kode=row.code,
            )
    except organisations.OrganisationError as exc:
        async with rt.sessions() as session:
            rows = await _listing(session, staff)
        with use_locale(locale_of(request)):
            errors = [_(msgid).format(**params) for msgid, params in exc.reasons]
        form = {**cells, "organisation_id": organisation_id}
        return _page(request, staff, rows, form=form, errors=errors, status_code=400)
    return see_other(f"{PAGE}?done=saved")


@router.get(PAGE + "/{organisation_id}")
async def edit(request: Request, rt: Rt, staff: AdminStaff, organisation_id: Id) -> Response:
    """The list, with the form filled in with one organisation to change it."""
    async with staff_action(rt) as session:
        row = await organisations.get(session, staff.scope, organisation_id)
        rows = await _listing(session, staff)
    form = {
        "organisation_id": str(row.id),
        "kode": row.code,
        "nama": row.name,
        "jenis": row.kind,
        "kode_wilayah": row.region_code,
        "no_hp": row.phone or "",
        "simpanan_pokok": "" if row.simpanan_pokok is None else str(row.simpanan_pokok),
        "simpanan_wajib": "" if row.simpanan_wajib is None else str(row.simpanan_wajib),
    }
    return _page(request, staff, rows, form=form, errors=[])
