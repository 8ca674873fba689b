"""Recording who did what to whose data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEvent


def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    now: datetime,
    household_id: int | None = None,
    region_code: str | None = None,
    **detail: Any,
) -> None:
    """Add one audit event to the current unit of work (never any NIK in `detail`)."""
    session.add(
        AuditEvent(
            at=now,
            actor=actor,
            action=action,
            household_id=household_id,
            region_code=region_code,
            detail=detail,
        )
    )
