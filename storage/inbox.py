"""The inbox: raw updates stored before they are answered, processed in order per chat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Insert, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.db import is_postgres
from storage.models import InboxUpdate

# The first key of the per-chat advisory locks (two-key locks never meet the clock's one-key lock).
CHAT_LOCKS = 5_147_001


async def store(
    session: AsyncSession,
    *,
    channel: str,
    external_id: str,
    chat_key: str,
    raw: str,
    now: datetime,
    state: str = "pending",
    error: str | None = None,
) -> bool:
    """Insert the update unless its id was seen before; True when it is new."""
    values = dict(
        channel=channel,
        external_id=external_id,
        chat_key=chat_key,
        raw=raw,
        received_at=now,
        state=state,
        error=error,
    )
    insert = pg_insert if is_postgres(session) else sqlite_insert
    stmt = (
        insert(InboxUpdate)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        .returning(InboxUpdate.id)
    )
    # rowcount is unreliable for ON CONFLICT DO NOTHING across drivers; RETURNING is not.
    return (await session.execute(stmt)).scalar() is not None


async def store_many(session: AsyncSession, rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """Insert in one statement the updates not seen before; the (channel, id) keys that were new."""
    if not rows:
        return set()
    insert = pg_insert if is_postgres(session) else sqlite_insert
    stmt = (
        insert(InboxUpdate)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        .returning(InboxUpdate.channel, InboxUpdate.external_id)
    )
    return {(channel, external_id) for channel, external_id in await session.execute(stmt)}


def _batch_insert(dialect: str) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING RETURNING the new keys, built once per dialect."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(InboxUpdate)
        .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        .returning(InboxUpdate.channel, InboxUpdate.external_id)
    )


# The same statement object every time, so SQLAlchemy compiles it once and reuses it.
_BATCH_INSERTS = {name: _batch_insert(name) for name in ("postgresql", "sqlite")}


async def store_batch(conn: AsyncConnection, rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """The webhooks' group commit: one INSERT for the batch, a redelivery skipped by the
    unique key in the same round trip; the (channel, id) keys that were new.

    On a plain connection (no ORM session): the caller owns the transaction.
    """
    if not rows:
        return set()
    stmt = _BATCH_INSERTS[conn.dialect.name]
    # A list of rows runs as "insertmanyvalues": one multi-row VALUES, RETURNING included.
    result = await conn.execute(stmt, rows if len(rows) > 1 else rows[0])
    return {(channel, external_id) for channel, external_id in result}


async def pending_chats(session: AsyncSession, *, limit: int) -> list[str]:
    """Chats with updates waiting, oldest first."""
    rows = await session.execute(
        select(InboxUpdate.chat_key, func.min(InboxUpdate.id).label("first"))
        .where(InboxUpdate.state == "pending")
        .group_by(InboxUpdate.chat_key)
        .order_by("first")
        .limit(limit)
    )
    return [row.chat_key for row in rows]


async def claim_chat(session: AsyncSession, chat_key: str) -> list[InboxUpdate]:
    """This chat's waiting updates in arrival order, locked so another worker skips them."""
    query = (
        select(InboxUpdate)
        .where(InboxUpdate.chat_key == chat_key, InboxUpdate.state == "pending")
        .order_by(InboxUpdate.id)
        .limit(50)
    )
    if is_postgres(session):
        # One worker per chat: an update that arrives while another worker answers this chat
        # waits for it (row locks alone would let two workers answer one chat out of order).
        lock = func.pg_try_advisory_xact_lock(CHAT_LOCKS, func.hashtext(chat_key))
        if not await session.scalar(select(lock)):
            return []
        query = query.with_for_update(skip_locked=True)
    return list(await session.scalars(query))


async def count_by_state(session: AsyncSession) -> dict[str, int]:
    """How many updates are in each state, for metrics."""
    rows = await session.execute(
        select(InboxUpdate.state, func.count()).group_by(InboxUpdate.state)
    )
    return {state: int(n) for state, n in rows}
