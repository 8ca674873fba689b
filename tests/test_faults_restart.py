"""A burst of Telegram messages while `sinergi serve` is killed (SIGKILL) at random points and restarted.

A real process on a real database (a SQLite file, and PostgreSQL when configured), a fake
Telegram over real HTTP. Telegram redelivers: an update whose POST did not get 200 is posted
again. The kills fall while webhooks are being stored, while the inbox is being answered and
while replies are going out, at points drawn from a fixed seed.

0 lost: every update is answered and every reply reaches Telegram. 0 doubled, except a reply
Telegram accepted in the instant before a kill, before the sender recorded it (the fake gave
it a message_id that no outbox row holds; each life of `serve` has its own bot token, so the
fake knows which life sent it): those are counted for each kill and logged, and a reply may
reach its chat twice only if it is one of them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from storage.models import InboxUpdate, OutboxMessage
from tests.conftest import BACKENDS, _sync_url
from tests.fakes.server import serving
from tests.fakes.telegram import FakeBotApi
from tests.processes import (
    TG_HEADERS,
    Processes,
    free_port,
    sinergi_env,
    telegram_text,
    wait_for,
    wait_healthy,
)

pytestmark = pytest.mark.faults
log = logging.getLogger("sinergi.tests.restart")

# Another draw of the kill points: SINERGI_FAULTS_SEED=<n>.
SEED = int(os.environ.get("SINERGI_FAULTS_SEED", "20261202"))
CHATS = 50
# Each chat's messages, in order: six replies (SETUJU gets two).
TEXTS = ("/start", "BANTUAN", "SETUJU", "MENU", "STATUS")
FIRST_USER = 6_100_000
KILLS = ("intake", "inbox", "sending", "sending", "intake")
DEADLINE = 240.0  # a run takes about 40 s on two shared cores; only a stuck one gets near this


@pytest.fixture(params=BACKENDS)
def blank_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend (`serve` migrates it at start)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/sinergi.db"
    url: str = request.getfixturevalue("blank_postgres")
    return url


@dataclass(frozen=True)
class Delivery:
    """One message Telegram accepted, and which life of `serve` sent it."""

    message_id: int
    life: int
    chat: int
    text: str


def deliveries(bot: FakeBotApi) -> list[Delivery]:
    """What Telegram accepted so far; each life of `serve` has its own bot token (`LIFE<n>`)."""
    sent = [params for _at, params in bot.delivered]
    return [
        Delivery(mid, int(token.rsplit("LIFE", 1)[1]), int(p["chat_id"]), p["text"])
        for (mid, token), p in zip(bot.accepted, sent, strict=False)
    ]


class Tables:
    """Reads the process's database from outside (a short read each time, never a lock)."""

    def __init__(self, url: str) -> None:
        sync = url.replace("+aiosqlite", "") if url.startswith("sqlite") else _sync_url(url)
        self.engine = sa.create_engine(sync)

    def answered(self) -> int:
        """Inbox rows no longer pending."""
        with self.engine.connect() as conn:
            query = sa.select(sa.func.count()).where(InboxUpdate.state != "pending")
            return int(conn.scalar(query) or 0)

    def inbox_states(self) -> Counter[str]:
        with self.engine.connect() as conn:
            return Counter(conn.scalars(sa.select(InboxUpdate.state)))

    def outbox(self) -> list[sa.Row[tuple[str, dict[str, str], str, str | None]]]:
        """Every outbox row: recipient, payload, state, the message_id recorded when it was sent."""
        columns = (
            OutboxMessage.recipient,
            OutboxMessage.payload,
            OutboxMessage.state,
            OutboxMessage.external_message_id,
        )
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(*columns)))

    def recorded_ids(self) -> set[int]:
        """The message_ids the sender recorded (a sent row holds the one Telegram answered)."""
        return {int(row.external_message_id) for row in self.outbox() if row.external_message_id}

    def idle(self) -> bool:
        """Nothing waits: every stored update answered and every reply recorded as sent."""
        return self.answered() == sum(self.inbox_states().values()) and all(
            row.state == "sent" for row in self.outbox()
        )


@dataclass
class Burst:
    """The updates Telegram holds for the bot: each is posted until a POST of it gets 200."""

    port: int
    waiting: list[bytes]
    acked: int = 0

    async def post(self, count: int | None = None, *, concurrency: int = 8) -> None:
        """POST the next `count` waiting updates (all by default), `concurrency` at a time."""
        batch = self.waiting[: len(self.waiting) if count is None else count]
        gate = asyncio.Semaphore(concurrency)
        url = f"http://127.0.0.1:{self.port}/webhook/telegram"
        async with httpx.AsyncClient(timeout=10) as client:

            async def one(body: bytes) -> None:
                async with gate:
                    try:
                        response = await client.post(url, content=body, headers=TG_HEADERS)
                    except httpx.HTTPError:
                        return  # killed mid-POST: Telegram delivers it again later
                    if response.status_code == 200:
                        self.waiting.remove(body)
                        self.acked += 1

            await asyncio.gather(*(one(body) for body in batch))


def burst(now: datetime) -> list[bytes]:
    """Every chat's messages, the first of each chat before the second of any."""
    users = [FIRST_USER + i for i in range(CHATS)]
    return [
        telegram_text(user, 500_000 + step * CHATS + n, now, text)
        for step, text in enumerate(TEXTS)
        for n, user in enumerate(users)
    ]


async def kill_when(
    procs: Processes, ready: Callable[[], bool], deadline: float, what: str
) -> None:
    """SIGKILL `serve` as soon as `ready()` holds."""
    await wait_for(ready, deadline, what, procs)
    procs.kill("web")


async def one_kill(
    kind: str,
    procs: Processes,
    updates: Burst,
    bot: FakeBotApi,
    tables: Tables,
    rng: random.Random,
    deadline: float,
) -> None:
    """Kill while storing webhooks, while answering the inbox, or while sending, at a drawn moment."""
    if kind == "intake":
        target = updates.acked + rng.randint(5, max(5, len(updates.waiting) // 3))
        posting = asyncio.ensure_future(updates.post())
        await kill_when(procs, lambda: updates.acked >= target or posting.done(), deadline, kind)
        await posting  # the POSTs in flight at the kill failed: those updates go again
        return
    await updates.post(rng.randint(20, 60))
    if kind == "inbox":
        target = tables.answered() + rng.randint(1, 30)
        await kill_when(procs, lambda: tables.answered() >= target or tables.idle(), deadline, kind)
    else:
        target = len(bot.delivered) + rng.randint(1, 40)
        await kill_when(
            procs, lambda: len(bot.delivered) >= target or tables.idle(), deadline, kind
        )


async def start_serving(procs: Processes, life: int, port: int, deadline: float) -> None:
    """Start `serve` for its `life`-th time, with a bot token of its own."""
    procs.env["SINERGI_TELEGRAM_TOKEN"] = f"123456:LIFE{life}"
    procs.start("web", "serve", "--no-scheduler", "--port", str(port))
    await wait_healthy([port], deadline, procs)


@pytest.fixture
def world(blank_database: str, tmp_path: Path) -> Iterator[tuple[FakeBotApi, Processes, Tables]]:
    """A fake Telegram, an empty database (`serve` migrates it), `serve` not yet started."""
    bot = FakeBotApi()
    with serving(bot.handler) as telegram_url:
        env = sinergi_env(blank_database, tmp_path, telegram_url, Fernet.generate_key().decode())
        # A reply whose sender died mid-send goes again 2 s after its claim, not a minute.
        env["SINERGI_OUTBOX_LEASE_SECONDS"] = "2"
        procs = Processes(env, tmp_path)
        tables = Tables(blank_database)
        try:
            yield bot, procs, tables
        finally:
            procs.stop()
            tables.engine.dispose()


async def test_a_burst_with_serve_killed_and_restarted_loses_nothing_and_doubles_only_the_instant_before_a_kill(
    world: tuple[FakeBotApi, Processes, Tables],
) -> None:
    bot, procs, tables = world
    rng = random.Random(SEED)
    kinds = list(KILLS)
    rng.shuffle(kinds)
    port = free_port()
    updates = Burst(port, burst(datetime.now(UTC)))
    deadline = time.monotonic() + DEADLINE
    began = time.monotonic()
    for life, kind in enumerate(kinds):
        await start_serving(procs, life, port, deadline)
        log.info("%.1f s: serving (life %d)", time.monotonic() - began, life)
        await one_kill(kind, procs, updates, bot, tables, rng, deadline)
    last = len(kinds)
    await start_serving(procs, last, port, deadline)
    log.info("%.1f s: serving to the end", time.monotonic() - began)
    while updates.waiting:
        await updates.post()
    await wait_for(tables.idle, deadline, "every update answered and every reply sent", procs)
    log.info("%.1f s: drained", time.monotonic() - began)

    assert tables.inbox_states() == {"done": CHATS * len(TEXTS)}, procs.output()
    rows = tables.outbox()
    replies = Counter((int(row.recipient), row.payload["text"]) for row in rows)
    got = Counter((d.chat, d.text) for d in deliveries(bot))
    assert replies - got == Counter()  # 0 lost: each row reached its chat
    per_chat = Counter(chat for chat, _text in replies.elements())
    assert min(per_chat.values()) >= len(TEXTS) and len(per_chat) == CHATS
    # Each sent row holds the message_id of one delivery of its own text to its own chat.
    by_id = {d.message_id: d for d in deliveries(bot)}
    for row in rows:
        delivery = by_id[int(row.external_message_id or 0)]
        assert (delivery.chat, delivery.text) == (int(row.recipient), row.payload["text"])
    # Accepted but never recorded: only a killed life leaves such a send (a dead process
    # records nothing more, so what it left unrecorded is what it had at the kill).
    recorded = tables.recorded_ids()
    unrecorded = [d for d in by_id.values() if d.message_id not in recorded]
    at_kill = Counter(d.life for d in unrecorded)
    assert last not in at_kill, procs.output()
    for life, kind in enumerate(kinds):
        log.warning(
            "kill %d (%s): %d replies accepted by Telegram, not yet recorded",
            life + 1,
            kind,
            at_kill[life],
        )
    # Doubled: the same row's text delivered twice to its chat; only those went twice.
    doubled = got - replies
    assert doubled == Counter((d.chat, d.text) for d in unrecorded)
    log.warning(
        "%d replies, %d doubled, each accepted in the instant before a kill: %s",
        len(rows),
        doubled.total(),
        [(kind, at_kill[life]) for life, kind in enumerate(kinds)],
    )
