"""Coordination: aggregates across the kabupaten of a scope, for BP Taskin, Kemenkop, Bappeda.

A coordinator sees no name, NIK, phone or page of one household: only the counts of
`storage.coordination`, read from the summaries the hourly `coordination` job writes, with
every count from 1 to 4 shown as "<5" and a count beside a lone "<5" hidden as "*". Admins set
the year's graduation target per region here (read live: it shows at once).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from bot.web.admin import charts, spreadsheet
from bot.web.admin.actions import see_other, staff_action
from bot.web.admin.deps import CheckedStaff, Rt, SignedIn, Staff
from bot.web.admin.web import locale_of, now_of, render, whole_number
from handlers.labels import OFFICE_NAMES, STAGE_NAMES
from locales.i18n import _, long_moment, use_locale
from storage import audit, calendar
from storage import coordination as numbers
from storage.db import unit_of_work
from storage.graduation_rules import STAGES

router = APIRouter()


async def _summary(request: Request, rt: Rt, staff: Staff) -> numbers.Summary:
    """The scope's summaries as the hourly job last counted them, with this year's targets."""
    async with rt.sessions() as session:
        return await numbers.summary(session, staff.scope, now_of(request).year)


def _as_of(staff: Staff, result: numbers.Summary) -> str:
    """ "Data per …" on the officer's clock, or that nothing has been counted yet."""
    if result.computed_at is None:
        return _("Not counted yet: the summaries are counted every hour.")
    moment = calendar.local(result.computed_at, calendar.zone_of(staff.region_code))
    return _("Data as of {moment}").format(moment=long_moment(moment))


@router.get("/admin/koordinasi")
async def page(request: Request, rt: Rt, staff: SignedIn) -> Response:
    """The graduation funnel, time to independence, relapse, silence, referrals and targets per area."""
    result = await _summary(request, rt, staff)
    shown = numbers.tables(result)
    with use_locale(locale_of(request)):
        empty = _("No data yet")
        drawn = {
            "funnel": charts.columns(
                [(_(STAGE_NAMES[s])[:10], n) for s, n in shown.totals.items()],
                _("Households at each stage"),
                empty,
            ),
            "silent": charts.share_bars(shown.silent_bars[:12], _("Silent share per area"), empty),
            "targets": charts.share_bars(
                shown.target_bars[:12], _("Graduated this year against the target"), empty
            ),
        }
        office_names = {code: _(name) for code, name in OFFICE_NAMES.items()}
        as_of = _as_of(staff, result)
    return render(
        request,
        "admin/coordination.html",
        staff=staff,
        areas=result.areas,
        offices=result.offices,
        shown=shown,
        as_of=as_of,
        stages=STAGES,
        stage_names=STAGE_NAMES,
        office_names=office_names,
        charts=drawn,
        year=now_of(request).year,
        error=request.query_params.get("error", ""),
    )


@router.get("/admin/koordinasi/export")
async def export(request: Request, rt: Rt, staff: SignedIn) -> Response:
    """The same aggregates as a CSV, small cells suppressed; every export is audited."""
    result = await _summary(request, rt, staff)
    shown = numbers.tables(result)
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
            _("Data as of"),
        ]
        as_of = _as_of(staff, result)
    table = [
        [
            a.code,
            a.name,
            shown.funnel[i][0],
            shown.outcomes[i][3],
            *shown.funnel[i][1:],
            shown.outcomes[i][0],
            "" if a.target is None else a.target,
            "" if a.median_days is None else a.median_days,
            shown.outcomes[i][1],
            shown.outcomes[i][2],
            as_of,
        ]
        for i, a in enumerate(result.areas)
    ]
    async with unit_of_work(rt.sessions) as session:
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
