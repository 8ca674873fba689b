"""Erasing a household's data on its request (UU PDP), and purging old chat data (retention).

What Sinergi itself gathered goes: chat transcripts (inbox, outbox, conversation state), report
photos and voice notes (files under the media dir), what the family typed (report notes,
request details), mentors' visit notes, the phone number and the chat's link. What stays: the
household row and its program rows (the official register entry is not Sinergi's to erase),
the numbers and states that the counts are made of, and the audit trail that says the erasure
happened and by whom. Nothing here commits; the caller's unit of work does.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, String, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import alumni, audit, households, identities
from storage.crypto import mask_name
from storage.media import LOCAL_PREFIX, MediaStore
from storage.models import (
    AuditEvent,
    ChatIdentity,
    Conversation,
    Escalation,
    EscalationNote,
    Household,
    InboxUpdate,
    LinkAttempt,
    MentorVisit,
    OutboxMessage,
    ProgressReport,
    Proposal,
    Referral,
    RelapseSignal,
    RequestEvent,
    ServiceRequest,
    StageTransition,
)

# What an erased message or transcript becomes: the row stays for the counts, its words go.
ERASED: dict[str, Any] = {"erased": True}
ERASED_RAW = ""
# The one message an erasure leaves in the outbox: the family's last word from Dinsos, queued
# before the erasure under this key and emptied by the sender once it is sent or given up.
FAREWELL = "farewell:"


def not_farewell() -> ColumnElement[bool]:
    """Outbox rows other than an erasure's last word."""
    return or_(
        OutboxMessage.dedupe_key.is_(None), OutboxMessage.dedupe_key.not_like(FAREWELL + "%")
    )


def scrub_farewell(row: OutboxMessage) -> bool:
    """A last word sent (or given up): its words and its address go too; True when it was one."""
    if not (row.dedupe_key or "").startswith(FAREWELL):
        return False
    row.payload, row.recipient = dict(ERASED), f"erased-{row.identity_id}"
    row.external_message_id = None
    return True


def _chat_keys(chat: ChatIdentity) -> list[str]:
    """The inbox keys a chat's updates were stored under (`whatsapp:<wa_id>`, `telegram:<id>`)."""
    keys = [f"{chat.channel}:{chat.external_id}"]
    if chat.alt_id:
        keys.append(f"{chat.channel}:{chat.alt_id}")
    return keys


def _delete_file(store: MediaStore | None, reference: str | None) -> int:
    """Remove one media file of ours; 1 when a file went."""
    if store is None or not reference or not reference.startswith(LOCAL_PREFIX):
        return 0
    path = store.path_of(reference)
    if path is None:
        return 0
    path.unlink(missing_ok=True)
    return 1


async def _erase_chats(
    session: AsyncSession, chats: list[ChatIdentity], now: datetime
) -> dict[str, int]:
    """Each chat's transcripts emptied, its state forgotten, its number gone, unlinked, opted out."""
    counts = {"chats": 0, "inbox": 0, "outbox": 0}
    for chat in chats:
        keys = _chat_keys(chat)
        pseudonym = f"erased-{chat.id}"
        for update_row in await session.scalars(
            select(InboxUpdate).where(InboxUpdate.chat_key.in_(keys))
        ):
            # A platform's message id can spell the number (WhatsApp's wamid does).
            update_row.raw, update_row.state = ERASED_RAW, "erased"
            update_row.chat_key = f"{chat.channel}:{pseudonym}"
            update_row.external_id = f"erased-{update_row.id}"
            counts["inbox"] += 1
        await identities.opt_out(session, chat, now, sparing=FAREWELL)
        outbox = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.identity_id == chat.id, not_farewell())
            .values(payload=ERASED, recipient=pseudonym)
        )
        counts["outbox"] += outbox.rowcount or 0  # type: ignore[attr-defined]
        await session.execute(
            update(Conversation)
            .where(Conversation.identity_id == chat.id)
            .values(journey="menu", step="", data={}, updated_at=now)
        )
        await session.execute(delete(LinkAttempt).where(LinkAttempt.identity_id == chat.id))
        # What the chat typed to propose a family (usul) is its own words too.
        await session.execute(
            update(Proposal)
            .where(Proposal.identity_id == chat.id)
            .values(name="", phone=None, about=None)
        )
        chat.household_id = None
        chat.link_method = None
        chat.phone = chat.alt_id = None
        # The platform id is a phone number on WhatsApp: the next message is a new chat.
        chat.external_id = pseudonym
        counts["chats"] += 1
    return counts


async def _erase_told_others(session: AsyncSession, household: Household) -> int:
    """Messages to mentors that named this family (a voice note's call-back number) emptied."""
    if household.mentor_id is None:
        return 0
    marks = [m for m in (household.phone, household.name, mask_name(household.name)) if m]
    rows = await session.scalars(
        select(OutboxMessage)
        .join(ChatIdentity, ChatIdentity.id == OutboxMessage.identity_id)
        .where(ChatIdentity.mentor_id == household.mentor_id)
    )
    erased = 0
    for row in rows:
        text = json.dumps(row.payload, ensure_ascii=False)
        if any(mark in text for mark in marks) or f':{household.id}"' in text:
            row.payload = dict(ERASED)
            erased += 1
    return erased


async def _erase_typed(
    session: AsyncSession, household_id: int, store: MediaStore | None
) -> dict[str, int]:
    """What the family typed and sent (report notes, photos, request details), and notes about it."""
    counts = {"reports": 0, "photos": 0, "requests": 0, "visits": 0, "notes": 0}
    for report in await session.scalars(
        select(ProgressReport).where(ProgressReport.household_id == household_id)
    ):
        counts["photos"] += _delete_file(store, report.photo_path)
        report.problem_note, report.photo_path = None, None
        counts["reports"] += 1
    request_ids = select(ServiceRequest.id).where(ServiceRequest.household_id == household_id)
    result = await session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.household_id == household_id)
        .values(details=None)
    )
    counts["requests"] = result.rowcount or 0  # type: ignore[attr-defined]
    await session.execute(
        update(RequestEvent).where(RequestEvent.request_id.in_(request_ids)).values(note=None)
    )
    visits = await session.execute(
        update(MentorVisit).where(MentorVisit.household_id == household_id).values(note=None)
    )
    counts["visits"] = visits.rowcount or 0  # type: ignore[attr-defined]
    escalations = select(Escalation.id).where(Escalation.household_id == household_id)
    await session.execute(
        update(Escalation).where(Escalation.household_id == household_id).values(outcome=None)
    )
    notes = await session.execute(
        update(EscalationNote).where(EscalationNote.escalation_id.in_(escalations)).values(text="")
    )
    counts["notes"] = notes.rowcount or 0  # type: ignore[attr-defined]
    for model, column in (
        (StageTransition, StageTransition.evidence_detail),
        (RelapseSignal, RelapseSignal.detail),
        (Referral, Referral.note),
    ):
        await session.execute(
            update(model).where(model.household_id == household_id).values({column.key: None})
        )
    await session.execute(
        update(Referral).where(Referral.household_id == household_id).values(asked="")
    )
    return counts


async def _erase_audit_details(
    session: AsyncSession, household_id: int, store: MediaStore | None
) -> int:
    """Earlier audit lines keep who did what and when, not the data (a voice note's file goes)."""
    rows = await session.scalars(select(AuditEvent).where(AuditEvent.household_id == household_id))
    voices = 0
    for row in rows:
        if row.action == "voice_note":
            voices += _delete_file(store, str((row.detail or {}).get("media") or ""))
        row.detail = {}
    return voices


async def erase_household(
    session: AsyncSession,
    *,
    household_id: int,
    media_root: Path | None,
    actor: str,
    reference: str | None,
    now: datetime,
) -> dict[str, int]:
    """Erase what Sinergi gathered about one household; how many of each thing went."""
    household = await session.get(Household, household_id)
    if household is None:
        raise LookupError(household_id)
    store = MediaStore(media_root) if media_root is not None else None
    chats = list(
        await session.scalars(select(ChatIdentity).where(ChatIdentity.household_id == household_id))
    )
    if household.phone:
        # A chat that wrote from the family's number but never linked holds the same number.
        chats += [
            c
            for c in await session.scalars(
                select(ChatIdentity).where(
                    ChatIdentity.household_id.is_(None),
                    ChatIdentity.mentor_id.is_(None),
                    ChatIdentity.phone == household.phone,
                )
            )
            if c not in chats
        ]
    counts = await _erase_chats(session, chats, now)
    counts["mentor_messages"] = await _erase_told_others(session, household)
    counts.update(await _erase_typed(session, household_id, store))
    counts["voice_notes"] = await _erase_audit_details(session, household_id, store)
    counts["alumni_listing"] = await alumni.forget(session, household_id)
    household.phone = None
    household.updated_at = now
    await session.flush()
    await households.forget(session, household_id)  # the name index is Sinergi's copy too
    audit.record_on(
        session,
        household,
        actor=actor,
        action="household.erased",
        now=now,
        reference=reference,
        **counts,
    )
    return counts


async def restrict_household(
    session: AsyncSession, *, household_id: int, actor: str, reference: str | None, now: datetime
) -> list[ChatIdentity]:
    """Sinergi stops using the family's data: every chat opted out and unlinked; the chats."""
    household = await session.get(Household, household_id)
    if household is None:
        raise LookupError(household_id)
    chats = list(
        await session.scalars(select(ChatIdentity).where(ChatIdentity.household_id == household_id))
    )
    await alumni.forget(session, household_id)  # no longer listed for others to find
    for chat in chats:
        await identities.opt_out(session, chat, now)
        chat.household_id = None
        chat.link_method = None
    audit.record_on(
        session,
        household,
        actor=actor,
        action="household.restricted",
        now=now,
        reference=reference,
        chats=len(chats),
    )
    return chats


# Retention ---------------------------------------------------------------------------------------


def months_before(now: datetime, months: int) -> datetime:
    """The same moment `months` calendar months earlier (the 31st becomes the month's last day)."""
    total = now.year * 12 + now.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    days = (date(year + (month == 12), month % 12 + 1, 1) - date(year, month, 1)).days
    return now.replace(year=year, month=month, day=min(now.day, days))


def _last_contact() -> ColumnElement[datetime]:
    """When a chat last wrote (or, never having written, was first seen)."""
    return func.coalesce(ChatIdentity.last_inbound_at, ChatIdentity.created_at)


async def purge_before(
    session: AsyncSession, *, cutoff: datetime, media_root: Path | None
) -> dict[str, int]:
    """Transcripts, photos and voice notes of people not heard from since `cutoff`; how many went.

    A person still in contact keeps everything; the rows stay (counts, states, dates), their
    words and files go. Each purged thing is purged once: an emptied one no longer matches.
    """
    store = MediaStore(media_root) if media_root is not None else None
    quiet = select(ChatIdentity.id).where(_last_contact() < cutoff)
    heard = select(ChatIdentity).where(_last_contact() >= cutoff).subquery()
    heard_keys = select(heard.c.channel + ":" + heard.c.external_id).union(
        select(heard.c.channel + ":" + heard.c.alt_id).where(heard.c.alt_id.is_not(None))
    )
    inbox = await session.execute(
        update(InboxUpdate)
        .where(
            InboxUpdate.state != "pending",
            InboxUpdate.received_at < cutoff,
            InboxUpdate.raw != ERASED_RAW,
            InboxUpdate.chat_key.not_in(heard_keys),
        )
        .values(raw=ERASED_RAW)
    )
    outbox = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.state.not_in(("pending", "held")),
            OutboxMessage.created_at < cutoff,
            OutboxMessage.identity_id.in_(quiet),
            cast(OutboxMessage.payload, String) != json.dumps(ERASED),
        )
        .values(payload=ERASED)
    )
    states = await session.execute(
        update(Conversation)
        .where(
            Conversation.identity_id.in_(quiet),
            Conversation.updated_at < cutoff,
            cast(Conversation.data, String) != "{}",
        )
        .values(journey="menu", step="", data={})
    )
    in_touch = select(ChatIdentity.household_id).where(
        ChatIdentity.household_id.is_not(None), _last_contact() >= cutoff
    )
    photos = 0
    for report in await session.scalars(
        select(ProgressReport).where(
            ProgressReport.photo_path.is_not(None),
            ProgressReport.started_at < cutoff,
            ProgressReport.household_id.not_in(in_touch),
        )
    ):
        _delete_file(store, report.photo_path)
        report.photo_path = None
        photos += 1
    voices = 0
    for event in await session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "voice_note",
            AuditEvent.at < cutoff,
            AuditEvent.household_id.not_in(in_touch),
        )
    ):
        if (event.detail or {}).get("media"):
            _delete_file(store, str(event.detail["media"]))
            event.detail = {**event.detail, "media": None}
            voices += 1
    return {
        "inbox": inbox.rowcount or 0,  # type: ignore[attr-defined]
        "outbox": outbox.rowcount or 0,  # type: ignore[attr-defined]
        "conversations": states.rowcount or 0,  # type: ignore[attr-defined]
        "photos": photos,
        "voice_notes": voices,
    }
