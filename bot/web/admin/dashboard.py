"""Dashboard: the officer's region at a glance, with charts drawn on the server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from bot.web.admin import charts
from bot.web.admin.deps import CurrentStaff, Rt, Staff
from bot.web.admin.web import locale_of, now_of, render
from handlers.labels import CATEGORY_NAMES
from locales.i18n import _, short_month, use_locale
from storage import dashboard as numbers
from storage import escalations, referrals, regions, request_queue
from storage.models import Household, Referral
from storage.paging import Page
from storage.scope import Scope

router = APIRouter()


TODAY_LIMIT = 20  # rows of each kind on the dashboard; the rest are one "see all" away


@dataclass
class Today:
    """The dashboard's "needs action today": each kind's first rows, and how many there are."""

    breached: Page
    at_risk: Page
    new_requests: Page
    referrals: list[tuple[Referral, Household]]
    referrals_total: int


async def _today(session: AsyncSession, staff: Staff, view: Scope, now: datetime) -> Today:
    """Breached and at-risk escalations, new requests and unanswered referrals of the view."""

    async def cases(sla: str) -> Page:
        flt = escalations.QueueFilter(sla=sla)
        return await escalations.queue(
            session, view, flt, staff_id=staff.id, now=now, size=TODAY_LIMIT
        )

    # An officer's action list has the referrals they sent; a supervisor's, the whole scope's.
    mine = staff.id if staff.role == "officer" else None
    return Today(
        breached=await cases("breached"),
        at_risk=await cases("at_risk"),
        new_requests=await request_queue.new_requests(session, view, TODAY_LIMIT),
        referrals=await referrals.overdue_referrals(
            session, view, now, referred_by=mine, limit=TODAY_LIMIT
        ),
        referrals_total=await referrals.count_overdue(session, view, now, referred_by=mine),
    )


def _place_filter(staff: Staff, view: Scope) -> str:
    """The queue's filter for the region the dashboard shows ("" for the staff's whole scope)."""
    if view.prefix == staff.scope.prefix:
        return ""
    return ("&desa=" if len(view.prefix) == 10 else "&kecamatan=") + view.prefix


@router.get("/admin/")
async def slash(staff: CurrentStaff) -> Response:
    """`/admin/` is the dashboard too."""
    return RedirectResponse("/admin", status_code=307)


@router.get("/admin")
async def dashboard(request: Request, rt: Rt, staff: CurrentStaff, region: str = "") -> Response:
    """Cards, the regions one level down (each a link to its own dashboard) and three charts.

    `?region=CODE` narrows everything to a region inside the staff's scope; a code outside or
    above it shows the whole scope (there is nothing above it to reach).
    """
    now = now_of(request)
    months = numbers.last_months(now)
    view = staff.scope.zoom(region)
    async with rt.sessions() as session:
        stats = await numbers.counts(session, view, now)
        below = await numbers.by_region(session, view)
        silent = await numbers.silent_by_kecamatan(session, view)
        reports = await numbers.reports_per_month(session, view, months)
        omzet = await numbers.median_omzet(session, view, months)
        trail = [c for c in regions.parents(view.prefix) if len(c) >= len(staff.scope.prefix)]
        places = await regions.names(session, trail + [r.code for r in below])
        categories = await numbers.by_category(session, view, list(CATEGORY_NAMES))
        today = await _today(session, staff, view, now)
        per_office = await referrals.overdue_per_office(session, view, now)
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
    return render(
        request,
        "admin/dashboard.html",
        staff=staff,
        stats=stats,
        charts=drawn,
        categories=categories,
        today=today,
        place_filter=_place_filter(staff, view),
        per_office=per_office,
        region=view.prefix,
        trail=trail,
        below=below,
        places=places,
    )
