"""Data corrections (sanggah): the outcome staff record, and when the national data should change.

corrected here (selesai) · forwarded to the national register update (dirujuk to DTSEN, with
the day staff expect the national data to change) · rejected with a reason (ditolak). The
caller tells the household (handlers/notices.py `correction_outcome`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage import request_queue
from storage.models import RequestEvent, ServiceRequest
from storage.requests import LOCAL_TZ, MAX_DETAILS, record_step
from storage.scope import Scope

# Each outcome, the request state it leaves, and the states it may be recorded from.
OUTCOMES = {"corrected": "selesai", "forwarded": "dirujuk", "rejected": "ditolak"}
FROM_STATES = {
    "corrected": {"diajukan", "diproses", "dirujuk"},
    "forwarded": {"diajukan", "diproses", "dirujuk"},  # again: a new expected date
    "rejected": {"diajukan", "diproses"},
}
NATIONAL_REGISTER = "DTSEN (Kemensos)"


class CorrectionError(ValueError):
    """An outcome that cannot be recorded: `reason`, `date`, `state` or `kind`."""


async def record_outcome(
    session: AsyncSession,
    scope: Scope,
    request_id: int,
    outcome: str,
    *,
    note: str | None,
    expected_on: date | None,
    actor: str,
    now: datetime,
) -> tuple[ServiceRequest, RequestEvent]:
    """Staff record what became of a correction request of their scope; the request and its step."""
    row = await request_queue.get(session, scope, request_id)  # NotFound outside the scope
    note = (note or "").strip()[:MAX_DETAILS] or None
    if row.kind != "sanggah":
        raise CorrectionError("kind")
    if outcome not in OUTCOMES or row.state not in FROM_STATES[outcome]:
        raise CorrectionError("state")
    if outcome == "rejected" and note is None:
        raise CorrectionError("reason")
    if outcome == "forwarded" and (
        expected_on is None or expected_on < now.astimezone(LOCAL_TZ).date()
    ):
        raise CorrectionError("date")
    row.outcome = outcome
    row.expected_on = expected_on if outcome == "forwarded" else None
    if outcome == "forwarded":
        row.referred_to = NATIONAL_REGISTER
    event = await record_step(session, row, OUTCOMES[outcome], actor=actor, note=note, now=now)
    return row, event
