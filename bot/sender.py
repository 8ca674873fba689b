"""The outbox sender: claims due messages under a lease, paces them, sends them, retries with backoff.

Per channel and per person, sends are spaced (Telegram ~30/s and 1/s per chat; WhatsApp under
the number's throughput and ~1 per 6 s per person, a burst merged into one message). On
WhatsApp, outside the 24-hour window a template goes instead of free text, and the free text
waits ("held") until the person writes again.
"""

from __future__ import annotations

import asyncio
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
from storage.db import WRITE, Sessions, is_postgres, unit_of_work
from storage.media import MediaStore
from storage.models import OutboxMessage

log = logging.getLogger("sinergi.outbox")

# A channel that is switched off: sent to nobody, and nothing to know about it.
NO_TRAITS = Traits()


@dataclass
class Pacer:
    """A channel's rate and a person's gap, and the clock the sender waits on.

    The send times themselves are booked in the database with each claim (storage/outbox.py
    `claim_paced`), so every sender process keeps to one pace; what is kept here is only this
    process's own last second of sends, a guard against a late send bunching up with the next.
    """

    rates: dict[str, float] = field(default_factory=dict)
    gaps: dict[str, float] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    # The share of a platform's rate that is booked: a send that runs a few tens of ms late
    # (a busy machine) still leaves every second within the platform's limit.
    share: float = 0.95
    # A send that runs this many seconds late (a busy machine) still keeps to the limits: the
    # `share` leaves that room in each second, and a person's gap is booked this much longer.
    slack: float = 0.05
    # When the sends of the last second really went, per channel.
    _sent: dict[str, deque[float]] = field(default_factory=dict)

    def pace(self, channel: str, *, merges: bool = False) -> outbox.Pace | None:
        """The pace a claim books on this channel (None: the channel is not paced)."""
        rate = self.rates.get(channel)
        if not rate:
            return None
        gap = self.gaps.get(channel) or 0.0
        return outbox.Pace(rate * self.share, gap + self.slack if gap else 0.0, merges)

    async def turn(self, channel: str) -> None:
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
        if rate:
            sent.append(self.clock())


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
    # On a paced channel: the send time booked with the claim, and the chat's next one after it.
    slot: datetime | None = None
    chat_free: datetime | None = None
    identity_id: int | None = None
    # An erasure's last word: emptied once sent (storage/erasure.py).
    farewell: bool = False


@dataclass
class _Claim:
    """One claim: the rows taken, their send slots, and what it says of the pace."""

    rows: list[OutboxMessage] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    # Each claimed chat's (identity id) booked slot and next free time, on paced channels.
    slots: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)
    # Seconds of sends booked ahead on the busiest paced channel (None: no paced channel).
    ahead: float | None = None
    # Whether a paced claim stopped at its horizon (more was due).
    full: bool = False
    # When nothing was claimed: seconds until something due may be (None: nothing due).
    free_in: float | None = None

    def add(self, booking: outbox.Booking, now: datetime, pace: outbox.Pace) -> None:
        """Take in one paced channel's booking."""
        self.rows += booking.rows
        gap = timedelta(seconds=pace.gap)
        self.slots.update({i: (slot, slot + gap) for i, slot in booking.slots.items()})
        if booking.next_slot is not None:
            ahead = max(0.0, (booking.next_slot - now).total_seconds())
            self.ahead = max(self.ahead or 0.0, ahead)
        self.full = self.full or booking.full
        if booking.free_at is not None:
            free_in = max(0.0, (booking.free_at - now).total_seconds())
            self.free_in = free_in if self.free_in is None else min(self.free_in, free_in)

    def slotted(self, jobs: list[Job]) -> list[Job]:
        """The jobs with their booked slots; once anything is claimed, no wait for a free chat."""
        if self.rows:
            self.free_in = 0.0
        identities = self._identity  # once: a dict of every row, not one per job
        for job in jobs:
            identity = identities.get(job.row_id)
            if identity is not None and identity in self.slots:
                job.slot, job.chat_free = self.slots[identity]
                job.identity_id = identity
        return jobs

    @property
    def _identity(self) -> dict[int, int]:
        """Each claimed row's identity id."""
        return {row.id: row.identity_id for row in self.rows}


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
    # When nothing can be claimed yet, a round waits at most this long for a chat to be free.
    max_inline_wait: float = 10.0
    # A terminal chat delivers only its own chat; every other sender leaves terminals' messages.
    only: tuple[str, str] | None = None
    skip_channels: tuple[str, ...] = (TERMINAL,)
    # Where a message's attachment (a voice note for a mentor) is read from just before sending.
    media: MediaStore | None = None
    # The deployment's delivery hours, local to the recipient: the window of a message whose
    # `hours` name only its region (storage/outbox.within_hours).
    delivery_hours: tuple[str, str] = ("08:00", "18:00")
    # Pipelining: a claim books the channel's slots up to `claim_ahead` seconds ahead (a reply
    # twice that, behind the wave), the wave is claimed again when fewer than `claim_below`
    # seconds are booked, and a round returns after `round_span` (the caller's loop calls again).
    claim_ahead: float = 0.8
    claim_below: float = 0.4
    round_span: float = 20.0
    # While a wave fills the booked sends, replies are looked for this often.
    reply_poll: float = 0.25
    # At most this many chats at once.
    max_chats: int = 200
    # Sends the platform accepted that may wait to be recorded while others start (1: none). A
    # commit takes tens of ms, a send at 60/s goes every 17: waiting for every record before the
    # next send made the sends late for their slots, and most of those were given back.
    max_unrecorded: int = 16
    _db: asyncio.Lock = field(default_factory=asyncio.Lock)
    # The outcomes' commits take turns on their own: a send waiting for the outcomes before it
    # to be recorded never waits for a claim as well.
    _rec: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Sends that missed their slot, given back together (as the outcomes are recorded).
    _missed: list[tuple[list[int], int, datetime]] = field(default_factory=list)
    _miss: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Channels a platform told to wait (also in the database, for the other processes).
    _paused: dict[str, datetime] = field(default_factory=dict)
    # Outcomes the platform gave that are not committed yet; they share the next commit.
    _outcomes: list[_Outcome] = field(default_factory=list)
    _unrecorded: int = 0
    _may_send: asyncio.Event = field(default_factory=asyncio.Event)
    # The caller's `now` and the pacer's clock at that moment: the sender's time runs on from it.
    _anchor: tuple[datetime, float] | None = None
    # When the channels that are not paced were last claimed from (on the pacer's clock).
    _unpaced_at: float = float("-inf")
    # How long the last claim took, on the pacer's clock (the lead of the next one's first slot).
    _lead: float = 0.0

    def __post_init__(self) -> None:
        self._may_send.set()

    async def deliver(self, now: datetime, *, batch: int = 50) -> int:
        """Send what is due now; returns how many messages were sent or held (0: nothing to do now).

        Each claim takes the next message of every chat whose next send time has come (replies
        before the waves) and books its send slot in the same transaction, so no chat's spacing
        holds up the others, another sender process never doubles the channel's pace, and a
        reply written meanwhile waits for a fraction of a second of the wave, not for all of it.
        """
        started = self.pacer.clock()
        sending: dict[tuple[str, str], asyncio.Task[int]] = {}
        done, booked_until = 0, started  # on the pacer's clock: the end of the booked sends
        while True:
            moment = self._moment(now)
            waves = booked_until - self.pacer.clock() <= self.claim_below
            if len(sending) >= self.max_chats:
                claim = _Claim()
            else:
                async with self._db:
                    claim = await self._claim(moment, batch, skip_chats=list(sending), waves=waves)
            if claim.ahead is not None:
                booked_until = self.pacer.clock() + claim.ahead
            for group in _by_chat(claim.jobs).values():
                chat = (group[0].channel, group[0].chat)
                sending[chat] = asyncio.create_task(self._deliver_to(group, moment))
            if self.pacer.clock() - started > self.round_span:
                return done + sum(await asyncio.gather(*sending.values()))
            if not sending:
                if claim.free_in is None or claim.free_in > self.max_inline_wait:
                    return done
                # Not longer than a reply poll: a reply written meanwhile is claimed then.
                await self.pacer.sleep(max(min(claim.free_in, self.reply_poll), 1e-3))
                continue
            done += await self._until_room(sending, self._pause_for(claim, booked_until))

    def _moment(self, now: datetime) -> datetime:
        """The sender's time: the caller's `now`, run on by the pacer's clock (a loop that passes
        one `now` for a whole drain still books real seconds), never behind `now`."""
        clock = self.pacer.clock()
        if self._anchor is not None:
            at, then = self._anchor
            projected = at + timedelta(seconds=clock - then)
            if now <= projected <= now + timedelta(seconds=60):
                return projected
        self._anchor = (now, clock)
        return now

    def _pause_for(self, claim: _Claim, booked_until: float) -> float:
        """How long to wait before the next claim: until the booked sends run short when the
        claim filled them, else a reply poll (or until the next chat is free, if sooner)."""
        if claim.full:
            return max(
                0.0, min(self.reply_poll, booked_until - self.pacer.clock() - self.claim_below)
            )
        if claim.rows:  # all that was free is claimed: the next may be a reply written meanwhile
            return self.reply_poll
        return min(self.reply_poll, claim.free_in if claim.free_in is not None else self.reply_poll)

    async def _claim(
        self, now: datetime, batch: int, *, skip_chats: list[tuple[str, str]], waves: bool
    ) -> _Claim:
        """Claim due rows under a lease (replies only unless `waves`), the paced channels' with
        their send slots; the jobs ready to send now."""
        started = self.pacer.clock()
        claim = await self._claim_in(now, batch, skip_chats=skip_chats, waves=waves)
        # A slot booked sooner than the claim's own commit would be missed: the next claim's
        # first slot leaves that long (as long as this one took, on the pacer's clock).
        self._lead = min(self.claim_below, max(0.0, self.pacer.clock() - started))
        return claim

    async def _claim_in(
        self, now: datetime, batch: int, *, skip_chats: list[tuple[str, str]], waves: bool
    ) -> _Claim:
        """The claim's transaction."""
        async with unit_of_work(self.sessions) as session:
            for name, client in self.clients.items():
                if (window := client.traits.window) is not None:
                    open_for = window - client.traits.window_margin
                    await outbox.release_held(session, now=now, window=open_for, channel=name)
            self._paused.update(await outbox.paused_channels(session, now=now))
            paused = [name for name, until in self._paused.items() if until > now]
            skip = [*paused, *self.skip_channels]
            paces = {} if self.only is not None else self._paces(skip)
            claim = _Claim()
            if self._unpaced_due(paces):
                claim.rows = await outbox.claim_due(
                    session,
                    now=now,
                    lease=self.lease,
                    limit=batch,
                    only=self.only,
                    skip_channels=[*skip, *paces],
                    skip_chats=skip_chats,
                    waves=waves,
                )
            for channel, pace in paces.items():
                booking = await outbox.claim_paced(
                    session,
                    now=now,
                    channel=channel,
                    pace=pace,
                    horizon=self.claim_ahead * (1 if waves else 2),
                    lease=self.lease,
                    limit=batch,
                    waves=waves,
                    skip_chats=[chat for c, chat in skip_chats if c == channel],
                    clock=lambda: self._moment(now),
                    lead=self._lead,
                )
                claim.add(booking, now, pace)
            asks = [row.identity_id for row in claim.rows if self._asks_identity(row.channel)]
            windows = await outbox.windows_of(session, asks)
            jobs = [job for row in claim.rows if (job := self._job_of(row, windows, now))]
            claim.jobs = await _keep_to_hours(session, claim.slotted(jobs), now)
        return claim

    def _unpaced_due(self, paces: dict[str, outbox.Pace]) -> bool:
        """Whether to claim from the channels that are not paced: always when a client is on
        one; else (only a switched-off channel's messages to fail) once a second, not with
        every claim of a wave."""
        if any(name not in paces for name in self.clients) or self.only is not None:
            return True
        clock = self.pacer.clock()
        if clock - self._unpaced_at < 1.0:
            return False
        self._unpaced_at = clock
        return True

    def _paces(self, skip: list[str]) -> dict[str, outbox.Pace]:
        """The paced channels to claim from (those switched on, not paused, not skipped)."""
        paces = {}
        for name in self.clients:
            if name not in skip and (pace := self.pacer.pace(name, merges=self._merges(name))):
                paces[name] = pace
        return paces

    def _merges(self, channel: str) -> bool:
        """Whether a burst to one person goes as one message on this channel."""
        return self.traits(channel).merges_bursts

    async def _until_room(
        self, sending: dict[tuple[str, str], asyncio.Task[int]], pause: float
    ) -> int:
        """Wait `pause` (or until every chat finished, or one did when at most chats at once);
        how many the chats that finished sent. A chat that finished has its next message due
        after its gap at the earliest: claiming for each one that finished only costs claims."""
        if pause > 0:
            full = len(sending) >= self.max_chats
            until = asyncio.FIRST_COMPLETED if full else asyncio.ALL_COMPLETED
            await asyncio.wait(sending.values(), timeout=pause, return_when=until)
        else:
            await asyncio.sleep(0)
        done = 0
        for chat in [chat for chat, task in sending.items() if task.done()]:
            done += sending.pop(chat).result()
        return done

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
        """One person's messages in order: on a paced channel the first (maybe merged) message
        at its booked slot, the rest back to the outbox until the chat's next send time."""
        traits = jobs[0].traits
        chunks = (
            merge_burst(jobs, traits.max_text) if traits.merges_bursts else [[job] for job in jobs]
        )
        first = jobs[0]
        if first.slot is not None:
            if rest := [j.row_id for chunk in chunks[1:] for j in chunk]:
                await self._give_back(rest, first.chat_free or now)
            chunks = chunks[:1]
            await self._in_slot(first, now)
        accepted = 0
        for chunk in chunks:
            await self.pacer.turn(chunk[0].channel)
            accepted += await self._deliver_chunk(chunk, now, slot=first.slot)
        return accepted

    async def _in_slot(self, job: Job, now: datetime) -> None:
        """Wait for the job's booked slot."""
        assert job.slot is not None
        wait = (job.slot - self._moment(now)).total_seconds()
        if wait > 0:
            await self.pacer.sleep(wait)

    async def _deliver_chunk(
        self, chunk: list[Job], now: datetime, *, slot: datetime | None = None
    ) -> int:
        """Send one (maybe merged) message, or hold it when the WhatsApp window is closed; on a
        paced channel only within `pacer.slack` of its booked `slot`."""
        # A message the platform accepted but we have not recorded goes again after a crash: no
        # send starts while `max_unrecorded` wait to be recorded, so a crash doubles only those
        # in flight and fewer than that many more, and a database that stalls stops the sending.
        await self._may_send.wait()
        if slot is not None and (self._moment(now) - slot).total_seconds() > self.pacer.slack:
            # Later than its slot allows (a busy machine): it would crowd the sends booked after
            # it, here or in another process, beyond the platform's limit. It goes in a new slot.
            await self._missed_slot(chunk, slot)
            return 0
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

    async def _missed_slot(self, chunk: list[Job], slot: datetime) -> None:
        """A message that missed its slot goes back to the outbox for another; those that miss
        while a give-back commits share the next one, apart from the outcomes' commits."""
        first = chunk[0]
        self.metrics.missed_slots.labels(first.channel).inc()
        if first.identity_id is None:
            return
        self._missed.append(([job.row_id for job in chunk], first.identity_id, slot))
        async with self._miss:
            batch, self._missed = self._missed, []
            if batch:
                async with unit_of_work(self.sessions) as session:
                    await outbox.give_back_late(session, batch)

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
        if self._unrecorded >= self.max_unrecorded:
            self._may_send.clear()
        try:
            async with self._rec:
                if not outcome.done.done():  # not committed by an earlier waiter: commit all
                    await self._commit_outcomes()
            await outcome.done  # raises if that commit failed
        finally:
            self._unrecorded -= 1
            if self._unrecorded < self.max_unrecorded:
                self._may_send.set()

    async def _commit_outcomes(self) -> None:
        """One transaction for every outcome waiting; each waiter learns how it went."""
        batch, self._outcomes = self._outcomes, []
        sent = [  # the usual case: one statement records them all
            (job, outcome)
            for outcome in batch
            if outcome.result.ok
            for job in outcome.chunk
            if not job.farewell
        ]
        others = [o for o in batch if any(j.farewell or not o.result.ok for j in o.chunk)]
        statement = outbox.mark_sent([(j.row_id, o.result.message_id, o.now) for j, o in sent])
        try:
            if not others:  # on PostgreSQL that statement commits itself: one round trip
                async with self.sessions() as session:
                    await session.connection(execution_options=_one_statement(session))
                    await session.execute(statement)
                    await session.commit()
            else:
                async with unit_of_work(self.sessions) as session:
                    if sent:
                        await session.execute(statement)
                    for outcome in others:
                        for job in outcome.chunk:
                            if outcome.result.ok and not job.farewell:
                                continue
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
        for job, _ in sent:
            self.metrics.sent.labels(job.channel).inc()
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


def _one_statement(session: Any) -> dict[str, Any]:
    """A writer whose transaction is one statement: on PostgreSQL it commits itself (autocommit),
    on SQLite it takes the write lock up front as every writer does (storage/db.py)."""
    return {"isolation_level": "AUTOCOMMIT"} if is_postgres(session) else {WRITE: True}


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
        farewell=(row.dedupe_key or "").startswith(erasure.FAREWELL),
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
