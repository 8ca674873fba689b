"""Progress reports (laporan usaha) and mentors' recorded visits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, FreeText, UTCDateTime


class ProgressReport(Base):
    """One household's business report for one month (`2026-11`); partial until confirmed."""

    __tablename__ = "progress_reports"
    __table_args__ = (UniqueConstraint("household_id", "period"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    business_state: Mapped[str | None] = mapped_column(String(16))  # berjalan | berhenti | tutup
    omzet: Mapped[int | None] = mapped_column(BigInteger)
    problem: Mapped[str | None] = mapped_column(String(32))
    problem_note: Mapped[str | None] = mapped_column(FreeText)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    photo_path: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | partial | complete
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    flags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class MentorVisit(Base):
    """A visit a mentor recorded: met or not, the business's state, a note."""

    __tablename__ = "mentor_visits"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("mentors.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    met: Mapped[bool] = mapped_column(Boolean)
    business_state: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(FreeText)


Index("ix_reports_household_submitted", ProgressReport.household_id, ProgressReport.submitted_at)
