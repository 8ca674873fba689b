"""Background loops inside `sinergi serve`: the inbox worker, the outbox sender, the preview sweep."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bot.runtime import Runtime
from storage.roster import uploads

log = logging.getLogger("sinergi.workers")


def utcnow() -> datetime:
    """The clock of the entry points; everything below takes `now` as a parameter."""
    return datetime.now(UTC)


async def _loop(
    name: str, wake: asyncio.Event, work: Callable[[], Awaitable[int]], idle: float
) -> None:
    """Run `work` whenever woken, or every `idle` seconds; survive its errors."""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=idle)
        wake.clear()
        try:
            done = await work()
        except Exception:
            log.exception("%s loop failed; trying again", name)
            await asyncio.sleep(idle)
            continue
        if done:
            wake.set()  # there may be more: go again without waiting


async def inbox_loop(rt: Runtime) -> None:
    """Answer stored updates as they arrive, then wake the sender."""

    async def work() -> int:
        handled = await rt.inbox.drain(utcnow())
        if handled:
            rt.outbox_wake.set()
        return handled

    await _loop("inbox", rt.inbox_wake, work, idle=2.0)


async def outbox_loop(rt: Runtime) -> None:
    """Send due messages; retries come due on their own, so also poll."""
    await _loop("outbox", rt.outbox_wake, lambda: rt.sender.deliver(utcnow()), idle=1.0)


async def previews_loop(rt: Runtime) -> None:
    """Delete roster previews left for more than an hour (they hold NIKs in clear)."""
    folder = rt.settings.uploads_path

    async def work() -> int:
        uploads.expire(folder, now=utcnow())
        return 0

    await _loop("previews", asyncio.Event(), work, idle=300.0)


def start(rt: Runtime) -> list[asyncio.Task[None]]:
    """Start the loops (after clearing the previews of the last run); the caller cancels them."""
    uploads.clear(rt.settings.uploads_path)
    return [
        asyncio.create_task(inbox_loop(rt)),
        asyncio.create_task(outbox_loop(rt)),
        asyncio.create_task(previews_loop(rt)),
    ]
