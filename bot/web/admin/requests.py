"""Requests queue: approve, reject with a reason, refer to another office, mark done; the household hears each step."""

from __future__ import annotations

from datetime import date, datetime
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
from handlers.labels import category_of, filer
from locales.i18n import N_
from storage import audit, corrections, erasure, proposals, request_queue
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
# What the plain move form may do to a correction; its end is one of the outcomes.
CORRECTION_ACTIONS = ("process", "done")
OUTCOME_NAMES = {
    "corrected": N_("Corrected here"),
    "forwarded": N_("Forwarded to the national register update (DTSEN)"),
    "rejected": N_("Rejected, with a reason"),
}


@router.get("/admin/requests")
async def queue(request: Request, rt: Rt, staff: CurrentStaff) -> Response:
    """Open requests of my region, the vulnerable first, then oldest; or those in one state."""
    state = request.query_params.get("state", "")
    state = state if state in STATES else ""
    category = category_of(request.query_params.get("category", ""))
    async with rt.sessions() as session:
        page = await request_queue.queue(
            session, staff.scope, state, page_number(request), category=category
        )
        places = await names.places(session, [hh.region_code for _r, hh in page.rows])
    chosen = {k: v for k, v in (("state", state), ("category", category)) if v}
    base = "/admin/requests?" + (urlencode(chosen) + "&" if chosen else "")
    return render(
        request,
        "admin/requests.html",
        staff=staff,
        page=page,
        places=places,
        state=state,
        states=STATES,
        category=category,
        base=base,
    )


PROPOSAL_ACTIONS = {"visit": "dikunjungi", "register": "didaftarkan", "decline": "ditolak"}


@router.get("/admin/proposals")
async def proposal_queue(request: Request, rt: Rt, staff: CurrentStaff) -> Response:
    """Families not on the roster, proposed from a chat in my region, oldest first."""
    async with rt.sessions() as session:
        page = await proposals.queue(session, staff.scope, page_number(request))
        places = await names.places(session, [p.region_code for p in page.rows])
    return render(
        request,
        "admin/proposals.html",
        staff=staff,
        page=page,
        places=places,
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


@router.post("/admin/requests/{request_id}/outcome")
async def outcome(
    request: Request,
    rt: Rt,
    staff: CheckedStaff,
    request_id: Id,
    outcome: str = Form(""),
    note: str = Form(""),
    expected_on: str = Form(""),
) -> Response:
    """A data correction's outcome: corrected here, forwarded to DTSEN by a date, or rejected."""
    now = now_of(request)
    back = f"/admin/requests/{request_id}"
    async with staff_action(rt) as session:
        await request_queue.get(session, staff.scope, request_id)  # outside the scope: 404 first
        try:
            row, event = await corrections.record_outcome(
                session,
                staff.scope,
                request_id,
                outcome,
                note=note,
                expected_on=_day(expected_on),
                actor=staff.username,
                now=now,
            )
        except corrections.CorrectionError as exc:
            return see_other(f"{back}?error={exc}")
        await notices.correction_outcome(session, row, event, now=now)
        audit.record(
            session,
            actor=staff.username,
            action=f"request.correction_{outcome}",
            now=now,
            household_id=row.household_id,
            region_code=row.region_code,
            reference=row.reference,
        )
    rt.outbox_wake.set()
    return see_other(f"{back}?done={outcome}")


def _day(typed: str) -> date | None:
    """A form's `YYYY-MM-DD`, or None."""
    try:
        return date.fromisoformat(typed.strip())
    except ValueError:
        return None


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
        who = await names.authors(
            session, staff.scope, [e.actor for e in history] + [filer(row.filed_by)]
        )
        places = await names.places(session, [row.region_code])
    from storage import requests as service_requests  # the requests engineer's state machine

    allowed = service_requests.TRANSITIONS.get(row.state, set())
    actions = [a for a, s in ACTIONS.items() if s in allowed]
    outcomes: list[str] = []
    if row.kind == "sanggah":
        # A correction ends in one of its outcomes (a form of its own), not a bare approval.
        actions = [a for a in actions if a in CORRECTION_ACTIONS]
        outcomes = [o for o, states in corrections.FROM_STATES.items() if row.state in states]
    return render(
        request,
        "admin/request.html",
        staff=staff,
        r=row,
        household=household,
        history=history,
        names=who,
        places=places,
        actions=actions,
        outcomes=outcomes,
        outcome_names=OUTCOME_NAMES,
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
) -> Response:
    """Move the request one step; a rejection needs a reason; a referral goes through the
    referral form, which names an organisation and tracks the referral."""
    to_state = ACTIONS.get(action)
    if to_state is None:
        raise HTTPException(400, "unknown action")
    if to_state == "dirujuk":
        return see_other(f"/admin/referrals/new?request={request_id}")
    if to_state == "ditolak" and not note.strip():
        return see_other(f"/admin/requests/{request_id}?error=reason")
    from storage import requests as service_requests  # the requests engineer's state machine

    now = now_of(request)
    async with staff_action(rt) as session:
        row = await request_queue.get(session, staff.scope, request_id)
        if row.kind == "sanggah" and action not in CORRECTION_ACTIONS:
            # A correction ends in an outcome the household can act on (/outcome), not a bare yes.
            return see_other(f"/admin/requests/{request_id}?error=state")
        try:
            event = await service_requests.transition(
                session,
                row.id,
                to_state,
                actor=staff.username,
                note=note.strip()[:2000] or None,
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
        # Told first, while the chats are still the family's: the erasure spares this message.
        await notices.data_erased(session, row, now=now)
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
