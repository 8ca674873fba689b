"""Escalation queue: filter, sort by SLA, assign, note, message the household, resolve, bulk assign."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from bot.web.admin.deps import CheckedStaff, CurrentStaff, Rt
from bot.web.admin.web import now_of, render
from handlers import notices
from locales.i18n import _
from storage import admin_queries as q
from storage import audit
from storage import escalations as cases
from storage.db import unit_of_work
from storage.models import Household

router = APIRouter()
SLA_CHOICES = ("on_track", "at_risk", "breached")


def _filter(request: Request) -> q.QueueFilter:
    """The queue's filters from the query string (unknown values are ignored)."""
    params = request.query_params
    level = params.get("level", "")
    sla = params.get("sla", "")
    state = params.get("state", "open")
    return q.QueueFilter(
        state=state if state in ("open", "resolved") else "open",
        level=int(level) if level in ("1", "2") else None,
        sla=sla if sla in SLA_CHOICES else "",
        kecamatan=params.get("kecamatan", "")[:10],
        desa=params.get("desa", "")[:10],
        assignee=params.get("assignee", "")[:12],
    )


def _page(request: Request) -> int:
    """The page number asked for (1 when absent or nonsense)."""
    raw = request.query_params.get("page", "1")
    return min(int(raw), 100_000) if raw.isdigit() and int(raw) > 0 else 1


@router.get("/admin/escalations")
async def queue(request: Request, rt: Rt, staff: CurrentStaff) -> Response:
    """The queue of households that need a person, most urgent first, 50 to a page."""
    flt, now = _filter(request), now_of(request)
    async with rt.sessions() as session:
        page = await q.escalation_queue(
            session, staff.scope, flt, staff_id=staff.id, now=now, page=_page(request)
        )
        kecamatan = await q.regions(session, staff.scope, 3)
        desa = await q.regions(session, staff.scope, 4, flt.kecamatan)
        people = await q.colleagues(session, staff.scope)
    query = {k: v for k, v in request.query_params.items() if k != "page"}
    return render(
        request,
        "admin/escalations.html",
        staff=staff,
        page=page,
        flt=flt,
        now=now,
        sla_of=lambda e: q.sla_status(e.sla_due, now),
        kecamatan=kecamatan,
        desa=desa,
        people=people,
        base="/admin/escalations?" + urlencode(query) + ("&" if query else ""),
        back=str(request.url.path) + ("?" + request.url.query if request.url.query else ""),
    )


@router.get("/admin/escalations/{escalation_id}")
async def detail(request: Request, rt: Rt, staff: CurrentStaff, escalation_id: int) -> Response:
    """One escalation: the household, its reason, notes, and the actions."""
    async with rt.sessions() as session:
        try:
            esc = await q.escalation(session, staff.scope, escalation_id)
        except q.NotFound:
            raise HTTPException(404) from None
        household = await session.get(Household, esc.household_id)
        notes = (await q.notes(session, [esc.id])).get(esc.id, [])
        people = await q.colleagues(session, staff.scope)
    now = now_of(request)
    return render(
        request,
        "admin/escalation.html",
        staff=staff,
        esc=esc,
        household=household,
        notes=notes,
        people=people,
        sla=q.sla_status(esc.sla_due, now),
        flash=_flash(request),
    )


def _flash(request: Request) -> str:
    """A short confirmation after an action (from the redirect's query)."""
    done = request.query_params.get("done", "")
    messages = {
        "assigned": _("Assigned."),
        "noted": _("Note saved."),
        "resolved": _("Resolved."),
        "sent": _("Message queued for the household."),
        "nochat": _("This household has no chat to reach."),
    }
    return messages.get(done, "")


def _back(escalation_id: int, done: str) -> Response:
    """Back to the escalation, saying what happened."""
    return RedirectResponse(f"/admin/escalations/{escalation_id}?done={done}", status_code=303)


@router.post("/admin/escalations/{escalation_id}/assign")
async def assign(
    request: Request, rt: Rt, staff: CheckedStaff, escalation_id: int, assignee: str = Form("me")
) -> Response:
    """Take it myself or give it to a colleague of my region."""
    target = staff.id if assignee == "me" else int(assignee) if assignee.isdigit() else -1
    async with unit_of_work(rt.sessions) as session:
        try:
            await q.escalation(session, staff.scope, escalation_id)
            await q.assign(
                session,
                staff.scope,
                [escalation_id],
                target,
                actor=staff.username,
                now=now_of(request),
            )
        except q.NotFound:
            raise HTTPException(404) from None
    return _back(escalation_id, "assigned")


@router.post("/admin/escalations/{escalation_id}/note")
async def note(
    request: Request, rt: Rt, staff: CheckedStaff, escalation_id: int, text: str = Form("")
) -> Response:
    """A note for colleagues (not sent to the household)."""
    if not text.strip():
        return _back(escalation_id, "")
    async with unit_of_work(rt.sessions) as session:
        try:
            await q.add_note(
                session,
                staff.scope,
                escalation_id,
                text.strip(),
                actor=staff.username,
                now=now_of(request),
            )
        except q.NotFound:
            raise HTTPException(404) from None
    return _back(escalation_id, "noted")


@router.post("/admin/escalations/{escalation_id}/resolve")
async def resolve(
    request: Request, rt: Rt, staff: CheckedStaff, escalation_id: int, outcome: str = Form("")
) -> Response:
    """Close the case with what was done; the household starts a fresh month on the ladder."""
    if not outcome.strip():
        raise HTTPException(400, "outcome required")
    now = now_of(request)
    async with unit_of_work(rt.sessions) as session:
        try:
            await q.escalation(session, staff.scope, escalation_id)
        except q.NotFound:
            raise HTTPException(404) from None
        await cases.resolve(
            session,
            staff.scope,
            escalation_id,
            outcome=outcome.strip(),
            now=now,
            today=q.today(now),
        )
    return _back(escalation_id, "resolved")


@router.post("/admin/escalations/{escalation_id}/message")
async def message(
    request: Request, rt: Rt, staff: CheckedStaff, escalation_id: int, text: str = Form("")
) -> Response:
    """Send the household a message through the bot, on its own channel and language."""
    body = text.strip()[:1000]
    if not body:
        return _back(escalation_id, "")
    now = now_of(request)
    async with unit_of_work(rt.sessions) as session:
        try:
            esc = await q.add_note(
                session,
                staff.scope,
                escalation_id,
                _("Message sent: {text}").format(text=body),
                actor=staff.username,
                now=now,
            )
        except q.NotFound:
            raise HTTPException(404) from None
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
    ids = [int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isdigit()]
    assignee = str(form.get("assignee", "me"))
    target = staff.id if assignee == "me" else int(assignee) if assignee.isdigit() else -1
    back = str(form.get("back", "/admin/escalations"))
    async with unit_of_work(rt.sessions) as session:
        try:
            await q.assign(
                session, staff.scope, ids, target, actor=staff.username, now=now_of(request)
            )
        except q.NotFound:
            raise HTTPException(404) from None
    return RedirectResponse(
        back if back.startswith("/admin/escalations") else "/admin/escalations", status_code=303
    )
