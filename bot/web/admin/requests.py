"""Requests queue: approve, reject with a reason, refer to another office, mark done; the household hears each step."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from bot.web.admin import names
from bot.web.admin.actions import see_other, staff_action
from bot.web.admin.deps import CheckedStaff, CurrentStaff, Rt
from bot.web.admin.web import Id, now_of, page_number, render
from handlers import notices
from locales.i18n import N_
from storage import audit, erasure, proposals, request_queue
from storage.models import Household, ServiceRequest
from storage.scope import NotFound

router = APIRouter()
STATES = ("diajukan", "diproses", "disetujui", "ditolak", "dirujuk", "selesai", "dibatalkan")
ACTIONS = {
    "process": "diproses",
    "approve": "disetujui",
    "reject": "ditolak",
    "refer": "dirujuk",
    "done": "selesai",
}
OFFICES = (N_("Disperindagkop"), N_("Disnakertrans"), N_("PUPR"), N_("Koperasi Desa Merah Putih"))


@router.get("/admin/requests")
async def queue(request: Request, rt: Rt, staff: CurrentStaff) -> Response:
    """Open requests of my region, oldest first, or those in one state."""
    state = request.query_params.get("state", "")
    state = state if state in STATES else ""
    async with rt.sessions() as session:
        page = await request_queue.queue(session, staff.scope, state, page_number(request))
    base = "/admin/requests?" + (urlencode({"state": state}) + "&" if state else "")
    return render(
        request,
        "admin/requests.html",
        staff=staff,
        page=page,
        state=state,
        states=STATES,
        base=base,
    )


PROPOSAL_ACTIONS = {"visit": "dikunjungi", "register": "didaftarkan", "decline": "ditolak"}


@router.get("/admin/proposals")
async def proposal_queue(request: Request, rt: Rt, staff: CurrentStaff) -> Response:
    """Families not on the roster, proposed from a chat in my region, oldest first."""
    async with rt.sessions() as session:
        page = await proposals.queue(session, staff.scope, page_number(request))
    return render(
        request,
        "admin/proposals.html",
        staff=staff,
        page=page,
        base="/admin/proposals?",
        error=request.query_params.get("error", ""),
        done=request.query_params.get("done", ""),
    )


@router.post("/admin/proposals/{proposal_id}/move")
async def proposal_move(
    request: Request,
    rt: Rt,
    staff: CheckedStaff,
    proposal_id: Id,
    action: str = Form(""),
    note: str = Form(""),
) -> Response:
    """Record a visit, a registration or a refusal with its reason; the person is told."""
    now = now_of(request)
    async with staff_action(rt) as session:
        await proposals.get(session, staff.scope, proposal_id)  # outside the scope: 404 first
        to_state = PROPOSAL_ACTIONS.get(action)
        if to_state is None:
            raise HTTPException(400, "unknown action")
        if to_state == "ditolak" and not note.strip():
            return see_other("/admin/proposals?error=reason")
        try:
            row = await proposals.move(
                session,
                staff.scope,
                proposal_id,
                to_state,
                actor=staff.username,
                note=note.strip()[:1000] or None,
                now=now,
            )
        except proposals.ProposalError:
            return see_other("/admin/proposals?error=state")
        await notices.proposal_moved(session, row, now=now)
        audit.record(
            session,
            actor=staff.username,
            action=f"proposal.{action}",
            now=now,
            region_code=row.region_code,
            reference=row.reference,
        )
    rt.outbox_wake.set()
    return see_other(f"/admin/proposals?done={action}")


@router.get("/admin/requests/{request_id}")
async def detail(request: Request, rt: Rt, staff: CurrentStaff, request_id: Id) -> Response:
    """One request with its history and the actions its state allows."""
    async with rt.sessions() as session:
        try:
            row = await request_queue.get(session, staff.scope, request_id)
        except NotFound:
            raise HTTPException(404) from None
        household = await session.get(Household, row.household_id)
        history = await request_queue.history(session, row.id)
        who = await names.authors(session, [e.actor for e in history])
    from storage import requests as service_requests  # the requests engineer's state machine

    allowed = service_requests.TRANSITIONS.get(row.state, set())
    actions = [a for a, s in ACTIONS.items() if s in allowed]
    return render(
        request,
        "admin/request.html",
        staff=staff,
        r=row,
        household=household,
        history=history,
        names=who,
        actions=actions,
        offices=OFFICES,
        error=request.query_params.get("error", ""),
        done=request.query_params.get("done", ""),
    )


@router.post("/admin/requests/{request_id}/move")
async def move(
    request: Request,
    rt: Rt,
    staff: CheckedStaff,
    request_id: Id,
    action: str = Form(""),
    note: str = Form(""),
    office: str = Form(""),
) -> Response:
    """Move the request one step; a rejection needs a reason, a referral an office."""
    to_state = ACTIONS.get(action)
    if to_state is None:
        raise HTTPException(400, "unknown action")
    if to_state == "ditolak" and not note.strip():
        return see_other(f"/admin/requests/{request_id}?error=reason")
    from storage import requests as service_requests  # the requests engineer's state machine

    now = now_of(request)
    async with staff_action(rt) as session:
        row = await request_queue.get(session, staff.scope, request_id)
        try:
            event = await service_requests.transition(
                session,
                row.id,
                to_state,
                actor=staff.username,
                note=note.strip()[:2000] or None,
                referred_to=office.strip() or None,
                now=now,
                scope=staff.scope,
            )
        except service_requests.RequestError:
            return see_other(f"/admin/requests/{request_id}?error=state")
        if row.kind == "hapus" and to_state == "disetujui":
            await _carry_out(rt, session, row, actor=staff.username, now=now)
        else:
            await notices.request_moved(session, row, event, now=now)
        audit.record(
            session,
            actor=staff.username,
            action=f"request.{action}",
            now=now,
            household_id=row.household_id,
            region_code=row.region_code,
            reference=row.reference,
        )
    rt.outbox_wake.set()
    return see_other(f"/admin/requests/{request_id}?done={action}")


async def _carry_out(
    rt: Runtime, session: AsyncSession, row: ServiceRequest, *, actor: str, now: datetime
) -> None:
    """An approved HAPUS DATA request done at once: the data erased, or no longer used."""
    if row.topic == "erase":
        # Nothing is told in the chat: it is erased and unlinked (the family was told at filing).
        await erasure.erase_household(
            session,
            household_id=row.household_id,
            media_root=rt.settings.media_path,
            actor=actor,
            reference=row.reference,
            now=now,
        )
        return
    chats = await erasure.restrict_household(
        session, household_id=row.household_id, actor=actor, reference=row.reference, now=now
    )
    await notices.data_restricted(session, row, chats, now=now)
