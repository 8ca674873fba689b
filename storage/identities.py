"""Chat identities: who is writing, their consent, opt-out, locale and conversation state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import outbox
from storage.models import ChatIdentity, Consent, Conversation, Household, StaffUser

NOTICE_VERSION = "2026-11"
# Mentors read their own, shorter notice: what Sinergi uses of theirs, from the mentors roster.
MENTOR_NOTICE_VERSION = "2026-11-mentor"
# Partner staff read theirs: their name, number and organisation, to answer referrals.
PARTNER_NOTICE_VERSION = "2026-12-partner"
# The conversation data's key for the choices last shown, so that a typed "2" means the second.
OFFERED = "_choices"


async def get_or_create(
    session: AsyncSession,
    *,
    channel: str,
    external_id: str,
    now: datetime,
    phone: str | None = None,
    alt_id: str | None = None,
    locale: str = "id",
) -> ChatIdentity:
    """The identity of this sender, found by its key or its other id, made on first contact."""
    identity = await session.scalar(
        select(ChatIdentity).where(
            ChatIdentity.channel == channel, ChatIdentity.external_id == external_id
        )
    )
    if identity is None and alt_id:
        # WhatsApp: the same person may arrive under a new BSUID with the old wa_id (or back).
        identity = await session.scalar(
            select(ChatIdentity).where(
                ChatIdentity.channel == channel,
                (ChatIdentity.alt_id == alt_id) | (ChatIdentity.external_id == alt_id),
            )
        )
        if identity is not None:
            identity.external_id, identity.alt_id = external_id, alt_id
    if identity is None:
        identity = ChatIdentity(
            channel=channel,
            external_id=external_id,
            alt_id=alt_id,
            phone=phone,
            locale=locale,
            created_at=now,
            opted_out=False,
        )
        session.add(identity)
        await session.flush()
    elif phone and identity.phone != phone:
        identity.phone = phone
    return identity


async def conversation_of(
    session: AsyncSession, identity: ChatIdentity, now: datetime
) -> Conversation:
    """The saved conversation state, or a fresh one at the menu."""
    conv = await session.get(Conversation, identity.id)
    if conv is None:
        conv = Conversation(
            identity_id=identity.id, journey="menu", step="", data={}, updated_at=now
        )
        session.add(conv)
    return conv


def heard_from(identity: ChatIdentity, sent_at: datetime, now: datetime) -> None:
    """Stamp when the person last wrote: the platform's time of sending, never in the future,
    never moving back (a backlog answered late still counts from when it was written)."""
    at = min(sent_at, now)
    if identity.last_inbound_at is None or at > identity.last_inbound_at:
        identity.last_inbound_at = at


def offered_choices(conversation: Conversation) -> list[list[str]]:
    """The [key, label] pairs a typed number or word picks from: the choices shown last."""
    return list((conversation.data or {}).get(OFFERED, []))


def remember_offered(conversation: Conversation, choices: list[list[str]]) -> None:
    """Keep the choices just shown (reassigned, so the JSON column sees the change)."""
    conversation.data = {**(conversation.data or {}), OFFERED: choices}


def only_offered(choices: list[list[str]]) -> dict[str, Any]:
    """Conversation data holding just these offered choices (a sweep writes it for idle chats)."""
    return {OFFERED: choices}


async def give_consent(
    session: AsyncSession, identity: ChatIdentity, now: datetime, *, version: str = NOTICE_VERSION
) -> None:
    """Record agreement to the current notice (the household's, or the mentors' one)."""
    identity.consent_at = now
    identity.opted_out = False
    session.add(Consent(identity_id=identity.id, notice_version=version, given_at=now))


async def opt_out(
    session: AsyncSession, identity: ChatIdentity, now: datetime, *, sparing: str | None = None
) -> int:
    """BERHENTI: consent withdrawn, and every message still waiting for this person cancelled
    (but those whose dedupe key starts with `sparing`: an erasure's last word)."""
    identity.opted_out = True
    identity.consent_at = None
    await session.execute(
        update(Consent)
        .where(Consent.identity_id == identity.id, Consent.withdrawn_at.is_(None))
        .values(withdrawn_at=now)
    )
    return await outbox.cancel_for_identity(session, identity.id, "opted_out", sparing=sparing)


async def identities_of_household(session: AsyncSession, household_id: int) -> list[ChatIdentity]:
    """The reachable chats of a household (consented, not opted out)."""
    rows = await session.scalars(
        select(ChatIdentity).where(
            ChatIdentity.household_id == household_id,
            ChatIdentity.opted_out.is_(False),
            ChatIdentity.consent_at.is_not(None),
        )
    )
    return list(rows)


async def identities_of_mentor(session: AsyncSession, mentor_id: int) -> list[ChatIdentity]:
    """The reachable chats of a mentor."""
    rows = await session.scalars(
        select(ChatIdentity).where(
            ChatIdentity.mentor_id == mentor_id,
            ChatIdentity.opted_out.is_(False),
            ChatIdentity.consent_at.is_not(None),
        )
    )
    return list(rows)


def of_organisation(phone: Any, organisation_id: Any) -> Any:
    """SQL: a chat of an organisation: one of its number that belongs to no household or
    mentor, or one its active partner staff linked as theirs (columns or values alike).

    A partner links a chat as a mentor does: by starting Sinergi from their own number
    (WhatsApp knows it; on Telegram they share their contact), the one on their account
    (handlers/partner.py). A chat of the office's `no_hp` hears the news without a menu.
    """
    staff = select(StaffUser.id).where(
        StaffUser.organisation_id == organisation_id, StaffUser.active.is_(True)
    )
    of_number = (
        (ChatIdentity.phone == phone)
        & ChatIdentity.household_id.is_(None)
        & ChatIdentity.mentor_id.is_(None)
    )
    return of_number | ChatIdentity.staff_id.in_(staff.scalar_subquery())


def partner_chats_query(phone: str | None, organisation_id: int) -> Any:
    """SQL: the reachable chats of an organisation (consented, not opted out)."""
    # No number is no chat by number (`phone == None` would be every chat without one).
    who = of_organisation(phone or "", organisation_id)
    return select(ChatIdentity).where(
        who,
        ChatIdentity.opted_out.is_(False),
        ChatIdentity.consent_at.is_not(None),
    )


async def identities_of_organisation(
    session: AsyncSession, phone: str | None, organisation_id: int
) -> list[ChatIdentity]:
    """The reachable chats of an organisation: its number's, and its partner staff's own."""
    return list(await session.scalars(partner_chats_query(phone, organisation_id)))


def link_partner(identity: ChatIdentity, staff_id: int) -> None:
    """The chat is a partner's: it answers referrals for that account, and is no one else's."""
    identity.staff_id, identity.household_id, identity.mentor_id = staff_id, None, None
    identity.link_method = "phone"


async def first_chat_of_mentor(session: AsyncSession, mentor_id: int, identity_id: int) -> bool:
    """Whether this is the mentor's only chat: nothing told to the mentor has reached them yet."""
    other = await session.scalar(
        select(ChatIdentity.id)
        .where(ChatIdentity.mentor_id == mentor_id, ChatIdentity.id != identity_id)
        .limit(1)
    )
    return other is None


async def nik_links_of_mentor(
    session: AsyncSession, mentor_id: int, *, limit: int = 20
) -> list[tuple[Household, int]]:
    """The mentor's families' chats still linked by NIK, newest first: (household, chat id)."""
    rows = await session.execute(
        select(Household, ChatIdentity.id)
        .join(ChatIdentity, ChatIdentity.household_id == Household.id)
        .where(Household.mentor_id == mentor_id, ChatIdentity.link_method == "nik")
        .order_by(ChatIdentity.id.desc())
        .limit(limit)
    )
    return [(household, int(chat_id)) for household, chat_id in rows.all()]
