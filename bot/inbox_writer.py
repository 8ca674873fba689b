"""Group commit for the webhooks: updates that arrive while a commit runs share the next one.

Each webhook still answers 200 only after its update is committed, and each POST still
costs at most one commit; under load many POSTs share it, which is what lets a small
server keep up with Meta's and Telegram's bursts. A batch is one compiled INSERT on a plain
connection (no ORM session) that the writer keeps between batches; on PostgreSQL it commits
itself, so a batch is one round trip, and a redelivery is skipped inside that same statement.
On a SQLite file the whole transaction is one call on the writer's own thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import inbox

# One multi-row INSERT holds at most this many updates (SQLite binds 8 values per row).
MAX_BATCH = 500


KEY_WIDTH = 128  # inbox_updates.external_id and chat_key are VARCHAR(128)


def fitted(key: str) -> str:
    """`key` itself when it fits its column, else `sha256:<hex>` (the same key, the same hash)."""
    if len(key) <= KEY_WIDTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class NewUpdate:
    """One raw update to keep: already sealed, keyed by the platform's id."""

    channel: str
    external_id: str
    chat_key: str
    raw: str
    received_at: datetime

    def __post_init__(self) -> None:
        # Keys wider than their columns (a forged id or sender) would be refused by PostgreSQL,
        # and the platform would be told 503 forever: a longer key is kept as its hash.
        object.__setattr__(self, "external_id", fitted(self.external_id))
        object.__setattr__(self, "chat_key", fitted(self.chat_key))

    def row(self) -> dict[str, Any]:
        """The inbox row's values."""
        return {
            "channel": self.channel,
            "external_id": self.external_id,
            "chat_key": self.chat_key,
            "raw": self.raw,
            "received_at": self.received_at,
            "state": "pending",
        }


@dataclass
class _Waiting:
    updates: list[NewUpdate]
    done: asyncio.Future[list[bool]]


@dataclass
class InboxWriter:
    """Stores webhook updates durably, batching the ones that wait at the same moment."""

    engine: AsyncEngine  # storage.db.statement_writer(engine): one statement, one commit
    _queue: list[_Waiting] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None
    # Kept between batches: the pool's checkout (PostgreSQL's liveness ping, SQLite's reset
    # on return) cost a round trip per batch. Dropped on any error, so a dead one is replaced.
    _conn: AsyncConnection | None = None
    # On a SQLite file, each batch is one call on the writer's own thread (see SqliteBatches).
    _sqlite: inbox.SqliteBatches | None = None

    def __post_init__(self) -> None:
        path = inbox.SqliteBatches.usable(self.engine)
        if path is not None:
            self._sqlite = inbox.SqliteBatches(path)

    async def store(self, updates: list[NewUpdate]) -> list[bool]:
        """Commit these updates; for each, True when it is new and False for a redelivery."""
        waiting = _Waiting(updates, asyncio.get_running_loop().create_future())
        self._queue.append(waiting)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        return await waiting.done

    async def _drain(self) -> None:
        """Commit what is queued, batch after batch, until nothing waits."""
        while self._queue:
            batch = self._take()
            try:
                fresh = await self._commit(batch)
            except BaseException as exc:  # the callers answer 503 and the platform retries
                for waiting in batch:
                    if not waiting.done.done():
                        waiting.done.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for waiting in batch:
                if not waiting.done.done():
                    waiting.done.set_result([_first(fresh, u) for u in waiting.updates])

    def _take(self) -> list[_Waiting]:
        """The oldest waiting POSTs, up to about MAX_BATCH updates."""
        batch: list[_Waiting] = []
        size = 0
        while self._queue and (not batch or size + len(self._queue[0].updates) <= MAX_BATCH):
            waiting = self._queue.pop(0)
            batch.append(waiting)
            size += len(waiting.updates)
        return batch

    async def _commit(self, batch: list[_Waiting]) -> set[tuple[str, str]]:
        """One transaction and one INSERT for the whole batch; returns the keys that were new."""
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for waiting in batch:
            for update in waiting.updates:
                rows.setdefault((update.channel, update.external_id), update.row())
        try:
            return await self._insert(list(rows.values()))
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            # The kept connection had died (a database restart): the INSERT is idempotent,
            # so once more on a fresh, pinged one rather than a 503.
            return await self._insert(list(rows.values()))

    async def _insert(self, rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
        """The batch's INSERT committed on the kept connection (taken anew after an error)."""
        if self._sqlite is not None:
            return await self._sqlite.store(rows)
        if self._conn is None:
            self._conn = await self.engine.connect()
        conn = self._conn
        try:
            async with conn.begin():
                return await inbox.store_batch(conn, rows)
        except BaseException:
            # Its state is unknown now (an error, a cancel mid-statement): never reuse it.
            self._conn = None
            with contextlib.suppress(Exception):
                await conn.invalidate()
                await conn.close()
            raise

    async def close(self) -> None:
        """Give the kept connection back (before the engine is disposed)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()
        if self._sqlite is not None:
            await self._sqlite.close()


def _first(fresh: set[tuple[str, str]], update: NewUpdate) -> bool:
    """True the first time a new key is reported, so a key twice in one batch counts once."""
    key = (update.channel, update.external_id)
    if key in fresh:
        fresh.discard(key)
        return True
    return False
