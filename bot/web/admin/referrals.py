"""Referring a household to an organisation, from a request, an escalation or the household page.

The officer picks one of the organisations that serve the household's region; the household,
its mentor and the organisation's linked chats are told, and the partner finds it at the top
of their queue (bot/web/admin/partner.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from bot.web.admin.actions import see_other, staff_action
from bot.web.admin.deps import CheckedStaff, CurrentStaff, Rt, Staff
from bot.web.admin.web import now_of, render, whole_number
from handlers import labels
from handlers import referrals as making
from storage import audit, escalations, households, organisations, referrals, request_queue
from storage.calendar import period_day
from storage.models import Escalation, Household, ServiceRequest
from storage.scope import NotFound

router = APIRouter()


def referral_labels(now: datetime) -> dict[str, Any]:
    """What the referrals table (admin/_referrals.html) needs besides the rows: names, today."""
    return {
        "states": labels.REFERRAL_STATE_NAMES,
        "offices": labels.OFFICE_NAMES,
        "outcomes": labels.OUTCOME_NAMES,
        "today": period_day(now),
    }


async def _source(
    session: AsyncSession, staff: Staff, household: str, request: str, escalation: str
) -> tuple[Household, ServiceRequest | None, Escalation | None]:
    """The household to refer, and the request or escalation it comes from (404 outside the scope)."""
    asked, escalated = None, None
    wanted: int | None
    if (request_id := whole_number(request)) is not None:
        asked = await request_queue.get(session, staff.scope, request_id)
        wanted = whole_number(household) or asked.household_id
    elif (escalation_id := whole_number(escalation)) is not None:
        escalated = await escalations.get(session, staff.scope, escalation_id)
        wanted = whole_number(household) or escalated.household_id
    else:
        wanted = whole_number(household)
    if wanted is None:
        raise HTTPException(404)
    found = await households.household(session, staff.scope, wanted)
    for origin in (asked, escalated):
        if origin is not None and origin.household_id != found.id:
            raise HTTPException(404)
    return found, asked, escalated


def _back(household: Household, asked: ServiceRequest | None, escalated: Escalation | None) -> str:
    """The page the referral was made from."""
    if asked is not None:
        return f"/admin/requests/{asked.id}"
    if escalated is not None:
        return f"/admin/escalations/{escalated.id}"
    return f"/admin/households/{household.id}"


@router.get("/admin/referrals/new")
async def new(request: Request, rt: Rt, staff: CurrentStaff) -> Response:
    """The referral form: the household, the organisations serving it, what is asked and why."""
    query = request.query_params
    async with rt.sessions() as session:
        try:
            household, asked, escalated = await _source(
                session,
                staff,
                query.get("household", ""),
                query.get("request", ""),
                query.get("escalation", ""),
            )
        except NotFound:
            raise HTTPException(404) from None
        choices = await organisations.serving_household(session, household.region_code)
    return render(
        request,
        "admin/referral_new.html",
        staff=staff,
        household=household,
        asked=asked,
        escalated=escalated,
        choices=choices,
        kinds=labels.OFFICE_NAMES,
        back=_back(household, asked, escalated),
        error=query.get("error", ""),
    )


@router.post("/admin/referrals")
async def send(
    request: Request,
    rt: Rt,
    staff: CheckedStaff,
    household: str = Form(""),
    organisation: str = Form(""),
    asked: str = Form(""),
    why: str = Form(""),
    request_id: str = Form("", alias="request"),
    escalation_id: str = Form("", alias="escalation"),
) -> Response:
    """Send the referral; the household, its mentor and the organisation's chats are told."""
    now = now_of(request)
    async with staff_action(rt) as session:
        found, from_request, from_escalation = await _source(
            session, staff, household, request_id, escalation_id
        )
        try:
            row = await making.refer(
                session,
                staff.scope,
                found,
                organisation_id=whole_number(organisation) or 0,
                asked=asked,
                why=why,
                answer_days=rt.settings.referral_days,
                now=now,
                from_request=from_request,
                escalation_id=from_escalation.id if from_escalation else None,
                staff_id=staff.id,
            )
        except referrals.ReferralError:
            back = f"/admin/referrals/new?household={found.id}"
            back += f"&request={from_request.id}" if from_request else ""
            back += f"&escalation={from_escalation.id}" if from_escalation else ""
            return see_other(back + "&error=missing")
        audit.record_on(
            session,
            found,
            actor=staff.username,
            action="referral.create",
            now=now,
            organisation=row.organisation_id,
            referral=row.id,
        )
    rt.outbox_wake.set()
    return see_other(_back(found, from_request, from_escalation) + "?done=referred")
