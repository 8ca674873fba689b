"""Several writers on one database at once: every message answered once, no lock error lost work."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import func, select, text

from bot.channels.local import LocalClient, make_update
from bot.commands.chat import TerminalChat
from bot.config import Settings
from bot.messages import Reply
from bot.runtime import Runtime, build_runtime
from bot.web.webhooks.store import store_update
from scheduler.jobs import run_due
from storage.db import make_engine, make_sessions, unit_of_work
from storage.models import ChatIdentity, InboxUpdate, OutboxMessage
from storage.outbox import enqueue
from tests.conftest import T0
from tests.harness import Harness
from tests.ladder_factories import enrolled

CHATS, MESSAGES_EACH, DUE_FAMILIES = 100, 5, 60


def _runtime(settings: Settings, sent: Counter[str]) -> Runtime:
    """One process's runtime (its own engine and pool) whose simulator counts what it sends."""

    def on_send(recipient: str, reply: Reply) -> None:
        sent[f"{recipient}|{reply.text}"] += 1

    return build_runtime(settings, clients={"simulator": LocalClient("simulator", on_send)})


async def _until(stop: asyncio.Event, step: Callable[[], Awaitable[object]]) -> None:
    """A background loop as bot/workers.py runs it: errors are logged and the loop goes on."""
    while not stop.is_set():
        try:
            await step()
        except Exception:
            logging.getLogger("sinergi.workers").exception("loop failed; trying again")
        await asyncio.sleep(0.01)


async def _settled(rt: Runtime) -> bool:
    """Nothing waits in the inbox and nothing is left to send."""
    async with rt.sessions() as session:
        inbox = await session.scalar(select(func.count()).where(InboxUpdate.state == "pending"))
        outbox = await session.scalar(
            select(func.count()).where(OutboxMessage.state.in_(("pending", "retry", "sending")))
        )
    return not inbox and not outbox


async def test_concurrent_writers_answer_every_message_once_without_database_locked(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """500 messages stored and answered by two workers while ticks write check-ins in parallel."""
    caplog.set_level(logging.INFO)
    sent: Counter[str] = Counter()
    web, worker, clock = (_runtime(settings, sent) for _ in range(3))
    async with unit_of_work(web.sessions) as session:
        for n in range(DUE_FAMILIES):
            await enrolled(
                session,
                web.vault,
                n=n,
                name=f"Keluarga {n:03d}",
                mentor_id=None,
                user_id=7_000_000 + n,
                channel="simulator",
            )
    stop = asyncio.Event()

    async def work(rt: Runtime) -> None:
        await rt.inbox.drain(T0)
        while await rt.sender.deliver(T0):
            pass

    loops = [
        asyncio.create_task(_until(stop, lambda: work(web))),
        asyncio.create_task(_until(stop, lambda: work(worker))),
        asyncio.create_task(_until(stop, lambda: run_due(clock.sessions, T0))),
        asyncio.create_task(_until(stop, lambda: work(clock))),
    ]

    async def chat(n: int) -> None:
        phone = f"+62857{n:08d}"
        for i in range(MESSAGES_EACH):
            update = make_update(phone, text=f"halo {i}", now=T0)
            response = await store_update(
                web,
                "simulator",
                str(update["id"]),
                f"simulator:{phone}",
                json.dumps(update).encode(),
            )
            assert response.status_code == 200

    try:
        await asyncio.gather(*(chat(n) for n in range(CHATS)))
        for _ in range(600):
            if await _settled(web):
                break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.gather(*loops)

    async with web.sessions() as session:
        inbox = dict(
            (
                await session.execute(
                    select(InboxUpdate.state, func.count()).group_by(InboxUpdate.state)
                )
            ).all()
        )
        outbox = dict(
            (
                await session.execute(
                    select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
                )
            ).all()
        )
        checkins = await session.scalar(
            select(func.count()).where(OutboxMessage.dedupe_key.is_not(None))
        )
    for rt in (web, worker, clock):
        await rt.close()
    assert inbox == {"done": CHATS * MESSAGES_EACH}
    assert set(outbox) == {"sent"}
    assert checkins == DUE_FAMILIES
    assert sum(sent.values()) == outbox["sent"], "some message went out twice"
    locked = [
        r for r in caplog.records if "database is locked" in r.getMessage() + (r.exc_text or "")
    ]
    assert not locked
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_write_waits_out_a_lock_held_longer_than_the_busy_timeout(
    settings: Settings,
) -> None:
    """A writer that holds the lock past the busy timeout delays the next unit of work, not fails it."""
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite's busy timeout")
    holder = make_engine(settings.database_url)
    waiter = make_engine(settings.database_url, busy_timeout_ms=100)
    sessions = make_sessions(waiter)
    try:
        async with holder.connect() as conn:
            await conn.execute(text("UPDATE regions SET name = name"))  # BEGIN, then the lock

            async def release() -> None:
                await asyncio.sleep(0.35)
                await conn.commit()

            releasing = asyncio.create_task(release())
            async with unit_of_work(sessions) as session:
                await session.execute(text("UPDATE regions SET name = name"))
            await releasing
    finally:
        await holder.dispose()
        await waiter.dispose()


async def test_terminal_chat_gets_its_replies_and_staff_messages_while_a_server_runs(
    harness: Harness, settings: Settings
) -> None:
    """`sinergi chat` next to `sinergi serve` on one database: the server takes none of its messages."""
    shown: list[str] = []
    terminal_rt = build_runtime(settings, clients={})
    terminal = TerminalChat.attach(
        terminal_rt, "+6285700000001", lambda _r, r: shown.append(r.text)
    )
    try:
        update = make_update(terminal.number, text="/start", now=harness.now)
        body = json.dumps(update).encode()
        await store_update(terminal_rt, "console", str(update["id"]), terminal.chat_key, body)
        await harness.work()  # the server's workers come first
        assert await terminal.poll(harness.now) == 1
        assert len(shown) == 1
        await terminal.say("halo", harness.now)
        assert len(shown) == 2

        async with unit_of_work(harness.rt.sessions) as session:
            identity = await session.scalar(
                select(ChatIdentity).where(ChatIdentity.channel == "console")
            )
            assert identity is not None
            enqueue(
                session, identity, Reply("Pesan dari petugas Dinsos").to_payload(), now=harness.now
            )
        await harness.work()
        await terminal.poll(harness.now)
        assert shown[-1] == "Pesan dari petugas Dinsos"
        async with harness.rt.sessions() as session:
            states = set(await session.scalars(select(OutboxMessage.state)))
        assert states == {"sent"}
    finally:
        await terminal_rt.close()
