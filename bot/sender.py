"""The outbox sender: claims due messages under a lease, paces them, sends them, retries with backoff.

Per channel and per person, sends are spaced (Telegram ~30/s and 1/s per chat; WhatsApp under
the number's throughput and ~1 per 6 s per person, a burst merged into one message). On
WhatsApp, outside the 24-hour window a template goes instead of free text, and the free text
waits ("held") until the person writes again.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Any

from bot.channels.base import ChannelClient, SendResult, Traits
from bot.channels.local import TERMINAL
from bot.messages import Reply, UnknownMessage
from bot.metrics import Metrics
from storage import calendar, erasure, outbox
from storage.db import Sessions, unit_of_work
from storage.media import MediaStore
from storage.models import OutboxMessage

log = logging.getLogger("sinergi.outbox")

# A channel that is switched off: sent to nobody, and nothing to know about it.
NO_TRAITS = Traits()


@dataclass
class Pacer:
    """Spaces sends on a monotonic clock: a rate per channel and a gap per person.

    The channel's booked send times are kept (not only the last one), so a message that waits
    for its person's gap takes a later slot without pushing back the messages to other people.
    """

    rates: dict[str, float] = field(default_factory=dict)
    gaps: dict[str, float] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _booked: dict[str, list[float]] = field(default_factory=dict)
    _person_free: dict[tuple[str, str], float] = field(default_factory=dict)
    # When the sends of the last second really went, per channel.
    _sent: dict[str, deque[float]] = field(default_factory=dict)

    def reserve(self, channel: str, recipient: str, max_wait: float) -> float | None:
        """Seconds to wait before this send (the slot is now taken), or None if beyond max_wait."""
        now = self.clock()
        key = (channel, recipient)
        at = max(now, self._person_free.get(key, now))
        rate = self.rates.get(channel)
        if rate:
            at = self._free_slot(channel, at, 1.0 / rate)
        if at - now > max_wait:
            return None
        if rate:
            bisect.insort(self._booked.setdefault(channel, []), at)
        if self.gaps.get(channel):
            self._person_free[key] = at + self.gaps[channel]
        self._forget_old(now)
        return at - now

    async def turn(self, channel: str, recipient: str) -> None:
        """Just before the call: a send that ran late (a busy machine) must not bunch up with the
        next ones, so the sends of the last second are counted as they really went."""
        rate = int(self.rates.get(channel) or 0)
        sent = self._sent.setdefault(channel, deque())
        while rate and len(sent) >= rate:
            now = self.clock()
            while sent and sent[0] <= now - 1.0:
                sent.popleft()
            if len(sent) < rate or (wait := sent[-rate] + 1.0 - now) <= 1e-6:
                break
            await self.sleep(wait)
        now = self.clock()
        if rate:
            sent.append(now)
        if gap := self.gaps.get(channel):
            key = (channel, recipient)
            self._person_free[key] = max(self._person_free.get(key, now), now + gap)

    def _free_slot(self, channel: str, start: float, spacing: float) -> float:
        """The earliest moment from `start` at least `spacing` away from every booked send."""
        booked = self._booked.get(channel, [])
        at = start
        # Rounding must not turn an exact spacing into a conflict.
        tight = spacing - 1e-9
        for taken in booked[bisect.bisect_right(booked, start - tight) :]:
            if taken >= at + tight:
                break
            at = max(at, taken + spacing)
        return at

    def booked_ahead(self) -> float:
        """Seconds of work already booked on the busiest channel (0: free now); a send booked
        for later only because its person must wait counts as one slot, not as the wait."""
        now = self.clock()
        return max(
            (
                (len(times) - bisect.bisect_left(times, now)) / self.rates[channel]
                for channel, times in self._booked.items()
                if self.rates.get(channel)
            ),
            default=0.0,
        )

    def next_free(self, channel: str, recipient: str) -> float:
        """Seconds until this person may get the next message."""
        return max(0.0, self._person_free.get((channel, recipient), 0.0) - self.clock())

    def _forget_old(self, now: float) -> None:
        """Memory stays flat: sends and people whose spacing has passed are forgotten."""
        for times in self._booked.values():
            if times and times[0] < now - 1.0:
                del times[: bisect.bisect_left(times, now - 1.0)]
        if len(self._person_free) > 10_000:
            self._person_free = {k: t for k, t in self._person_free.items() if t > now}


@dataclass
class Job:
    """One claimed outbox row, read out of its transaction."""

    row_id: int
    channel: str
    recipient: str
    reply: Reply
    attempts: int
    last_inbound: datetime | None = None
    traits: Traits = NO_TRAITS
    created_at: datetime | None = None
    # A scheduled prompt's delivery hours: {"region", "start", "end"} (storage/ladder.py).
    hours: dict[str, Any] | None = None
    # The outbox row's recipient (the chat's id; `recipient` may be its phone number instead).
    chat: str = ""


@dataclass
class _Outcome:
    """What the platform said of one (maybe merged) message, until it is committed."""

    chunk: list[Job]
    result: SendResult
    now: datetime
    done: asyncio.Future[None]


@dataclass
class OutboxSender:
    """Delivers the outbox through the channel clients that are switched on."""

    sessions: Sessions
    clients: dict[str, ChannelClient]
    metrics: Metrics
    # Transient failures are retried until the deadline (a reply: this long after it was written).
    reply_deadline: timedelta = timedelta(hours=24)
    backoff_cap: float = 60.0
    lease: timedelta = timedelta(seconds=60)
    rng: random.Random = field(default_factory=random.Random)
    pacer: Pacer = field(default_factory=Pacer)
    # A wait longer than this gives the message back to the outbox instead (the lease runs on).
    max_inline_wait: float = 10.0
    # A terminal chat delivers only its own chat; every other sender leaves terminals' messages.
    only: tuple[str, str] | None = None
    skip_channels: tuple[str, ...] = (TERMINAL,)
    # Where a message's attachment (a voice note for a mentor) is read from just before sending.
    media: MediaStore | None = None
    # The deployment's delivery hours, local to the recipient: the window of a message whose
    # `hours` name only its region (storage/outbox.within_hours).
    delivery_hours: tuple[str, str] = ("08:00", "18:00")
    # Pipelining: claim again when fewer than this many seconds of sends are booked, and
    # return after this many seconds of sending (the caller's loop calls again).
    claim_ahead: float = 0.3
    round_span: float = 20.0
    # While a wave fills the booked sends, replies are looked for this often.
    reply_poll: float = 0.25
    # At most this many chats at once (those waiting out their person's gap book no slot).
    max_chats: int = 200
    _db: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Channels a platform told to wait (also in the database, for the other processes).
    _paused: dict[str, datetime] = field(default_factory=dict)
    # Outcomes the platform gave that are not committed yet; they share the next commit.
    _outcomes: list[_Outcome] = field(default_factory=list)
    _unrecorded: int = 0
    _all_recorded: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self._all_recorded.set()

    async def deliver(self, now: datetime, *, batch: int = 10) -> int:
        """Send what is due now; returns how many messages were sent or held (0: nothing to do now).

        Claims go on while earlier messages are still being sent: a new batch is claimed as soon
        as the channels' booked sends run short, so no chat's spacing holds up the others and a
        reply written meanwhile waits for a fraction of a second of sends, not for a whole batch.
        A chat still being sent to is not claimed again until its earlier messages are out.
        """
        started = self.pacer.clock()
        sending: dict[tuple[str, str], asyncio.Task[int]] = {}
        done, room = 0, True
        while True:
            # `now` moves on with the round: a reply written meanwhile is due in this round.
            moment = now + timedelta(seconds=self.pacer.clock() - started)
            async with self._db:
                claimed, jobs = await self._claim(
                    moment, batch, skip_chats=list(sending), waves=room
                )
            for group in _by_chat(jobs).values():
                chat = (group[0].channel, group[0].chat)
                sending[chat] = asyncio.create_task(self._deliver_to(group, moment))
            if not sending:
                return done
            if self.pacer.clock() - started > self.round_span:
                return done + sum(await asyncio.gather(*sending.values()))
            room, finished = await self._until_room(sending, polling=not claimed)
            done += finished

    async def _claim(
        self, now: datetime, batch: int, *, skip_chats: list[tuple[str, str]], waves: bool
    ) -> tuple[int, list[Job]]:
        """Claim a batch under a lease (replies only unless `waves`); how many rows it took and
        the jobs ready to send now."""
        async with unit_of_work(self.sessions) as session:
            for name, client in self.clients.items():
                if (window := client.traits.window) is not None:
                    open_for = window - client.traits.window_margin
                    await outbox.release_held(session, now=now, window=open_for, channel=name)
            self._paused.update(await outbox.paused_channels(session, now=now))
            paused = [name for name, until in self._paused.items() if until > now]
            claimed = await outbox.claim_due(
                session,
                now=now,
                lease=self.lease,
                limit=batch,
                only=self.only,
                skip_channels=[*paused, *self.skip_channels],
                skip_chats=skip_chats,
                waves=waves,
            )
            asks = [row.identity_id for row in claimed if self._asks_identity(row.channel)]
            windows = await outbox.windows_of(session, asks)
            jobs = [job for row in claimed if (job := self._job_of(row, windows, now))]
            jobs = await _keep_to_hours(session, jobs, now)
        return len(claimed), jobs

    async def _until_room(
        self, sending: dict[tuple[str, str], asyncio.Task[int]], *, polling: bool
    ) -> tuple[bool, int]:
        """When the booked sends are plenty (or nothing more was due: `polling`), wait a moment
        for a chat to finish; whether there is room for a whole batch again, and how many the
        chats that finished sent."""
        if polling or not self._room(sending):
            await asyncio.wait(
                sending.values(), timeout=self.reply_poll, return_when=asyncio.FIRST_COMPLETED
            )
        done = 0
        for chat in [chat for chat, task in sending.items() if task.done()]:
            done += sending.pop(chat).result()
        return self._room(sending), done

    def _room(self, sending: dict[tuple[str, str], asyncio.Task[int]]) -> bool:
        """Few sends booked ahead, and not too many chats waiting out their gap."""
        return self.pacer.booked_ahead() <= self.claim_ahead and len(sending) < self.max_chats

    def traits(self, channel: str) -> Traits:
        """What the sender must know of this channel (nothing, when it is switched off)."""
        client = self.clients.get(channel)
        return client.traits if client is not None else NO_TRAITS

    def _asks_identity(self, channel: str) -> bool:
        """Whether a message on this channel needs its person's last message time or number."""
        traits = self.traits(channel)
        return traits.window is not None or traits.addressed_by_phone

    def _job_of(
        self,
        row: OutboxMessage,
        windows: dict[int, tuple[datetime | None, str | None]],
        now: datetime,
    ) -> Job | None:
        """The row as a job; a row that cannot be rendered (a renderer gone) is dead at once, and
        so is a failing prompt whose deadline passed while it waits for delivery hours."""
        hours = self._hours(row)
        waits = hours is not None and opens_at(hours, now) is not None
        if waits and row.attempts > 1 and now >= self._deadline(row):
            row.state, row.lease_until = "dead", None
            erasure.scrub_farewell(row)
            self.metrics.dead.labels(row.channel, "deadline").inc()
            log.warning("outbox message %s dead: its hours closed past the deadline", row.id)
            return None
        try:
            return _job(row, windows.get(row.identity_id), self.traits(row.channel), hours)
        except UnknownMessage as exc:
            row.state, row.lease_until, row.error = "dead", None, f"unknown message {exc}"[:200]
            erasure.scrub_farewell(row)
            self.metrics.dead.labels(row.channel, "unrenderable").inc()
            log.error("outbox message %s names no renderer: %s", row.id, exc)
            return None

    async def _deliver_to(self, jobs: list[Job], now: datetime) -> int:
        """One person's messages in order, spaced; what must wait longer goes back to the outbox."""
        traits = jobs[0].traits
        chunks = (
            merge_burst(jobs, traits.max_text) if traits.merges_bursts else [[job] for job in jobs]
        )
        accepted = 0
        for index, chunk in enumerate(chunks):
            channel, recipient = chunk[0].channel, chunk[0].recipient
            wait = self.pacer.reserve(channel, recipient, self.max_inline_wait)
            if wait is None:
                later = now + timedelta(seconds=self.pacer.next_free(channel, recipient))
                await self._give_back([j.row_id for c in chunks[index:] for j in c], later)
                break
            if wait > 0:
                await self.pacer.sleep(wait)
            await self.pacer.turn(channel, recipient)
            accepted += await self._deliver_chunk(chunk, now)
        return accepted

    async def _deliver_chunk(self, chunk: list[Job], now: datetime) -> int:
        """Send one (maybe merged) message, or hold it when the WhatsApp window is closed."""
        # A message the platform accepted but we have not recorded goes again after a crash:
        # no send starts while one waits to be recorded, so a crash doubles only those in flight.
        await self._all_recorded.wait()
        reply = chunk[0].reply if len(chunk) == 1 else merged_reply(chunk)
        first = chunk[0]
        until = self._paused.get(first.channel)
        if until is not None and until > now:  # another send on this channel was told to wait
            await self._give_back([job.row_id for job in chunk], until)
            return 0
        if not _window_open(first.traits, first.last_inbound, now):
            templated = self._as_template(first.channel, reply) if len(chunk) == 1 else None
            if templated is None:
                await self._record(
                    chunk, SendResult(ok=False, window_closed=True, error="window closed"), now
                )
                return len(chunk)  # held, and a template queued: worth another round
            reply = templated
        result = await self._send(first.channel, first.recipient, reply)
        if result.retry_after is not None:
            await self._pause(first.channel, now + timedelta(seconds=result.retry_after))
        await self._record(chunk, result, now)
        return len(chunk) if result.ok or result.window_closed else 0

    def _as_template(self, channel: str, reply: Reply) -> Reply | None:
        """The approved template form of a reply (a check-in, a reminder), if it has a valid one."""
        client = self.clients.get(channel)
        return client.as_template(reply) if client is not None else None

    async def _send(self, channel: str, recipient: str, reply: Reply) -> SendResult:
        """One platform call; a channel that is switched off fails the message for good."""
        client = self.clients.get(channel)
        if client is None:
            return SendResult(ok=False, permanent=True, error=f"channel {channel} is off")
        if reply.media is not None and reply.media.data is None:
            data = await self._media_bytes(reply.media.reference)
            if data is None:  # erased with the family's data, or the retention purge: not sent
                return SendResult(ok=False, permanent=True, error="attachment gone")
            reply = replace(reply, media=replace(reply.media, data=data))
        try:
            return await client.send(recipient, reply)
        except Exception as exc:  # noqa: BLE001 - a client bug must not kill the sender loop
            log.exception("send failed on %s", channel)
            return SendResult(ok=False, error=type(exc).__name__)

    async def _media_bytes(self, reference: str) -> bytes | None:
        """An attachment's bytes from the media store; None when the file is not there."""
        path = self.media.path_of(reference) if self.media is not None else None
        if path is None or not path.is_file():
            return None
        return await asyncio.to_thread(path.read_bytes)

    async def _pause(self, channel: str, until: datetime) -> None:
        """A retry_after holds back the whole channel (the bot, the number), here and elsewhere."""
        if until <= self._paused.get(channel, until - timedelta(seconds=1)):
            return
        self._paused[channel] = until  # at once: this process's other sends check it first
        self.metrics.paused.labels(channel).inc()
        log.warning("channel %s paused until %s by its platform", channel, until.isoformat())
        async with self._db, unit_of_work(self.sessions) as session:
            await outbox.pause_channel(session, channel, until=until)

    async def _give_back(self, row_ids: list[int], until: datetime) -> None:
        """Pacing: these go out on a later round, without counting an attempt."""
        async with self._db, unit_of_work(self.sessions) as session:
            await outbox.defer(session, row_ids, until=until)

    async def _record(self, chunk: list[Job], result: SendResult, now: datetime) -> None:
        """Mark each row sent, held, due again later, dead, or its person unreachable.

        Recorded as soon as the platform answers: the outcomes that come back while a commit
        runs share the next one (one short transaction each time), so none waits for the
        others' commits one by one while the database is busy.
        """
        outcome = _Outcome(chunk, result, now, asyncio.get_running_loop().create_future())
        self._outcomes.append(outcome)
        self._unrecorded += 1
        self._all_recorded.clear()
        try:
            async with self._db:
                if not outcome.done.done():  # not committed by an earlier waiter: commit all
                    await self._commit_outcomes()
            await outcome.done  # raises if that commit failed
        finally:
            self._unrecorded -= 1
            if not self._unrecorded:
                self._all_recorded.set()

    async def _commit_outcomes(self) -> None:
        """One transaction for every outcome waiting; each waiter learns how it went."""
        batch, self._outcomes = self._outcomes, []
        try:
            async with unit_of_work(self.sessions) as session:
                for outcome in batch:
                    for job in outcome.chunk:
                        row = await session.get(OutboxMessage, job.row_id)
                        if row is not None and row.state == "sending":
                            await self._record_row(session, row, outcome.result, outcome.now)
        except Exception as exc:  # the rows stay `sending`: their lease runs out, they go again
            for outcome in batch:
                outcome.done.set_exception(exc)
            return
        except BaseException:
            for outcome in batch:
                outcome.done.cancel()
            raise
        for outcome in batch:
            outcome.done.set_result(None)

    async def _record_row(
        self, session: Any, row: OutboxMessage, result: SendResult, now: datetime
    ) -> None:
        """The outcome of one row; an erasure's last word, once sent or given up, is emptied."""
        await self._outcome(session, row, result, now)
        if row.state in ("sent", "failed", "dead"):
            erasure.scrub_farewell(row)

    async def _outcome(
        self, session: Any, row: OutboxMessage, result: SendResult, now: datetime
    ) -> None:
        """Sent, held, due again later, dead, or its person unreachable."""
        row.lease_until = None
        if result.ok:
            row.state, row.sent_at, row.external_message_id, row.error = (
                "sent",
                now,
                result.message_id,
                None,
            )
            self.metrics.sent.labels(row.channel).inc()
            return
        row.error = result.error
        self.metrics.send_failures.labels(row.channel, _kind(result)).inc()
        if result.window_closed and (row.dedupe_key or "").startswith(erasure.FAREWELL):
            # The chat is erased: nobody can write again to open the window; no template waits.
            self._dead(row, result, "window")
        elif result.window_closed:
            self.metrics.held.labels(row.channel).inc()
            await outbox.hold_for_window(session, row, now=now)
        elif result.unreachable:
            row.state = "failed"
            await outbox.mark_unreachable(session, row.identity_id, now, result.error)
        elif result.permanent:
            self._dead(row, result, "permanent")
        elif now >= (deadline := self._deadline(row)):
            self._dead(row, result, "deadline")
        else:
            # One last try at the deadline itself, however long the backoff would be.
            retry_at = min(now + self._backoff(row.attempts, result.retry_after), deadline)
            row.state, row.next_attempt_at = "retry", retry_at

    def _deadline(self, row: OutboxMessage) -> datetime:
        """Until when a transient failure is retried: a reply for a day; a prompt kept to
        delivery hours until the close of the next day's hours (it waits out the night)."""
        hours = self._hours(row)
        closing = closes_next_day(hours, row.created_at) if hours is not None else None
        return closing or row.created_at + self.reply_deadline

    def _hours(self, row: OutboxMessage) -> dict[str, Any] | None:
        """The row's delivery window, the deployment's own where the row names only its region."""
        hours = row.payload.get("hours")
        if not isinstance(hours, dict):
            return None
        start, end = self.delivery_hours
        return {"start": start, "end": end, **hours}

    def _dead(self, row: OutboxMessage, result: SendResult, reason: str) -> None:
        """Given up: counted and logged (a refused template is the operator's to fix, not ours to retry)."""
        row.state = "dead"
        if (result.error or "").startswith("template"):
            reason = "template"
            template = str(row.payload.get("template") or "?")
            self.metrics.templates_refused.labels(template).inc()
            log.warning("WhatsApp template %s refused: %s", template, result.error)
        self.metrics.dead.labels(row.channel, reason).inc()
        log.warning("outbox message %s dead after %d attempts (%s)", row.id, row.attempts, reason)

    def _backoff(self, attempts: int, retry_after: float | None) -> timedelta:
        """The platform's retry_after when given, else exponential backoff, capped, with jitter
        (half the wait is random, so a backlog does not come back all at one instant)."""
        if retry_after is not None:
            return timedelta(seconds=retry_after)
        ceiling = min(self.backoff_cap, 2.0 ** min(attempts, 30))
        return timedelta(seconds=ceiling / 2 + self.rng.uniform(0, ceiling / 2))


def _by_chat(jobs: list[Job]) -> dict[tuple[str, str], list[Job]]:
    """The jobs of each (channel, recipient), in their order."""
    groups: dict[tuple[str, str], list[Job]] = {}
    for job in jobs:
        groups.setdefault((job.channel, job.recipient), []).append(job)
    return groups


def _job(
    row: OutboxMessage,
    window: tuple[datetime | None, str | None] | None,
    traits: Traits,
    hours: dict[str, Any] | None,
) -> Job:
    """A claimed row as plain data; the number is the address when the channel wants it (WhatsApp)."""
    last, phone = window or (None, None)
    recipient = phone.lstrip("+") if traits.addressed_by_phone and phone else row.recipient
    return Job(
        row.id,
        row.channel,
        recipient,
        Reply.from_payload(dict(row.payload)),
        row.attempts,
        last,
        traits,
        row.created_at,
        hours,
        row.recipient,
    )


def closes_next_day(hours: dict[str, Any], created_at: datetime) -> datetime | None:
    """The close of the delivery hours on the day after `created_at`, local to the recipient."""
    try:
        end = clock_time.fromisoformat(hours["end"])
    except (KeyError, TypeError, ValueError):
        return None  # a malformed window: the reply deadline applies
    zone = calendar.ZONES[calendar.zone_of(hours.get("region"))]
    day = created_at.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone).astimezone(created_at.tzinfo)


def opens_at(hours: dict[str, Any] | None, now: datetime) -> datetime | None:
    """When a prompt kept to delivery hours may go, if not now (None: now is fine)."""
    if not hours:
        return None
    try:
        start = clock_time.fromisoformat(hours["start"])
        end = clock_time.fromisoformat(hours["end"])
    except (KeyError, TypeError, ValueError):
        return None  # a malformed window never holds a message back
    zone = calendar.zone_of(hours.get("region"))
    opening = calendar.next_opening(now, zone, start, end)
    return None if opening <= now else opening


async def _keep_to_hours(session: Any, jobs: list[Job], now: datetime) -> list[Job]:
    """Prompts outside their recipient's delivery hours go back to wait for the morning.

    The scheduler writes prompts in delivery hours, but a retry after an outage or a long
    queue could otherwise carry one into the night.
    """
    sendable: list[Job] = []
    later: dict[datetime, list[int]] = {}
    for job in jobs:
        if (opening := opens_at(job.hours, now)) is None:
            sendable.append(job)
        else:
            later.setdefault(opening, []).append(job.row_id)
    for opening, row_ids in later.items():
        await outbox.defer(session, row_ids, until=opening)
    return sendable


def _window_open(traits: Traits, last_inbound: datetime | None, now: datetime) -> bool:
    """Free-form messages may go out within the channel's window after the person's last message."""
    if traits.window is None:
        return True
    return last_inbound is not None and now - last_inbound < traits.window - traits.window_margin


def merge_burst(jobs: list[Job], max_text: int = NO_TRAITS.max_text) -> list[list[Job]]:
    """Plain texts join the next message, so a burst reaches a person as one (WhatsApp's pace)."""
    chunks: list[list[Job]] = []
    current: list[Job] = []
    for job in jobs:
        if current and not _joins(current, job, max_text):
            chunks.append(current)
            current = []
        current.append(job)
        if _closes(job):
            chunks.append(current)
            current = []
    if current:
        chunks.append(current)
    return chunks


def _closes(job: Job) -> bool:
    """Buttons, a template, a contact request or a file end a merged message."""
    reply = job.reply
    return bool(
        reply.choices
        or reply.template
        or reply.ask_contact
        or reply.media
        or reply.extra.get("template_only")
    )


def _joins(current: list[Job], job: Job, max_text: int) -> bool:
    """Whether `job` may be added to the merged message so far (and it stays within the limit)."""
    if job.reply.extra.get("template_only") or job.reply.template or job.reply.media:
        return False  # a file goes as its own message
    length = sum(len(j.reply.text) + 2 for j in current) + len(job.reply.numbered_text())
    return length <= max_text


def merged_reply(chunk: list[Job]) -> Reply:
    """Texts joined by a blank line; the last message's buttons; the first acknowledgement."""
    last = chunk[-1].reply
    extra: dict[str, Any] = {}
    for job in reversed(chunk):
        extra.update(job.reply.extra)
    text = "\n\n".join(j.reply.text for j in chunk if j.reply.text)
    return replace(last, text=text, extra=extra)


def _kind(result: SendResult) -> str:
    """A label for the failure metric."""
    if result.window_closed:
        return "window_closed"
    if result.unreachable:
        return "unreachable"
    if result.permanent:
        return "permanent"
    return "rate_limited" if result.retry_after is not None else "transient"


def pacer_from(settings: Any) -> Pacer:
    """The pace of each channel from the settings."""
    return Pacer(
        rates={"telegram": settings.telegram_rate, "whatsapp": settings.whatsapp_rate},
        gaps={
            "telegram": settings.telegram_recipient_interval,
            "whatsapp": settings.whatsapp_recipient_interval,
        },
    )
