"""Mentors: their households, silent ones, overdue visits, last activity; reassign households."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from bot.web.admin import names
from bot.web.admin.actions import see_other, staff_action
from bot.web.admin.deps import CheckedStaff, CurrentStaff, Rt
from bot.web.admin.web import Id, ids_of, now_of, page_number, render, whole_number
from storage import audit, mentors
from storage.scope import NotFound

router = APIRouter()


@router.get("/admin/mentors")
async def listing(request: Request, rt: Rt, staff: CurrentStaff) -> Response:
    """Every mentor of my region with their numbers."""
    async with rt.sessions() as session:
        rows = await mentors.overview(session, staff.scope, now_of(request))
        places = await names.places(session, [row["mentor"].region_code for row in rows])
    return render(request, "admin/mentors.html", staff=staff, rows=rows, places=places)


@router.get("/admin/mentors/{mentor_id}")
async def detail(request: Request, rt: Rt, staff: CurrentStaff, mentor_id: Id) -> Response:
    """One mentor's households, with a form to hand some to another mentor."""
    async with rt.sessions() as session:
        try:
            mentor = await mentors.get(session, staff.scope, mentor_id)
        except NotFound:
            raise HTTPException(404) from None
        page = await mentors.households(session, staff.scope, mentor.id, page_number(request))
        last_contact = await mentors.last_contacts(session, [hh.id for hh, _ in page.rows])
        others = [
            row["mentor"]
            for row in await mentors.overview(session, staff.scope, now_of(request))
            if row["mentor"].id != mentor.id
        ]
        places = await names.places(
            session, [mentor.region_code] + [hh.region_code for hh, _ in page.rows]
        )
    return render(
        request,
        "admin/mentor.html",
        staff=staff,
        mentor=mentor,
        page=page,
        last_contact=last_contact,
        places=places,
        others=others,
        base=f"/admin/mentors/{mentor.id}?",
        moved=request.query_params.get("moved", ""),
    )


@router.post("/admin/mentors/{mentor_id}/reassign")
async def reassign(request: Request, rt: Rt, staff: CheckedStaff, mentor_id: Id) -> Response:
    """Move the ticked households to the chosen mentor (both within my region)."""
    form = await request.form()
    ids = ids_of(form.getlist("ids"))
    target = whole_number(form.get("to", "")) or -1
    async with staff_action(rt) as session:
        await mentors.get(session, staff.scope, mentor_id)
        moved = await mentors.reassign(session, staff.scope, ids, target)
        if moved != len(set(ids)):  # an id outside my region: nothing changes (rolled back)
            raise NotFound(ids)
        audit.record(
            session,
            actor=staff.username,
            action="mentor.reassign",
            now=now_of(request),
            region_code=staff.region_code,
            households=ids,
            to_mentor=target,
        )
    return see_other(f"/admin/mentors/{mentor_id}?moved={moved}")
