"""Dashboard: the officer's region at a glance, with charts drawn on the server."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from bot.web.admin import charts
from bot.web.admin.deps import CurrentStaff, Rt
from bot.web.admin.web import locale_of, now_of, render
from handlers.labels import CATEGORY_NAMES
from locales.i18n import _, use_locale
from storage import dashboard as numbers
from storage import referrals

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
        categories = await numbers.by_category(session, staff.scope, list(CATEGORY_NAMES))

        # An officer's action list has the referrals they sent; a supervisor's, the whole scope's.
        mine = staff.role == "officer"
        overdue = await referrals.overdue_referrals(
            session, staff.scope, now, referred_by=staff.id if mine else None, limit=20
        )
        per_office = await referrals.overdue_per_office(session, staff.scope, now)
    with use_locale(locale_of(request)):
        empty = _("No data yet")
        drawn = {
            "silent": charts.share_bars(silent, _("Silent households per kecamatan"), empty),
            "reports": charts.columns(
                [(m[2:], n) for m, n in reports], _("Reports per month"), empty
            ),
            "omzet": charts.columns(
                [(m[2:], v) for m, v in omzet], _("Median omzet per month"), empty, money=True
            ),
        }
    return render(
        request,
        "admin/dashboard.html",
        staff=staff,
        stats=stats,
        charts=drawn,
        categories=categories,
        overdue=overdue,
        per_office=per_office,
    )
