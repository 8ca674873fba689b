"""The admin view's plumbing: templates with the catalogs, security headers, the clock, rendering."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot import i18n
from bot.i18n import rupiah, use_locale

WEB = Path(__file__).resolve().parent.parent
LANG_COOKIE = "sinergi_lang"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def make_templates() -> Environment:
    """Jinja with autoescape and the i18n extension bound to Sinergi's catalogs."""
    env = Environment(
        loader=FileSystemLoader(WEB / "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(gettext=i18n._, ngettext=i18n.ngettext, newstyle=False)  # type: ignore[attr-defined]
    env.globals["rupiah"] = rupiah
    env.filters["day"] = _day
    env.filters["moment"] = _moment
    return env


def _day(value: Any) -> str:
    """A date in the active locale's long form."""
    return i18n.long_date(value) if value else "–"


def _moment(value: datetime | None) -> str:
    """A moment in WITA, short: `23-11-2026 10:05`."""
    if value is None:
        return "–"
    from datetime import timedelta, timezone

    return value.astimezone(timezone(timedelta(hours=8))).strftime("%d-%m-%Y %H:%M")


def locale_of(request: Request) -> str:
    """The reader's language: the switch's cookie, Indonesian by default."""
    chosen = request.cookies.get(LANG_COOKIE, i18n.DEFAULT_LOCALE)
    return chosen if chosen in i18n.LOCALES else i18n.DEFAULT_LOCALE


def now_of(request: Request) -> datetime:
    """The clock of this request (tests set `app.state.clock`)."""
    clock: Callable[[], datetime] = getattr(request.app.state, "clock", lambda: datetime.now(UTC))
    return clock()


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page in the reader's language."""
    env: Environment = request.app.state.templates
    with use_locale(locale_of(request)) as lang:
        html = env.get_template(template).render(
            request=request, lang=lang, path=request.url.path, **context
        )
    return HTMLResponse(html, status_code=status_code)


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Every answer forbids framing, sniffing, inline scripts and leaking the address."""
    response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.url.path.startswith(("/admin", "/simulator")):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def client_address(request: Request) -> str:
    """The address a sign-in came from (the direct peer; proxies are the operator's business)."""
    return request.client.host if request.client else "unknown"
