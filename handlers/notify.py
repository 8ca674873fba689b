"""Telling people something: one outbox row per reachable chat, each in that chat's language.

The words come from `handlers/notices.py`; `storage/outbox.py` is the row underneath.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Reply
from locales.i18n import use_locale
from storage import outbox
from storage.identities import (
    identities_of_household,
    identities_of_mentor,
    identities_of_organisation,
)
from storage.models import ChatIdentity, Organisation


async def tell_chats(
    session: AsyncSession,
    chats: list[ChatIdentity],
    build: Callable[[], Reply],
    *,
    now: datetime,
    dedupe_key: str | None = None,
    hours: dict[str, str] | None = None,
    once: bool = False,
) -> int:
    """Queue `build()`, rendered in each chat's locale, to every chat; how many were queued.

    `:<chat id>` ends each dedupe key. `hours` ({"region", "start", "end"}) keeps the message
    to delivery hours there: one queued at night waits for the morning (bot/sender.py).
    `once` skips a chat whose key is already in the outbox (a job that may run twice).
    """
    queued = 0
    for chat in chats:
        with use_locale(chat.locale):
            payload = build().to_payload()
        if hours:
            payload["hours"] = hours
        key = f"{dedupe_key}:{chat.id}" if dedupe_key else None
        if once and key:
            queued += await outbox.enqueue_once(session, chat, payload, now=now, dedupe_key=key)
            continue
        outbox.enqueue(session, chat, payload, now=now, dedupe_key=key)
        queued += 1
    return queued


async def tell_household(
    session: AsyncSession, household_id: int, build: Callable[[], Reply], **options: Any
) -> int:
    """Queue `build()` to each reachable chat of the household; how many chats will hear it.

    `options` are tell_chats' (now, dedupe_key, hours, once). The WhatsApp sender swaps in an
    approved template when the 24-hour window is closed.
    """
    chats = await identities_of_household(session, household_id)
    return await tell_chats(session, chats, build, **options)


async def tell_mentor(
    session: AsyncSession, mentor_id: int | None, build: Callable[[], Reply], **options: Any
) -> int:
    """Queue `build()` to each reachable chat of the mentor (none without a mentor); how many."""
    if mentor_id is None:
        return 0
    chats = await identities_of_mentor(session, mentor_id)
    return await tell_chats(session, chats, build, **options)


async def tell_organisation(
    session: AsyncSession, organisation: Organisation, build: Callable[[], Reply], **options: Any
) -> int:
    """Queue `build()` to each chat of the organisation (its number's, its partners' own); how many."""
    chats = await identities_of_organisation(session, organisation.phone, organisation.id)
    return await tell_chats(session, chats, build, **options)
