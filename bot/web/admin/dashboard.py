"""Dashboard: the officer's region at a glance, with charts drawn on the server."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from bot.web.admin import charts
from bot.web.admin.deps import CurrentStaff, Rt
from bot.web.admin.web import locale_of, now_of, render
from locales.i18n import _, short_month, use_locale
from storage import dashboard as numbers

router = APIRouter()


@router.get("/admin/")
async def slash(staff: CurrentStaff) -> Response:
    """`/admin/` is the dashboard too."""
    return RedirectResponse("/admin", status_code=307)


@router.get("/admin")
async def dashboard(request: Request, rt: Rt, staff: CurrentStaff) -> Response:
    """Cards (households, chats, silent, escalations by SLA, requests, reports) and three charts."""
    now = now_of(request)
    months = numbers.last_months(now)
    async with rt.sessions() as session:
        stats = await numbers.counts(session, staff.scope, now)
        silent = await numbers.silent_by_kecamatan(session, staff.scope)
        reports = await numbers.reports_per_month(session, staff.scope, months)
        omzet = await numbers.median_omzet(session, staff.scope, months)
    with use_locale(locale_of(request)):
        empty = _("No data yet")
        drawn = {
            "silent": charts.share_bars(silent, _("Silent households per kecamatan"), empty),
            "reports": charts.columns(
                [(short_month(m), n) for m, n in reports], _("Reports per month"), empty
            ),
            "omzet": charts.columns(
                [(short_month(m), v) for m, v in omzet],
                _("Median omzet per month"),
                empty,
                money=True,
            ),
        }
    return render(request, "admin/dashboard.html", staff=staff, stats=stats, charts=drawn)
