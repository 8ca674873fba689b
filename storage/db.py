"""Engine and sessions: SQLite (WAL, busy timeout) as the embedded default, PostgreSQL at scale.

On SQLite a unit of work takes the write lock up front (`BEGIN IMMEDIATE`): a deferred
transaction that reads and then writes fails at once ("database is locked") when another
writer committed in between, because the busy timeout does not cover that upgrade. Taking
the lock first makes writers wait their turn; reads (`sessions()` without a unit of work)
stay deferred, so the admin view reads while the workers write.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = logging.getLogger("sinergi.db")

Sessions = async_sessionmaker[AsyncSession]

# The execution option that marks a connection's transaction as a writer's.
WRITE = "sinergi_write"
BUSY_TIMEOUT_MS = 10_000
# PostgreSQL compiles a query to machine code (JIT) when its estimated cost is high: the ladder's
# sweep and lists are such queries, run once each, and compiling took longer than running them
# (0.6 s of the weekly list's statement at a million households).
POSTGRES_OPTIONS = "-c jit=off"
# BEGIN IMMEDIATE waits the busy timeout each time; after this many waits the unit gives up.
LOCK_TRIES = 5


def make_engine(url: str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS, **kwargs: Any) -> AsyncEngine:
    """An async engine; on SQLite the file's folder is made and WAL mode switched on.

    Errors never print statement parameters: they carry names, phones and NIK hashes.
    """
    parsed = make_url(url)
    kwargs.setdefault("hide_parameters", True)
    # aiosqlite logs every statement with its values at DEBUG: never let them reach a log.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_file(Path(parsed.database))
        engine = create_async_engine(url, **kwargs)
        event.listen(
            engine.sync_engine, "connect", partial(sqlite_pragmas, busy_timeout_ms=busy_timeout_ms)
        )
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("connect_args", {}).setdefault("options", POSTGRES_OPTIONS)
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def _private_file(path: Path) -> None:
    """Create the database file readable by its owner only (SQLite gives its WAL the same mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def sqlite_pragmas(dbapi_conn: Any, _record: Any, *, busy_timeout_ms: int) -> None:
    """WAL lets the web server read while the workers write; the timeout waits out locks."""
    # The driver's own transaction handling breaks SAVEPOINT; we emit BEGIN ourselves.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    """Start the transaction explicitly (so savepoints nest); a writer's takes the lock now."""
    if not conn.get_execution_options().get(WRITE):
        conn.exec_driver_sql("BEGIN")
        return
    for attempt in range(1, LOCK_TRIES + 1):
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            # Nothing ran yet, so trying again is the whole unit of work again.
            if not is_locked(exc) or attempt == LOCK_TRIES:
                raise
            log.warning("write lock busy after %d waits; waiting again", attempt)


def is_locked(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" (another writer held on past the busy timeout)."""
    return "database is locked" in str(getattr(exc, "orig", exc))


def make_sessions(engine: AsyncEngine) -> Sessions:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(sessions: Sessions, *, write: bool = True) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends, rolled back when it raises.

    A writing unit (the default) holds SQLite's write lock from its first statement, so it
    never fails half-way for another writer; `write=False` reads a snapshot without the lock.
    """
    async with sessions() as session, session.begin():
        if write:
            await session.connection(execution_options={WRITE: True})
        yield session


def statement_writer(engine: AsyncEngine) -> AsyncEngine:
    """The engine for writers whose transaction is one statement (the webhooks' inbox INSERT).

    On PostgreSQL the statement commits itself (autocommit): no BEGIN and COMMIT round trips,
    and it is durable when it returns. On SQLite the unit takes the write lock up front, as
    every writer does here.
    """
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine.execution_options(**{WRITE: True})


def is_postgres(session_or_engine: AsyncSession | AsyncEngine) -> bool:
    """True on PostgreSQL, where row locks and advisory locks exist."""
    bind = (
        session_or_engine.get_bind()
        if isinstance(session_or_engine, AsyncSession)
        else session_or_engine
    )
    return bind.dialect.name == "postgresql"
