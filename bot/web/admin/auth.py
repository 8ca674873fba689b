"""Sign in, sign out, change password, switch language: the doors of the admin view."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from bot.web.admin.deps import SESSION_COOKIE, Anyone, CheckedAnyone, Rt
from bot.web.admin.web import LANG_COOKIE, client_address, is_https, locale_of, now_of, render
from locales.i18n import LOCALES, _, use_locale
from storage import audit, partners, staff_sessions
from storage.db import unit_of_work
from storage.models import StaffUser

router = APIRouter()
PARTNER_HOME = "/admin/partner"
LOGIN_COOKIE = "sinergi_login"


def _secure(request: Request, rt: Rt) -> bool:
    """Cookies are Secure when the operator says so or the request came over https."""
    return rt.settings.cookie_secure or is_https(request)


def _login_token(rt: Rt, nonce: str) -> str:
    """The login form's CSRF token: bound to the browser's nonce cookie by the secret key."""
    return hmac.new(
        rt.settings.secret_key.encode(), b"login|" + nonce.encode(), hashlib.sha256
    ).hexdigest()


def _safe_next(target: str | None) -> str:
    """Only a path of the admin view or simulator, never another site."""
    if (
        target
        and target.startswith(("/admin", "/simulator"))
        and "//" not in target
        and "\\" not in target
    ):
        return target
    return "/admin"


def _login_page(
    request: Request, rt: Rt, *, error: str = "", status: int = 200, next_path: str = ""
) -> Response:
    """The login form with a fresh nonce cookie and its token."""
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        status_code=status,
        csrf=_login_token(rt, nonce),
        error=error,
        next_path=_safe_next(next_path or request.query_params.get("next")),
        staff=None,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        httponly=True,
        samesite="lax",
        secure=_secure(request, rt),
        path="/admin",
    )
    return response


@router.get("/admin/login")
async def login_form(request: Request, rt: Rt) -> Response:
    """The officer sees a username and password form."""
    return _login_page(request, rt)


def _refusal(reason: str, wait: int) -> str:
    """Why the sign-in failed, in plain words."""
    if reason == "locked":
        return _(
            "Too many wrong tries. The account is locked; try again in {minutes} minutes."
        ).format(minutes=max(1, (wait + 59) // 60))
    if reason == "wait":
        return _("Too many wrong tries. Wait {seconds} seconds and try again.").format(seconds=wait)
    return _("Wrong username or password.")


@router.post("/admin/login")
async def login(
    request: Request,
    rt: Rt,
    username: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    next_path: str = Form("/admin"),
) -> Response:
    """A right password opens a session; wrong ones are counted, slowed down and then locked."""
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not hmac.compare_digest(csrf_token.encode(), _login_token(rt, nonce).encode()):
        with use_locale(locale_of(request)):
            return _login_page(
                request, rt, error=_("The form expired. Please try again."), status=403
            )
    now, address = now_of(request), client_address(request)
    async with unit_of_work(rt.sessions) as session:
        result = await staff_sessions.authenticate(
            session, username.strip()[:80], password[:200], address=address, now=now
        )
        if result.user is None:
            audit.record(
                session,
                actor=username.strip()[:80] or "?",
                action="login.failed",
                now=now,
                reason=result.reason,
                address=address,
            )
        else:
            token, _row = await staff_sessions.open_session(
                session,
                result.user,
                now=now,
                hours=rt.settings.session_hours,
                address=address,
                idle=timedelta(minutes=rt.settings.session_idle_minutes),
            )
            audit.record(
                session,
                actor=result.user.username,
                action="login",
                now=now,
                region_code=result.user.region_code,
                address=address,
            )
    if result.user is None:
        with use_locale(locale_of(request)):
            message = _refusal(result.reason, result.wait_seconds)
        return _login_page(
            request,
            rt,
            error=message,
            status=429 if result.reason != "bad" else 401,
            next_path=next_path,
        )
    target = _safe_next(next_path)
    if result.user.role == partners.ROLE and not target.startswith(PARTNER_HOME):
        target = PARTNER_HOME  # a partner's only pages are their organisation's referrals
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=_secure(request, rt),
        max_age=rt.settings.session_hours * 3600,
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/admin")
    return response


@router.post("/admin/logout")
async def logout(request: Request, rt: Rt, staff: CheckedAnyone) -> Response:
    """The session ends here and on the server."""
    async with unit_of_work(rt.sessions) as session:
        await staff_sessions.close_session(session, request.cookies.get(SESSION_COOKIE, ""))
        audit.record(
            session,
            actor=staff.username,
            action="logout",
            now=now_of(request),
            region_code=staff.region_code,
        )
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/admin/password")
async def password_form(request: Request, staff: Anyone) -> Response:
    """A form for the old password and the new one twice."""
    return render(request, "password.html", staff=staff, error="")


@router.post("/admin/password")
async def change_password(
    request: Request,
    rt: Rt,
    staff: CheckedAnyone,
    old: str = Form(""),
    new: str = Form(""),
    again: str = Form(""),
) -> Response:
    """A new password signs out every session; then the login page asks for it."""
    with use_locale(locale_of(request)):
        errors = {
            "wrong": _("The current password is wrong."),
            "short": _("The new password needs at least 10 characters."),
            "same": _("The new password must differ from the current one."),
            "again": _("The two new passwords differ."),
        }
    if new != again:
        return render(request, "password.html", status_code=400, staff=staff, error=errors["again"])
    async with unit_of_work(rt.sessions) as session:
        user = await session.get(StaffUser, staff.id)
        problem = (
            "wrong"
            if user is None
            else await staff_sessions.change_password(session, user, old, new)
        )
        if not problem:
            audit.record(
                session,
                actor=staff.username,
                action="password.change",
                now=now_of(request),
                region_code=staff.region_code,
            )
    if problem:
        return render(request, "password.html", status_code=400, staff=staff, error=errors[problem])
    response = RedirectResponse("/admin/login?changed=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/admin/lang/{code}")
async def switch_language(request: Request, code: str, back: str = "/admin") -> Response:
    """Indonesian or English, remembered in a cookie."""
    response = RedirectResponse(_safe_next(back), status_code=303)
    if code in LOCALES:
        response.set_cookie(
            LANG_COOKIE, code, max_age=365 * 86400, samesite="lax", httponly=True, path="/"
        )
    return response
