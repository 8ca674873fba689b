"""Service requests: filing with a reference number, the state machine and its history.

diajukan → diproses → disetujui | ditolak | dirujuk (to an office) → selesai; a household may
cancel (dibatalkan) while the request is still diajukan. Every change is a RequestEvent, which
the caller passes on to `handlers.notices.request_moved` so the household hears of it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Household, RequestEvent, ServiceRequest

PREFIXES = {"pelatihan": "PL", "koperasi": "KP", "sanggah": "SG", "hapus": "HD"}
# Kinds the law gives a time limit: a request to restrict or erase data is answered in 3×24 hours.
DEADLINES = {"hapus": timedelta(hours=72)}
# Where staff may move a request from each state (the household only cancels).
TRANSITIONS = {
    "diajukan": {"diproses", "disetujui", "ditolak", "dirujuk"},
    "diproses": {"disetujui", "ditolak", "dirujuk"},
    "disetujui": {"selesai"},
    "ditolak": {"selesai"},
    "dirujuk": {"diproses", "selesai"},
}
CLOSED = {"ditolak", "selesai", "dibatalkan"}
# Reference months follow Kalimantan Timur's clock (WITA), where Sinergi starts.
LOCAL_TZ = timezone(timedelta(hours=8))
MAX_DETAILS = 4000


class RequestError(ValueError):
    """A request that cannot be found or moved this way; the message says why."""


def open_key(household_id: int, kind: str, topic: str | None) -> str:
    """The key that only one open request of a household, kind and topic may hold."""
    return f"{household_id}:{kind}:{topic or '-'}"[:120]


async def file_request(
    session: AsyncSession,
    *,
    household: Household,
    kind: str,
    topic: str | None,
    details: str | None,
    actor: str,
    now: datetime,
) -> tuple[ServiceRequest, bool]:
    """A new request with its reference, or the open one of the same kind and topic (False)."""
    if kind not in PREFIXES:
        raise RequestError(f"unknown kind {kind!r}")
    key = open_key(household.id, kind, topic)
    for _attempt in range(20):
        existing = await session.scalar(
            select(ServiceRequest).where(ServiceRequest.open_key == key)
        )
        if existing is not None:
            return existing, False
        reference = await _next_reference(session, kind, now)
        row = ServiceRequest(
            reference=reference,
            household_id=household.id,
            kind=kind,
            topic=topic,
            details=(details or None) and details[:MAX_DETAILS],
            state="diajukan",
            region_code=household.region_code,
            open_key=key,
            created_at=now,
            updated_at=now,
            due_at=now + DEADLINES[kind] if kind in DEADLINES else None,
            filed_by=actor[:80],
        )
        try:
            # Another worker may take the same reference or key at once; the savepoint lets us retry.
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError:
            continue
        session.add(
            RequestEvent(
                request_id=row.id,
                at=now,
                actor=actor,
                from_state=None,
                to_state="diajukan",
                note=None,
            )
        )
        return row, True
    raise RequestError("could not file the request, try again")


async def _next_reference(session: AsyncSession, kind: str, now: datetime) -> str:
    """`PL-2611-0042`: the kind's prefix, the local year and month, the month's next number."""
    stem = f"{PREFIXES[kind]}-{now.astimezone(LOCAL_TZ):%y%m}-"
    last = await session.scalar(
        select(ServiceRequest.reference)
        .where(ServiceRequest.reference.like(stem + "%"))
        .order_by(func.length(ServiceRequest.reference).desc(), ServiceRequest.reference.desc())
        .limit(1)
    )
    number = int(last[len(stem) :]) + 1 if last and last[len(stem) :].isdigit() else 1
    return f"{stem}{number:04d}"


async def of_household(
    session: AsyncSession, household_id: int, *, limit: int = 10
) -> list[ServiceRequest]:
    """The household's requests, newest first."""
    rows = await session.scalars(
        select(ServiceRequest)
        .where(ServiceRequest.household_id == household_id)
        .order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())
        .limit(limit)
    )
    return list(rows)


async def open_of_mentor(
    session: AsyncSession, *, mentor_id: int, limit: int = 10
) -> list[tuple[ServiceRequest, Household]]:
    """Requests of the mentor's households that are not closed yet, newest first."""
    rows = await session.execute(
        select(ServiceRequest, Household)
        .join(Household, Household.id == ServiceRequest.household_id)
        .where(Household.mentor_id == mentor_id, ServiceRequest.state.not_in(tuple(CLOSED)))
        .order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())
        .limit(limit)
    )
    return [(row, household) for row, household in rows.all()]


async def by_reference(session: AsyncSession, reference: str) -> ServiceRequest | None:
    """The request with this reference (letters in any case)."""
    return await session.scalar(
        select(ServiceRequest).where(ServiceRequest.reference == reference.strip().upper())
    )


async def cancel(
    session: AsyncSession, *, request_id: int, household_id: int, actor: str, now: datetime
) -> ServiceRequest:
    """The household withdraws its own request while it is still only submitted."""
    row = await session.get(ServiceRequest, request_id)
    if row is None or row.household_id != household_id:
        raise RequestError("not found")
    if row.state != "diajukan":
        raise RequestError(f"cannot cancel a request that is {row.state}")
    await _move(session, row, "dibatalkan", actor=actor, note=None, now=now)
    return row


async def transition(
    session: AsyncSession,
    request_id: int,
    to_state: str,
    *,
    actor: str,
    note: str | None,
    referred_to: str | None = None,
    now: datetime,
    scope: Any,
) -> RequestEvent:
    """Staff move a request inside their region scope; the event says what changed."""
    prefix = _prefix_of(scope)
    row = await session.scalar(
        select(ServiceRequest).where(
            ServiceRequest.id == request_id,
            ServiceRequest.region_code.startswith(prefix, autoescape=True),
        )
    )
    if row is None:
        raise RequestError("not found in this region")
    if to_state not in TRANSITIONS.get(row.state, set()):
        raise RequestError(f"cannot move a request from {row.state} to {to_state}")
    if to_state == "dirujuk" and not (referred_to or "").strip():
        raise RequestError("a referral needs the office it goes to")
    if to_state == "dirujuk":
        row.referred_to = (referred_to or "").strip()[:64]
    return await _move(session, row, to_state, actor=actor, note=note, now=now)


def _prefix_of(scope: Any) -> str:
    """The region prefix of a scope (a Scope object or a code); anything else fails closed."""
    prefix = getattr(scope, "prefix", None)
    if isinstance(prefix, str) and (prefix == "" or prefix.isdigit()):
        return prefix  # a Scope object validated its own role and prefix
    if isinstance(scope, str) and scope.isdigit() and 2 <= len(scope) <= 10:
        return scope
    raise PermissionError("a request can only be moved inside a region scope")


async def record_step(
    session: AsyncSession,
    row: ServiceRequest,
    to_state: str,
    *,
    actor: str,
    note: str | None,
    now: datetime,
) -> RequestEvent:
    """A step another module's rules allowed (a data correction's outcome), in the history."""
    return await _move(session, row, to_state, actor=actor, note=note, now=now)


async def _move(
    session: AsyncSession,
    row: ServiceRequest,
    to_state: str,
    *,
    actor: str,
    note: str | None,
    now: datetime,
) -> RequestEvent:
    """Change the state, free the open key when closed, and write the history line."""
    event = RequestEvent(
        request_id=row.id,
        at=now,
        actor=actor[:80],
        from_state=row.state,
        to_state=to_state,
        note=(note or None) and note[:MAX_DETAILS],
    )
    row.state, row.updated_at = to_state, now
    if to_state in CLOSED:
        row.open_key = None
    session.add(event)
    await session.flush()
    return event


async def history(session: AsyncSession, request_id: int) -> list[RequestEvent]:
    """Every step of one request, oldest first."""
    rows = await session.scalars(
        select(RequestEvent)
        .where(RequestEvent.request_id == request_id)
        .order_by(RequestEvent.at, RequestEvent.id)
    )
    return list(rows)
