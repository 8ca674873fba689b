"""The Dinsos admin view and the chat simulator: server-rendered pages, scoped by region."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException as FastAPIHTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from bot.web.admin import (
    audit,
    auth,
    coordination,
    dashboard,
    escalations,
    graduation,
    households,
    imports,
    mentors,
    organisations,
    partner,
    processing,
    referrals,
    requests,
    simulator,
)
from bot.web.admin.deps import AggregatesOnly, LoginRequired
from bot.web.admin.web import WEB, SecurityHeaders, locale_of, make_templates, render
from locales.i18n import _, use_locale

ROUTERS = (
    auth.router,
    dashboard.router,
    escalations.router,
    households.router,
    requests.router,
    graduation.router,
    mentors.router,
    imports.router,
    audit.router,
    processing.router,
    coordination.router,
    organisations.router,
    referrals.router,
    partner.router,
    simulator.router,
)


def install(app: FastAPI) -> None:
    """Add the pages, the static files, the security headers and the error pages to the app."""
    app.state.templates = make_templates()
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(LoginRequired, _to_login)  # type: ignore[arg-type]
    app.add_exception_handler(AggregatesOnly, _to_aggregates)  # type: ignore[arg-type]
    app.add_exception_handler(FastAPIHTTPException, _error_page)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]


async def _to_login(request: Request, exc: LoginRequired) -> Response:
    """No session: the login page, coming back here afterwards (htmx-style calls get a 401)."""
    if request.headers.get("HX-Request") or request.method != "GET":
        return Response(status_code=401)
    return RedirectResponse(f"/admin/login?next={exc.next_path}", status_code=303)


async def _to_aggregates(request: Request, exc: AggregatesOnly) -> Response:
    """A coordinator on a page about people: the coordination view for a page, 403 for anything else."""
    if request.method == "GET" and not request.headers.get("HX-Request"):
        return RedirectResponse("/admin/koordinasi", status_code=303)
    return await _error_page(request, FastAPIHTTPException(403))


async def _invalid(request: Request, exc: RequestValidationError) -> Response:
    """Odd input on a staff page: an id that cannot be one is a 404, a malformed form a 400."""
    if not request.url.path.startswith(("/admin", "/simulator")):
        from fastapi.exception_handlers import request_validation_exception_handler

        return await request_validation_exception_handler(request, exc)
    in_path = any(error.get("loc", ("",))[0] == "path" for error in exc.errors())
    return await _error_page(request, FastAPIHTTPException(404 if in_path else 400))


async def _error_page(request: Request, exc: FastAPIHTTPException) -> Response:
    """A plain page for 403/404/400 on staff pages; JSON elsewhere, as FastAPI would answer."""
    if not request.url.path.startswith(("/admin", "/simulator")):
        from fastapi.exception_handlers import http_exception_handler

        return await http_exception_handler(request, exc)
    with use_locale(locale_of(request)):
        text = {404: _("Not found, or not in your region."), 403: _("Not allowed.")}.get(
            exc.status_code, _("That did not work. Check the form and try again.")
        )
    return render(request, "error.html", status_code=exc.status_code, staff=None, message=text)
