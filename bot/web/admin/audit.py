"""Audit log and staff accounts: for admins, within their own region."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from bot.web.admin import names
from bot.web.admin.actions import see_other, staff_action
from bot.web.admin.deps import AdminStaff, CheckedStaff, Rt
from bot.web.admin.web import Id, locale_of, now_of, page_number, render
from handlers.labels import AUDIT_ACTIONS
from locales.i18n import _, use_locale
from storage import audit
from storage import staff as staff_store
from storage.scope import ScopeError, check_account
from storage.staff import ROLES, StaffError

router = APIRouter()


@router.get("/admin/audit")
async def log(request: Request, rt: Rt, staff: AdminStaff) -> Response:
    """Logins, household views, exports and changes in my region, newest first."""
    action = request.query_params.get("action", "")[:40]
    async with rt.sessions() as session:
        page = await audit.log(session, staff.scope, action, page_number(request))
        who = await names.authors(session, staff.scope, [e.actor for e in page.rows])
        places = await names.places(session, [e.region_code for e in page.rows])
    base = "/admin/audit?" + (urlencode({"action": action}) + "&" if action else "")
    return render(
        request,
        "admin/audit.html",
        staff=staff,
        page=page,
        action=action,
        actions=list(AUDIT_ACTIONS),
        base=base,
        names=who,
        places=places,
    )


@router.get("/admin/staff")
async def accounts(request: Request, rt: Rt, staff: AdminStaff) -> Response:
    """Staff accounts of my region, and a form for a new one."""
    async with rt.sessions() as session:
        people = await staff_store.listing(session, staff.scope)
        places = await names.places(session, [p.region_code for p in people])
    return render(
        request,
        "admin/staff.html",
        staff=staff,
        people=people,
        places=places,
        roles=ROLES,
        error=request.query_params.get("error", ""),
        done=request.query_params.get("done", ""),
    )


def _require_admin(staff: CheckedStaff) -> None:
    """Officers and supervisors cannot manage staff."""
    if not staff.scope.is_admin:
        raise HTTPException(403, "admins only")


@router.post("/admin/staff")
async def add(
    request: Request,
    rt: Rt,
    staff: CheckedStaff,
    username: str = Form(""),
    password: str = Form(""),
    role: str = Form(""),
    region: str = Form(""),
) -> Response:
    """A new account, only for a region inside mine."""
    _require_admin(staff)
    region = region.replace(".", "").strip()
    try:
        check_account(role, region)
        if not staff.scope.covers(region) or (
            role == "admin" and len(region) < len(staff.scope.prefix)
        ):
            raise ScopeError("outside")
        async with staff_action(rt) as session:
            await staff_store.add_staff(
                session,
                username=username.strip(),
                password=password,
                role=role,
                region_code=region,
                now=now_of(request),
            )
            audit.record(
                session,
                actor=staff.username,
                action="staff.add",
                now=now_of(request),
                region_code=region,
                username=username.strip(),
                role=role,
            )
    except (ScopeError, StaffError) as exc:
        with use_locale(locale_of(request)):
            reason = (
                _("The region does not fit the role, or lies outside yours.")
                if isinstance(exc, ScopeError)
                else _("Username taken, or password shorter than 10 characters.")
            )
        return see_other("/admin/staff?" + urlencode({"error": reason}))
    return see_other("/admin/staff?done=1")


@router.post("/admin/staff/{staff_id}/active")
async def switch(
    request: Request, rt: Rt, staff: CheckedStaff, staff_id: Id, active: str = Form("0")
) -> Response:
    """Switch an account of my region on or off (never my own)."""
    _require_admin(staff)
    if staff_id == staff.id:
        raise HTTPException(400, "not your own account")
    async with staff_action(rt) as session:
        row = await staff_store.set_active(session, staff.scope, staff_id, active == "1")
        audit.record(
            session,
            actor=staff.username,
            action="staff.active" if row.active else "staff.inactive",
            now=now_of(request),
            region_code=row.region_code,
            username=row.username,
        )
    return see_other("/admin/staff?done=1")
