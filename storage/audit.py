"""Recording who did what to whose data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEvent, Household


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


def record_on(
    session: AsyncSession,
    household: Household,
    *,
    actor: str,
    action: str,
    now: datetime,
    **detail: Any,
) -> None:
    """An audit event about one household, filed under the household's own region."""
    record(
        session,
        actor=actor,
        action=action,
        now=now,
        household_id=household.id,
        region_code=household.region_code,
        **detail,
    )
