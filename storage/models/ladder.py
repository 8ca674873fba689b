"""The silent-household ladder: per-household state keyed on dates, idempotent actions, escalations."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, FreeText, UTCDateTime
from storage.models.chat import ChatIdentity
from storage.models.programs import ProgramEnrollment
from storage.models.reports import MentorVisit, ProgressReport


class LadderState(Base):
    """Where one household in an empowerment program stands: check-in cycle and rung."""

    __tablename__ = "ladder_states"
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), primary_key=True)
    cycle_start: Mapped[date] = mapped_column(Date, index=True)  # D0 of the current check-in
    rung: Mapped[str] = mapped_column(
        String(16), default="waiting"
    )  # waiting|checkin|reminder|mentor|dinsos
    # D0 of the current cycle as an instant: the rungs above are counted from it.
    checkin_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the mentor was given the visit task; their own deadline runs from here.
    mentor_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(16))  # silent | unreachable
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LadderAction(Base):
    """One ladder step taken for one household in one cycle; the unique key makes ticks idempotent."""

    __tablename__ = "ladder_actions"
    __table_args__ = (UniqueConstraint("household_id", "step", "period"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    step: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The job run that claimed it: the run's next statements (move, prompt) select by it.
    run: Mapped[int] = mapped_column(BigInteger, index=True)


class Escalation(Base):
    """A household handed to the Dinsos office of its kabupaten, with an SLA in working days."""

    __tablename__ = "escalations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(10), index=True)
    reason: Mapped[str] = mapped_column(
        String(32)
    )  # silent | unreachable | mentor_handoff | report_flag
    level: Mapped[int] = mapped_column(SmallInteger, default=1)  # 1 officer, 2 supervisor
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | assigned | resolved
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    sla_due: Mapped[date] = mapped_column(Date)
    at_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    # A household the programs put first (storage/priority.py), as it was when this opened.
    vulnerable: Mapped[bool] = mapped_column(Boolean, default=False)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(FreeText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EscalationNote(Base):
    """A note on an escalation by a staff member or mentor."""

    __tablename__ = "escalation_notes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    author: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(FreeText)


Index(
    "ix_escalations_queue",
    Escalation.state,
    Escalation.region_code,
    Escalation.vulnerable,
    Escalation.sla_due,
)
Index("ix_ladder_rung_cycle", LadderState.rung, LadderState.cycle_start)
Index("ix_ladder_rung_checkin", LadderState.rung, LadderState.checkin_at)
Index("ix_escalations_sla", Escalation.state, Escalation.sla_due)
# The ladder finds empowerment households by program and status (set-based enrollment).
Index("ix_enrollments_program_status", ProgramEnrollment.program, ProgramEnrollment.status)
# The sweeps look only at what changed since their last run (storage.jobs.advance_mark):
# enrollments updated, chats written from, reports submitted, visits recorded, chats bounced.
Index("ix_enrollments_updated", ProgramEnrollment.updated_at)
Index("ix_chat_identities_last_inbound", ChatIdentity.last_inbound_at)
Index("ix_reports_submitted", ProgressReport.submitted_at)
Index("ix_visits_at", MentorVisit.at)
Index(
    "ix_chat_identities_bounced",
    ChatIdentity.household_id,
    sqlite_where=ChatIdentity.unreachable_at.is_not(None),
    postgresql_where=ChatIdentity.unreachable_at.is_not(None),
)
