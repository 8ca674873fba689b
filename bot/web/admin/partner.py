"""The partner's seat: the referrals sent to their organisation, and accepting, declining, closing.

Every route here takes the partner (their organisation's Seat), never a region Scope; every
other staff page refuses a partner (bot/web/admin/deps.py). The household, its mentor and the
timeline hear each step.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import date, datetime

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from bot.web.admin.actions import see_other, staff_action
from bot.web.admin.deps import CheckedPartner, CurrentPartner, Partner, Rt
from bot.web.admin.web import Id, now_of, render
from handlers import labels, notices
from handlers import referrals as handoffs
from storage import alumni, audit, memberships, partners, referrals
from storage import requests as service_requests
from storage.calendar import period_day
from storage.models import Household, Membership, Organisation, Referral
from storage.scope import NotFound

router = APIRouter()
HOME = "/admin/partner"


@router.get(HOME)
async def queue(request: Request, rt: Rt, partner: CurrentPartner) -> Response:
    """The organisation's referrals: those waiting for an answer first, oldest first."""
    async with rt.sessions() as session:
        rows = await partners.queue(session, partner.seat)
        organisation = await session.get(Organisation, partner.seat.organisation_id)
        cooperative = organisation is not None and organisation.kind == memberships.COOPERATIVE
        members = await memberships.applicants(session, partner.seat) if cooperative else []
    return render(
        request,
        "admin/partner.html",
        staff=partner,
        rows=rows,
        organisation=organisation,
        cooperative=cooperative,
        members=members,
        membership_states=labels.MEMBERSHIP_STATE_NAMES,
        error=request.query_params.get("error", ""),
        today=period_day(now_of(request)),
        states=labels.REFERRAL_STATE_NAMES,
        outcomes=labels.OUTCOME_NAMES,
        done=request.query_params.get("done", ""),
    )


@router.get(HOME + "/usaha")
async def businesses(request: Request, rt: Rt, partner: CurrentPartner) -> Response:
    """The graduates' businesses listed with their consent in the organisation's region."""
    async with rt.sessions() as session:
        rows = await alumni.for_seat(session, partner.seat)
    return render(
        request,
        "admin/partner_businesses.html",
        staff=partner,
        rows=rows,
        kinds=labels.BUSINESS_KINDS,
    )


@router.get(HOME + "/referrals/{referral_id}")
async def detail(request: Request, rt: Rt, partner: CurrentPartner, referral_id: Id) -> Response:
    """One referral of the organisation with the forms to accept, decline or close it."""
    async with rt.sessions() as session:
        try:
            row = await partners.handoff(session, partner.seat, referral_id)
        except NotFound:
            raise HTTPException(404) from None
    return render(
        request,
        "admin/partner_referral.html",
        staff=partner,
        r=row,
        moves=referrals.MOVES.get(row.state, set()),
        states=labels.REFERRAL_STATE_NAMES,
        outcomes=labels.OUTCOME_NAMES,
        error=request.query_params.get("error", ""),
    )


def _day(raw: str) -> date | None:
    """A date typed in the form (YYYY-MM-DD), or None."""
    try:
        return date.fromisoformat(raw.strip()) if raw.strip() else None
    except ValueError:
        return None


@router.post(HOME + "/referrals/{referral_id}/{action}")
async def answer(
    request: Request,
    rt: Rt,
    partner: CheckedPartner,
    referral_id: Id,
    action: str,
    plan: str = Form(""),
    plan_date: str = Form(""),
    reason: str = Form(""),
    outcome: str = Form(""),
    note: str = Form(""),
) -> Response:
    """Accept (a date or a plan), decline (a reason) or close (an outcome); everyone is told."""
    if action not in ("accept", "decline", "close"):
        raise HTTPException(404)
    now = now_of(request)
    async with staff_action(rt) as session:
        try:
            if action == "accept":
                row = await partners.accept(
                    session,
                    partner.seat,
                    referral_id,
                    plan=plan,
                    plan_date=_day(plan_date),
                    now=now,
                )
            elif action == "decline":
                row = await partners.decline(
                    session, partner.seat, referral_id, reason=reason, now=now
                )
            else:
                row = await partners.close(
                    session, partner.seat, referral_id, outcome=outcome, note=note, now=now
                )
        except referrals.ReferralError:
            return see_other(f"{HOME}/referrals/{referral_id}?error={action}")
        await _told(session, partner, row, action, now=now)
    rt.outbox_wake.set()
    return see_other(f"{HOME}?done={action}")


async def _told(
    session: AsyncSession, partner: Partner, row: Referral, action: str, *, now: datetime
) -> None:
    """The household and its mentor hear the step; the household's audit trail records it."""
    await handoffs.answered(session, row, actor=partner.username, action=action, now=now)


MEMBERSHIP_ACTIONS = ("verify", "refuse", "pokok", "wajib")


def _paid(row: Membership, action: str) -> dict[str, str]:
    """What a saving step recorded, kept with its audit line (the household's story shows it)."""
    if action == "pokok" and row.pokok_paid_on is not None:
        return {"paid_on": row.pokok_paid_on.isoformat()}
    if action == "wajib" and row.wajib_paid_through:
        return {"through": row.wajib_paid_through}
    return {}


@router.post(HOME + "/memberships/{membership_id}/{action}")
async def membership(
    request: Request,
    rt: Rt,
    partner: CheckedPartner,
    membership_id: Id,
    action: str,
    reason: str = Form(""),
    paid_on: str = Form(""),
    through: str = Form(""),
) -> Response:
    """The cooperative's pengurus verify or refuse an application, or record a saving; the
    household hears each step."""
    if action not in MEMBERSHIP_ACTIONS:
        raise HTTPException(404)
    now = now_of(request)
    today = period_day(now)
    async with staff_action(rt) as session:
        seat = partner.seat
        try:
            if action == "verify":
                row = await memberships.verify(session, seat, membership_id, today=today, now=now)
            elif action == "refuse":
                row = await memberships.refuse(session, seat, membership_id, reason=reason, now=now)
            elif action == "pokok":
                day = _day(paid_on) or today
                row = await memberships.pay_pokok(session, seat, membership_id, on=day, now=now)
            else:
                row = await memberships.pay_wajib(
                    session, seat, membership_id, through=through.strip(), now=now
                )
        except memberships.MembershipError:
            return see_other(f"{HOME}?error={action}")
        cooperative = await session.get(Organisation, row.organisation_id)
        household = await session.get(Household, row.household_id)
        if row.request_id is not None and action in ("verify", "refuse") and household:
            # The request the household filed is answered by the cooperative's decision; the
            # household hears it once, in the membership's words below.
            with suppress(service_requests.RequestError):
                await service_requests.transition(
                    session,
                    row.request_id,
                    "disetujui" if action == "verify" else "ditolak",
                    actor=partner.username,
                    note=row.reason,
                    now=now,
                    scope=household.region_code,
                )
        if cooperative is not None and household is not None:
            await notices.membership_news(session, row, cooperative, today=today, now=now)
            audit.record_on(
                session,
                household,
                actor=partner.username,
                action=f"membership.{action}",
                now=now,
                membership=row.id,
                organisation=row.organisation_id,
                **_paid(row, action),
            )
    rt.outbox_wake.set()
    return see_other(f"{HOME}?done=membership")
