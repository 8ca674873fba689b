"""Chat identities, consent, conversation state, link codes, inbox and outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, MaskedJSON, UTCDateTime


class ChatIdentity(Base):
    """One person on one channel (`telegram:568577002`), linked to a household or mentor."""

    __tablename__ = "chat_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    # WhatsApp: the wa_id when the key is the BSUID (or the reverse); Telegram: unused.
    alt_id: Mapped[str | None] = mapped_column(String(64), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("mentors.id"), index=True)
    # A partner's chat: the staff account (role `partner`) it answers referrals for.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    link_method: Mapped[str | None] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(8), default="id")
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unreachable_reason: Mapped[str | None] = mapped_column(String(64))
    # The sender's pacing: no message to this chat before this time (the platform's per-person
    # spacing), booked with the claim so that every sender process keeps to it.
    next_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Consent(Base):
    """A record of consent given (and maybe withdrawn) to one version of the notice."""

    __tablename__ = "consents"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("chat_identities.id"), index=True)
    notice_version: Mapped[str] = mapped_column(String(16))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Conversation(Base):
    """Where a person is in a journey; shared by every channel, saved with each reply."""

    __tablename__ = "conversations"
    identity_id: Mapped[int] = mapped_column(ForeignKey("chat_identities.id"), primary_key=True)
    journey: Mapped[str] = mapped_column(String(32), default="menu")
    step: Mapped[str] = mapped_column(String(32), default="")
    data: Mapped[dict[str, Any]] = mapped_column(MaskedJSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LinkCode(Base):
    """A single-use code a mentor gives a household to link its chat; kept as a hash."""

    __tablename__ = "link_codes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("mentors.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LinkAttempt(Base):
    """One try of the NIK + No. KK path, for rate limits per chat and per NIK."""

    __tablename__ = "link_attempts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("chat_identities.id"))
    nik_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    success: Mapped[bool] = mapped_column(Boolean, default=False)


class InboxUpdate(Base):
    """A raw platform update, stored before it is answered; the unique key drops redeliveries."""

    __tablename__ = "inbox_updates"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    chat_key: Mapped[str] = mapped_column(String(128))
    raw: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(200))


class OutboxMessage(Base):
    """A message to send, written with the state change that caused it; sent by the sender."""

    __tablename__ = "outbox_messages"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("chat_identities.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(MaskedJSON)
    # Scheduler and notifications set a key so that two ticks write one message, not two.
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    external_message_id: Mapped[str | None] = mapped_column(String(128), index=True)
    # The platform's last receipt (WhatsApp: sent → delivered → read, or failed).
    receipt: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PendingReceipt(Base):
    """A platform receipt that came before its send was recorded; applied by the next tick (kept a day)."""

    __tablename__ = "pending_receipts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_message_id: Mapped[str] = mapped_column(String(128), index=True)
    status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChannelPause(Base):
    """A whole channel (the bot, the number) told to wait by its platform (a 429's retry_after).

    Kept in the database so that every sender process holds back, not only the one told.
    """

    __tablename__ = "channel_pauses"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    paused_until: Mapped[datetime] = mapped_column(UTCDateTime)


class ChannelPace(Base):
    """A channel's next free send time (the bot's, the number's rate), booked with each claim.

    One row per channel, locked by the claim that books it: sender processes share the pace.
    """

    __tablename__ = "channel_paces"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_slot_at: Mapped[datetime] = mapped_column(UTCDateTime)


Index("ix_link_attempts_chat", LinkAttempt.identity_id, LinkAttempt.at)
Index("ix_link_attempts_nik", LinkAttempt.nik_hash, LinkAttempt.at)
Index("ix_inbox_pending", InboxUpdate.state, InboxUpdate.chat_key, InboxUpdate.id)
Index("ix_outbox_due", OutboxMessage.state, OutboxMessage.next_attempt_at)
