"""Every table, imported here so that `Base.metadata` knows them all (Alembic reads it)."""

from storage.models.audit import AuditEvent
from storage.models.base import Base, UTCDateTime
from storage.models.chat import (
    ChatIdentity,
    Consent,
    Conversation,
    InboxUpdate,
    LinkAttempt,
    LinkCode,
    OutboxMessage,
)
from storage.models.people import Household, Mentor, Region, StaffUser
from storage.models.programs import ProgramEnrollment

__all__ = [
    "AuditEvent",
    "Base",
    "ChatIdentity",
    "Consent",
    "Conversation",
    "Household",
    "InboxUpdate",
    "LinkAttempt",
    "LinkCode",
    "Mentor",
    "OutboxMessage",
    "ProgramEnrollment",
    "Region",
    "StaffUser",
    "UTCDateTime",
]
