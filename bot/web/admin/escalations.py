"""Escalation queue: filter, sort by SLA, assign, note, message the household, resolve, bulk assign."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from bot.web.admin import names
from bot.web.admin.actions import see_other, staff_action
from bot.web.admin.conversation import Line, transcript
from bot.web.admin.deps import CheckedStaff, CurrentStaff, Rt, Staff
from bot.web.admin.web import Id, ids_of, now_of, page_number, render, whole_number
from handlers import notices
from handlers.labels import category_of
from locales.i18n import _
from storage import audit, chats, escalations, regions, timeline
from storage import staff as staff_store
from storage.models import ChatIdentity
from storage.scope import NotFound

router = APIRouter()
SLA_CHOICES = ("on_track", "at_risk", "breached")
THREAD = 40  # messages of the conversation on the escalation page


def _filter(request: Request) -> escalations.QueueFilter:
    """The queue's filters from the query string (unknown values are ignored)."""
    params = request.query_params
    level = params.get("level", "")
    sla = params.get("sla", "")
    state = params.get("state", "open")
    assignee = params.get("assignee", "")[:12]
    return escalations.QueueFilter(
        state=state if state in ("open", "resolved") else "open",
        level=int(level) if level in ("1", "2") else None,
        sla=sla if sla in SLA_CHOICES else "",
        kecamatan=params.get("kecamatan", "")[:10],
        desa=params.get("desa", "")[:10],
        assignee=assignee if assignee in ("me", "none") or whole_number(assignee) else "",
        category=category_of(params.get("category", "")),
    )


@router.get("/admin/escalations")
async def queue(request: Request, rt: Rt, staff: CurrentStaff) -> Response:
    """The queue of households that need a person, most urgent first, 50 to a page."""
    flt, now = _filter(request), now_of(request)
    async with rt.sessions() as session:
        page = await escalations.queue(
            session, staff.scope, flt, staff_id=staff.id, now=now, page=page_number(request)
        )
        kecamatan = await regions.within(session, staff.scope, 3)
        desa = await regions.within(session, staff.scope, 4, flt.kecamatan)
        people = await staff_store.colleagues(session, staff.scope)
        places = await names.places(session, [row.household.region_code for row in page.rows])
    query = {k: v for k, v in request.query_params.items() if k != "page"}
    return render(
        request,
        "admin/escalations.html",
        staff=staff,
        page=page,
        places=places,
        flt=flt,
        now=now,
        sla_of=lambda e: escalations.sla_status(e.sla_due, now),
        kecamatan=kecamatan,
        desa=desa,
        people=people,
        base="/admin/escalations?" + urlencode(query) + ("&" if query else ""),
        back=str(request.url.path) + ("?" + request.url.query if request.url.query else ""),
    )


@router.get("/admin/escalations/{escalation_id}")
async def detail(request: Request, rt: Rt, staff: CurrentStaff, escalation_id: Id) -> Response:
    """One escalation and what an officer needs to act on it: the household's programs, last
    report, ladder history, mentor, urgent categories, the conversation, notes and actions."""
    async with rt.sessions() as session:
        try:
            esc = await escalations.get(session, staff.scope, escalation_id)
            case = await timeline.case_file(session, staff.scope, esc)
        except NotFound:
            raise HTTPException(404) from None
        notes = (await escalations.notes(session, [esc.id])).get(esc.id, [])
        people = await staff_store.colleagues(session, staff.scope)
        who = await names.authors(session, staff.scope, [n.author for n in notes])
        lines = await _thread(rt, session, case.chats)
        places = await names.places(session, [case.household.region_code])
    now = now_of(request)
    return render(
        request,
        "admin/escalation.html",
        staff=staff,
        esc=esc,
        household=case.household,
        case=case,
        lines=lines,
        notes=notes,
        names=who,
        places=places,
        people=people,
        sla=escalations.sla_status(esc.sla_due, now),
        flash=_flash(request),
    )


async def _thread(rt: Runtime, session: AsyncSession, identities: list[ChatIdentity]) -> list[Line]:
    """The household's latest messages both ways, oldest first."""
    inbound, outbound = await chats.timeline(session, identities, limit=THREAD)
    return transcript(rt, inbound, outbound)[-THREAD:]


@router.get("/admin/escalations/{escalation_id}/thread")
async def thread(request: Request, rt: Rt, staff: CurrentStaff, escalation_id: Id) -> Response:
    """The conversation alone, as an HTML fragment the page reloads every few seconds, so the
    household's replies appear as they arrive."""
    async with rt.sessions() as session:
        try:
            esc = await escalations.get(session, staff.scope, escalation_id)
            case = await timeline.case_file(session, staff.scope, esc)
        except NotFound:
            raise HTTPException(404) from None
        lines = await _thread(rt, session, case.chats)
    return render(request, "admin/_thread.html", staff=staff, lines=lines)


def _flash(request: Request) -> str:
    """A short confirmation after an action (from the redirect's query)."""
    done = request.query_params.get("done", "")
    messages = {
        "assigned": _("Assigned."),
        "noted": _("Note saved."),
        "resolved": _("Resolved."),
        "sent": _("Message queued for the household."),
        "nochat": _("This household has no chat to reach."),
        "referred": _("Referral sent."),
    }
    return messages.get(done, "")


def _back(escalation_id: int, done: str) -> Response:
    """Back to the escalation, saying what happened."""
    return see_other(f"/admin/escalations/{escalation_id}?done={done}")


def _assignee(staff: Staff, chosen: str) -> int:
    """The colleague chosen in the form: me, or a staff id (-1 for nonsense, which is nobody)."""
    return staff.id if chosen == "me" else whole_number(chosen) or -1


async def _assign(
    session: AsyncSession, staff: Staff, ids: list[int], chosen: str, now: datetime
) -> None:
    """Give the escalations to the chosen colleague, with a note of it on each."""
    done = await escalations.assign(
        session, staff.scope, ids, _assignee(staff, chosen), actor=staff.username, now=now
    )
    text = _("Assigned to {username}.").format(username=done.assignee.username)
    escalations.note_on(session, done.escalations, text, actor=staff.username, now=now)


@router.post("/admin/escalations/{escalation_id}/assign")
async def assign(
    request: Request, rt: Rt, staff: CheckedStaff, escalation_id: Id, assignee: str = Form("me")
) -> Response:
    """Take it myself or give it to a colleague of my region."""
    async with staff_action(rt) as session:
        await _assign(session, staff, [escalation_id], assignee, now_of(request))
    return _back(escalation_id, "assigned")


@router.post("/admin/escalations/{escalation_id}/note")
async def note(
    request: Request, rt: Rt, staff: CheckedStaff, escalation_id: Id, text: str = Form("")
) -> Response:
    """A note for colleagues (not sent to the household)."""
    if not text.strip():
        return _back(escalation_id, "")
    async with staff_action(rt) as session:
        await escalations.add_note(
            session,
            staff.scope,
            escalation_id,
            text.strip(),
            actor=staff.username,
            now=now_of(request),
        )
    return _back(escalation_id, "noted")


@router.post("/admin/escalations/{escalation_id}/resolve")
async def resolve(
    request: Request, rt: Rt, staff: CheckedStaff, escalation_id: Id, outcome: str = Form("")
) -> Response:
    """Close the case with what was done; the household starts a fresh month on the ladder."""
    if not outcome.strip():
        raise HTTPException(400, "outcome required")
    async with staff_action(rt) as session:
        await escalations.resolve(
            session,
            staff.scope,
            escalation_id,
            outcome.strip(),
            actor=staff.username,
            now=now_of(request),
        )
    return _back(escalation_id, "resolved")


@router.post("/admin/escalations/{escalation_id}/message")
async def message(
    request: Request, rt: Rt, staff: CheckedStaff, escalation_id: Id, text: str = Form("")
) -> Response:
    """Send the household a message through the bot, on its own channel and language."""
    body = text.strip()[:1000]
    if not body:
        return _back(escalation_id, "")
    now = now_of(request)
    async with staff_action(rt) as session:
        esc = await escalations.add_note(
            session,
            staff.scope,
            escalation_id,
            _("Message sent: {text}").format(text=body),
            actor=staff.username,
            now=now,
        )
        reached = await notices.from_dinsos(session, esc.household_id, body, now=now)
        audit.record(
            session,
            actor=staff.username,
            action="household.message",
            now=now,
            household_id=esc.household_id,
            region_code=esc.region_code,
            escalation_id=esc.id,
        )
    rt.outbox_wake.set()
    return _back(escalation_id, "sent" if reached else "nochat")


@router.post("/admin/escalations/bulk-assign")
async def bulk_assign(request: Request, rt: Rt, staff: CheckedStaff) -> Response:
    """Give several escalations of my region to one colleague at once."""
    form = await request.form()
    back = str(form.get("back", "/admin/escalations"))
    async with staff_action(rt) as session:
        await _assign(
            session,
            staff,
            ids_of(form.getlist("ids")),
            str(form.get("assignee", "me")),
            now_of(request),
        )
    return see_other(back if back.startswith("/admin/escalations") else "/admin/escalations")
