"""Graduation: the funnel per area and quarter, the at-risk list, referrals; a household's path, with actions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.web.admin import names, spreadsheet
from bot.web.admin.actions import see_other, staff_action
from bot.web.admin.deps import CheckedStaff, CurrentStaff, Rt, Staff
from bot.web.admin.web import Id, locale_of, now_of, page_number, render, whole_number
from handlers import notices
from handlers.labels import OFFICE_NAMES, REFERRAL_STATE_NAMES, SIGNAL_NAMES, STAGE_NAMES
from locales.i18n import _, use_locale
from storage import audit, graduation, households, referrals
from storage.db import unit_of_work
from storage.graduation_rules import STAGES, Rules
from storage.models import Household, RelapseSignal
from storage.normalize import sixteen_digits

router = APIRouter()
EXPORTS = ("funnel", "at_risk", "referrals")
EXPORT_LIMIT = 100_000


def _quarter(request: Request) -> tuple[date, date, str]:
    """The quarter asked for (`2026-Q4`), else the current one; its first day, the next's, and its name."""
    raw = request.query_params.get("quarter", "")
    day = graduation.office_day(now_of(request))
    if len(raw) == 7 and raw[:4].isdigit() and raw[4:6] == "-Q" and raw[6] in "1234":
        day = date(int(raw[:4]), (int(raw[6]) - 1) * 3 + 1, 1)
    start, end = graduation.quarter_of(day)
    return start, end, f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def _digits(request: Request, staff: Staff) -> int:
    """Rows per kabupaten (4) or per kecamatan (6), as chosen; never coarser than the scope."""
    chosen = request.query_params.get("by", "")
    digits = {"kabupaten": 4, "kecamatan": 6}.get(chosen, graduation.area_digits(staff.scope))
    return max(digits, len(staff.scope.prefix))


@router.get("/admin/graduation")
async def overview(request: Request, rt: Rt, staff: CurrentStaff) -> Response:
    """The funnel of my region this quarter, the at-risk households and the referrals still open."""
    start, end, name = _quarter(request)
    rules = Rules.from_settings(rt.settings)
    async with rt.sessions() as session:
        rows = await graduation.funnel(
            session, staff.scope, start, end, digits=_digits(request, staff)
        )
        risky = await graduation.at_risk(session, staff.scope, page_number(request))
        waiting = await referrals.open_referrals(session, staff.scope, 1)
        overdue = await referrals.overdue_referrals(session, staff.scope, now_of(request))
        places = await names.places(session, [hh.region_code for _st, hh in risky.rows])
    return render(
        request,
        "admin/graduation.html",
        staff=staff,
        places=places,
        rows=rows,
        total=graduation.totals(rows),
        stages=STAGES,
        stage_names=STAGE_NAMES,
        signal_names=SIGNAL_NAMES,
        risky=risky,
        waiting=waiting,
        overdue=overdue,
        overdue_days=rules.referral_days,
        quarter=name,
        by=request.query_params.get("by", ""),
        base=f"/admin/graduation?quarter={name}&",
        offices=OFFICE_NAMES,
        states=REFERRAL_STATE_NAMES,
    )


@router.get("/admin/graduation/find")
async def find(request: Request, rt: Rt, staff: CurrentStaff) -> Response:
    """A No. KK typed in the search box opens that household's path (inside my region only)."""
    kk = sixteen_digits(request.query_params.get("no_kk", "")) or ""
    async with rt.sessions() as session:
        found = await session.scalar(select(Household.id).where(Household.no_kk == kk))
        household = (
            await graduation.household_in_scope(session, staff.scope, found) if found else None
        )
    if household is None:
        raise HTTPException(404)
    return see_other(f"/admin/graduation/households/{household.id}")


@router.get("/admin/graduation/households/{household_id}")
async def household_path(
    request: Request, rt: Rt, staff: CurrentStaff, household_id: Id
) -> Response:
    """One household's stage, moves, signals and referrals, with the forms to act on them."""
    async with staff_action(rt) as session:
        household = await households.household(session, staff.scope, household_id)
        stage = await graduation.stage_of(session, household.id)
        moves = await graduation.history(session, household.id)
        signals = list(
            await session.scalars(
                select(RelapseSignal)
                .where(RelapseSignal.household_id == household.id)
                .order_by(RelapseSignal.at.desc())
                .limit(20)
            )
        )
        refs = await referrals.of_household(session, household.id)
        who = await names.authors(session, staff.scope, [t.confirmed_by for t in moves])
        places = await names.places(session, [household.region_code])
        audit.record_on(
            session,
            household,
            actor=staff.username,
            action="graduation.view",
            now=now_of(request),
        )
    rules = Rules.from_settings(rt.settings)
    return render(
        request,
        "admin/graduation_household.html",
        staff=staff,
        hh=household,
        stage=stage,
        moves=moves,
        names=who,
        places=places,
        signals=signals,
        refs=refs,
        stage_names=STAGE_NAMES,
        signal_names=SIGNAL_NAMES,
        offices=OFFICE_NAMES,
        states=REFERRAL_STATE_NAMES,
        moves_of=referrals.MOVES,
        can_confirm=stage is not None and stage.stage in rules.confirm_from,
        flash=_flash(request),
    )


def _flash(request: Request) -> str:
    """The line shown after an action (read in the reader's language)."""
    with use_locale(locale_of(request)):
        return {
            "mandiri": _("Confirmed as independent."),
            "cleared": _("Taken off the at-risk list."),
            "referred": _("Referral sent."),
            "moved": _("Referral updated."),
            "error": _("That did not work. Check the form and try again."),
        }.get(request.query_params.get("done", ""), "")


def _back(household_id: int, done: str) -> Response:
    """Back to the household's path with a note of what happened."""
    return see_other(f"/admin/graduation/households/{household_id}?done={done}")


def _audit(
    session: AsyncSession,
    staff: Staff,
    household: Household,
    action: str,
    now: datetime,
    **detail: Any,
) -> None:
    """The audit event of a staff action on this household's path."""
    audit.record_on(session, household, actor=staff.username, action=action, now=now, **detail)


@router.post("/admin/graduation/households/{household_id}/mandiri")
async def confirm(
    request: Request, rt: Rt, staff: CheckedStaff, household_id: Id, note: str = Form("")
) -> Response:
    """Staff confirm the household stands on its own (mandiri), with a note."""
    now = now_of(request)
    async with staff_action(rt) as session:
        household = await households.household(session, staff.scope, household_id)
        try:
            await graduation.confirm_mandiri(
                session,
                household,
                by=f"staff:{staff.id}",
                now=now,
                note=note.strip()[:500] or None,
                rules=Rules.from_settings(rt.settings),
            )
        except graduation.StageError:
            return _back(household_id, "error")
        _audit(session, staff, household, "graduation.mandiri", now)
    return _back(household_id, "mandiri")


@router.post("/admin/graduation/households/{household_id}/clear")
async def clear(request: Request, rt: Rt, staff: CheckedStaff, household_id: Id) -> Response:
    """Staff take the household off the at-risk list once support is under way."""
    now = now_of(request)
    async with staff_action(rt) as session:
        household = await households.household(session, staff.scope, household_id)
        await graduation.clear_risk(session, staff.scope, household.id, now=now)
        _audit(session, staff, household, "graduation.clear_risk", now)
    return _back(household_id, "cleared")


@router.post("/admin/graduation/households/{household_id}/referral")
async def move_referral(
    request: Request,
    rt: Rt,
    staff: CheckedStaff,
    household_id: Id,
    referral_id: str = Form(""),
    state: str = Form(""),
    note: str = Form(""),
) -> Response:
    """Staff record the office's answer to a referral of this household; the household is told."""
    now = now_of(request)
    wanted = whole_number(referral_id)
    async with staff_action(rt) as session:
        household = await households.household(session, staff.scope, household_id)
        found = await referrals.get(session, staff.scope, wanted) if wanted else None
        if found is None or found.household_id != household.id:
            raise HTTPException(404)
        try:
            moved = await referrals.move(session, staff.scope, found.id, state, now=now, note=note)
        except referrals.ReferralError:
            return _back(household_id, "error")
        await notices.referral_news(session, moved, now=now)
        _audit(session, staff, household, "referral.move", now, state=state)
    return _back(household_id, "moved")


# Exports -------------------------------------------------------------------------------------

Table = tuple[list[str], list[list[object]]]


async def _funnel_table(
    session: AsyncSession, request: Request, staff: Staff, start: date, end: date
) -> Table:
    """The funnel per area: households at each stage, moves forward and back."""
    rows = await graduation.funnel(session, staff.scope, start, end, digits=_digits(request, staff))
    header = ["kode_wilayah", "wilayah", *STAGES, "maju", "mundur"]
    return header, [
        [r.area, r.name, *(r.stages[s] for s in STAGES), r.forward, r.back] for r in rows
    ]


async def _at_risk_table(session: AsyncSession, staff: Staff) -> Table:
    """The households at risk of falling back, with since when and why (no NIK)."""
    found = await session.execute(graduation.at_risk_query(staff.scope).limit(EXPORT_LIMIT))
    header = ["no_kk", "nama", "desa", "kode_wilayah", "tahap", "berisiko_sejak", "alasan"]
    return header, [
        [
            hh.no_kk,
            hh.name,
            hh.desa or "",
            hh.region_code,
            st.stage,
            st.risk_since.isoformat(),
            st.risk_reason or "",
        ]
        for st, hh in found.all()
    ]


async def _referrals_table(session: AsyncSession, staff: Staff) -> Table:
    """The referrals still open, with the office and what was asked (no NIK)."""
    found = await session.execute(referrals.open_query(staff.scope).limit(EXPORT_LIMIT))  # type: ignore[attr-defined]
    header = [
        "no_kk",
        "nama",
        "kode_wilayah",
        "instansi",
        "permintaan",
        "status",
        "dikirim",
        "diterima",
    ]
    return header, [
        [
            hh.no_kk,
            hh.name,
            hh.region_code,
            ref.office,
            ref.asked,
            ref.state,
            ref.sent_at.isoformat(),
            ref.received_at.isoformat() if ref.received_at else "",
        ]
        for ref, hh in found.all()
    ]


@router.get("/admin/graduation/export")
async def export(request: Request, rt: Rt, staff: CurrentStaff, what: str = "funnel") -> Response:
    """The funnel, the at-risk list or the open referrals as CSV (no NIK); every export is audited."""
    if what not in EXPORTS:
        raise HTTPException(400)
    start, end, name = _quarter(request)
    async with unit_of_work(rt.sessions) as session:
        if what == "funnel":
            header, table = await _funnel_table(session, request, staff, start, end)
        elif what == "at_risk":
            header, table = await _at_risk_table(session, staff)
        else:
            header, table = await _referrals_table(session, staff)
        spreadsheet.audit_export(
            session,
            staff,
            now_of(request),
            rows=len(table),
            format="csv",
            what=f"graduation.{what}",
            quarter=name,
        )
    filename = f"graduasi-{what.replace('_', '-')}-{name}.csv"
    return spreadsheet.csv_response(header, table, filename)
