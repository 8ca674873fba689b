"""Staff sessions and failed logins of the admin view."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, UTCDateTime
from storage.models.chat import InboxUpdate, OutboxMessage


class StaffSession(Base):
    """A signed-in browser: only a hash of its cookie is kept, with its CSRF secret and expiry."""

    __tablename__ = "staff_sessions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    csrf_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    address: Mapped[str | None] = mapped_column(String(64))


class LoginFailure(Base):
    """One failed sign-in, counted per username and per address to slow down guessing."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


Index("ix_login_failures_username", LoginFailure.username, LoginFailure.at)
Index("ix_login_failures_address", LoginFailure.address, LoginFailure.at)
# The household page reads one household's conversation; these keep it an index lookup.
Index("ix_inbox_chat_key", InboxUpdate.chat_key, InboxUpdate.id)
Index("ix_outbox_identity_created", OutboxMessage.identity_id, OutboxMessage.created_at)
