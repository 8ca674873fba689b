"""The clock: APScheduler calls the tick every minute; on PostgreSQL only the process holding the
advisory lock does, so several `serve` processes run the jobs once between them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import calendar

log = logging.getLogger("sinergi.clock")

# pg_try_advisory_lock key: "sinergi clock" as a stable 63-bit number.
LOCK_KEY = 0x5349_4E45_5247_4931


class Leader:
    """Holds the clock's advisory lock on a connection of its own (always the leader on SQLite)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.conn: AsyncConnection | None = None

    async def acquire(self) -> bool:
        """True when this process runs the clock (takes the lock if it is free)."""
        if self.engine.dialect.name != "postgresql":
            return True
        if self.conn is not None and await self._alive():
            return True
        conn = await self.engine.connect()
        if await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}):
            self.conn = conn
            return True
        await conn.close()
        return False

    async def _alive(self) -> bool:
        """The lock lives with its connection; a dead connection means the lock is gone."""
        assert self.conn is not None
        try:
            await self.conn.scalar(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - the database went away: try to lead again
            await self.release()
            return False

    async def release(self) -> None:
        """Give the lock back (closing the connection releases it too)."""
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            await conn.close()
        except Exception:  # noqa: BLE001 - closing a broken connection
            log.warning("clock lock connection was already gone")


Tick = Callable[[datetime], Awaitable[Any]]


class Clock:
    """Calls `tick(now)` every `seconds` while this process leads."""

    def __init__(self, tick: Tick, engine: AsyncEngine, *, seconds: int = 60) -> None:
        self.tick, self.leader, self.seconds = tick, Leader(engine), seconds
        self.scheduler = AsyncIOScheduler(timezone=UTC)

    async def beat(self, now: datetime | None = None) -> bool:
        """One beat: run the tick if this process leads; True when it ran."""
        if not await self.leader.acquire():
            return False
        try:
            await self.tick(now or datetime.now(UTC))
        except Exception:
            log.exception("tick failed; the next beat tries again")
        return True

    def start(self) -> None:
        """Beat now and then every `seconds`; a slow beat is never run twice at once."""
        for warning in calendar.holiday_warnings(datetime.now(UTC).date()):
            log.warning(
                "%s (set SINERGI_HOLIDAYS_FILE or update storage/holidays_id.json)", warning
            )
        self.scheduler.add_job(
            self.beat,
            IntervalTrigger(seconds=self.seconds),
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            id="sinergi-tick",
        )
        self.scheduler.start()

    async def stop(self) -> None:
        """Stop beating and give up the lock."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.leader.release()
