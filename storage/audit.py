"""Recording who did what to whose data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEvent, Household
from storage.paging import Page, paged
from storage.scope import Scope, region_filter


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


async def log(session: AsyncSession, scope: Scope, action: str = "", page: int = 1) -> Page:
    """Audit events of the scope's region, newest first (national admins see everything)."""
    query = select(AuditEvent)
    if scope.prefix:
        query = query.where(region_filter(AuditEvent.region_code, scope))
    if action:
        query = query.where(AuditEvent.action == action)
    return await paged(session, query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()), page)
