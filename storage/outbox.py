"""The outbox: messages written with the state change that caused them, claimed by the sender."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import is_postgres
from storage.models import ChatIdentity, OutboxMessage

CLAIMABLE = ("pending", "retry")


def enqueue(
    session: AsyncSession,
    identity: ChatIdentity,
    payload: dict[str, Any],
    *,
    now: datetime,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> OutboxMessage:
    """Add one message for `identity` to this unit of work."""
    row = OutboxMessage(
        identity_id=identity.id, channel=identity.channel, recipient=identity.external_id,
        payload=payload, dedupe_key=dedupe_key, state="pending", attempts=0,
        next_attempt_at=not_before or now, created_at=now,
    )
    session.add(row)
    return row


async def enqueue_once(
    session: AsyncSession, identity: ChatIdentity, payload: dict[str, Any], *, now: datetime, dedupe_key: str
) -> bool:
    """Enqueue unless a message with this key exists; True when it was added."""
    exists = await session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
    if exists is not None:
        return False
    enqueue(session, identity, payload, now=now, dedupe_key=dedupe_key)
    return True


async def claim_due(session: AsyncSession, *, now: datetime, lease: timedelta, limit: int) -> list[OutboxMessage]:
    """Take up to `limit` due messages (and ones whose sender died mid-send) under a lease."""
    due = or_(
        and_(OutboxMessage.state.in_(CLAIMABLE), OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.state == "sending", OutboxMessage.lease_until <= now),
    )
    query = select(OutboxMessage).where(due).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    rows = list(await session.scalars(query))
    for row in rows:
        row.state, row.lease_until = "sending", now + lease
        row.attempts += 1
    return rows


async def depth(session: AsyncSession) -> int:
    """Messages still waiting to go out."""
    return int(await session.scalar(
        select(func.count()).where(OutboxMessage.state.in_(("pending", "retry", "sending")))
    ) or 0)


async def by_external_id(session: AsyncSession, channel: str, external_message_id: str) -> OutboxMessage | None:
    """The sent message a status callback speaks of."""
    return await session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.channel == channel, OutboxMessage.external_message_id == external_message_id
        )
    )


async def cancel_for_identity(session: AsyncSession, identity_id: int, reason: str) -> None:
    """Cancel what still waits for this identity."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.identity_id == identity_id, OutboxMessage.state.in_(CLAIMABLE))
        .values(state="cancelled", error=reason)
    )
