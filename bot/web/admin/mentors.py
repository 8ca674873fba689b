"""Mentors: their households, silent ones, overdue visits, last activity; reassign households."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from bot.web.admin.deps import CheckedStaff, CurrentStaff, Rt
from bot.web.admin.escalations import _page
from bot.web.admin.web import now_of, render
from storage import admin_queries as q
from storage import audit
from storage.db import unit_of_work

router = APIRouter()


@router.get("/admin/mentors")
async def listing(request: Request, rt: Rt, staff: CurrentStaff) -> Response:
    """Every mentor of my region with their numbers."""
    async with rt.sessions() as session:
        rows = await q.mentors_overview(session, staff.scope, now_of(request))
    return render(request, "admin/mentors.html", staff=staff, rows=rows)


@router.get("/admin/mentors/{mentor_id}")
async def detail(request: Request, rt: Rt, staff: CurrentStaff, mentor_id: int) -> Response:
    """One mentor's households, with a form to hand some to another mentor."""
    async with rt.sessions() as session:
        try:
            mentor = await q.mentor(session, staff.scope, mentor_id)
        except q.NotFound:
            raise HTTPException(404) from None
        page = await q.mentor_households(session, staff.scope, mentor.id, _page(request))
        others = [
            row["mentor"]
            for row in await q.mentors_overview(session, staff.scope, now_of(request))
            if row["mentor"].id != mentor.id
        ]
    return render(
        request,
        "admin/mentor.html",
        staff=staff,
        mentor=mentor,
        page=page,
        others=others,
        base=f"/admin/mentors/{mentor.id}?",
        moved=request.query_params.get("moved", ""),
    )


@router.post("/admin/mentors/{mentor_id}/reassign")
async def reassign(request: Request, rt: Rt, staff: CheckedStaff, mentor_id: int) -> Response:
    """Move the ticked households to the chosen mentor (both within my region)."""
    form = await request.form()
    ids = [int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isdigit()]
    target = str(form.get("to", ""))
    now = now_of(request)
    async with unit_of_work(rt.sessions) as session:
        try:
            await q.mentor(session, staff.scope, mentor_id)
            moved = await q.reassign(
                session, staff.scope, ids, int(target) if target.isdigit() else -1
            )
        except q.NotFound:
            raise HTTPException(404) from None
        if moved != len(set(ids)):
            raise HTTPException(
                404
            )  # an id outside my region: nothing changes (the transaction rolls back)
        audit.record(
            session,
            actor=staff.username,
            action="mentor.reassign",
            now=now,
            region_code=staff.region_code,
            households=ids,
            to_mentor=int(target),
        )
    return RedirectResponse(f"/admin/mentors/{mentor_id}?moved={moved}", status_code=303)
