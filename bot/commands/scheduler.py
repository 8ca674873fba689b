"""`sinergi scheduler`: the clock as a process of its own (jobs every minute, then the outbox)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from bot.commands.common import migrated_runtime, run, settings, setup_logging
from bot.commands.tick import run_tick
from scheduler.clock import Clock

log = logging.getLogger("sinergi.scheduler")


def scheduler() -> None:
    """Run the scheduler clock alone; with PostgreSQL, only one such process ticks at a time."""
    setup_logging()

    async def main() -> None:
        rt = await migrated_runtime(settings())

        async def tick(now: datetime) -> None:
            summary = await run_tick(rt, now)
            log.info("tick %s", summary)

        clock = Clock(tick, rt.engine)
        clock.start()
        try:
            await asyncio.Event().wait()  # until interrupted
        finally:
            await clock.stop()
            await rt.close()

    run(main)
