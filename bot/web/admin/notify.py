"""Telling a household of a staff action: outbox rows in the household's own language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import use_locale
from bot.messages import Reply
from storage import outbox
from storage.identities import identities_of_household


async def tell_household(
    session: AsyncSession,
    household_id: int,
    build: Callable[[], Reply],
    *,
    now: datetime,
    dedupe_key: str | None = None,
) -> int:
    """Queue `build()` to each reachable chat of the household; how many chats will hear it.

    The WhatsApp sender swaps in an approved template when the 24-hour window is closed.
    """
    identities = await identities_of_household(session, household_id)
    for identity in identities:
        with use_locale(identity.locale):
            reply = build()
        key = f"{dedupe_key}:{identity.id}" if dedupe_key else None
        outbox.enqueue(session, identity, reply.to_payload(), now=now, dedupe_key=key)
    return len(identities)
