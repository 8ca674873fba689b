"""Coordination: aggregates across the kabupaten of a scope, for BP Taskin, Kemenkop, Bappeda.

A coordinator sees no name, NIK, phone or page of one household: only the counts of
`storage.coordination`, with every count below 5 shown as "<5". Admins set the year's
graduation target per region here.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from bot.web.admin import charts, spreadsheet
from bot.web.admin.actions import see_other, staff_action
from bot.web.admin.deps import CheckedStaff, Rt, SignedIn, Staff
from bot.web.admin.web import locale_of, now_of, render, whole_number
from handlers.labels import OFFICE_NAMES, STAGE_NAMES
from locales.i18n import _, use_locale
from storage import audit
from storage import coordination as numbers
from storage.db import unit_of_work
from storage.graduation_rules import STAGES

router = APIRouter()


async def _figures(
    session: AsyncSession, request: Request, rt: Rt, staff: Staff
) -> tuple[list[numbers.Area], list[numbers.OfficeFigures]]:
    """The scope's areas and offices, as of the request's moment."""
    now = now_of(request)
    areas = await numbers.areas(session, staff.scope, now)
    return areas, await numbers.offices(session, staff.scope, now)


@router.get("/admin/koordinasi")
async def page(request: Request, rt: Rt, staff: SignedIn) -> Response:
    """The graduation funnel, time to independence, relapse, silence, referrals and targets per area."""
    async with rt.sessions() as session:
        areas, offices = await _figures(session, request, rt, staff)
    with use_locale(locale_of(request)):
        empty = _("No data yet")
        totals = {s: sum(a.stages[s] for a in areas) for s in STAGES}
        drawn = {
            "funnel": charts.columns(
                [
                    (_(STAGE_NAMES[s])[:10], n if n >= numbers.SMALL_CELL else None)
                    for s, n in totals.items()
                ],
                _("Households at each stage"),
                empty,
            ),
            "silent": charts.share_bars(
                [
                    (a.name, a.households, a.silent)
                    for a in areas
                    if min(a.households, a.silent) >= numbers.SMALL_CELL
                ][:12],
                _("Silent share per area"),
                empty,
            ),
        }
        office_names = {code: _(name) for code, name in OFFICE_NAMES.items()}
    return render(
        request,
        "admin/coordination.html",
        staff=staff,
        areas=areas,
        offices=offices,
        stages=STAGES,
        stage_names=STAGE_NAMES,
        office_names=office_names,
        cell=numbers.cell,
        share=numbers.share,
        charts=drawn,
        year=now_of(request).year,
        error=request.query_params.get("error", ""),
    )


@router.get("/admin/koordinasi/export")
async def export(request: Request, rt: Rt, staff: SignedIn) -> Response:
    """The same aggregates as a CSV, small cells suppressed; every export is audited."""
    async with unit_of_work(rt.sessions) as session:
        areas, _offices = await _figures(session, request, rt, staff)
        with use_locale(locale_of(request)):
            header = [
                _("Region code"),
                _("Region"),
                _("Households"),
                _("Silent"),
                *(_(STAGE_NAMES[s]) for s in STAGES),
                _("Graduated this year"),
                _("Target this year"),
                _("Median days to independence"),
                _("Graduates"),
                _("Relapsed within 12 months"),
            ]
        table = [
            [
                a.code,
                a.name,
                numbers.cell(a.households),
                numbers.cell(a.silent),
                *(numbers.cell(a.stages[s]) for s in STAGES),
                numbers.cell(a.graduated_year),
                "" if a.target is None else a.target,
                "" if a.median_days is None else a.median_days,
                numbers.cell(a.graduates),
                numbers.cell(a.relapsed),
            ]
            for a in areas
        ]
        spreadsheet.audit_export(
            session, staff, now_of(request), rows=len(table), format="csv", what="coordination"
        )
    return spreadsheet.csv_response(header, table, f"koordinasi-{now_of(request).year}.csv")


@router.post("/admin/koordinasi/target")
async def set_target(
    request: Request,
    rt: Rt,
    staff: CheckedStaff,
    region: str = Form(""),
    year: str = Form(""),
    graduations: str = Form(""),
) -> Response:
    """An admin sets a region's graduation target for a year; the page shows it against what happened."""
    if not staff.scope.is_admin:
        raise HTTPException(403, "admins only")
    code = region.replace(".", "").strip()
    when, goal = whole_number(year, most=2100), whole_number(graduations, most=10_000_000)
    if (
        not code.isdigit()
        or len(code) not in (2, 4, 6)
        or when is None
        or when < 2020
        or goal is None
    ):
        with use_locale(locale_of(request)):
            reason = _("Give a region code of 2, 4 or 6 digits, a year and a whole number.")
        return see_other("/admin/koordinasi?" + urlencode({"error": reason}))
    async with staff_action(rt) as session:
        await numbers.set_target(
            session,
            staff.scope,
            region_code=code,
            year=when,
            graduations=goal,
            now=now_of(request),
        )
        audit.record(
            session,
            actor=staff.username,
            action="target.set",
            now=now_of(request),
            region_code=code,
            year=when,
            graduations=goal,
        )
    return see_other("/admin/koordinasi")
