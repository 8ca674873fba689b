"""The admin view's plumbing: templates with the catalogs, security headers, the clock, rendering."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from ipaddress import ip_address
from pathlib import Path
from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.web.webhooks.store import runtime_of
from handlers import labels
from handlers.labels import CATEGORY_NAMES
from locales import i18n
from locales.i18n import rupiah, use_locale
from storage import calendar

WEB = Path(__file__).resolve().parent.parent
LANG_COOKIE = "sinergi_lang"
MAX_ID = 2**63 - 1  # ids are 64-bit integers in both databases
MAX_PAGE = 100_000
Id = Annotated[int, PathParam(ge=1, le=MAX_ID)]  # a record's id in a path; anything else is a 404

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
    env.globals["category_names"] = CATEGORY_NAMES
    env.globals["places"] = {}  # region names of a page (names.places); none: codes alone
    env.filters["day"] = _day
    env.filters["moment"] = _moment
    env.filters["month"] = _month
    env.filters["label"] = _label
    env.filters["topic"] = labels.topic_label
    env.filters["categories"] = labels.categories
    env.filters["author"] = _author
    env.filters["filer"] = labels.filer
    env.filters["place"] = _place
    env.filters["audit_detail"] = labels.audit_detail
    return env


def _zone(ctx: Context) -> str:
    """The reader's time zone: the zone of the officer's region (WIB for the whole country)."""
    staff = ctx.get("staff")
    return calendar.zone_of(getattr(staff, "region_code", None) if staff else None)


@pass_context
def _day(ctx: Context, value: date | datetime | str | None) -> str:
    """A date in the active locale's long form; a moment by the reader's clock; an ISO day as kept
    in an audit line's detail."""
    if not value:
        return "–"
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if isinstance(value, datetime):
        value = calendar.local(value, _zone(ctx)).date()
    return i18n.long_date(value)


@pass_context
def _moment(ctx: Context, value: datetime | None) -> str:
    """A moment by the reader's clock, in the one form of every date: `2 Desember 2026 13.05`."""
    if value is None:
        return "–"
    return i18n.long_moment(calendar.local(value, _zone(ctx)))


def _month(period: str | None) -> str:
    """A month as people say it: `Des 2026` for the stored `2026-12`."""
    return i18n.short_month(period) if period else "–"


def _label(code: str | None, table: str) -> str:
    """The name of a stored code in the reader's language (handlers/labels.py)."""
    return labels.label(table, code)


@pass_context
def _place(ctx: Context, code: str | None, known: str | None = None) -> Markup:
    """A region as people read it: its official name next to its code (`Rawa Makmur 6472011001`).

    The names come from the page's `places` (bot/web/admin/names.py); `known` is the roster's
    own name, shown when the official list does not have the code.
    """
    if not code:
        return Markup("–")
    # Only a mapping is ours: the import preview's own `places` is a list of its rows' regions.
    places = ctx.get("places")
    name = (places.get(code) if isinstance(places, dict) else None) or known
    if not name:
        return Markup("<code>{}</code>").format(code)
    return Markup('<span class="place">{} <code>{}</code></span>').format(name, code)


@pass_context
def _author(ctx: Context, who: str | None) -> str:
    """Who wrote or did it: `mentor:3` → the mentor's name, `chat:1` → "Keluarga"."""
    names = ctx.get("names")
    return labels.author(who, *(names if names else ({}, {})))


def locale_of(request: Request) -> str:
    """The reader's language: the switch's cookie, Indonesian by default."""
    chosen = request.cookies.get(LANG_COOKIE, i18n.DEFAULT_LOCALE)
    return chosen if chosen in i18n.LOCALES else i18n.DEFAULT_LOCALE


def now_of(request: Request) -> datetime:
    """The clock of this request (tests set `app.state.clock`)."""
    clock: Callable[[], datetime] = getattr(request.app.state, "clock", lambda: datetime.now(UTC))
    return clock()


def whole_number(raw: object, *, most: int = MAX_ID) -> int | None:
    """A positive whole number typed in ASCII digits and not above `most`; None for anything else.

    `str.isdigit` also accepts `²` and other digits `int` refuses, and a number past the
    database's integers would fail inside the query: both are refused here, at the door.
    """
    if not isinstance(raw, str) or not raw or len(raw) > 19 or not raw.isascii():
        return None
    if not raw.isdigit():
        return None
    number = int(raw)
    return number if 0 < number <= most else None


def ids_of(values: Sequence[object]) -> list[int]:
    """The ids ticked in a form (anything that is not an id is left out)."""
    return [n for n in (whole_number(v) for v in values) if n is not None]


def page_number(request: Request) -> int:
    """The page number asked for (1 when absent or nonsense)."""
    return whole_number(request.query_params.get("page", "1"), most=MAX_PAGE) or 1


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page in the reader's language."""
    env: Environment = request.app.state.templates
    with use_locale(locale_of(request)) as lang:
        html = env.get_template(template).render(
            request=request, lang=lang, path=request.url.path, **context
        )
    return HTMLResponse(html, status_code=status_code)


class SecurityHeaders:
    """Every answer forbids framing, sniffing, inline scripts and leaking the address.

    Plain ASGI rather than `app.middleware("http")`: that wrapper costs the webhooks a
    task and a stream per request, which showed in their throughput.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Raw (lower-case name, value) pairs, encoded once: a response gets them in one pass.
        self._headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in SECURITY_HEADERS.items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        staff_page = scope["path"].startswith(("/admin", "/simulator"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _value in headers}
                headers += [pair for pair in self._headers if pair[0] not in present]
                if staff_page and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _trusted(address: str, request: Request) -> bool:
    """Whether `address` is one of the operator's reverse proxies (SINERGI_TRUSTED_PROXIES)."""
    networks = runtime_of(request).settings.proxy_networks
    if not networks:
        return False
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _peer(request: Request) -> str:
    """The address of the direct peer of this connection."""
    return request.client.host if request.client else "unknown"


def client_address(request: Request) -> str:
    """The address a request came from: the peer, or the client a trusted proxy forwarded for.

    Each proxy appends the address it saw, so the client is the rightmost hop that is not one
    of ours; anything before it could have been typed by the client.
    """
    peer = _peer(request)
    if not _trusted(peer, request):
        return peer
    hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",")]
    for hop in reversed(hops):
        if not _trusted(hop, request):
            try:
                return str(ip_address(hop))
            except ValueError:
                return peer  # garbage from the proxy's side: the proxy itself is what we know
    return peer


def is_https(request: Request) -> bool:
    """Whether the browser spoke https: to us, or to a trusted proxy that says so."""
    if _trusted(_peer(request), request):
        proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        if proto:
            return proto == "https"
    return request.url.scheme == "https"
