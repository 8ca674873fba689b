"""What staff read of conversations: a household's timeline and a simulator chat."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChatIdentity, Household, InboxUpdate, Mentor, OutboxMessage
from storage.scope import Scope, region_filter


async def timeline(
    session: AsyncSession, identities: list[ChatIdentity], limit: int = 40
) -> tuple[list[InboxUpdate], list[OutboxMessage]]:
    """The latest inbound rows and outbound messages of identities already read through a scope."""
    keys = [f"{i.channel}:{i.external_id}" for i in identities]
    ids = [i.id for i in identities]
    inbound: Any = (
        await session.scalars(
            select(InboxUpdate)
            .where(InboxUpdate.chat_key.in_(keys))
            .order_by(InboxUpdate.id.desc())
            .limit(limit)
        )
        if keys
        else []
    )
    outbound: Any = (
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.identity_id.in_(ids))
            .order_by(OutboxMessage.created_at.desc())
            .limit(limit)
        )
        if ids
        else []
    )
    return list(inbound), list(outbound)


async def phone_in_scope(
    session: AsyncSession, scope: Scope, phone: str, channel: str = "simulator"
) -> bool:
    """Whether staff may chat as `phone`: no household, mentor or linked chat of it lies outside the scope."""
    outside = [
        select(Household.id).where(
            Household.phone == phone, ~region_filter(Household.region_code, scope)
        ),
        select(Mentor.id).where(Mentor.phone == phone, ~region_filter(Mentor.region_code, scope)),
        select(ChatIdentity.id)
        .join(Household, Household.id == ChatIdentity.household_id)
        .where(
            ChatIdentity.channel == channel,
            ChatIdentity.external_id == phone,
            ~region_filter(Household.region_code, scope),
        ),
        select(ChatIdentity.id)
        .join(Mentor, Mentor.id == ChatIdentity.mentor_id)
        .where(
            ChatIdentity.channel == channel,
            ChatIdentity.external_id == phone,
            ~region_filter(Mentor.region_code, scope),
        ),
    ]
    for query in outside:
        if await session.scalar(query.limit(1)) is not None:
            return False
    return True


async def local_chat(
    session: AsyncSession, channel: str, phone: str, limit: int = 60
) -> tuple[list[InboxUpdate], list[OutboxMessage]]:
    """The latest rows of one simulator chat (its phone already checked against the scope)."""
    identity = await session.scalar(
        select(ChatIdentity).where(
            ChatIdentity.channel == channel, ChatIdentity.external_id == phone
        )
    )
    inbound = list(
        await session.scalars(
            select(InboxUpdate)
            .where(InboxUpdate.chat_key == f"{channel}:{phone}")
            .order_by(InboxUpdate.id.desc())
            .limit(limit)
        )
    )
    outbound = (
        []
        if identity is None
        else list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.identity_id == identity.id)
                .order_by(OutboxMessage.created_at.desc())
                .limit(limit)
            )
        )
    )
    return inbound, outbound
