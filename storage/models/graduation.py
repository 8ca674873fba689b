"""The graduation path: each household's stage, its dated moves with evidence, relapse signals, referrals."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, FreeText, UTCDateTime


class GraduationStage(Base):
    """Where one household stands: penerima_bansos → … → mandiri, since when, and any warning."""

    __tablename__ = "graduation_stages"
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(24))
    # The stage's place on the path (0 … 5), so SQL can compare stages.
    rank: Mapped[int] = mapped_column(SmallInteger, index=True)
    since: Mapped[date] = mapped_column(Date)
    since_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The last step back: evidence older than this does not move the household forward again.
    setback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Mandiri households are watched until this day; relapse signals reopen support.
    watch_until: Mapped[date | None] = mapped_column(Date)
    # On the at-risk (berisiko) list since when, and why (a signal kind); cleared by a step forward.
    risk_since: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    risk_reason: Mapped[str | None] = mapped_column(String(24))
    # The desil seen at the last data import: a lower desil at the next import is a signal.
    desil_seen: Mapped[int | None] = mapped_column(SmallInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StageTransition(Base):
    """One move along the path or back, dated, with its evidence and who confirmed it."""

    __tablename__ = "stage_transitions"
    __table_args__ = (UniqueConstraint("household_id", "to_stage", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(10))  # where the household lived at the move
    from_stage: Mapped[str | None] = mapped_column(String(24))
    to_stage: Mapped[str] = mapped_column(String(24))
    direction: Mapped[str] = mapped_column(String(8))  # forward | back
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    on_date: Mapped[date] = mapped_column(Date)
    evidence_kind: Mapped[str] = mapped_column(
        String(24)
    )  # request | program | reports | signal | confirm
    evidence_detail: Mapped[str | None] = mapped_column(FreeText)
    confirmed_by: Mapped[str] = mapped_column(String(40))  # system | mentor:ID | staff:ID


class RelapseSignal(Base):
    """A sign that a household is slipping; the unique key makes it one per kind and period."""

    __tablename__ = "relapse_signals"
    __table_args__ = (UniqueConstraint("household_id", "kind", "period"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    period: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(24))  # the stage the household was at
    detail: Mapped[str | None] = mapped_column(FreeText)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Referral(Base):
    """A handoff to another office: what was asked, dikirim → diterima → selesai | ditolak, and when.

    Since organisations are data, a referral names the organisation it went to (older rows
    name only the kind of office) and where it came from (a request or an escalation).
    """

    __tablename__ = "referrals"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(10))
    office: Mapped[str] = mapped_column(
        String(24)
    )  # disperindagkop | disnakertrans | pupr | koperasi
    asked: Mapped[str] = mapped_column(FreeText)
    state: Mapped[str] = mapped_column(String(12), default="dikirim")
    note: Mapped[str | None] = mapped_column(FreeText)
    created_by: Mapped[str] = mapped_column(String(80))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("service_requests.id"), index=True)
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"))
    why: Mapped[str | None] = mapped_column(FreeText)  # why the officer refers the household
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # Without an answer after this (working) day, the referral is overdue.
    answer_by: Mapped[date | None] = mapped_column(Date)
    plan: Mapped[str | None] = mapped_column(FreeText)
    plan_date: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(FreeText)  # why the partner declined
    outcome: Mapped[str | None] = mapped_column(
        String(24)
    )  # trained | hired | member | house | other
    answered_by: Mapped[str | None] = mapped_column(String(80))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RegionTarget(Base):
    """A region's graduation target for a year (angka graduasi), set by an admin for the coordinators."""

    __tablename__ = "region_targets"
    __table_args__ = (UniqueConstraint("region_code", "year"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(SmallInteger)
    graduations: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[str] = mapped_column(String(80))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)


Index("ix_transitions_region_on", StageTransition.region_code, StageTransition.on_date)
Index("ix_transitions_at", StageTransition.at, StageTransition.to_stage)
Index("ix_referrals_open", Referral.state, Referral.region_code, Referral.sent_at)
# The reminder sweep: unanswered and not yet reminded, by day (an index range, however many are old).
Index("ix_referrals_overdue", Referral.state, Referral.reminded_at, Referral.answer_by)
