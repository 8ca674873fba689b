"""Every table, imported here so that `Base.metadata` knows them all (Alembic reads it)."""

from storage.models import search  # noqa: F401  (the name index's DDL, after `households`)
from storage.models.admin import LoginFailure, StaffSession
from storage.models.alumni import AlumniListing, PeerPairing
from storage.models.audit import AuditEvent
from storage.models.base import Base, UTCDateTime
from storage.models.chat import (
    ChannelPace,
    ChannelPause,
    ChatIdentity,
    Consent,
    Conversation,
    InboxUpdate,
    LinkAttempt,
    LinkCode,
    OutboxMessage,
    PendingReceipt,
)
from storage.models.coordination import (
    CoordinationArea,
    CoordinationGraduation,
    CoordinationOffice,
    CoordinationRun,
    CoordinationStage,
)
from storage.models.graduation import (
    GraduationStage,
    Referral,
    RegionTarget,
    RelapseSignal,
    StageTransition,
)
from storage.models.imports import ImportJob
from storage.models.jobs import JobRun
from storage.models.ladder import Escalation, EscalationNote, LadderAction, LadderState
from storage.models.partners import Membership, Organisation
from storage.models.people import Household, Mentor, Region, StaffUser
from storage.models.programs import ProgramEnrollment
from storage.models.reports import MentorVisit, ProgressReport
from storage.models.requests import Proposal, RequestEvent, ServiceRequest

__all__ = [
    "AlumniListing",
    "PeerPairing",
    "AuditEvent",
    "Base",
    "ChannelPace",
    "ChannelPause",
    "ChatIdentity",
    "CoordinationArea",
    "CoordinationGraduation",
    "CoordinationOffice",
    "CoordinationRun",
    "CoordinationStage",
    "Escalation",
    "GraduationStage",
    "EscalationNote",
    "LadderAction",
    "LadderState",
    "MentorVisit",
    "ProgressReport",
    "Proposal",
    "RequestEvent",
    "ServiceRequest",
    "Consent",
    "Conversation",
    "Household",
    "ImportJob",
    "JobRun",
    "InboxUpdate",
    "LinkAttempt",
    "LinkCode",
    "LoginFailure",
    "Mentor",
    "Membership",
    "Organisation",
    "OutboxMessage",
    "PendingReceipt",
    "ProgramEnrollment",
    "Referral",
    "RegionTarget",
    "Region",
    "RelapseSignal",
    "StaffSession",
    "StaffUser",
    "StageTransition",
    "UTCDateTime",
]
