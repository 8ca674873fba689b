"""The inbox: raw updates stored before they are answered, processed in order per chat."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, func, select
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from storage.db import BUSY_TIMEOUT_MS, LOCK_TRIES, is_postgres, sqlite_pragmas
from storage.models import InboxUpdate

# On a SQLite file, a passive WAL checkpoint beside the writer after this many batches that
# wrote (a batch writes a handful of pages: SQLite's own checkpoint comes every 1000 pages).
CHECKPOINT_EVERY = 64
# The writer's own automatic checkpoint, kept should the passive ones fall behind (4 kB pages).
BACKSTOP_PAGES = 10_000

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


class SqliteBatches:
    """The group commit on SQLite in one hop to one writer thread per batch.

    Through the async driver a batch cost eight hops between the event loop and the driver's
    thread (BEGIN IMMEDIATE, a cursor, the INSERT, its rows, closing it twice, COMMIT), each a
    queue put, a thread wake-up and a loop wake-up: the better part of a webhook POST's CPU.
    Here the whole transaction runs on the writer's own thread in one call, on its own
    connection with the engine's pragmas (WAL, busy timeout, synchronous=NORMAL): committed
    when the call returns, as before. Errors come back as SQLAlchemy's (the webhooks say 503).

    The WAL is checkpointed on a second thread and connection, not inside a batch's COMMIT:
    SQLite's automatic checkpoint (every 1000 WAL pages) copied pages and synced the file
    while that batch's webhooks waited, a tenth of the batches holding half the writer's time.
    A passive checkpoint runs beside the writer without blocking it; the writer's own
    automatic checkpoint stays as a backstop, at a larger threshold, should that one lag.
    """

    def __init__(self, path: str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        # Made on the first batch and after a close: the app's shutdown and the runtime's both
        # close the writer, and a runtime serving again writes again (as the kept connection of
        # the other databases is opened again).
        self._pool: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None  # touched on the writer thread only
        self._checkpointer: ThreadPoolExecutor | None = None
        self._checkpoint_conn: sqlite3.Connection | None = None  # on the checkpoint thread only
        self._checkpointing: asyncio.Future[None] | None = None
        self._since_checkpoint = 0
        dialect = sqlite_dialect.dialect()
        column = InboxUpdate.__table__.c.received_at
        self._when = column.type.dialect_impl(dialect).bind_processor(dialect) or (lambda v: v)

    @staticmethod
    def usable(engine: AsyncEngine) -> str | None:
        """The database file of a SQLite engine, or None (PostgreSQL, or a database in memory)."""
        url = engine.url
        if engine.dialect.name != "sqlite" or not url.database or url.database == ":memory:":
            return None
        if url.query.get("mode") == "memory" or url.database.startswith("file:"):
            return None
        return url.database

    async def store(self, rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
        """The batch committed; the (channel, id) keys that were new."""
        if not rows:
            return set()
        values = [
            value
            for row in rows
            for value in (
                row["channel"],
                row["external_id"],
                row["chat_key"],
                row["raw"],
                self._when(row["received_at"]),
                row["state"],
            )
        ]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sinergi-inbox")
        loop = asyncio.get_running_loop()
        try:
            keys = await loop.run_in_executor(self._pool, self._write, len(rows), values)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(
                _batch_sql(len(rows)), None, exc, sqlite3.Error, hide_parameters=True
            ) from exc
        if keys:
            self._after_commit(loop)
        return keys

    def _after_commit(self, loop: asyncio.AbstractEventLoop) -> None:
        """Every CHECKPOINT_EVERY batches that wrote, a passive checkpoint started, not awaited."""
        self._since_checkpoint += 1
        if self._since_checkpoint < CHECKPOINT_EVERY:
            return
        if self._checkpointing is not None and not self._checkpointing.done():
            return  # one at a time; the next batch asks again
        self._since_checkpoint = 0
        if self._checkpointer is None:
            self._checkpointer = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="sinergi-inbox-checkpoint"
            )
        self._checkpointing = loop.run_in_executor(self._checkpointer, self._checkpoint)

    def _checkpoint(self) -> None:
        """On the checkpoint thread: copy what it can of the WAL into the database, waiting
        for nobody; a failure only leaves it for the next one (or the writer's backstop)."""
        try:
            if self._checkpoint_conn is None:
                self._checkpoint_conn = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False
                )
            self._checkpoint_conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:
            conn, self._checkpoint_conn = self._checkpoint_conn, None
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()

    def _write(self, count: int, values: list[Any]) -> set[tuple[str, str]]:
        """On the writer thread: BEGIN IMMEDIATE, the INSERT, COMMIT; the connection is
        dropped on any error, so a broken one is never reused."""
        conn = self._conn or self._connect()
        try:
            self._begin(conn)
            keys = {(ch, ext) for ch, ext in conn.execute(_batch_sql(count), values).fetchall()}
            conn.execute("COMMIT")
        except BaseException:
            self._conn = None
            with contextlib.suppress(sqlite3.Error):
                conn.close()  # an open transaction is rolled back
            raise
        return keys

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout_ms / 1000,
            isolation_level=None,
            check_same_thread=False,  # opened and used on the one writer thread, closed there
        )
        sqlite_pragmas(conn, None, busy_timeout_ms=self.busy_timeout_ms)
        conn.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
        self._conn = conn
        return conn

    def _begin(self, conn: sqlite3.Connection) -> None:
        """The write lock taken up front, waited for as every writer here waits for it."""
        for attempt in range(1, LOCK_TRIES + 1):
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "database is locked" not in str(exc) or attempt == LOCK_TRIES:
                    raise

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _close_checkpoint(self) -> None:
        conn, self._checkpoint_conn = self._checkpoint_conn, None
        if conn is not None:
            conn.close()

    async def close(self) -> None:
        """Close each connection on its thread, then the threads (a second close does nothing)."""
        loop = asyncio.get_running_loop()
        checkpointer, self._checkpointer = self._checkpointer, None
        self._checkpointing, self._since_checkpoint = None, 0
        if checkpointer is not None:
            with contextlib.suppress(sqlite3.Error):
                await loop.run_in_executor(checkpointer, self._close_checkpoint)
            checkpointer.shutdown(wait=True)
        pool, self._pool = self._pool, None
        if pool is None:
            return
        with contextlib.suppress(sqlite3.Error):
            await loop.run_in_executor(pool, self._close)
        pool.shutdown(wait=True)


_COLUMNS = "channel, external_id, chat_key, raw, received_at, state"


@functools.lru_cache(maxsize=64)
def _batch_sql(count: int) -> str:
    """The multi-row INSERT for `count` updates; a redelivery is skipped by the unique key."""
    rows = ",".join(["(?,?,?,?,?,?)"] * count)
    # Only constants and placeholders go into the text; every value is bound.
    return (
        f"INSERT INTO {InboxUpdate.__tablename__} ({_COLUMNS}) VALUES {rows}"  # noqa: S608
        " ON CONFLICT (channel, external_id) DO NOTHING RETURNING channel, external_id"
    )
