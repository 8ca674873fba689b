"""Typed dependencies of the admin pages: the signed-in staff member, their scope, the CSRF check."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request

from bot.runtime import Runtime
from bot.web.admin.web import now_of
from bot.web.webhooks.store import runtime_of
from storage import partners, staff_sessions
from storage.db import unit_of_work
from storage.models import StaffSession, StaffUser
from storage.scope import Scope, ScopeError

SESSION_COOKIE = "sinergi_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """No live session: the browser is sent to the login page."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member as pages see them."""

    id: int
    username: str
    role: str
    region_code: str
    csrf: str
    scope: Scope
    region_name: str = ""  # the official name of `region_code` ("" when the list lacks it)


@dataclass(frozen=True)
class Partner:
    """A signed-in partner (staff of an organisation) as their pages see them: a seat, no scope."""

    id: int
    username: str
    role: str
    region_code: str
    csrf: str
    seat: partners.Seat


class AggregatesOnly(Exception):
    """A coordinator asked for a page about people: they are sent to the coordination view."""


async def _signed_in(request: Request) -> tuple[StaffSession, StaffUser, str]:
    """The live session of this browser, its account and its region's name; anyone else goes
    to the login page."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        rt = runtime_of(request)
        async with unit_of_work(rt.sessions) as session:
            found = await staff_sessions.session_user(
                session,
                token,
                now=now_of(request),
                idle=timedelta(minutes=rt.settings.session_idle_minutes),
                hours=rt.settings.session_hours,
            )
        if found is not None:
            return found
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise LoginRequired(quote(target, safe="/?=&"))


async def current_partner(request: Request) -> Partner:
    """The partner of this browser's session; staff of any other role are refused (403)."""
    row, user, _place = await _signed_in(request)
    if user.role != partners.ROLE or user.organisation_id is None:
        raise HTTPException(status_code=403, detail="partners only")
    seat = partners.Seat(
        organisation_id=user.organisation_id, staff_id=user.id, username=user.username
    )
    return Partner(user.id, user.username, user.role, user.region_code, row.csrf_secret, seat)


async def signed_in(request: Request) -> Staff:
    """The staff member of this browser's session, coordinators too (a partner is refused,
    403); anyone else goes to the login page."""
    row, user, place = await _signed_in(request)
    if user.role == partners.ROLE:  # a partner's seat is their organisation's referrals only
        raise HTTPException(status_code=403, detail="not for partners")
    try:
        scope = Scope(
            prefix=user.region_code, role=user.role, staff_id=user.id, username=user.username
        )
    except ScopeError:  # a malformed account sees nothing rather than everything
        raise LoginRequired(request.url.path) from None
    return Staff(user.id, user.username, user.role, user.region_code, row.csrf_secret, scope, place)


async def current_staff(staff: Annotated[Staff, Depends(signed_in)]) -> Staff:
    """A staff member who may see households; a coordinator (counts only) is turned away."""
    if not staff.scope.sees_people:
        raise AggregatesOnly
    return staff


async def anyone(request: Request) -> Staff | Partner:
    """Whoever is signed in, partner or not (their own password, signing out)."""
    try:
        return await signed_in(request)
    except HTTPException:
        return await current_partner(request)


async def _csrf_matches(request: Request, csrf: str) -> None:
    """Refuse (403) unless the form's CSRF token or the `X-CSRF-Token` header is this session's."""
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not given or not hmac.compare_digest(given.encode(), csrf.encode()):
        raise HTTPException(status_code=403, detail="CSRF token missing or wrong")


async def checked_staff(request: Request, staff: Annotated[Staff, Depends(current_staff)]) -> Staff:
    """The staff member, after the CSRF token of the form or the `X-CSRF-Token` header matched."""
    await _csrf_matches(request, staff.csrf)
    return staff


async def checked_partner(
    request: Request, partner: Annotated[Partner, Depends(current_partner)]
) -> Partner:
    """The partner, after the CSRF token matched."""
    await _csrf_matches(request, partner.csrf)
    return partner


async def checked_anyone(
    request: Request, person: Annotated[Staff | Partner, Depends(anyone)]
) -> Staff | Partner:
    """Whoever is signed in, after the CSRF token matched."""
    await _csrf_matches(request, person.csrf)
    return person


async def admin_staff(staff: Annotated[Staff, Depends(current_staff)]) -> Staff:
    """Only admins pass (staff management, the audit log)."""
    if not staff.scope.is_admin:
        raise HTTPException(status_code=403, detail="admins only")
    return staff


def runtime(request: Request) -> Runtime:
    """The running Sinergi."""
    return runtime_of(request)


SignedIn = Annotated[Staff, Depends(signed_in)]
CurrentStaff = Annotated[Staff, Depends(current_staff)]
CheckedStaff = Annotated[Staff, Depends(checked_staff)]
AdminStaff = Annotated[Staff, Depends(admin_staff)]
CurrentPartner = Annotated[Partner, Depends(current_partner)]
CheckedPartner = Annotated[Partner, Depends(checked_partner)]
Anyone = Annotated[Staff | Partner, Depends(anyone)]
CheckedAnyone = Annotated[Staff | Partner, Depends(checked_anyone)]
Rt = Annotated[Runtime, Depends(runtime)]
