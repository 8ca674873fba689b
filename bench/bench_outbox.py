"""The outbox at the platforms' limits: replies and a wave of check-ins through the real sender.

    python -m bench outbox                                  # SQLite, a tenth of the issue's counts
    SINERGI_BENCH_OUTBOX_SCALE=1 python -m bench outbox     # 10,000 replies + 20,000 check-ins
    python -m bench outbox --postgres URL                   # and PostgreSQL
    SINERGI_BENCH_OUTBOX_SENDERS=3 python -m bench outbox   # the shared run with 3 senders
    SINERGI_BENCH_OUTBOX_CHANNELS=telegram SINERGI_BENCH_OUTBOX_RUNS=shared \
        SINERGI_BENCH_OUTBOX_POSTGRES_ONLY=1 python -m bench outbox --postgres URL  # one case

The senders are separate OS processes (spawned), each with its own engine, client and pacer
(bot/sender.py, paced as the default settings say: Telegram 30/s and 1 s per chat, WhatsApp
60/s and 6 s per person), as `serve` and a scheduler tick are: nothing but the database and
the platform is shared. They send through the real Telegram and WhatsApp clients over HTTP to
the fakes of tests/fakes, served on 127.0.0.1 from threads of the bench's process, each call
answered after 30–80 ms. Each channel runs: replies alone, arriving as people write (in turns
of 1–3 messages to a chat, at two thirds of the channel's rate); the same replies while a wave
of check-ins queued at the start drains (one sender); and the same with SENDERS senders at
once (on PostgreSQL; on SQLite with SINERGI_BENCH_OUTBOX_SQLITE_SHARED=1). The wave is queued
the way the ladder does it (its dedupe keys).

Reported, per run, as the platform saw it (the time each call reached the fake): the delivery
rate from the first send to the last against the channel's rate (`rate_ratio`), the same
counting only the time some message could be sent (`busy_ratio`: queued, and its person's
platform gap since the last send gone; a tail of one person's spaced replies, which no sender
may send sooner, is not counted against the rate), the per-person spacing
violations and the channel-rate violations (any `rate + 1` sends within one second: a sliding
window), both within 20 ms of jitter, the replies' p50/p95 time from being queued to reaching
the platform (`p95_ratio`: a wave run's p95 over the replies-alone p95), and how many sends
the senders gave back for missing their booked slot. The counts are the issue's times SCALE
(the rates and latencies are real time, not scaled).

To look inside: SINERGI_BENCH_OUTBOX_DEBUG=1 prints, per sender, how late the sends were at
their slot and each claim (when, how long, rows, ahead); SINERGI_BENCH_OUTBOX_PROFILE=PREFIX
writes each sender's cProfile and prints its CPU time; SINERGI_BENCH_OUTBOX_DUMP=PREFIX writes
each run's sends (time, recipient, tags) and queue times as JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import re
import resource
import statistics
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
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
from tests.fakes.server import serving
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


CHANNELS = os.environ.get("SINERGI_BENCH_OUTBOX_CHANNELS", "telegram,whatsapp").split(",")
RUNS = os.environ.get("SINERGI_BENCH_OUTBOX_RUNS", "alone,wave,shared").split(",")


def run() -> list[dict[str, Any]]:
    """Each backend and channel: replies alone, then replies during a wave (one sender, then
    SENDERS at once)."""
    rows = []
    for backend in dbs.backends():
        if backend == "sqlite" and os.environ.get("SINERGI_BENCH_OUTBOX_POSTGRES_ONLY"):
            continue
        for channel in CHANNELS:
            found: dict[str, dict[str, Any]] = {}
            if "alone" in RUNS:
                found["alone"] = _run(backend, channel, wave=0)
            if "wave" in RUNS:
                found["wave"] = _run(backend, channel, wave=WAVE)
            if "shared" in RUNS and (backend == "postgres" or SQLITE_SHARED):
                found["shared"] = _run(backend, channel, wave=WAVE, senders=SENDERS)
            alone = found.get("alone")
            for name in ("wave", "shared"):
                if alone and name in found:
                    found[name]["p95_ratio"] = round(
                        (found[name]["reply_p95_s"] or 0) / max(alone["reply_p95_s"] or 0, 1e-6), 2
                    )
            rows += found.values()
    return rows


# Several sender processes on one SQLite file take turns at its one write lock: measured only
# when asked (the deployment with several processes is PostgreSQL's).
SQLITE_SHARED = bool(os.environ.get("SINERGI_BENCH_OUTBOX_SQLITE_SHARED"))


def _run(backend: str, channel: str, *, wave: int, senders: int = 1) -> dict[str, Any]:
    """One fresh database, one run."""
    with dbs.fresh(backend) as url:
        return asyncio.run(_measure(backend, url, channel, wave, senders))


@dataclass
class Platform:
    """The fake platform over real HTTP, behind a latency: when each call reached it, for whom.

    Served from threads of this process on 127.0.0.1; the senders are other processes."""

    channel: str
    # Each send as it reached the fake: when, to whom, the bench's tags in its text.
    sent: list[tuple[float, str, list[str]]] = field(default_factory=list)
    tags: dict[str, float] = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: random.Random(16))

    def __post_init__(self) -> None:
        self.fake: Any = FakeBotApi() if self.channel == "telegram" else FakeGraphApi()
        self.lock = threading.Lock()
        self._expected, self._all_in = 0, threading.Event()

    @property
    def arrivals(self) -> list[tuple[float, str]]:
        """When each send reached the fake, and for whom."""
        return [(at, recipient) for at, recipient, _ in self.sent]

    def all_in(self, expected: int) -> threading.Event:
        """Set once `expected` tagged messages have arrived."""
        with self.lock:
            self._expected = expected
            if len(self.tags) >= expected:
                self._all_in.set()
        return self._all_in

    def answer(self, request: httpx.Request) -> httpx.Response:
        """Note the call (its time first), answer it with the fake."""
        at = time.perf_counter()
        with self.lock:
            response = self.fake.handler(request)
            found = self._read(request)
            if found is not None:
                recipient, text = found
                tags = TAG.findall(text)
                self.sent.append((at, recipient, tags))
                for tag in tags:
                    self.tags.setdefault(tag, at)
                if self._expected and len(self.tags) >= self._expected:
                    self._all_in.set()
            return response

    def _read(self, request: httpx.Request) -> tuple[str, str] | None:
        """The recipient and text of a message sent (None: another call)."""
        if self.channel == "telegram":
            method, params = self.fake.calls[-1]
            if method != "sendMessage":
                return None
            return str(params["chat_id"]), str(params["text"])
        body = json.loads(request.content or b"{}")
        if body.get("status") == "read" or "to" not in body:
            return None
        return str(body["to"]), body.get("text", {}).get("body") or json.dumps(body)

    def serving(self) -> contextlib.AbstractContextManager[str]:
        """Serve the fake on a free port in threads, each call answered after the latency."""
        return serving(self.answer, latency=lambda: self.rng.uniform(*LATENCY))


async def _measure(backend: str, url: str, channel: str, wave: int, senders: int) -> dict[str, Any]:
    """Queue the wave, start the sender processes, write the replies as people would; read the
    platform."""
    platform = Platform(channel)
    engine = make_engine(url)
    sessions = make_sessions(engine)
    now = datetime.now(UTC)
    chats = await _identities(sessions, channel, REPLY_CHATS + wave, now)
    rate = SETTINGS.telegram_rate if channel == "telegram" else SETTINGS.whatsapp_rate
    async with unit_of_work(sessions) as session:
        for i, chat in enumerate(chats[REPLY_CHATS:]):
            reply = Reply(f"Check-in bulan ini [w{i}]")
            outbox.enqueue(session, chat, reply.to_payload(), now=now, dedupe_key=f"ladder:c:{i}")
    spawn = multiprocessing.get_context("spawn")
    with platform.serving() as base:
        wakes = [spawn.Event() for _ in range(senders)]
        ready, stop, missed = spawn.Barrier(senders + 1), spawn.Event(), spawn.Queue()
        processes = [
            spawn.Process(
                target=sender_process, args=(url, channel, base, wake, ready, stop, missed)
            )
            for wake in wakes
        ]
        for process in processes:
            process.start()
        try:
            await asyncio.to_thread(ready.wait, 120)  # each one imported and connected
            started = time.perf_counter()
            queued = await _write_replies(sessions, chats[:REPLY_CHATS], wakes, rate * 2 / 3)
            expected = REPLIES + wave
            give_up = started + expected / rate * 3  # what has not arrived by then is missing
            await asyncio.to_thread(platform.all_in(expected).wait, give_up - time.perf_counter())
            seconds = time.perf_counter() - started
        finally:
            stop.set()
            for wake in wakes:
                wake.set()
            misses = [await asyncio.to_thread(missed.get, True, 30) for _ in processes]
            for process in processes:
                await asyncio.to_thread(process.join, 30)
                if process.is_alive():
                    process.kill()
    await engine.dispose()
    if dump := os.environ.get("SINERGI_BENCH_OUTBOX_DUMP"):
        run = {"started": started, "queued": queued, "sent": platform.sent}
        path = Path(f"{dump}-{backend}-{channel}-{wave}-{senders}.json")
        await asyncio.to_thread(path.write_text, json.dumps(run))
    report = _report(backend, channel, wave, senders, platform, queued, rate, seconds, started)
    return {**report, "missed_slots": sum(misses)}


def sender_process(
    url: str, channel: str, base: str, wake: Any, ready: Any, stop: Any, missed: Any
) -> None:
    """One sender process, as `serve` or a scheduler tick runs one: its engine, its client, its
    pacer; nothing but the database and the platform shared with the others. It tells `missed`
    how many sends it gave back for missing their slot."""
    if profile := os.environ.get("SINERGI_BENCH_OUTBOX_PROFILE"):
        import cProfile

        with cProfile.Profile() as prof:
            missed.put(asyncio.run(_sender_main(url, channel, base, wake, ready, stop)))
        prof.dump_stats(f"{profile}-{os.getpid()}.prof")
    else:
        missed.put(asyncio.run(_sender_main(url, channel, base, wake, ready, stop)))


async def _sender_main(url: str, channel: str, base: str, wake: Any, ready: Any, stop: Any) -> int:
    """As bot/workers.py runs it: deliver, and when nothing was due wait to be woken (or 1 s)."""
    engine = make_engine(url)
    if channel == "telegram":
        client: Any = TelegramClient(
            "123:bench", base, HTTPXRequest(connection_pool_size=64), HTTPXRequest()
        )
    else:
        client = WhatsAppClient(
            "token", "1234", base + "/v23.0", templates=DEFAULT_WHATSAPP_TEMPLATES
        )
    sender = OutboxSender(
        make_sessions(engine), {channel: client}, Metrics(), pacer=pacer_from(SETTINGS)
    )
    async with engine.connect():  # connected before the clock starts
        pass
    if os.environ.get("SINERGI_BENCH_OUTBOX_DEBUG"):
        _watch(sender)
    await asyncio.to_thread(ready.wait, 120)
    cpu, wall = _cpu(), time.perf_counter()
    while not stop.is_set():
        wake.clear()
        if not await sender.deliver(datetime.now(UTC)):
            await asyncio.to_thread(wake.wait, 1.0)
    if os.environ.get("SINERGI_BENCH_OUTBOX_DEBUG"):
        used, sends = _cpu() - cpu, sender.metrics.sent.labels(channel)._value.get()
        print(
            f"sender cpu {used:.1f}s in {time.perf_counter() - wall:.1f}s, "
            f"{used / max(sends, 1) * 1000:.1f} ms per message sent",
            file=sys.stderr,
        )
    await engine.dispose()
    return int(sender.metrics.missed_slots.labels(channel)._value.get())


def _cpu() -> float:
    """This process's CPU seconds so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _watch(sender: OutboxSender) -> None:
    """Debugging: how late each send was at its slot and after waiting for the records."""
    chunk, lates = sender._deliver_chunk, []

    async def watched(jobs: Any, now: datetime, *, slot: datetime | None = None) -> int:
        if slot is not None:
            before = (sender._moment(now) - slot).total_seconds()
            await sender._may_send.wait()
            lates.append((before, (sender._moment(now) - slot).total_seconds()))
        return await chunk(jobs, now, slot=slot)

    sender._deliver_chunk = watched  # type: ignore[method-assign]
    claim_in, claims = sender._claim, []

    async def claimed(now: datetime, batch: int, **kw: Any) -> Any:
        t = time.perf_counter()
        c = await claim_in(now, batch, **kw)
        claims.append((t, time.perf_counter() - t, len(c.rows), kw["waves"], c.ahead, c.full))
        return c

    sender._claim = claimed  # type: ignore[method-assign]
    import atexit

    def show() -> None:
        for i, name in enumerate(("at slot", "after records")):
            xs = sorted(x[i] for x in lates)
            if xs:
                q = [round(xs[int(len(xs) * p) - 1] * 1000) for p in (0.5, 0.9, 0.99)]
                print(f"late {name}: n={len(xs)} p50/p90/p99 ms {q}", file=sys.stderr)

    atexit.register(show)

    def show_claims() -> None:
        if not claims:
            return
        took = sorted(c[1] for c in claims)
        span = claims[-1][0] - claims[0][0]
        print(
            f"claims: n={len(claims)} over {span:.1f}s, took p50/p90 ms "
            f"{[round(took[int(len(took) * p) - 1] * 1000) for p in (0.5, 0.9)]}, rows "
            f"{sum(c[2] for c in claims)}, waves {sum(c[3] for c in claims)}",
            file=sys.stderr,
        )
        for c in claims[:60]:
            print(
                f"  {c[0] - claims[0][0]:6.2f} took {c[1] * 1000:4.0f} rows {c[2]:3d} "
                f"waves {c[3]:d} ahead {c[4]} full {c[5]}",
                file=sys.stderr,
            )

    atexit.register(show_claims)


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
    sessions: Any, chats: list[ChatIdentity], wakes: list[Any], per_second: float
) -> dict[str, float]:
    """The replies, a turn of 1–3 to one chat at a time at `per_second`; when each was queued.
    Each wakes every sender, as each process's own wake-up would."""
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
        for wake in wakes:
            wake.set()
        await asyncio.sleep(max(0.0, start + n / per_second - time.perf_counter()))
    return queued


def _report(
    backend: str,
    channel: str,
    wave: int,
    senders: int,
    platform: Platform,
    queued: dict[str, float],
    rate: float,
    seconds: float,
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
        "seconds": round(seconds, 1),
        # While the wave drains the queue is never empty: the rate there is the sender's own.
        "rate_per_s": round((len(times) - 1) / span, 1) if span else None,
        "rate_limit": rate,
        "rate_ratio": round((len(times) - 1) / span / rate, 2) if span else None,
        # The rate that matters: sends per second while something could be sent.
        "busy_ratio": _busy_ratio(platform.sent, queued, started, gap, rate),
        "chat_violations": _chat_violations(platform.arrivals, gap),
        "channel_violations": sum(
            1 for i in range(len(times) - limit) if times[i + limit] - times[i] < 1.0 - JITTER
        ),
        "reply_p50_s": round(statistics.median(waits), 3) if waits else None,
        "reply_p95_s": round(waits[int(len(waits) * 0.95) - 1], 3) if waits else None,
    }


def _busy_ratio(
    sent: list[tuple[float, str, list[str]]],
    queued: dict[str, float],
    started: float,
    gap: float,
    rate: float,
) -> float | None:
    """Sends per second while at least one message could be sent, against the channel's rate.

    A message could be sent from when it was queued (the wave: from the start) and its person's
    previous send was `gap` ago, until it reached the platform: the time counted is the union of
    those spans. A person's replies spaced by the platform's own rule, after the wave drained,
    are not counted against the rate; any time the sender leaves a sendable message waiting is.
    """
    spans, last = [], {}  # last: each person's previous send
    for at, recipient, tags in sorted(sent):
        ready = min((queued.get(tag, started) for tag in tags), default=started)
        spans.append((max(ready, last.get(recipient, -1e9) + gap), at))
        last[recipient] = at
    busy, reach = 0.0, float("-inf")
    for begin, end in sorted(spans):
        if end > reach:
            busy += end - max(begin, reach)
            reach = end
    return round(len(sent) / busy / rate, 2) if busy > 0 else None


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
