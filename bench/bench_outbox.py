"""The outbox at the platforms' limits: replies and a wave of check-ins through the real sender.

    python -m bench outbox                                  # SQLite, a tenth of the issue's counts
    SINERGI_BENCH_OUTBOX_SCALE=1 python -m bench outbox     # 10,000 replies + 20,000 check-ins
    SINERGI_BENCH_POSTGRES_URL=… python -m bench outbox     # and PostgreSQL
    SINERGI_BENCH_OUTBOX_SENDERS=3 python -m bench outbox   # the shared run with 3 senders

The sender (bot/sender.py, paced as the default settings say: Telegram 30/s and 1 s per chat,
WhatsApp 60/s and 6 s per person) sends through the real Telegram and WhatsApp clients to the
fakes of tests/fakes, behind an HTTP transport that answers each call after 30–80 ms. Each
channel runs twice: replies alone, arriving as people write (in turns of 1–3 messages to a
chat, at two thirds of the channel's rate), then the same replies while a wave of check-ins
queued at the start drains. The wave is queued the way the ladder does it (its dedupe keys).

Reported, per run: the delivery rate while the queue was never empty against the channel's
rate, the per-person spacing violations and the channel-rate violations (any 1 s with more
sends than the rate) the platform would have seen, both within 20 ms of jitter, and the replies' p50/p95 time from being
queued to reaching the platform; `p95_ratio` is the wave run's p95 over the replies-alone p95.
The counts are the issue's times SCALE (the rates and latencies are real time, not scaled).

A third run per channel drains the same replies and wave with SENDERS senders at once, each
with its own engine, client and pacer (as `serve` and a scheduler tick are separate processes:
nothing but the database is shared); the platform must see the same limits kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from telegram.request import HTTPXRequest

from bench import dbs
from bot.channels.telegram import TelegramClient
from bot.channels.whatsapp import WhatsAppClient
from bot.config import DEFAULT_WHATSAPP_TEMPLATES, Settings
from bot.messages import Reply
from bot.metrics import Metrics
from bot.sender import OutboxSender, pacer_from
from storage import outbox
from storage.db import make_engine, make_sessions, unit_of_work
from storage.models import ChatIdentity
from tests.fakes.telegram import FakeBotApi
from tests.fakes.whatsapp import FakeGraphApi

SCALE = float(os.environ.get("SINERGI_BENCH_OUTBOX_SCALE", "0.1"))
REPLIES, WAVE, REPLY_CHATS = int(10_000 * SCALE), int(20_000 * SCALE), 900
SENDERS = int(os.environ.get("SINERGI_BENCH_OUTBOX_SENDERS", "2"))
LATENCY = (0.030, 0.080)
# The platform sees a call a few ms after the sender's clock does, and not always the same few.
JITTER = 0.02
TAG = re.compile(r"\[(\w+)\]")
SETTINGS = Settings()


def run() -> list[dict[str, Any]]:
    """Each backend and channel: replies alone, then replies during a wave."""
    rows = []
    for backend in dbs.backends():
        for channel in ("telegram", "whatsapp"):
            alone = _run(backend, channel, wave=0)
            during = _run(backend, channel, wave=WAVE)
            shared = _run(backend, channel, wave=WAVE, senders=SENDERS)
            for run in (during, shared):
                run["p95_ratio"] = round(
                    (run["reply_p95_s"] or 0) / max(alone["reply_p95_s"] or 0, 1e-6), 2
                )
            rows += [alone, during, shared]
    return rows


def _run(backend: str, channel: str, *, wave: int, senders: int = 1) -> dict[str, Any]:
    """One fresh database, one run."""
    with dbs.fresh(backend) as url:
        return asyncio.run(_measure(backend, url, channel, wave, senders))


@dataclass
class Platform:
    """The fake platform behind a latency: when each call reached it, and for whom."""

    arrivals: list[tuple[float, str]] = field(default_factory=list)
    tags: dict[str, float] = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: random.Random(16))
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def all_in(self, expected: int) -> None:
        """Until `expected` tagged messages have arrived."""
        while len(self.tags) < expected:
            self.arrived.clear()
            await self.arrived.wait()

    def transport(self, answer: Any, read: Any) -> httpx.MockTransport:
        """An async transport: note the call, answer it with the fake after the latency."""

        async def handle(request: httpx.Request) -> httpx.Response:
            at = time.perf_counter()
            response = answer(request)
            found = read(request)
            if found is not None:
                recipient, text = found
                self.arrivals.append((at, recipient))
                for tag in TAG.findall(text):
                    self.tags.setdefault(tag, at)
                self.arrived.set()
            await asyncio.sleep(self.rng.uniform(*LATENCY))
            return response

        return httpx.MockTransport(handle)


def _telegram(platform: Platform) -> TelegramClient:
    """The real client on the fake Bot API."""
    fake = FakeBotApi()

    def read(request: httpx.Request) -> tuple[str, str] | None:
        method, params = fake.calls[-1]
        return (str(params["chat_id"]), str(params["text"])) if method == "sendMessage" else None

    def request() -> HTTPXRequest:
        kwargs = {"transport": platform.transport(fake.handler, read)}
        return HTTPXRequest(connection_pool_size=64, httpx_kwargs=kwargs)

    return TelegramClient("123:bench", "https://bot.test", request(), request())


def _whatsapp(platform: Platform) -> WhatsAppClient:
    """The real client on the fake Graph API."""
    fake = FakeGraphApi()

    def read(request: httpx.Request) -> tuple[str, str] | None:
        body = json.loads(request.content or b"{}")
        if body.get("status") == "read" or "to" not in body:
            return None
        text = body.get("text", {}).get("body") or json.dumps(body)
        return str(body["to"]), text

    return WhatsAppClient(
        "token",
        "1234",
        "https://graph.test/v23.0",
        templates=DEFAULT_WHATSAPP_TEMPLATES,
        transport=platform.transport(fake.handler, read),
    )


async def _measure(backend: str, url: str, channel: str, wave: int, senders: int) -> dict[str, Any]:
    """Queue the wave, start the senders, write the replies as people would; read the platform."""
    platform = Platform()
    engines = [make_engine(url) for _ in range(senders)]
    sessions = make_sessions(engines[0])
    now = datetime.now(UTC)
    chats = await _identities(sessions, channel, REPLY_CHATS + wave, now)
    rate = SETTINGS.telegram_rate if channel == "telegram" else SETTINGS.whatsapp_rate
    async with unit_of_work(sessions) as session:
        for i, chat in enumerate(chats[REPLY_CHATS:]):
            reply = Reply(f"Check-in bulan ini [w{i}]")
            outbox.enqueue(session, chat, reply.to_payload(), now=now, dedupe_key=f"ladder:c:{i}")
    wakes, stop = [asyncio.Event() for _ in engines], asyncio.Event()
    wake = Wake(wakes)
    started = time.perf_counter()
    loops = [
        asyncio.create_task(_sender_loop(_sender(engine, channel, platform), mine, stop))
        for engine, mine in zip(engines, wakes, strict=True)
    ]
    queued = await _write_replies(sessions, chats[:REPLY_CHATS], wake, rate * 2 / 3)
    expected = REPLIES + wave
    with contextlib.suppress(TimeoutError):  # what has not arrived by then is reported missing
        await asyncio.wait_for(platform.all_in(expected), timeout=expected / rate * 3)
    stop.set()
    wake.set()
    await asyncio.gather(*loops)
    for engine in engines:
        await engine.dispose()
    return _report(backend, channel, wave, senders, platform, queued, rate, started)


@dataclass
class Wake:
    """A reply queued wakes every sender, as each process's own wake-up would."""

    events: list[asyncio.Event]

    def set(self) -> None:
        """Wake them all."""
        for event in self.events:
            event.set()


def _sender(engine: Any, channel: str, platform: Platform) -> OutboxSender:
    """One sender as its own process would have it: its engine, its client, its pacer."""
    client = _telegram(platform) if channel == "telegram" else _whatsapp(platform)
    return OutboxSender(
        make_sessions(engine), {channel: client}, Metrics(), pacer=pacer_from(SETTINGS)
    )


async def _identities(sessions: Any, channel: str, n: int, now: datetime) -> list[ChatIdentity]:
    """`n` consented chats on `channel`, each written to within the day (WhatsApp's window open)."""
    async with unit_of_work(sessions) as session:
        chats = [
            ChatIdentity(
                channel=channel,
                external_id=str(700_000_000 + i) if channel == "telegram" else f"628{i:09d}",
                phone=f"+628{i:09d}" if channel == "whatsapp" else None,
                consent_at=now,
                last_inbound_at=now,
                created_at=now,
            )
            for i in range(n)
        ]
        session.add_all(chats)
        await session.flush()
        session.expunge_all()
    return chats


async def _write_replies(
    sessions: Any, chats: list[ChatIdentity], wake: Wake, per_second: float
) -> dict[str, float]:
    """The replies, a turn of 1–3 to one chat at a time at `per_second`; when each was queued."""
    rng = random.Random(30)
    queued: dict[str, float] = {}
    start = time.perf_counter()
    n = 0
    while n < REPLIES:
        turn = min(rng.randint(1, 3), REPLIES - n)
        chat = chats[rng.randrange(len(chats))]
        async with unit_of_work(sessions) as session:
            for k in range(turn):
                reply = Reply(f"Balasan {k + 1} [r{n + k}]")
                outbox.enqueue(session, chat, reply.to_payload(), now=datetime.now(UTC))
        at = time.perf_counter()
        queued.update({f"r{n + k}": at for k in range(turn)})
        n += turn
        wake.set()
        await asyncio.sleep(max(0.0, start + n / per_second - time.perf_counter()))
    return queued


async def _sender_loop(sender: OutboxSender, wake: asyncio.Event, stop: asyncio.Event) -> None:
    """As bot/workers.py runs it: deliver, and when nothing was due wait to be woken (or 1 s)."""
    while not stop.is_set():
        wake.clear()
        if not await sender.deliver(datetime.now(UTC)):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=1.0)


def _report(
    backend: str,
    channel: str,
    wave: int,
    senders: int,
    platform: Platform,
    queued: dict[str, float],
    rate: float,
    started: float,
) -> dict[str, Any]:
    """The platform's view of the run."""
    times = sorted(at for at, _ in platform.arrivals)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    waits = sorted(platform.tags[tag] - at for tag, at in queued.items() if tag in platform.tags)
    gap = (
        SETTINGS.telegram_recipient_interval
        if channel == "telegram"
        else SETTINGS.whatsapp_recipient_interval
    )
    limit = int(rate)
    return {
        "case": f"{backend} {channel} {REPLIES:,} replies"
        + (f" + {wave:,} wave" if wave else "")
        + (f", {senders} senders" if senders > 1 else ""),
        "sends": len(times),
        "delivered": len(platform.tags),
        "expected": REPLIES + wave,
        "seconds": round(time.perf_counter() - started, 1),
        # While the wave drains the queue is never empty: the rate there is the sender's own.
        "rate_per_s": round((len(times) - 1) / span, 1) if span else None,
        "rate_limit": rate,
        "rate_ratio": round((len(times) - 1) / span / rate, 2) if span else None,
        "chat_violations": _chat_violations(platform.arrivals, gap),
        "channel_violations": sum(
            1 for i in range(len(times) - limit) if times[i + limit] - times[i] < 1.0 - JITTER
        ),
        "reply_p50_s": round(statistics.median(waits), 3) if waits else None,
        "reply_p95_s": round(waits[int(len(waits) * 0.95) - 1], 3) if waits else None,
    }


def _chat_violations(arrivals: list[tuple[float, str]], gap: float) -> int:
    """Two sends to one person closer than the platform's per-person spacing."""
    by_chat: dict[str, list[float]] = defaultdict(list)
    for at, recipient in arrivals:
        by_chat[recipient].append(at)
    return sum(
        1
        for times in by_chat.values()
        for a, b in zip(sorted(times), sorted(times)[1:], strict=False)
        if b - a < gap - JITTER
    )
