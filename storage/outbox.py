"""The outbox: messages written with the state change that caused them, claimed by the sender."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, exists, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import is_postgres
from storage.models import ChannelPace, ChannelPause, ChatIdentity, OutboxMessage, PendingReceipt

log = logging.getLogger("sinergi.outbox")

CLAIMABLE = ("pending", "retry")
# Everything not yet handed to a platform (held: waiting for WhatsApp's window to open).
WAITING = (*CLAIMABLE, "held")


def enqueue(
    session: AsyncSession,
    identity: ChatIdentity,
    payload: dict[str, Any],
    *,
    now: datetime,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> OutboxMessage:
    """Add one message for `identity` to this unit of work."""
    row = OutboxMessage(
        identity_id=identity.id,
        channel=identity.channel,
        recipient=identity.external_id,
        payload=payload,
        dedupe_key=dedupe_key,
        state="pending",
        attempts=0,
        next_attempt_at=not_before or now,
        created_at=now,
    )
    session.add(row)
    return row


def within_hours(region_code: str, hours: tuple[str, str] | None = None) -> dict[str, str]:
    """A payload's `hours`: keep the message to delivery hours local to this region.

    Without `hours` the message keeps to the deployment's own window (SINERGI_DELIVERY_START/END),
    which the sender fills in when it sends (bot/sender.py): code far from the settings, such as
    a notice written from an admin page, need not carry them. The ladder writes the same keys
    in SQL (storage/ladder.py).
    """
    if hours is None:
        return {"region": region_code}
    start, end = hours
    return {"region": region_code, "start": start, "end": end}


async def enqueue_once(
    session: AsyncSession,
    identity: ChatIdentity,
    payload: dict[str, Any],
    *,
    now: datetime,
    dedupe_key: str,
) -> bool:
    """Enqueue unless a message with this key exists; True when it was added."""
    exists = await session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    )
    if exists is not None:
        return False
    enqueue(session, identity, payload, now=now, dedupe_key=dedupe_key)
    return True


# A reply must not wait behind a wave of 20,000 check-ins: the scheduled waves' keys say which.
WAVE_LAST = case((OutboxMessage.dedupe_key.like("ladder:%"), 1), else_=0)


async def claim_due(
    session: AsyncSession,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    only: tuple[str, str] | None = None,
    skip_channels: Collection[str] = (),
    skip_chats: Collection[tuple[str, str]] = (),
    waves: bool = True,
) -> list[OutboxMessage]:
    """Take up to `limit` due messages (and ones whose sender died mid-send) under a lease.

    `only` (channel, recipient) limits the claim to one chat; `skip_channels` leaves out the
    channels paused by their platform and those another process owns (a terminal chat);
    `skip_chats` the (channel, recipient) chats this sender is still sending to, so that their
    next messages wait for the earlier ones. Replies and notices go before the scheduled waves
    (the ladder's prompts and lists), then by due time; `waves=False` leaves the waves out.
    """
    due = _due(now)
    if only is not None:
        due = and_(due, OutboxMessage.channel == only[0], OutboxMessage.recipient == only[1])
    elif skip_channels:
        due = and_(due, OutboxMessage.channel.not_in(list(skip_channels)))
    if not waves:
        due = and_(due, WAVE_LAST == 0)
    if skip_chats:
        chat = tuple_(OutboxMessage.channel, OutboxMessage.recipient)
        due = and_(due, chat.not_in(list(skip_chats)))
    query = (
        select(OutboxMessage)
        .where(due)
        .order_by(WAVE_LAST, OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    rows = list(await session.scalars(query))
    for row in rows:
        row.state, row.lease_until = "sending", now + lease
        row.attempts += 1
    return rows


# Pacing shared by every sender process --------------------------------------------------------

# A channel's or a chat's booked time this far beyond any claim's reach was written on another
# clock (or a test's): it must not stop the channel, so it counts as free.
STALE = timedelta(seconds=5)
# At most this many of one chat's due messages are claimed together (merged into one on WhatsApp).
BURST = 10


@dataclass(frozen=True)
class Pace:
    """One channel's limits as a claim books them."""

    # Sends per second booked on the channel (the platform's rate, a little under it).
    rate: float
    # Seconds between two sends to one chat.
    gap: float
    # Whether a chat's burst goes as one message (all its due rows are claimed together).
    merges: bool = False


@dataclass
class Booking:
    """What one paced claim took: the rows, each chat's send time, and the channel's pace after."""

    rows: list[OutboxMessage] = field(default_factory=list)
    # The booked send time of each claimed chat, by identity id.
    slots: dict[int, datetime] = field(default_factory=dict)
    # The channel's next free slot after this claim.
    next_slot: datetime | None = None
    # Whether the claim stopped at the horizon (more would have been due).
    full: bool = False
    # When nothing was claimed: the earliest time something due may be claimed (None: nothing due).
    free_at: datetime | None = None


def _due(now: datetime) -> Any:
    """Rows that may be claimed now: due, or their sender died mid-send (the lease ran out)."""
    return or_(
        and_(OutboxMessage.state.in_(CLAIMABLE), OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.state == "sending", OutboxMessage.lease_until <= now),
    )


async def claim_paced(
    session: AsyncSession,
    *,
    now: datetime,
    channel: str,
    pace: Pace,
    horizon: float,
    lease: timedelta,
    limit: int,
    waves: bool = True,
    skip_chats: Collection[str] = (),
    clock: Callable[[], datetime] | None = None,
    lead: float = 0.0,
) -> Booking:
    """Claim the next message of each chat whose next send time has come, each with a send slot.

    The channel's slots and each chat's next send time are booked in this transaction, under
    the lock of the channel's pace row, so two sender processes never book the same second
    twice: slots go `1 / rate` apart from the channel's next free slot, up to `horizon` seconds
    ahead. Replies before the waves, then by due time (`waves=False` leaves the waves out);
    `skip_chats` are recipients this sender is still sending to; `clock` tells the time once
    the lock is held (the sender's clock runs on from `now`); a channel that ran dry starts
    again `lead` seconds after it (the time this claim takes to commit).
    """
    spacing = timedelta(seconds=1.0 / pace.rate)
    pointer = await _locked_pace(session, channel, now)
    # Slots count from when the lock was had, not from before a wait for it (they would be
    # past already, and go all at once).
    at = max(now, clock()) if clock is not None else now
    reach = at + timedelta(seconds=horizon)
    first = at + timedelta(seconds=lead)
    start = first if pointer < first or pointer > reach + STALE else pointer
    room = min(limit, int((reach - start) / spacing) + 1) if start <= reach else 0
    if room <= 0:
        return Booking(next_slot=pointer, full=True, free_at=start - timedelta(seconds=horizon))
    due = and_(_due(now), OutboxMessage.channel == channel)
    if not waves:
        due = and_(due, WAVE_LAST == 0)
    if skip_chats:
        due = and_(due, OutboxMessage.recipient.not_in(list(skip_chats)))
    busy_until = now + timedelta(seconds=pace.gap) + STALE + timedelta(seconds=horizon)
    nxt = ChatIdentity.next_send_at
    free = or_(nxt.is_(None), nxt <= now, nxt > busy_until)
    chats = await _next_chats(session, and_(due, free), room, waves=waves)
    if not chats:
        return Booking(next_slot=pointer, free_at=await _next_free(session, now, channel, waves))
    slots = {identity: start + spacing * i for i, identity in enumerate(chats)}
    rows = await _rows_of(session, due, chats, pace.merges)
    for row in rows:
        row.state, row.lease_until = "sending", now + lease
        row.attempts += 1
    gap = timedelta(seconds=pace.gap)
    await session.execute(
        update(ChatIdentity),
        [{"id": identity, "next_send_at": slot + gap} for identity, slot in slots.items()],
    )
    after = start + spacing * len(chats)
    await session.execute(
        update(ChannelPace).where(ChannelPace.channel == channel).values(next_slot_at=after)
    )
    return Booking(rows, slots, after, full=len(chats) == room)


async def _next_free(
    session: AsyncSession, now: datetime, channel: str, waves: bool
) -> datetime | None:
    """When a message on this channel may next be claimed: its chat free again, or it due."""
    nxt, om = ChatIdentity.next_send_at, OutboxMessage
    on_channel = and_(om.channel == channel, WAVE_LAST == 0) if not waves else om.channel == channel
    busy = await session.scalar(
        select(func.min(nxt))
        .join(om, om.identity_id == ChatIdentity.id)
        .where(on_channel, _due(now), nxt > now)
    )
    later = await session.scalar(
        select(func.min(om.next_attempt_at)).where(
            on_channel, om.state.in_(CLAIMABLE), om.next_attempt_at > now
        )
    )
    return min((t for t in (busy, later) if t is not None), default=None)


async def _locked_pace(session: AsyncSession, channel: str, now: datetime) -> datetime:
    """The channel's next free slot, its row locked until this transaction ends (made if new)."""
    query = select(ChannelPace.next_slot_at).where(ChannelPace.channel == channel)
    if is_postgres(session):
        query = query.with_for_update()
    found = await session.scalar(query)
    if found is not None:
        return found
    insert = pg_insert if is_postgres(session) else sqlite_insert
    await session.execute(
        insert(ChannelPace)
        .values(channel=channel, next_slot_at=now)
        .on_conflict_do_nothing(index_elements=["channel"])
    )
    return await session.scalar(query) or now


async def _next_chats(session: AsyncSession, where: Any, room: int, *, waves: bool) -> list[int]:
    """Up to `room` chats (identity ids) in the order their next message should go: replies by
    due time, then (`waves`) the waves'. Two queries, each a top-N by due time, rather than one
    sort of every due row by kind (a wave of 20,000 sorted at every claim)."""
    chats: list[int] = []
    for kind in (0, 1) if waves else (0,):
        query = (
            select(OutboxMessage.identity_id)
            .join(ChatIdentity, ChatIdentity.id == OutboxMessage.identity_id)
            .where(where, _is_wave() if kind else ~_is_wave())
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit((room - len(chats)) * 3 + 10)  # a chat with several due rows comes again
        )
        for identity in await session.scalars(query):
            if identity not in chats:
                chats.append(identity)
                if len(chats) == room:
                    return chats
    return chats


def _is_wave() -> Any:
    """A scheduled wave's message (the ladder's prompts and lists), by its dedupe key."""
    return and_(OutboxMessage.dedupe_key.is_not(None), OutboxMessage.dedupe_key.like("ladder:%"))


async def _rows_of(
    session: AsyncSession, due: Any, chats: list[int], merges: bool
) -> list[OutboxMessage]:
    """The due rows claimed for these chats: the first of each, or (merging) up to a burst."""
    query = (
        select(OutboxMessage)
        .where(due, OutboxMessage.identity_id.in_(chats))
        .order_by(WAVE_LAST, OutboxMessage.next_attempt_at, OutboxMessage.id)
    )
    taken: dict[int, int] = {}
    rows: list[OutboxMessage] = []
    for row in await session.scalars(query):
        if taken.get(row.identity_id, 0) < (BURST if merges else 1):
            taken[row.identity_id] = taken.get(row.identity_id, 0) + 1
            rows.append(row)
    return rows


async def pause_channel(session: AsyncSession, channel: str, *, until: datetime) -> None:
    """Hold back every send on this channel until `until` (a later pause wins, never an earlier)."""
    insert = pg_insert if is_postgres(session) else sqlite_insert
    stmt = insert(ChannelPause).values(channel=channel, paused_until=until)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["channel"],
            set_={"paused_until": stmt.excluded.paused_until},
            where=ChannelPause.paused_until < stmt.excluded.paused_until,
        )
    )


async def paused_channels(session: AsyncSession, *, now: datetime) -> dict[str, datetime]:
    """The channels a platform told to wait, and until when."""
    rows = await session.execute(
        select(ChannelPause.channel, ChannelPause.paused_until).where(
            ChannelPause.paused_until > now
        )
    )
    return {channel: until for channel, until in rows}


async def depth(session: AsyncSession) -> int:
    """Messages still waiting to go out."""
    return int(
        await session.scalar(
            select(func.count()).where(OutboxMessage.state.in_(("pending", "retry", "sending")))
        )
        or 0
    )


async def cancel_for_identity(
    session: AsyncSession, identity_id: int, reason: str, *, sparing: str | None = None
) -> int:
    """Cancel what still waits for this identity (but keys starting `sparing`); how many."""
    waiting = and_(OutboxMessage.identity_id == identity_id, OutboxMessage.state.in_(WAITING))
    if sparing:
        waiting = and_(
            waiting,
            or_(
                OutboxMessage.dedupe_key.is_(None),
                OutboxMessage.dedupe_key.not_like(sparing + "%"),
            ),
        )
    result = await session.execute(
        update(OutboxMessage).where(waiting).values(state="cancelled", error=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# WhatsApp's 24-hour window, receipts and pacing -------------------------------------------

# A free-form WhatsApp message waiting for the person to write again (the window is closed).
HELD = "held"
# Sent when a held message waits: "you have a new message, reply to read it" (bot.config).
WINDOW_TEMPLATE = "new_message"
RECEIPT_RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}


def window_template_payload() -> dict[str, Any]:
    """The outbox payload of the "you have a new message" template (text is unused)."""
    return {
        "text": "",
        "choices": [],
        "ask_contact": False,
        "template": WINDOW_TEMPLATE,
        "template_params": [],
        "extra": {"template_only": True},
    }


async def hold_for_window(session: AsyncSession, row: OutboxMessage, *, now: datetime) -> bool:
    """Park a free-form message until the person writes; ask them once with the template."""
    # next_attempt_at keeps the time of holding: only a message after it opens the window.
    row.state, row.lease_until, row.error, row.next_attempt_at = HELD, None, "window closed", now
    row.attempts = max(0, row.attempts - 1)  # waiting is not a failed attempt
    identity = await session.get(ChatIdentity, row.identity_id)
    if identity is None:
        return False
    since = identity.last_inbound_at.isoformat() if identity.last_inbound_at else "never"
    # One template per closed window, however many messages wait behind it.
    return await enqueue_once(
        session,
        identity,
        window_template_payload(),
        now=now,
        dedupe_key=f"wa-window:{identity.id}:{since}"[:128],
    )


async def release_held(
    session: AsyncSession, *, now: datetime, window: timedelta, channel: str
) -> int:
    """Held messages of people who wrote since they were held go out now; an opted-out person's are cancelled."""
    stopped = select(ChatIdentity.id).where(ChatIdentity.opted_out.is_(True))
    held = and_(OutboxMessage.state == HELD, OutboxMessage.channel == channel)
    await session.execute(
        update(OutboxMessage)
        .where(held, OutboxMessage.identity_id.in_(stopped))
        .values(state="cancelled", error="opted_out")
    )
    wrote_since = (
        select(ChatIdentity.id)
        .where(
            ChatIdentity.id == OutboxMessage.identity_id,
            ChatIdentity.last_inbound_at > OutboxMessage.next_attempt_at,
            ChatIdentity.last_inbound_at > now - window,
        )
        .exists()
    )
    result = await session.execute(
        update(OutboxMessage)
        .where(held, wrote_since)
        .values(state="pending", next_attempt_at=now, error=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def windows_of(
    session: AsyncSession, identity_ids: list[int]
) -> dict[int, tuple[datetime | None, str | None]]:
    """Each identity's last inbound time and phone, for the window check and the address."""
    if not identity_ids:
        return {}
    rows = await session.execute(
        select(ChatIdentity.id, ChatIdentity.last_inbound_at, ChatIdentity.phone).where(
            ChatIdentity.id.in_(identity_ids)
        )
    )
    return {row.id: (row.last_inbound_at, row.phone) for row in rows}


async def defer(session: AsyncSession, row_ids: list[int], *, until: datetime) -> None:
    """Give claimed messages back unsent, due later (pacing), without counting an attempt."""
    if row_ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(row_ids), OutboxMessage.state == "sending")
            .values(
                state="pending",
                next_attempt_at=until,
                lease_until=None,
                attempts=OutboxMessage.attempts - 1,
            )
        )


def mark_sent(sent: list[tuple[int, str | None, datetime]]) -> Any:
    """The one statement that records rows the platform accepted, (id, its message id, when)."""
    ids = [row_id for row_id, _, _ in sent]
    om = OutboxMessage
    return (
        update(om)
        .where(om.id.in_(ids), om.state == "sending")
        .values(
            state="sent",
            sent_at=case({i: at for i, _, at in sent}, value=om.id),
            external_message_id=case({i: m for i, m, _ in sent}, value=om.id),
            error=None,
            lease_until=None,
        )
        .execution_options(synchronize_session=False)
    )


async def give_back_late(
    session: AsyncSession, missed: list[tuple[list[int], int, datetime]]
) -> None:
    """Claimed messages that missed their send slot, (row ids, identity id, slot), go back unsent
    in their place in the queue (no attempt counted); each chat is free again from the slot that
    nothing was sent in."""
    if not missed:
        return
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_([i for rows, _, _ in missed for i in rows]),
            OutboxMessage.state == "sending",
        )
        .values(state="pending", lease_until=None, attempts=OutboxMessage.attempts - 1)
    )
    free_from = {identity: slot for _, identity, slot in missed}
    await session.execute(
        update(ChatIdentity)
        .where(ChatIdentity.id.in_(list(free_from)))
        .values(next_send_at=case(free_from, value=ChatIdentity.id))
        .execution_options(synchronize_session=False)
    )


async def apply_receipt(
    session: AsyncSession,
    *,
    channel: str,
    external_message_id: str,
    status: str,
    now: datetime,
    outcome: str | None = None,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> int:
    """A platform's receipt updates the messages it speaks of; a failure is retried, held or given up."""
    rows = list(
        await session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.channel == channel,
                OutboxMessage.external_message_id == external_message_id,
            )
        )
    )
    if not rows:
        # Meta can answer faster than the sender commits the wamid: keep it for the next tick.
        session.add(
            PendingReceipt(
                channel=channel,
                external_message_id=external_message_id[:128],
                status=status[:16],
                outcome=outcome,
                error=(error or "")[:200] or None,
                received_at=now,
            )
        )
    for row in rows:
        if RECEIPT_RANK.get(status, 0) < RECEIPT_RANK.get(row.receipt or "", 0):
            continue  # receipts arrive out of order: "read" is not undone by a late "delivered"
        row.receipt = status[:16]
        if status == "failed":
            await _failed(session, row, now=now, outcome=outcome, error=error, retry_at=retry_at)
    return len(rows)


async def reconcile_receipts(
    session: AsyncSession, now: datetime, *, keep: timedelta = timedelta(days=1), limit: int = 500
) -> int:
    """Receipts that came before their send was recorded are applied now; a day on, dropped."""
    pr, om = PendingReceipt, OutboxMessage
    known = exists().where(
        om.channel == pr.channel, om.external_message_id == pr.external_message_id
    )
    rows = list(await session.scalars(select(pr).where(known).order_by(pr.id).limit(limit)))
    for row in rows:
        await apply_receipt(
            session,
            channel=row.channel,
            external_message_id=row.external_message_id,
            status=row.status,
            now=now,
            outcome=row.outcome,
            error=row.error,
        )
        await session.delete(row)
    result = await session.execute(delete(pr).where(pr.received_at < now - keep))
    if dropped := int(getattr(result, "rowcount", 0) or 0):
        log.info("dropped %d receipts for messages never recorded", dropped)
    return len(rows)


async def _failed(
    session: AsyncSession,
    row: OutboxMessage,
    *,
    now: datetime,
    outcome: str | None,
    error: str | None,
    retry_at: datetime | None,
) -> None:
    """Accepted, then not delivered: what happens next depends on why."""
    row.error = (error or "failed")[:200]
    if outcome == "window_closed":
        await hold_for_window(session, row, now=now)
        row.attempts += 1  # hold_for_window forgave one attempt; this one was real
    elif outcome == "retry":
        # Meta dropped it (a rate limit): send again, a little later.
        row.state, row.external_message_id = "retry", None
        row.next_attempt_at = retry_at or now + timedelta(seconds=30)
    elif outcome == "unreachable":
        row.state = "failed"
        await mark_unreachable(session, row.identity_id, now, error)
    else:
        row.state = "failed"


async def mark_unreachable(
    session: AsyncSession, identity_id: int, now: datetime, reason: str | None
) -> None:
    """A blocked bot or undeliverable number: the ladder sends a mentor instead of reminders."""
    identity = await session.get(ChatIdentity, identity_id)
    if identity is not None and identity.unreachable_at is None:
        identity.unreachable_at, identity.unreachable_reason = now, (reason or "unreachable")[:64]
